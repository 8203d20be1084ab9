"""Roster import (会员名册导入): read → validate column-wise → per chunk: stage, merge set-based, record outcomes,
checkpoint — each chunk one transaction. See docs/import.md for the stages and the SQL.

Modes: "dry-run" (preview: classifies every row against the registry, writes nothing to it), "add" (new members
only; members already here are left as they are), "upsert" (add, and update the profile of members already here).
A chunk commits its registry writes, its outcome rows and the job's checkpoint (`JobRun.done`) together, so a
worker killed at any point resumes at the first row not committed; and because existing people and memberships
are matched by the database's unique keys, a re-run of the same file changes nothing.
"""

import hashlib
import io
import logging
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import polars as pl
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.common.crypto import blind_index_many, encrypt_many
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.ids import new_public_ids, parse_public_id
from gonghui.common.masking import mask_phone
from gonghui.common.roles import Perm
from gonghui.common.sheets import HEADER_SEARCH_ROWS, LINE, SheetLimits, SheetUnreadable, Table, read_table
from gonghui.common.text_xlsx import TextSheet, write_text_xlsx
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.jobs.services import actor_from_snapshot, job_create, job_fail, job_start, job_succeed
from gonghui.members.figures import resync_after_import
from gonghui.members.models import (
    ImportOutcome,
    MembershipSource,
    MembershipStatus,
    Person,
    RosterImportRow,
)
from gonghui.members.people import DOC_CONTEXT, PHONE_CONTEXT
from gonghui.members.roster import PROFILE_COLUMNS, ROSTER_COLUMNS, mark_duplicates, quality_flags_expr, validate_roster
from gonghui.members.services import (
    NAME_MISMATCH_MESSAGE,
    card_serials_reserve,
    require_import_target,
    transfer_request_incoming,
)
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import org_get

log = logging.getLogger(__name__)

MODES = {"dry-run": "预览（不写入）", "add": "仅新增", "upsert": "新增并更新"}
CHUNK_ROWS = 50_000
MAX_UPLOAD_BYTES = 300 * 1024 * 1024
# A million members and every column of the template or of a re-imported export; the header check in the request
# and the job read the file under the same caps.
ROSTER_LIMITS = SheetLimits(rows=1_048_576, columns=64, cells=32_000_000)
COUNT_KEYS = ("added", "updated", "unchanged", "conflict", "duplicate", "error")
# A preview keeps its file this long, so that the same file can be imported from the preview's page.
PREVIEW_KEEP = timedelta(hours=24)
IMPORT_MODES = ("add", "upsert")
REPORT_EXTRA = ("原行号", "问题说明")


@dataclass(frozen=True)
class ChunkResult:
    counts: dict[str, int]
    outcomes: pl.DataFrame  # line, status, reason, name, person_id, holding_id for every row not simply added


# ---------------------------------------------------------------------------------------------------------------
# Requesting an import


def roster_import_request(
    *, actor: Actor, org: Organisation, filename: str, content: bytes, mode: str, enqueue=None
) -> JobRun:
    """Check the request at the edge (scope, union, mode, file type and size, readable header), store the upload and
    queue the job. Only the top of the file is parsed here (the header must be found among its first rows), so the
    form can say at once that a file is unusable; the job parses the whole file."""
    from gonghui.members.tasks import roster_import  # the task module imports this one

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
        org = Organisation.objects.get(id=locked.params["org_id"])
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
        actor, org = _job_actor_and_org(job)
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


def _job_actor_and_org(job: JobRun) -> tuple[Actor, Organisation]:
    snapshot = job.actor_snapshot
    requester_org = Organisation.objects.filter(id=snapshot["org_id"]).first() if snapshot.get("org_id") else None
    scope = requester_org.path if requester_org else snapshot.get("scope_path", "")
    actor = actor_from_snapshot(snapshot, scope_path=scope)
    org = org_get(actor=actor, org_id=job.params["org_id"])
    require_import_target(actor, org)
    return actor, org


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


