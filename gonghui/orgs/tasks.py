"""Background jobs of the organisation domain. Each takes the id of a JobRun status row and is idempotent:
running it again rebuilds the same result."""

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError
from gonghui.common.roles import Perm
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.jobs.selectors import job_for_task
from gonghui.jobs.services import job_create, job_fail, job_progress, job_start, job_succeed
from gonghui.orgs import events
from gonghui.orgs.exports import org_roster_xlsx
from gonghui.orgs.job_prologue import job_actor_and_org
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import org_get, subtree_of

log = logging.getLogger(__name__)
PROGRESS_EVERY = 500


def org_roster_export_request(*, actor: Actor, org: Organisation) -> JobRun:
    """Queue an export of `org`'s subtree roster (组织名册) for the actor."""
    actor.require(Perm.EXPORT)
    org = org_get(actor=actor, org_id=org.id)
    with transaction.atomic():
        return job_create(
            actor=actor,
            kind="org_roster_export",
            title=f"导出组织名册：{org.name}",
            params={"org_id": str(org.id)},
            enqueue=lambda job_id: org_roster_export.enqueue(job_id),
        )


@task()
def org_roster_export(job_id: str) -> None:
    job = job_for_task(job_id)
    if job.status == JobStatus.SUCCEEDED:
        return
    try:
        actor, root = job_actor_and_org(job)
        orgs = subtree_of(root).order_by("path")
        job_start(job, total=orgs.count(), phase="正在生成组织名册")
        parents = list(subtree_of(root).filter(numchild__gt=0).values_list("path", "name", "code"))

        def on_row(done: int) -> None:
            if done % PROGRESS_EVERY == 0:
                job_progress(job, done=done)

        exported_at = timezone.localtime()
        content = org_roster_xlsx(
            root=root,
            orgs=orgs.iterator(chunk_size=2000),
            parent_names={path: name for path, name, _code in parents},
            parent_codes={path: code for path, _name, code in parents},
            exported_at=exported_at,
            exported_by=actor.label,
            on_row=on_row,
        )
        with transaction.atomic():
            job_succeed(
                job,
                result={"rows": job.total},
                file_name=f"组织名册_{root.code}_{exported_at:%Y%m%d%H%M}.xlsx",
                content=content,
            )
            events.org_event(actor, "org.export", root, {"rows": job.total, "job": str(job.id)})
    except DomainError as exc:
        job_fail(job, message=f"导出失败：{exc.message}")
    except Exception:
        log.exception("org roster export %s failed", job_id)
        job_fail(job, message="导出失败：系统错误，请稍后重试或联系系统管理员")
