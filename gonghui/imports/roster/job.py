"""Roster import (会员名册导入): read → validate column-wise → per chunk: stage, merge set-based, record outcomes,
checkpoint — each chunk one transaction. See docs/import.md for the stages and the SQL.

Modes: "dry-run" (preview: classifies every row against the registry, writes nothing to it), "add" (new members
only; members already here are left as they are), "upsert" (add, and update the profile of members already here).
A chunk commits its registry writes, its outcome rows and the job's checkpoint (`JobRun.done`) together, so a
worker killed at any point resumes at the first row not committed; and because existing people and memberships
are matched by the database's unique keys, a re-run of the same file changes nothing.
"""

import hashlib
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.common.crypto import blind_index_many
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.ids import parse_public_id
from gonghui.common.roles import Perm
from gonghui.common.sheets import HEADER_SEARCH_ROWS, LINE, SheetLimits, SheetUnreadable, Table, read_table
from gonghui.imports.roster.merge import COUNT_KEYS, _lookup_pending, _seal_new_people, merge_chunk
from gonghui.imports.roster.report import _record_outcomes, _summary_message, error_report_xlsx
from gonghui.imports.roster.validate import (
    ROSTER_COLUMNS,
    mark_duplicates,
    validate_roster,
)
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.jobs.services import job_create, job_fail, job_start, job_succeed
from gonghui.members.figures import resync_after_import
from gonghui.members.models import (
    ImportOutcome,
    RosterImportRow,
)
from gonghui.members.people import DOC_CONTEXT
from gonghui.members.services import (
    require_import_target,
    transfer_request_incoming,
)
from gonghui.orgs.job_prologue import job_actor_and_org
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import org_by_id, org_get

log = logging.getLogger(__name__)

MODES = {"dry-run": "预览（不写入）", "add": "仅新增", "upsert": "新增并更新"}
CHUNK_ROWS = 50_000
MAX_UPLOAD_BYTES = 300 * 1024 * 1024
# A million members and every column of the template or of a re-imported export; the header check in the request
# and the job read the file under the same caps.
ROSTER_LIMITS = SheetLimits(rows=1_048_576, columns=64, cells=32_000_000)
# A preview keeps its file this long, so that the same file can be imported from the preview's page.
PREVIEW_KEEP = timedelta(hours=24)
IMPORT_MODES = ("add", "upsert")


# ---------------------------------------------------------------------------------------------------------------
# Requesting an import