def _seal_new_people(chunk: pl.DataFrame, found: pl.DataFrame, *, org: Organisation, today: date) -> pl.DataFrame:
    """The chunk's new people, sealed (no database access: runs in the sealing thread). Sealing is CPU work in Python
    (AES-GCM, HMAC); the writing thread spends most of a chunk waiting for PostgreSQL, so the two overlap."""
    ok = chunk.filter(pl.col("status") == "ok").join(found, on=LINE, how="left")
    return _sealed_people(_classify(ok, org=org).filter(pl.col("_kind") == "new"), today=today)


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


def _record_outcomes(job: JobRun, outcomes: pl.DataFrame) -> None:
    if not outcomes.height:
        return
    frame = outcomes.select(
        pl.lit(str(job.pk)).alias("job_id"),
        pl.col(LINE).alias("line"),
        "status",
        pl.col("reason").fill_null("").str.slice(0, 1000),
        pl.col("name").fill_null("").str.slice(0, 60),
        "person_id",
        "holding_id",
    )
    _load_rows(RosterImportRow._meta.db_table, frame, {"job_id": "uuid", "person_id": "uuid", "holding_id": "uuid"})


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


def _summary_message(summary: dict, mode: str, previous: JobRun | None) -> str:
    parts = [f"{label}{summary[key]}行" for key, label in (
        ("added", "新增"), ("updated", "更新"), ("unchanged", "无变化"), ("conflict", "他会会员"),
        ("duplicate", "文件内重复"), ("error", "有错误"),
    )]  # fmt: skip
    text = f"共{summary['rows']}行：" + "，".join(parts)
    if mode == "dry-run":
        return "预览结果（未写入）：" + text
    if not summary["added"] and not summary["updated"]:
        text += "。本次导入没有产生任何变更"
        if previous is not None:
            text += f"（同一文件已于 {timezone.localtime(previous.finished_at):%Y-%m-%d %H:%M} 导入过）"
    return text


# ---------------------------------------------------------------------------------------------------------------
# One chunk: stage, classify, merge


def _lookup_pending(rows: pl.DataFrame) -> pl.DataFrame:
    """The registry facts of every valid row still to import, in one join: a join per chunk read the whole person
    table each time (15 s of a million-row import). Rows of later chunks are distinct people (repeats are marked
    before), so no chunk changes what another one's lookup finds; a registration by someone else meanwhile is
    refused by the unique keys at insert time, as with any lookup taken before a write."""
    ok = rows.filter(pl.col("status") == "ok")
    if not ok.height:
        return _lookup_schema()
    with transaction.atomic():
        return _lookup(ok)


