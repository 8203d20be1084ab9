"""Roster import: the error report, one document number under two names, and importing a previewed file."""

from datetime import timedelta

import polars as pl
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.common.sheets import read_table
from gonghui.demo.people import WorkerFactory
from gonghui.demo.rosters import HEADINGS, roster_row, roster_xlsx
from gonghui.imports import roster as imports
from gonghui.imports.roster import roster_import_run
from gonghui.imports.roster.validate import ROSTER_COLUMNS, mark_duplicates, validate_roster
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.members.models import ImportOutcome
from tests.imports.roster_factories import (
    FULL_WIDTH,
    HERE,
    TITLE,
    UNIT,
    _numeric_id_workbook,
    _read_back,
    _report,
    _report_rows,
    _zeroed_is_refused,
    csv_bytes,
    members_of,
    outcomes,
    person_by_number,
    reasons,
    registry_counts,
    run_import,
    workers,
)


def test_error_report_holds_exactly_the_failed_rows_with_reasons(gbk_import):
    job = gbk_import["job"]
    lines = gbk_import["lines"]
    header = lines[1]
    headings, rows = _report_rows(_report(job))
    assert headings[: len(header)] == header
    assert headings[-2:] == ["原行号", "问题说明"]
    line_at, reason_at = headings.index("原行号"), headings.index("问题说明")
    labels = dict(ImportOutcome.choices)
    failed = {r["row"]: r for r in gbk_import["payload"]["rows"]}
    assert [int(row[line_at]) for row in rows] == sorted(failed)  # exactly the failed rows, in file order
    for row in rows:
        line = int(row[line_at])
        original = [cell.strip() for cell in lines[line - 1]]
        given = original[: len(header)]
        assert row[: len(header)] == given + [""] * (len(header) - len(given))
        assert row[reason_at] == f"【{labels[failed[line]['status']]}】{failed[line]['reason']}"


def test_error_report_keeps_the_cell_beyond_the_header(gbk_import):
    """Line 9 is refused because it has a value in a column without a heading; the report, meant to be fixed and
    uploaded again, must still show that value (and only in that row)."""
    header = gbk_import["lines"][1]
    headings, rows = _report_rows(_report(gbk_import["job"]))
    line_at = headings.index("原行号")
    extra = headings[len(header) : line_at]
    assert extra == [f"第{len(header) + 1}列（无表头）"]
    by_line = {int(row[line_at]): row[len(header) : line_at] for row in rows}
    assert by_line.pop(9) == ["多出的一格"]
    assert set(map(tuple, by_line.values())) == {("",)}


def test_error_report_of_an_xlsx_with_numeric_ids(tree, system, today):
    factory = WorkerFactory(61, today)
    pool = [factory.worker(UNIT) for _ in range(30)]
    pool = [w for w in pool if not w.doc_number.endswith("X") and _zeroed_is_refused(w.doc_number, today)]
    job = run_import(system, tree[HERE], "n.xlsx", _numeric_id_workbook(TITLE, [(pool[0], False), (pool[1], True)]))
    headings, rows = _report_rows(_report(job))
    assert headings == [*HEADINGS, "原行号", "问题说明"]
    assert len(rows) == 1
    cells = rows[0]
    assert cells[HEADINGS.index("证件号码")] == _read_back(pool[1].doc_number)
    assert cells[HEADINGS.index("姓名")] == pool[1].name
    assert cells[len(HEADINGS)] == "4"
    assert "Excel" in cells[len(HEADINGS) + 1]


def test_a_problem_report_uploaded_again_gets_fresh_line_and_reason_columns(tree, system, today):
    """The report of a report: its own 原行号 and 问题说明 are ignored on the way in and replaced on the way out."""
    w = workers(64, today, 2)
    nameless = roster_row(2, w[1])
    nameless[HEADINGS.index("姓名")] = ""
    content = csv_bytes(
        [
            ["导入问题清单：共2行未导入"],
            [*HEADINGS, "原行号", "问题说明"],
            [*roster_row(1, w[0]), "7", "【有错误】旧的说明"],
            [*nameless, "9", "【有错误】旧的说明"],
        ]
    )
    job = run_import(system, tree[HERE], "导入问题清单.csv", content)
    assert job.result["summary"]["added"] == 1 and outcomes(job) == {4: "error"}
    headings, rows = _report_rows(_report(job))
    assert headings == [*HEADINGS, "原行号", "问题说明"]
    assert rows == [[*nameless, "4", f"【有错误】{reasons(job)[4]}"]]