def roster_import_request(
    *, actor: Actor, org: Organisation, filename: str, content: bytes, mode: str, enqueue=None
) -> JobRun:
    """Check the request at the edge (scope, union, mode, file type and size, readable header), store the upload and
    queue the job. Only the top of the file is parsed here (the header must be found among its first rows), so the
    form can say at once that a file is unusable; the job parses the whole file."""
    from gonghui.imports.tasks import roster_import  # the task module imports this one

    actor.require(Perm.MEMBERS_IMPORT)
    org = org_get(actor=actor, org_id=org.id)
    require_import_target(actor, org)
    if mode not in MODES:
        raise ValidationFailed({"mode": "导入方式只能是：预览、仅新增、新增并更新"})
    if not content:
        raise ValidationFailed({"file": "上传的文件是空的"})
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed({"file": f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，请拆分后分批导入"})
    try:
        read_table(content, filename, ROSTER_COLUMNS, limit=HEADER_SEARCH_ROWS + 1, limits=ROSTER_LIMITS)
    except SheetUnreadable as exc:
        raise ValidationFailed({"file": exc.message}) from None
    digest = hashlib.sha256(content).hexdigest()
    suffix = Path(filename).suffix.lower()
    stored = default_storage.save(f"imports/{timezone.localdate():%Y/%m}/{digest[:16]}{suffix}", ContentFile(content))
    with transaction.atomic():
        return job_create(
            actor=actor,
            kind="roster_import",
            title=f"导入会员名册：{org.name}（{MODES[mode]}）",
            params={"org_id": str(org.id), "mode": mode, "upload": stored, "filename": filename, "sha256": digest},
            enqueue=enqueue or (lambda job_id: roster_import.enqueue(job_id)),
        )


def preview_importable(job: JobRun, *, actor: Actor) -> bool:
    """Whether `actor` may import the file of the preview `job` from its page: their own finished preview, whose file
    is still kept (within PREVIEW_KEEP, not imported from it yet)."""
    return (
        job.kind == "roster_import"
        and job.params.get("mode") == "dry-run"
        and job.status == JobStatus.SUCCEEDED
        and job.requested_by_id == actor.id
        and bool(job.result.get("upload_kept"))
        and not job.result.get("imported_as")
        and job.finished_at is not None
        and timezone.now() - job.finished_at < PREVIEW_KEEP
    )


def roster_import_from_preview(*, actor: Actor, preview: JobRun, mode: str, enqueue=None) -> JobRun:
    """导入此文件: import the file a preview read, without uploading it again. The request is checked as an upload is
    (scope, union, mode, header); the preview then refers to the import, and its kept file is removed."""
    if mode not in IMPORT_MODES:
        raise ValidationFailed({"mode": "导入方式只能是：仅新增、新增并更新"})
    with transaction.atomic():
        locked = JobRun.objects.select_for_update().get(pk=preview.pk)
        if locked.kind != "roster_import" or locked.params.get("mode") != "dry-run":
            raise DomainError("只能从预览结果导入文件", code="not_preview")
        if locked.requested_by_id != actor.id:
            raise DomainError("只能导入自己预览的文件", code="not_yours")
        if locked.result.get("imported_as"):
            raise DomainError("该预览的文件已经导入，请查看那次导入的结果", code="already_imported")
        if not preview_importable(locked, actor=actor) or not default_storage.exists(locked.params["upload"]):
            raise DomainError("预览的文件已不再保留（超过24小时），请重新上传", code="preview_expired")
        content = default_storage.open(locked.params["upload"]).read()
        org = org_by_id(locked.params["org_id"])
        job = roster_import_request(
            actor=actor, org=org, filename=locked.params["filename"], content=content, mode=mode, enqueue=enqueue
        )
        locked.result = {**locked.result, "imported_as": str(job.id), "upload_kept": False}
        locked.save(update_fields=["result"])
        audit_record(
            actor=actor,
            action="member.import_from_preview",
            object_type="organisation",
            object_id=org.id,
            object_label=f"{org.name}（{org.code}）",
            object_org_path=org.path,
            details={"preview": str(locked.id), "job": str(job.id), "mode": mode, "file": locked.params["filename"]},
        )
        upload = locked.params["upload"]
        transaction.on_commit(lambda: default_storage.delete(upload))
    return job


def previews_expired_purge(now: datetime | None = None) -> int:
    """Remove the kept files of previews older than PREVIEW_KEEP (run as each import finishes). Returns how many."""
    now = now or timezone.now()
    expired = JobRun.objects.filter(
        kind="roster_import", result__upload_kept=True, finished_at__lt=now - PREVIEW_KEEP
    ).only("id", "params", "result")
    purged = 0
    for job in expired:
        default_storage.delete(job.params["upload"])
        JobRun.objects.filter(pk=job.pk).update(result={**job.result, "upload_kept": False})
        purged += 1
    return purged


def roster_import_cancel(*, actor: Actor, job: JobRun) -> JobRun:
    """Stop an import after the chunk under way; rows already committed stay imported (and are listed)."""
    with transaction.atomic():
        locked = JobRun.objects.select_for_update().get(pk=job.pk)
        if locked.requested_by_id != actor.id:
            raise DomainError("只能取消自己发起的导入", code="not_yours")
        if locked.is_finished:
            raise DomainError(f"该任务{locked.get_status_display()}，不能取消", code="finished")
        locked.status, locked.phase = JobStatus.CANCELLED, "已取消（已提交的部分保留）"
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "phase", "finished_at"])
        audit_record(
            actor=actor,
            action="member.import_cancel",
            object_type="job",
            object_id=locked.id,
            object_label=locked.title,
            details={"done": locked.done, "total": locked.total},
        )
    return locked