def merge_chunk(
    chunk: pl.DataFrame,
    *,
    org: Organisation,
    mode: str,
    today: date,
    found: pl.DataFrame | None = None,
    sealed: pl.DataFrame | None = None,
) -> ChunkResult:
    """Merge one chunk of prepared rows into the registry (or, for a dry run, only classify them). Must run inside a
    transaction. `found` is the lookup of the chunk's rows (or of more); without it the chunk is looked up here.
    `sealed` is the chunk's new people sealed ahead (`_seal_new_people`); without it they are sealed here."""
    outcomes = [
        chunk.filter(pl.col("status").is_in(["error", "duplicate"])).select(
            LINE, "status", "reason", "name", _null_uuid("person_id"), _null_uuid("holding_id")
        )
    ]
    ok = chunk.filter(pl.col("status") == "ok")
    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts["error"] = outcomes[0].filter(pl.col("status") == "error").height
    counts["duplicate"] = outcomes[0].height - counts["error"]
    if ok.height:
        if found is None:
            found = _lookup(ok)
        rows = ok.join(found, on=LINE, how="left")
        classified = _classify(rows, org=org)
        name_clash = classified.filter(pl.col("_kind") == "name_clash")
        conflict = classified.filter(pl.col("_kind") == "elsewhere")
        here = classified.filter(pl.col("_kind") == "here")
        new_people = classified.filter(pl.col("_kind") == "new")
        returning = classified.filter(pl.col("_kind") == "returning")
        # Only this union's own member shows the name on record: for anyone else the report would answer, for any
        # number typed into a sheet, who is registered under which name and in which union.
        outcomes.append(
            name_clash.select(
                LINE, pl.lit("error").alias("status"),
                pl.when(pl.col("_holding_org") == str(org.id))
                .then(pl.format("姓名与该证件号码已登记的姓名（{}）不一致，请核对；如确需更正姓名，请在会员详情页办理",
                                pl.col("_registered_name")))
                .otherwise(pl.lit(NAME_MISMATCH_MESSAGE)).alias("reason"),
                "name", "person_id", _null_uuid("holding_id"),
            )
        )  # fmt: skip
        outcomes.append(
            conflict.select(
                LINE, pl.lit("conflict").alias("status"),
                pl.format("该人员已是其他工会会员（证件号码 {}），如已调入本单位，请发起会员接转",
                          pl.col("_masked")).alias("reason"),
                "name", "person_id", "holding_id",
            )
        )  # fmt: skip
        counts["error"] += name_clash.height
        counts["conflict"] += conflict.height
        updated_lines: set[int] = set()
        if mode == "upsert" and here.height:
            changes = _profile_changes(here, today=today)
            if changes.height:
                _apply_updates(changes)
                updated_lines = set(changes.get_column(LINE).to_list())
        unchanged = here.filter(~pl.col(LINE).is_in(list(updated_lines)))
        updated = here.filter(pl.col(LINE).is_in(list(updated_lines)))
        outcomes.append(
            updated.select(LINE, pl.lit("updated").alias("status"), pl.lit("已更新资料").alias("reason"), "name",
                           "person_id", _null_uuid("holding_id"))
        )  # fmt: skip
        reason_unchanged = "已是本会会员，资料未变" if mode != "add" else "已是本会会员（仅新增模式不更新资料）"
        outcomes.append(
            unchanged.select(LINE, pl.lit("unchanged").alias("status"), pl.lit(reason_unchanged).alias("reason"),
                             "name", "person_id", _null_uuid("holding_id"))
        )  # fmt: skip
        counts["updated"] += updated.height
        counts["unchanged"] += unchanged.height
        to_join = pl.concat([new_people, returning], how="vertical_relaxed")
        if to_join.height:
            if mode == "dry-run":
                counts["added"] += to_join.height
            else:
                lost = _insert_members(new_people, returning, org=org, today=today, sealed=sealed)
                counts["added"] += to_join.height - lost.height
                counts["conflict"] += lost.height
                outcomes.append(lost)
    frame = pl.concat([o.cast({"person_id": pl.String, "holding_id": pl.String}) for o in outcomes])
    return ChunkResult(counts=counts, outcomes=frame.sort(LINE))


def _null_uuid(name: str) -> pl.Expr:
    return pl.lit(None, dtype=pl.String).alias(name)


def _uuid_text(value) -> str | None:
    """Primary keys as the database adapter returns them: UUID on PostgreSQL, 32 hex characters on SQLite."""
    if value is None:
        return None
    return str(value if isinstance(value, UUID) else UUID(str(value)))


