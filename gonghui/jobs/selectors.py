from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
from gonghui.common.ids import parse_public_id
from gonghui.common.roles import Perm
from gonghui.jobs.models import JobRun


def jobs_of(actor: Actor):
    """A person sees the jobs they started, and nobody else's: results may contain their scope's data."""
    actor.require(Perm.JOBS_VIEW)
    return JobRun.objects.filter(requested_by_id=actor.id)


def job_get(*, actor: Actor, job_id) -> JobRun:
    parsed = parse_public_id(job_id)
    if parsed is None:
        raise NotFound()
    job = jobs_of(actor).filter(id=parsed).first()
    if job is None:
        raise NotFound()
    return job


def job_for_task(job_id) -> JobRun:
    """The job a background task runs (unscoped: the task is the system acting for the job's requester; raises
    JobRun.DoesNotExist)."""
    return JobRun.objects.get(id=job_id)
