"""Status rows of background jobs. A job is created with the requester's actor snapshot, queued on commit, and
reports its phase and progress as it goes."""

from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from uuid import UUID

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.common.roles import Perm
from gonghui.jobs.models import JobRun, JobStatus


def actor_snapshot(actor: Actor) -> dict[str, Any]:
    data = asdict(actor)
    data["id"] = str(actor.id) if actor.id else None
    data["org_id"] = str(actor.org_id) if actor.org_id else None
    data["perms"] = sorted(str(p) for p in actor.perms)
    return data


def actor_from_snapshot(data: dict[str, Any], *, scope_path: str) -> Actor:
    """Rebuild the requester; `scope_path` is looked up afresh by the caller in case the org has moved."""
    return Actor(
        kind=data["kind"],
        id=UUID(data["id"]) if data["id"] else None,
        label=data["label"],
        role=data["role"],
        org_id=UUID(data["org_id"]) if data["org_id"] else None,
        scope_path=scope_path,
        perms=frozenset(Perm(p) for p in data["perms"]),
        ip=data.get("ip"),
    )


def job_create(*, actor: Actor, kind: str, title: str, params: dict[str, Any], enqueue: Callable[[str], Any]) -> JobRun:
    """Create the status row and queue the task once the surrounding transaction commits."""
    job = JobRun.objects.create(
        kind=kind,
        title=title,
        params=params,
        actor_snapshot=actor_snapshot(actor),
        requested_by_id=actor.id,
        requested_by_label=actor.label,
        phase="排队等待执行",
    )
    transaction.on_commit(lambda: enqueue(str(job.id)))
    return job


def job_start(job: JobRun, *, total: int, phase: str) -> None:
    job.status, job.total, job.done, job.phase = JobStatus.RUNNING, total, 0, phase
    job.started_at = timezone.now()
    job.save(update_fields=["status", "total", "done", "phase", "started_at"])


def job_progress(job: JobRun, *, done: int, phase: str | None = None) -> None:
    job.done = done
    fields = ["done"]
    if phase:
        job.phase = phase
        fields.append("phase")
    job.save(update_fields=fields)


def job_succeed(job: JobRun, *, result: dict[str, Any], file_name: str = "", content: bytes | None = None) -> None:
    if content is not None:
        job.result_file.save(file_name, ContentFile(content), save=False)
        job.result_name = file_name
    job.status, job.phase, job.result = JobStatus.SUCCEEDED, "已完成", result
    job.done = job.total
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "phase", "result", "done", "finished_at", "result_file", "result_name"])


def job_fail(job: JobRun, *, message: str) -> None:
    job.status, job.phase, job.error = JobStatus.FAILED, "失败", message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "phase", "error", "finished_at"])


@transaction.atomic
def job_result_download_record(*, actor: Actor, job: JobRun) -> None:
    """Every download of a job's result file is audited: it carries its scope's data out of the platform."""
    audit_record(
        actor=actor,
        action="job.download",
        object_type="job",
        object_id=job.id,
        object_label=job.title,
        details={"file": job.result_name},
    )