def _lookup(ok: pl.DataFrame) -> pl.DataFrame:
    """Registry facts for each row, by the document's blind index: person, registered name, held membership."""
    staging = _stage(ok.select(LINE, "doc_type", "doc_index"), "gh_import_keys", {LINE: "bigint", "doc_type": "text",
                                                                                   "doc_index": "text"})  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT k._line, p.id, p.name, p.doc_masked, m.id, m.org_id, o.name
            FROM {staging} k
            JOIN members_person p ON p.doc_type = k.doc_type AND p.doc_index = k.doc_index
            LEFT JOIN members_membership m ON m.person_id = p.id AND m.status IN ('active', 'reserved')
            LEFT JOIN orgs_organisation o ON o.id = m.org_id
            """  # noqa: S608 (identifiers are module constants)
        )
        found = cursor.fetchall()
        cursor.execute(f"DROP TABLE {staging}")
    return pl.DataFrame(
        [
            (line, _uuid_text(pid), name, masked, _uuid_text(mid), _uuid_text(oid), oname)
            for line, pid, name, masked, mid, oid, oname in found
        ],
        schema=LOOKUP_SCHEMA,
        orient="row",
    )


LOOKUP_SCHEMA = {LINE: pl.Int64, "person_id": pl.String, "_registered_name": pl.String, "_masked": pl.String,
                 "holding_id": pl.String, "_holding_org": pl.String, "_holding_org_name": pl.String}  # fmt: skip


def _lookup_schema() -> pl.DataFrame:
    return pl.DataFrame(schema=LOOKUP_SCHEMA)


def _classify(rows: pl.DataFrame, *, org: Organisation) -> pl.DataFrame:
    here = str(org.id)
    return rows.with_columns(
        pl.when(pl.col("person_id").is_null())
        .then(pl.lit("new"))
        .when(pl.col("_registered_name") != pl.col("name"))
        .then(pl.lit("name_clash"))
        .when(pl.col("_holding_org").is_null())
        .then(pl.lit("returning"))
        .when(pl.col("_holding_org") == here)
        .then(pl.lit("here"))
        .otherwise(pl.lit("elsewhere"))
        .alias("_kind")
    )


def _profile_changes(here: pl.DataFrame, *, today: date) -> pl.DataFrame:
    """Rows of members already here whose file values (non-empty cells only) differ from the registry."""
    current = _current_profiles(here.get_column("person_id").to_list())
    rows = here.join(current, on="person_id", how="left")
    phones = rows.get_column("phone").drop_nulls().to_list()
    phone_indexes = dict(zip(phones, blind_index_many(phones, context=PHONE_CONTEXT), strict=True))
    rows = rows.with_columns(pl.col("phone").replace_strict(phone_indexes, default=None).alias("_phone_index"))
    differs = [pl.col(f).is_not_null() & (pl.col(f) != pl.col(f"cur_{f}")) for f in PROFILE_COLUMNS]
    differs.append(pl.col("_phone_index").is_not_null() & (pl.col("_phone_index") != pl.col("cur_phone_index")))
    changed = rows.filter(pl.any_horizontal(differs))
    if not changed.height:
        return changed
    merged = changed.with_columns(
        *[pl.coalesce(f, f"cur_{f}").alias(f) for f in PROFILE_COLUMNS],
        pl.coalesce("_phone_index", "cur_phone_index").alias("phone_index"),
        pl.col("cur_birth_date").alias("birth_date"),
        pl.col("cur_sex").alias("sex"),
    )
    merged = merged.with_columns(
        pl.when(pl.col("phone").is_null() & (pl.col("cur_phone_index") == "")).then(None).otherwise(
            pl.coalesce("phone", pl.lit("kept"))
        ).alias("_phone_for_flags")
    )  # fmt: skip
    flags = quality_flags_expr(today).alias("quality_flags")
    merged = merged.with_columns(pl.col("phone").alias("_new_phone"), pl.col("_phone_for_flags").alias("phone"))
    merged = merged.with_columns(
        (flags + (pl.col("cur_quality_flags") & 1)).alias("quality_flags"), pl.col("_new_phone").alias("phone")
    )
    return merged


def _current_profiles(person_ids: list[str]) -> pl.DataFrame:
    columns = [*PROFILE_COLUMNS, "phone_index", "birth_date", "sex", "quality_flags"]
    values = Person.objects.filter(id__in=person_ids).values_list("id", *columns)
    return pl.DataFrame(
        [(str(row[0]), *row[1:]) for row in values],
        schema={"person_id": pl.String, **{f"cur_{c}": _column_dtype(c) for c in columns}},
        orient="row",
    )


def _column_dtype(column: str):
    if column == "is_model_worker":
        return pl.Boolean
    if column == "birth_date":
        return pl.Date
    if column == "quality_flags":
        return pl.Int32
    return pl.String


def _apply_updates(changes: pl.DataFrame) -> None:
    phones = changes.get_column("_new_phone").to_list()
    given = [p for p in phones if p]
    sealed = dict(zip(given, encrypt_many(given, context=PHONE_CONTEXT), strict=True))
    people = []
    for row, phone in zip(changes.iter_rows(named=True), phones, strict=True):
        person = Person(id=UUID(row["person_id"]))
        for field in PROFILE_COLUMNS:
            value = row[field]
            setattr(person, field, value if value is not None else ("" if field != "is_model_worker" else False))
        person.quality_flags = row["quality_flags"]
        person.updated_at = timezone.now()
        if phone:
            person.phone_enc, person.phone_index, person.phone_masked = (
                sealed[phone],
                row["phone_index"],
                mask_phone(phone),
            )
        people.append(person)
    fields = [*PROFILE_COLUMNS, "quality_flags", "updated_at"]
    with_phone = [p for p, phone in zip(people, phones, strict=True) if phone]
    without_phone = [p for p, phone in zip(people, phones, strict=True) if not phone]
    if with_phone:
        Person.objects.bulk_update(with_phone, [*fields, "phone_enc", "phone_index", "phone_masked"], batch_size=2000)
    if without_phone:
        Person.objects.bulk_update(without_phone, fields, batch_size=2000)


def _insert_members(
    new_people: pl.DataFrame,
    returning: pl.DataFrame,
    *,
    org: Organisation,
    today: date,
    sealed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Insert the new people and a membership for them and for returning people (known, holding nothing). Returns
    the outcome rows of those the database refused (someone else registered them meanwhile)."""
    lost = []
    inserted_people = new_people
    if new_people.height:
        inserted_people, refused = _insert_people(new_people, today=today, sealed=sealed)
        if refused.height:
            lost.append(
                refused.select(LINE, pl.lit("conflict").alias("status"),
                               pl.lit("该人员刚由其他操作登记，请稍后重新导入本行").alias("reason"), "name",
                               _null_uuid("person_id"), _null_uuid("holding_id"))
            )  # fmt: skip
    joining = pl.concat(
        [inserted_people.select(LINE, "name", "person_id", "joined_on"), returning.select(LINE, "name", "person_id",
                                                                                          "joined_on")]
    )  # fmt: skip
    if joining.height:
        refused = _insert_memberships(joining, org=org, today=today)
        if refused.height:
            lost.append(
                refused.select(LINE, pl.lit("conflict").alias("status"),
                               pl.lit("该人员刚成为其他工会的会员，请核对后发起会员接转").alias("reason"), "name",
                               "person_id", _null_uuid("holding_id"))
            )  # fmt: skip
    if not lost:
        return pl.DataFrame(schema={LINE: pl.Int64, "status": pl.String, "reason": pl.String, "name": pl.String,
                                    "person_id": pl.String, "holding_id": pl.String})  # fmt: skip
    return pl.concat(lost)