def roster_import_transfers(*, actor: Actor, job: JobRun) -> dict[str, int]:
    """发起接转 for every member of another union found by this import: one transfer request each into the import's
    union. Rows whose membership has moved on, or that already have an open transfer, are counted as skipped."""
    if job.kind != "roster_import" or job.status != JobStatus.SUCCEEDED or job.params.get("mode") == "dry-run":
        raise DomainError("只有已完成的正式导入才能批量发起接转", code="not_applicable")
    org = org_get(actor=actor, org_id=job.params["org_id"])
    require_import_target(actor, org)
    conflicts = (
        RosterImportRow.objects.filter(job=job, status=ImportOutcome.CONFLICT, holding__isnull=False)
        .select_related("holding", "holding__org", "holding__person")
        .order_by("line")
    )
    created = skipped = 0
    for row in conflicts:
        if row.holding is None:  # filtered out by the query; narrows the type
            continue
        try:
            transfer_request_incoming(
                actor=actor,
                membership=row.holding,
                to_org=org,
                reason=f"会员名册导入（第{row.line}行）发现已在本单位工作",
            )
            created += 1
        except DomainError:
            skipped += 1
    return {"created": created, "skipped": skipped}


# ---------------------------------------------------------------------------------------------------------------
# Running an import


def prepare_rows(table: Table, *, today: date) -> pl.DataFrame:
    """Validated, de-duplicated rows with their blind index, in file order."""
    rows = mark_duplicates(validate_roster(table, today=today))
    ok = rows.get_column("status") == "ok"
    keys = rows.filter(ok).select("doc_type", "doc_number")
    indexes = blind_index_many([f"{t}:{n}" for t, n in keys.iter_rows()], context=DOC_CONTEXT)
    index_column = pl.Series("doc_index", [None] * rows.height, dtype=pl.String)
    index_column = index_column.scatter(ok.arg_true(), pl.Series(indexes, dtype=pl.String))
    return rows.with_columns(index_column).sort(LINE)


def roster_import_run(job_id: str) -> None:
    """The job body: resumable, idempotent. Called by the task worker or by `manage.py import_roster`."""
    job = JobRun.objects.get(id=job_id)
    if job.is_finished:
        return
    params = job.params
    org = None
    try:
        # A job resumed after its requester's organisation was removed keeps the scope it was requested with.
        actor, org = job_actor_and_org(job, requester_may_be_gone=True)
        require_import_target(actor, org)
        content = default_storage.open(params["upload"]).read()
        today = timezone.localdate()
        table = read_table(content, params["filename"], ROSTER_COLUMNS, limits=ROSTER_LIMITS)
        rows = prepare_rows(table, today=today)
        if job.status == JobStatus.QUEUED:
            job_start(job, total=rows.height, phase="正在校验并导入")
            job.result = _initial_result(table, params)
            job.save(update_fields=["result"])
        _run_chunks(job, actor=actor, org=org, rows=rows, mode=params["mode"], today=today)
        job.refresh_from_db()
        if job.status == JobStatus.CANCELLED:
            _resync_figures(job, org)  # the chunks committed before the cancel stay, and count
            return
        _finish(job, actor=actor, org=org, table=table)
    except SheetUnreadable as exc:
        job_fail(job, message=exc.message)
    except DomainError as exc:
        job_fail(job, message=f"导入失败：{exc.message}")
        _resync_figures(job, org)
    except Exception:
        log.exception("roster import %s failed", job_id)
        job_fail(job, message="导入失败：系统错误，已导入的部分保留，重新导入同一文件即可继续")
        _resync_figures(job, org)
        raise


def _resync_figures(job: JobRun, org: Organisation | None, *, strict: bool = False) -> None:
    """The import wrote rows in bulk, outside the services: recount the figures of the union (and of the unions where
    people it corrected held earlier memberships). Best effort on a failing job; `rebuild_counts` repairs the rest."""
    if org is None or job.params["mode"] == "dry-run":
        return
    updated = job.import_rows.filter(status=ImportOutcome.UPDATED, person__isnull=False)
    try:
        resync_after_import(org, updated_people=list(updated.values_list("person_id", flat=True)))
    except Exception:
        if strict:
            raise
        log.exception("recounting the figures after roster import %s failed", job.pk)


def _initial_result(table: Table, params: dict) -> dict:
    return {
        "summary": {"rows": table.rows, **dict.fromkeys(COUNT_KEYS, 0)},
        "mode": params["mode"],
        "header_line": table.header_line,
        "encoding": table.encoding,
        "columns": table.mapped,
        "unknown_columns": table.unknown,
        "ignored_columns": table.ignored,
        "notes": table.notes,
    }


