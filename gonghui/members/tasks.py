"""Background jobs of the member registry. Each takes the id of a JobRun status row and is idempotent."""

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.common.roles import Perm
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.jobs.selectors import job_for_task
from gonghui.jobs.services import job_create, job_fail, job_progress, job_start, job_succeed
from gonghui.members import events
from gonghui.members.exports import member_roster_csv, member_roster_xlsx
from gonghui.members.models import HOLDING_STATUSES, Membership
from gonghui.orgs.job_prologue import job_actor_and_org
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import org_get

log = logging.getLogger(__name__)
PROGRESS_EVERY = 1000


def member_roster_export_request(
    *, actor: Actor, org: Organisation, fmt: str = "xlsx", unmask_reason: str = ""
) -> JobRun:
    """Queue an export of the members held in `org`'s subtree (会员名册) for the actor: masked, or with full numbers
    for a role that may unmask when a reason is stated."""
    actor.require(Perm.EXPORT)
    actor.require(Perm.MEMBERS_VIEW)
    org = org_get(actor=actor, org_id=org.id)
    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed({"fmt": "导出格式只能是 xlsx 或 csv"})
    reason = (unmask_reason or "").strip()
    if reason:
        actor.require(Perm.MEMBERS_UNMASK)
        if len(reason) > 200:
            raise ValidationFailed({"reason": "原因不能超过200个字"})
    with transaction.atomic():
        return job_create(
            actor=actor,
            kind="member_roster_export",
            title=f"导出会员名册：{org.name}（{fmt}{'，完整号码' if reason else '，脱敏'}）",
            params={"org_id": str(org.id), "fmt": fmt, "unmask_reason": reason},
            enqueue=lambda job_id: member_roster_export.enqueue(job_id),
        )


@task()
def member_roster_export(job_id: str) -> None:
    job = job_for_task(job_id)
    if job.status == JobStatus.SUCCEEDED:
        return
    try:
        actor, root = job_actor_and_org(job, require=(Perm.MEMBERS_VIEW,))
        memberships = (
            Membership.objects.filter(org__path__startswith=root.path, status__in=HOLDING_STATUSES)
            .select_related("person", "org")
            .order_by("org__path", "person__name", "id")
        )
        job_start(job, total=memberships.count(), phase="正在生成会员名册")

        def on_row(done: int) -> None:
            if done % PROGRESS_EVERY == 0:
                job_progress(job, done=done)

        exported_at = timezone.localtime()
        reason = job.params.get("unmask_reason", "")
        fmt = job.params.get("fmt", "xlsx")
        if reason:
            actor.require(Perm.MEMBERS_UNMASK)
        if fmt == "csv":
            content = member_roster_csv(
                memberships=memberships.iterator(chunk_size=2000), unmasked=bool(reason), on_row=on_row
            )
        else:
            content = member_roster_xlsx(
                root=root,
                memberships=memberships.iterator(chunk_size=2000),
                exported_at=exported_at,
                exported_by=actor.label,
                on_row=on_row,
                unmasked=bool(reason),
            )
        with transaction.atomic():
            job_succeed(
                job,
                result={"rows": job.total},
                file_name=f"会员名册_{root.code}_{exported_at:%Y%m%d%H%M}.{fmt}",
                content=content,
            )
            events.members_exported(actor, root, rows=job.total, job=str(job.id), fmt=fmt, reason=reason)
    except DomainError as exc:
        job_fail(job, message=f"导出失败：{exc.message}")
    except Exception:
        log.exception("member roster export %s failed", job_id)
        job_fail(job, message="导出失败：系统错误，请稍后重试或联系系统管理员")