def test_no_report_when_every_row_is_added(tree, system, today):
    job = run_import(system, tree[HERE], "ok.xlsx", roster_xlsx([roster_row(1, workers(62, today, 1)[0])]))
    assert job.result_name == "" and not job.result_file


def test_mark_duplicates_names_every_line(today):
    w = workers(63, today, 2)
    content = csv_bytes(
        [
            ["姓名", "证件号码"],
            [w[0].name, w[0].doc_number],
            [w[1].name, w[1].doc_number],
            [],
            [w[0].name, w[0].doc_number.lower()],
            [w[0].name, w[0].doc_number.translate(FULL_WIDTH)],
        ]
    )
    rows = mark_duplicates(validate_roster(read_table(content, "d.csv", ROSTER_COLUMNS), today=today))
    statuses = dict(zip(rows.get_column("_line").to_list(), rows.get_column("status").to_list(), strict=True))
    assert statuses == {2: "ok", 3: "ok", 5: "duplicate", 6: "duplicate"}
    assert set(rows.filter(pl.col("status") == "duplicate").get_column("reason").to_list()) == {
        "第2、5、6行是同一人（证件号码相同），只导入第2行"
    }


# ---------------------------------------------------------------------------------------------------------------
# One document number under two names; importing the previewed file


def test_one_document_under_two_names_is_a_conflict_not_the_same_person(today):
    w = workers(64, today, 2)
    content = csv_bytes(
        [
            ["姓名", "证件号码"],
            ["张三", w[0].doc_number],
            [w[1].name, w[1].doc_number],
            ["张三", w[0].doc_number],
            ["李四", w[0].doc_number],
            [w[1].name, w[1].doc_number],
        ]
    )
    rows = mark_duplicates(validate_roster(read_table(content, "d.csv", ROSTER_COLUMNS), today=today))
    got = {line: (status, reason) for line, status, reason in rows.select("_line", "status", "reason").iter_rows()}
    assert got == {
        2: ("error", "第2行与第5行证件号码相同但姓名不同（张三／李四），请核对"),
        3: ("ok", None),
        4: ("error", "第4行与第5行证件号码相同但姓名不同（张三／李四），请核对"),
        5: ("error", "第5行与第2行证件号码相同但姓名不同（李四／张三），请核对"),
        6: ("duplicate", "第3、6行是同一人（证件号码相同），只导入第3行"),
    }


def test_an_import_with_one_document_under_two_names_imports_neither(tree, system, today):
    w = workers(65, today, 2)
    content = csv_bytes(
        [["姓名", "证件号码"], ["张三", w[0].doc_number], [w[1].name, w[1].doc_number], ["李四", w[0].doc_number]]
    )
    job = run_import(system, tree[HERE], "names.csv", content)
    assert reasons(job) == {
        2: "第2行与第4行证件号码相同但姓名不同（张三／李四），请核对",
        4: "第4行与第2行证件号码相同但姓名不同（李四／张三），请核对",
    }
    assert outcomes(job) == {2: "error", 4: "error"}
    assert job.result["summary"] == {
        "rows": 3, "added": 1, "updated": 0, "unchanged": 0, "conflict": 0, "duplicate": 0, "error": 2,
    }  # fmt: skip
    assert person_by_number(w[0].doc_number) is None
    assert list(members_of(tree[HERE])) == [w[1].doc_number]


def _preview(actor, org, content: bytes, filename: str = "名册.csv") -> JobRun:
    return run_import(actor, org, filename, content, mode="dry-run")


