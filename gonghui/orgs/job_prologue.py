"""The prologue every background job that acts for its requester begins with: rebuild the requester's Actor from the
job's snapshot, with the scope looked up afresh (their organisation may have moved since the request), then load the
organisation the job works on within that scope, so a job whose organisation is gone (or out of scope) fails.

It lives in orgs because it needs organisations: jobs, which keeps the snapshot, sits below orgs in the layers."""

from gonghui.common.actor import Actor
from gonghui.common.roles import Perm
from gonghui.jobs.models import JobRun
from gonghui.jobs.services import actor_from_snapshot
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import org_get


def job_actor(job: JobRun, *, requester_may_be_gone: bool = False) -> Actor:
    """The requester of `job`. When the requester's organisation no longer exists the job is refused
    (PermissionError), unless `requester_may_be_gone`: then the scope recorded at request time is kept."""
    snapshot = job.actor_snapshot
    requester_org = Organisation.objects.filter(id=snapshot["org_id"]).first() if snapshot.get("org_id") else None
    if requester_org is not None:
        scope = requester_org.path
    elif requester_may_be_gone:
        scope = snapshot.get("scope_path", "")
    else:
        raise PermissionError("requester organisation no longer exists")
    return actor_from_snapshot(snapshot, scope_path=scope)


def job_actor_and_org(
    job: JobRun, *, require: tuple[Perm, ...] = (), requester_may_be_gone: bool = False
) -> tuple[Actor, Organisation]:
    """The requester of `job` (holding every permission in `require`) and the organisation named by the job's
    `org_id` parameter, within the requester's scope (NotFound when it is gone or out of scope)."""
    actor = job_actor(job, requester_may_be_gone=requester_may_be_gone)
    for perm in require:
        actor.require(perm)
    return actor, org_get(actor=actor, org_id=job.params["org_id"])