PERSON_COLUMNS = (
    "id", "name", "doc_type", "doc_number_enc", "doc_index", "doc_masked", "birth_date", "sex", "region_code",
    "phone_enc", "phone_index", "phone_masked", *PROFILE_COLUMNS, "quality_flags", "created_at", "updated_at",
)  # fmt: skip
PERSON_SQL_TYPES = {
    "id": "uuid", "doc_number_enc": "bytea", "phone_enc": "bytea", "birth_date": "date", "is_model_worker": "boolean",
    "quality_flags": "integer", "created_at": "timestamptz", "updated_at": "timestamptz", LINE: "bigint",
}  # fmt: skip


def _sealed_people(rows: pl.DataFrame, *, today: date) -> pl.DataFrame:
    numbers = rows.get_column("doc_number").to_list()
    phones = rows.get_column("phone").to_list()
    given = sorted({p for p in phones if p})
    phone_sealed = dict(zip(given, encrypt_many(given, context=PHONE_CONTEXT), strict=True))
    phone_index = dict(zip(given, blind_index_many(given, context=PHONE_CONTEXT), strict=True))
    now = timezone.now()
    ids = new_public_ids(rows.height)
    text = [pl.col(f).fill_null("") for f in PROFILE_COLUMNS if f != "is_model_worker"]
    return rows.with_columns(
        pl.Series("id", [str(i) for i in ids]),
        pl.Series("doc_number_enc", encrypt_many(numbers, context=DOC_CONTEXT), dtype=pl.Binary),
        pl.Series("phone_enc", [phone_sealed[p] if p else None for p in phones], dtype=pl.Binary),
        pl.Series("phone_index", [phone_index[p] if p else "" for p in phones], dtype=pl.String),
        pl.when(pl.col("phone").is_null()).then(pl.lit("")).otherwise(
            pl.col("phone").str.slice(0, 3) + pl.lit("****") + pl.col("phone").str.slice(7, 4)
        ).alias("phone_masked"),
        pl.col("sex").fill_null(""),
        pl.col("region_code").fill_null(""),
        *text,
        pl.col("is_model_worker").fill_null(False),
        quality_flags_expr(today).alias("quality_flags"),
        pl.lit(now).alias("created_at"),
        pl.lit(now).alias("updated_at"),
    ).with_columns(_doc_mask_expr().alias("doc_masked"))  # fmt: skip