def test_a_preview_is_imported_from_its_page_without_a_second_upload(
    tree, actors, login, today, django_capture_on_commit_callbacks
):
    w = workers(66, today, 3)
    content = csv_bytes([["姓名", "证件号码"], *[[x.name, x.doc_number] for x in w]])
    preview = _preview(actors["grassroots_cadre"], tree[HERE], content)
    assert registry_counts() == (0, 0)
    client = login("grassroots_cadre")
    detail = reverse("admin:roster_import_detail", args=[preview.id])
    page = client.get(detail).content.decode()
    assert 'id="gh-import-this-file"' in page and ">导入此文件</button>" in page
    assert f'action="{reverse("admin:roster_import_from_preview", args=[preview.id])}"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:roster_import_from_preview", args=[preview.id]), {"mode": "add"})
    job = JobRun.objects.exclude(pk=preview.pk).get(kind="roster_import")
    assert response.status_code == 302 and response["Location"] == reverse("admin:roster_import_detail", args=[job.id])
    assert (job.params["mode"], job.params["filename"], job.params["sha256"]) == (
        "add",
        "名册.csv",
        preview.params["sha256"],
    )
    preview.refresh_from_db()
    assert preview.result["imported_as"] == str(job.id)
    assert not default_storage.exists(preview.params["upload"])  # the kept file went with the preview
    roster_import_run(str(job.id))
    job.refresh_from_db()
    assert (job.status, job.result["summary"]["added"]) == (JobStatus.SUCCEEDED, 3)
    assert sorted(members_of(tree[HERE])) == sorted(x.doc_number for x in w)
    event = AuditEvent.objects.get(action="member.import_from_preview")
    assert event.details == {"preview": str(preview.id), "job": str(job.id), "mode": "add", "file": "名册.csv"}

    # Once only: the page now links to the import, and a second POST is refused and creates nothing.
    page = client.get(detail).content.decode()
    assert 'id="gh-import-this-file"' not in page
    assert reverse("admin:roster_import_detail", args=[job.id]) in page
    response = client.post(reverse("admin:roster_import_from_preview", args=[preview.id]), {"mode": "add"}, follow=True)
    assert "该预览的文件已经导入，请查看那次导入的结果" in response.content.decode()
    assert JobRun.objects.filter(kind="roster_import").count() == 2


def test_only_the_previewer_may_import_a_preview_and_only_by_post(tree, actors, login, today):
    w = workers(67, today, 1)
    content = csv_bytes([["姓名", "证件号码"], [w[0].name, w[0].doc_number]])
    preview = _preview(actors["grassroots_cadre"], tree[HERE], content)
    target = reverse("admin:roster_import_from_preview", args=[preview.id])
    assert login("town_cadre").post(target, {"mode": "add"}).status_code == 404
    assert login("grassroots_cadre").get(target, {"mode": "add"}).status_code == 405
    with pytest.raises(DomainError, match="只能导入自己预览的文件"):
        imports.roster_import_from_preview(actor=actors["town_cadre"], preview=preview, mode="add")
    with pytest.raises(ValidationFailed):
        imports.roster_import_from_preview(actor=actors["grassroots_cadre"], preview=preview, mode="dry-run")
    assert JobRun.objects.filter(kind="roster_import").count() == 1
    assert registry_counts() == (0, 0)
    assert default_storage.exists(preview.params["upload"])


def test_an_import_is_not_offered_as_a_preview(tree, actors, login, today):
    w = workers(68, today, 1)
    content = csv_bytes([["姓名", "证件号码"], [w[0].name, w[0].doc_number]])
    job = run_import(actors["grassroots_cadre"], tree[HERE], "r.csv", content)
    page = login("grassroots_cadre").get(reverse("admin:roster_import_detail", args=[job.id])).content.decode()
    assert 'id="gh-import-this-file"' not in page
    assert not default_storage.exists(job.params["upload"])
    with pytest.raises(DomainError, match="只能从预览结果导入文件"):
        imports.roster_import_from_preview(actor=actors["grassroots_cadre"], preview=job, mode="add")


def test_a_preview_keeps_its_file_for_a_day(tree, actors, login, today):
    w = workers(69, today, 1)
    content = csv_bytes([["姓名", "证件号码"], [w[0].name, w[0].doc_number]])
    preview = _preview(actors["grassroots_cadre"], tree[HERE], content)
    JobRun.objects.filter(pk=preview.pk).update(finished_at=timezone.now() - timedelta(hours=25))
    preview.refresh_from_db()
    page = login("grassroots_cadre").get(reverse("admin:roster_import_detail", args=[preview.id])).content.decode()
    assert 'id="gh-import-this-file"' not in page
    with pytest.raises(DomainError, match="预览的文件已不再保留（超过24小时），请重新上传"):
        imports.roster_import_from_preview(actor=actors["grassroots_cadre"], preview=preview, mode="add")
    assert imports.previews_expired_purge() == 1
    assert not default_storage.exists(preview.params["upload"])
    preview.refresh_from_db()
    assert preview.result["upload_kept"] is False
    assert imports.previews_expired_purge() == 0