def _run_chunks(job: JobRun, *, actor: Actor, org: Organisation, rows: pl.DataFrame, mode: str, today: date) -> None:
    found = _lookup_pending(rows.slice(job.done))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gh-import-seal") as sealer:
        ahead: tuple[int, Future] | None = None  # the next chunk's new people, sealed while this chunk is written
        while job.done < rows.height:
            if JobRun.objects.filter(pk=job.pk, status=JobStatus.CANCELLED).exists():
                return
            sealed = ahead[1].result() if ahead is not None and ahead[0] == job.done else None
            following = job.done + CHUNK_ROWS
            ahead = None
            if mode != "dry-run" and following < rows.height:
                next_chunk = rows.slice(following, CHUNK_ROWS)
                ahead = (following, sealer.submit(_seal_new_people, next_chunk, found, org=org, today=today))
            _run_chunk(job, rows.slice(job.done, CHUNK_ROWS), org=org, mode=mode, today=today, found=found,
                       sealed=sealed)  # fmt: skip


def _run_chunk(
    job: JobRun,
    chunk: pl.DataFrame,
    *,
    org: Organisation,
    mode: str,
    today: date,
    found: pl.DataFrame,
    sealed: pl.DataFrame | None,
) -> None:
    """One chunk in one transaction with its checkpoint; a chunk another worker took, or a cancelled job, is left."""
    with transaction.atomic():
        locked = JobRun.objects.select_for_update().get(pk=job.pk)
        if locked.status != JobStatus.RUNNING or locked.done != job.done:
            job.refresh_from_db()
            return  # cancelled, or another worker moved on: the caller re-reads the checkpoint
        result = merge_chunk(chunk, org=org, mode=mode, today=today, found=found, sealed=sealed)
        _record_outcomes(locked, result.outcomes)
        summary = locked.result["summary"]
        for key, value in result.counts.items():
            summary[key] = summary.get(key, 0) + value
        locked.done += chunk.height
        locked.phase = f"正在导入（{locked.done}/{locked.total}）"
        locked.save(update_fields=["done", "phase", "result"])
    job.done, job.result, job.phase = locked.done, locked.result, locked.phase


def _finish(job: JobRun, *, actor: Actor, org: Organisation, table: Table) -> None:
    summary = job.result["summary"]
    previous = (
        JobRun.objects.filter(kind="roster_import", status=JobStatus.SUCCEEDED, params__sha256=job.params["sha256"])
        .filter(params__org_id=job.params["org_id"])
        .exclude(pk=job.pk)
        .order_by("-finished_at")
        .first()
    )
    result = dict(job.result)
    result["changed"] = job.params["mode"] != "dry-run" and bool(summary["added"] or summary["updated"])
    result["message"] = _summary_message(summary, job.params["mode"], previous)
    preview = job.params["mode"] == "dry-run"
    result["upload_kept"] = preview  # a preview keeps its file for 导入此文件
    _resync_figures(job, org, strict=True)
    problems = summary["error"] + summary["duplicate"] + summary["conflict"]
    content = error_report_xlsx(job, table) if problems else None
    with transaction.atomic():
        job_succeed(
            job,
            result=result,
            file_name=f"导入问题清单_{org.code}_{timezone.localtime():%Y%m%d%H%M}.xlsx" if content else "",
            content=content,
        )
        audit_record(
            actor=actor,
            action="member.import_preview" if job.params["mode"] == "dry-run" else "member.import",
            object_type="organisation",
            object_id=org.id,
            object_label=f"{org.name}（{org.code}）",
            object_org_path=org.path,
            details={"job": str(job.id), "mode": job.params["mode"], "file": job.params["filename"], **summary},
        )
    if not preview:
        default_storage.delete(job.params["upload"])
    previews_expired_purge()


def roster_import_get(*, actor: Actor, job_id) -> JobRun:
    """An import job the actor started (accounts and API tokens alike); anything else is NotFound."""
    actor.require(Perm.MEMBERS_IMPORT)
    parsed = parse_public_id(job_id)
    job = JobRun.objects.filter(id=parsed, kind="roster_import", requested_by_id=actor.id).first() if parsed else None
    if job is None:
        raise NotFound()
    return job