def _doc_mask_expr() -> pl.Expr:
    """masking.mask_document_number, column-wise."""
    number = pl.col("doc_number")
    length = number.str.len_chars()
    long = number.str.slice(0, 4) + pl.lit("*").repeat_by(length - 8).list.join("") + number.str.slice(-4, 4)
    short = number.str.slice(0, 1) + pl.lit("*").repeat_by(length - 1).list.join("")
    return pl.when(length <= 8).then(short).otherwise(long)


def _insert_people(
    rows: pl.DataFrame, *, today: date, sealed: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Insert the new people (`sealed`: the same rows sealed ahead, used when it holds exactly these lines)."""
    lines = rows.get_column(LINE).sort()
    if sealed is None or not sealed.get_column(LINE).sort().equals(lines):
        sealed = _sealed_people(rows, today=today)
    sealed = sealed.sort(LINE)
    inserted = _insert_rows("members_person", sealed, PERSON_COLUMNS, PERSON_SQL_TYPES,
                            conflict="(doc_type, doc_index)", key="id")  # fmt: skip
    if inserted is None:
        return sealed.with_columns(pl.col("id").alias("person_id")), sealed.clear()
    done = sealed.filter(pl.col("id").is_in(list(inserted))).with_columns(pl.col("id").alias("person_id"))
    refused = sealed.filter(~pl.col("id").is_in(list(inserted)))
    return done, refused


def _copied_straight_in(table: str, frame: pl.DataFrame, types: dict[str, str]) -> bool:
    """PostgreSQL: COPY the rows straight into `table` under a savepoint. The lookup found none of them registered,
    so this is the usual case and costs one write per row instead of two (staging table, then INSERT ... SELECT).
    If another transaction registered one of these people since the lookup, a unique constraint refuses the COPY,
    the savepoint is rolled back and the caller takes the staged path, which skips the rows the database refuses."""
    if connection.vendor != "postgresql" or not frame.height:
        return False
    try:
        with transaction.atomic():
            _load_rows(table, frame, types)
    except IntegrityError:
        return False
    return True


def _insert_rows(
    table: str, frame: pl.DataFrame, columns: tuple[str, ...], types: dict[str, str], *, conflict: str, key: str
) -> set[str] | None:
    """Insert `frame` (sorted by line) into `table`: None when every row went in (straight COPY), else the `key`
    values of the rows the staged `INSERT … ON CONFLICT conflict DO NOTHING` inserted."""
    if _copied_straight_in(table, frame.select(*columns), types):
        return None
    staging = _stage(frame.select(LINE, *columns), f"gh_import_{table}", types)
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ORDER BY {LINE} "  # noqa: S608 (identifiers are module constants)
            f"ON CONFLICT {conflict} DO NOTHING RETURNING {key}"
        )
        inserted = {_uuid_text(row[0]) for row in cursor.fetchall()}
        cursor.execute(f"DROP TABLE {staging}")
    return inserted


MEMBERSHIP_COLUMNS = ("id", "person_id", "org_id", "status", "joined_on", "source", "card_number", "end_reason",
                      "created_at", "updated_at")  # fmt: skip
MEMBERSHIP_SQL_TYPES = {"id": "uuid", "person_id": "uuid", "org_id": "uuid", "joined_on": "date",
                        "created_at": "timestamptz", "updated_at": "timestamptz", LINE: "bigint"}  # fmt: skip


def luhn_check_digits(bodies: pl.Expr, length: int) -> pl.Expr:
    """stdnum's Luhn check digit of a fixed-length digit string, column-wise."""
    total = pl.lit(0)
    for position in range(length):  # position 0 is the rightmost digit of the body
        digit = bodies.str.slice(length - 1 - position, 1).cast(pl.Int32)
        if position % 2 == 0:
            doubled = digit * 2
            total = total + pl.when(doubled > 9).then(doubled - 9).otherwise(doubled)
        else:
            total = total + digit
    return ((10 - total % 10) % 10).cast(pl.String)


def _insert_memberships(rows: pl.DataFrame, *, org: Organisation, today: date) -> pl.DataFrame:
    first = card_serials_reserve(org, today, rows.height)
    prefix = f"{org.region_code}{today.year:04d}"
    now = timezone.now()
    body = pl.lit(prefix) + (pl.int_range(first, first + rows.height, eager=False)).cast(pl.String).str.zfill(6)
    frame = rows.sort(LINE).with_columns(
        pl.Series("id", [str(i) for i in new_public_ids(rows.height)]),
        pl.lit(str(org.id)).alias("org_id"),
        pl.lit(MembershipStatus.ACTIVE.value).alias("status"),
        pl.lit(MembershipSource.IMPORT.value).alias("source"),
        body.alias("_body"),
        pl.lit("").alias("end_reason"),
        pl.lit(now).alias("created_at"),
        pl.lit(now).alias("updated_at"),
    )
    frame = frame.with_columns((pl.col("_body") + luhn_check_digits(pl.col("_body"), 16)).alias("card_number"))
    inserted = _insert_rows("members_membership", frame, MEMBERSHIP_COLUMNS, MEMBERSHIP_SQL_TYPES,
                            conflict="(person_id) WHERE status IN ('active', 'reserved')", key="person_id")  # fmt: skip
    if inserted is None:
        return frame.clear()
    return frame.filter(~pl.col("person_id").is_in(list(inserted)))


# ---------------------------------------------------------------------------------------------------------------
# Staging tables: COPY on PostgreSQL, executemany on SQLite


def _stage(frame: pl.DataFrame, name: str, types: dict[str, str]) -> str:
    """Load `frame` into a new temporary table `name` (dropped by the caller) and return the table name."""
    postgres = connection.vendor == "postgresql"
    ddl = ", ".join(
        f"{c} {types.get(c, 'text') if postgres else _sqlite_type(types.get(c, 'text'))}" for c in frame.columns
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {name} ({ddl})" + (" ON COMMIT DROP" if postgres else ""))
    _load_rows(name, frame, types)
    return name


def _load_rows(table: str, frame: pl.DataFrame, types: dict[str, str]) -> None:
    """Append `frame` to `table`: COPY on PostgreSQL, executemany on SQLite."""
    columns = ", ".join(frame.columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            data = _pg_copy_frame(frame)
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy,
            ):
                copy.write(data)
            return
        placeholders = ", ".join(["%s"] * len(frame.columns))
        kinds = [types.get(c, "text") for c in frame.columns]
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 (identifiers are module constants)
            [tuple(_sqlite_value(v, k) for k, v in zip(kinds, row, strict=True)) for row in frame.iter_rows()],
        )


def _sqlite_type(sql_type: str) -> str:
    return {"uuid": "char(32)", "bytea": "blob", "bigint": "integer", "integer": "integer", "boolean": "bool"}.get(
        sql_type, "text"
    )


def _sqlite_value(value, sql_type: str):
    """Values as Django's SQLite backend stores them: UUIDs as 32 hex characters, datetimes as naive UTC text."""
    if value is None:
        return None
    if sql_type == "uuid":
        return UUID(value).hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _pg_copy_frame(frame: pl.DataFrame) -> bytes:
    """The frame as CSV for COPY: bytea as \\x-hex, booleans as t/f, timestamps in ISO with zone."""
    conversions = []
    for column, dtype in frame.schema.items():
        if dtype == pl.Binary:
            conversions.append((pl.lit("\\x") + pl.col(column).bin.encode("hex")).alias(column))
        elif dtype == pl.Boolean:
            conversions.append(pl.when(pl.col(column)).then(pl.lit("t")).otherwise(pl.lit("f")).alias(column))
    if conversions:
        frame = frame.with_columns(conversions)
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value="", datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# Reports


def error_report_xlsx(job: JobRun, table: Table) -> bytes:
    """The original rows that were not imported (errors, duplicates, members of other unions) with the reason beside
    them, in the file's own column layout, ready to fix and upload again."""
    problems = list(
        RosterImportRow.objects.filter(job=job)
        .exclude(status__in=[ImportOutcome.ADDED, ImportOutcome.UPDATED, ImportOutcome.UNCHANGED])
        .order_by("line")
        .values_list("line", "status", "reason")
    )
    outcome = pl.DataFrame(problems, schema={LINE: pl.Int64, "status": pl.String, "reason": pl.String}, orient="row")
    rows = table.original.join(outcome, on=LINE, how="inner").sort(LINE)
    labels = dict(ImportOutcome.choices)
    # A problem report uploaded again carries the earlier 原行号 and 问题说明: they are replaced, not repeated.
    headings = [h for h in table.original.columns if h != LINE and h not in REPORT_EXTRA]
    line_heading, reason_heading = REPORT_EXTRA
    cells = rows.select(
        *headings,
        pl.col(LINE).alias(line_heading),
        pl.format("【{}】{}", pl.col("status").replace_strict(labels, return_dtype=pl.String), "reason").alias(
            reason_heading
        ),
    )
    sheet = TextSheet(
        name="导入问题清单",
        title=f"导入问题清单：共{rows.height}行未导入。请按“问题说明”修改后重新上传（“原行号”“问题说明”两列会被忽略）",
        headings=[*headings, *REPORT_EXTRA],
        frame=cells,
        widths=[14] * len(headings) + [12, 60],
        reason_columns=frozenset({reason_heading}),
    )
    with tempfile.TemporaryDirectory(prefix="gh-report-") as folder:
        path = Path(folder) / "report.xlsx"
        write_text_xlsx(path, sheet)
        return path.read_bytes()


def import_rows_of(job: JobRun, *, status: str = ""):
    """The outcome rows of an import job (every row not simply added), in file order. Callers reach the job through
    `roster_import_get` or `job_get`, which scope it to the requester."""
    rows = RosterImportRow.objects.filter(job=job).order_by("line")
    return rows.filter(status=status) if status else rows


def import_rows_json(job: JobRun, *, limit: int | None = None) -> list[dict]:
    rows = import_rows_of(job).values_list("line", "status", "reason")
    if limit is not None:
        rows = rows[:limit]
    return [{"row": line, "status": status, "reason": reason} for line, status, reason in rows]


def roster_import_get(*, actor: Actor, job_id) -> JobRun:
    """An import job the actor started (accounts and API tokens alike); anything else is NotFound."""
    actor.require(Perm.MEMBERS_IMPORT)
    parsed = parse_public_id(job_id)
    job = JobRun.objects.filter(id=parsed, kind="roster_import", requested_by_id=actor.id).first() if parsed else None
    if job is None:
        raise NotFound()
    return job
