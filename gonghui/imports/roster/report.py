"""Roster import, outcomes and reports: the outcome rows written per chunk, the summary message, the problem report
(the original rows not imported, with the reason beside them) and the outcome rows as JSON."""

import tempfile
from pathlib import Path

import polars as pl
from django.utils import timezone

from gonghui.common.sheets import LINE, Table
from gonghui.common.text_xlsx import TextSheet, write_text_xlsx
from gonghui.imports.roster.load import _load_rows
from gonghui.jobs.models import JobRun
from gonghui.members.models import (
    ImportOutcome,
    RosterImportRow,
)

REPORT_EXTRA = ("原行号", "问题说明")


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
