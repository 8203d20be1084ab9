"""Roster import (会员名册导入): the files people actually send (GBK CSV with a title row, .xlsx with IDs typed as
numbers, .xls, UTF-8 with BOM, blank and ragged rows), the three modes, the column-wise validation against the
registry's per-value normalisers, scoping, a worker killed mid-import and resumed, and the error report.

Row numbers are always those a spreadsheet user sees: title and header rows counted, blank lines counted.
"""

import csv
import dataclasses
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

import polars as pl
import pytest
import xlsxwriter
import xlwt
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook
from stdnum import luhn
from stdnum.cn import ric

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.sheets import SheetUnreadable, cell_text, decode_csv, read_table
from gonghui.demo.people import LOCAL_REGIONS, MIGRANT_REGIONS, WorkerFactory
from gonghui.demo.rosters import HEADINGS, roster_csv, roster_row, roster_xlsx
from gonghui.imports import roster as imports
from gonghui.imports.roster import (
    import_rows_json,
    luhn_check_digits,
    prepare_rows,
    roster_import_cancel,
    roster_import_request,
    roster_import_run,
)
from gonghui.imports.roster import merge as roster_merge
from gonghui.imports.roster.validate import ROSTER_COLUMNS, mark_duplicates, validate_roster
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.members.documents import DocumentInvalid, normalise_document
from gonghui.members.models import Education, ImportOutcome, Membership, MembershipStatus, Person, RosterImportRow
from gonghui.members.people import document_index, document_number_of, normalise_mobile, phone_of, quality_flags
from gonghui.members.services import membership_leave
from tests.conftest import is_postgres
from tests.members.factories import enrol

UNIT = "十二号有限公司"
TITLE = "XX公司工会会员信息登记表"
HERE = "SZ-GS-T01-12"  # 十二号公司工会委员会
ELSEWHERE = "SZ-WZ-T01-E1"  # 木渎光电有限公司工会委员会
ELSEWHERE_NAME = "木渎光电有限公司工会委员会"
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
NOT_ADDED = ("updated", "unchanged", "conflict", "duplicate", "error")
BEYOND_HEADER = "本行在没有表头的列中填了内容，请核对是否错列"


# ---------------------------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture
def today() -> date:
    return timezone.localdate()


def workers(seed: int, today: date, count: int, unit: str = UNIT) -> list:
    factory = WorkerFactory(seed, today)
    return [factory.worker(unit) for _ in range(count)]


def doc_reason(number: str, today: date, doc_type: str = "resident_id") -> str:
    """The registry's own refusal of a document number (fails the test if the registry accepts it)."""
    with pytest.raises(DocumentInvalid) as refused:
        normalise_document(doc_type, number, today=today)
    return str(refused.value)


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def run_import(actor, org, filename: str, content: bytes, mode: str = "add") -> JobRun:
    """Request and run an import in this process, as the worker would; the job must succeed."""
    job = roster_import_request(
        actor=actor, org=org, filename=filename, content=content, mode=mode, enqueue=lambda job_id: None
    )
    roster_import_run(str(job.id))
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def outcomes(job: JobRun) -> dict[int, str]:
    return {row["row"]: row["status"] for row in import_rows_json(job)}


def reasons(job: JobRun) -> dict[int, str]:
    return {row["row"]: row["reason"] for row in import_rows_json(job)}


def command_json(*args) -> dict:
    out = io.StringIO()
    call_command("import_roster", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def registry_counts() -> tuple[int, int]:
    return Person.objects.count(), Membership.objects.count()


def members_of(org) -> dict[str, Person]:
    """Holding members of `org` by their (decrypted) document number."""
    memberships = Membership.objects.filter(org=org, status=MembershipStatus.ACTIVE).select_related("person")
    return {document_number_of(m.person): m.person for m in memberships}


def person_by_number(number: str) -> Person | None:
    return Person.objects.filter(doc_type="resident_id", doc_index=document_index("resident_id", number)).first()


def assert_no_person_twice() -> None:
    """Every person once; every person holds at most one membership (the registry's two promises)."""
    assert Person.objects.values("doc_type", "doc_index").distinct().count() == Person.objects.count()
    numbers = [document_number_of(p) for p in Person.objects.all()]
    assert len(numbers) == len(set(numbers))
    holding = Membership.objects.filter(status__in=[MembershipStatus.ACTIVE, MembershipStatus.RESERVED])
    assert holding.values("person_id").distinct().count() == holding.count()


def with_id(worker, number: str):
    return dataclasses.replace(worker, doc_number=number)


def resident_id(region: str, birth: date, seq: int) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def wrong_check(number: str) -> str:
    right = number[17]
    return number[:17] + next(c for c in "0123456789X" if c != right and c != ric.calc_check_digit(number[:17] + "0"))


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return date(day.year - years, 2, 28)


# ---------------------------------------------------------------------------------------------------------------
# 1. The files people send


@pytest.fixture
def gbk_import(tree, system, today, tmp_path):
    """A GBK CSV with a title row above the header, imported with `manage.py import_roster --json`.

    Lines as the user sees them:
        1 title            2 header (+ an unknown column 紧急联系人)
        3 added            4 added (ID in full-width digits)     5 blank
        6 added            7 conflict (member of 木渎光电)         8 duplicate of line 3
        9 ragged: a cell beyond the header → error                10 blank but for commas
       11 added (ID ending in lower-case x)   12 wrong check digit → error   13 short row (5 cells) → added
    """
    factory = WorkerFactory(11, today)
    w = [factory.worker(UNIT) for _ in range(7)]
    x_worker = next(p for p in iter(lambda: factory.worker(UNIT), None) if p.doc_number.endswith("X"))
    elsewhere = w[3]
    enrol(system, tree[ELSEWHERE], name=elsewhere.name, number=elsewhere.doc_number, work_unit="木渎光电有限公司")
    header = [*HEADINGS, "紧急联系人"]

    def row(number, worker, **changes):
        return [*roster_row(number, dataclasses.replace(worker, **changes)), "王某"]

    lines = [
        [TITLE],
        header,
        row(1, w[0]),
        row(2, w[1], doc_number=w[1].doc_number.translate(FULL_WIDTH)),
        [],
        row(3, w[2]),
        row(4, elsewhere),
        row(5, w[0]),
        [*row(6, w[4]), "多出的一格"],
        [""] * len(header),
        row(7, x_worker, doc_number=x_worker.doc_number.lower()),
        row(8, w[5], doc_number=wrong_check(w[5].doc_number)),
        roster_row(9, w[6])[:5],
    ]
    content = csv_bytes(lines, encoding="gbk")
    path = tmp_path / "会员名册.csv"
    path.write_bytes(content)
    payload = command_json(str(path), "--org", HERE)
    return {
        "payload": payload,
        "job": JobRun.objects.get(id=payload["job"]),
        "lines": lines,
        "content": content,
        "added": {3: w[0], 4: w[1], 6: w[2], 11: x_worker, 13: w[6]},
        "workers": w,
        "elsewhere": elsewhere,
        "wrong_check": wrong_check(w[5].doc_number),
    }


def test_gbk_csv_with_title_row_blank_and_ragged_rows(gbk_import, tree, today):
    payload = gbk_import["payload"]
    with pytest.raises(UnicodeDecodeError):
        gbk_import["content"].decode("utf-8")  # really GBK, not UTF-8
    assert decode_csv(gbk_import["content"])[1] == "GBK/GB18030"

    assert payload["summary"] == {
        "rows": 9, "added": 5, "updated": 0, "unchanged": 0, "conflict": 1, "duplicate": 1, "error": 2,
    }  # fmt: skip
    assert payload["unknown_columns"] == ["紧急联系人"]
    # The JSON rows are exactly the rows that were not simply added, in line order.
    assert [(r["row"], r["status"]) for r in payload["rows"]] == [
        (7, "conflict"),
        (8, "duplicate"),
        (9, "error"),
        (12, "error"),
    ]
    by_row = {r["row"]: r["reason"] for r in payload["rows"]}
    assert by_row[7].startswith("该人员已是其他工会会员（证件号码 ") and ELSEWHERE_NAME not in by_row[7]
    assert "第3、8行" in by_row[8] and "只导入第3行" in by_row[8]
    assert by_row[9] == BEYOND_HEADER
    assert by_row[12] == doc_reason(gbk_import["wrong_check"], today)

    job = gbk_import["job"]
    assert job.result["header_line"] == 2
    assert job.result["encoding"] == "GBK/GB18030"


def test_gbk_import_writes_exactly_the_added_people_normalised(gbk_import, tree):
    here = members_of(tree[HERE])
    expected = {w.doc_number.upper(): w for w in gbk_import["added"].values()}
    assert set(here) == set(expected)  # full-width digits and the lower-case x were normalised
    for number, person in here.items():
        assert person.name == expected[number].name
        assert number.isascii() and number == number.upper()
        assert luhn.is_valid(Membership.objects.get(person=person, org=tree[HERE]).card_number)
    # The line-13 row had only five cells: imported with what it had.
    short = here[gbk_import["added"][13].doc_number]
    assert short.education == "" and short.phone_masked == ""
    # The member of another union stays there only; the duplicated person exists once.
    elsewhere = person_by_number(gbk_import["elsewhere"].doc_number)
    assert list(elsewhere.memberships.values_list("org__code", flat=True)) == [ELSEWHERE]
    assert person_by_number(gbk_import["workers"][4].doc_number) is None  # the ragged row was not imported
    assert person_by_number(gbk_import["wrong_check"]) is None
    assert_no_person_twice()


def _numeric_id_workbook(title: str, rows: list[tuple[object, bool]]) -> bytes:
    """An .xlsx built by hand: (worker, id_as_number) per row; 入会日期 as a real date cell."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("会员名册")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write(0, 0, title)
    sheet.write_row(1, 0, HEADINGS)
    id_column = HEADINGS.index("证件号码")
    joined_column = HEADINGS.index("入会日期")
    for index, (worker, as_number) in enumerate(rows, start=2):
        cells = roster_row(index - 1, worker)
        for column, value in enumerate(cells):
            if column == id_column and as_number:
                sheet.write_number(index, column, int(value))
            elif column == joined_column:
                sheet.write_datetime(
                    index, column, datetime.combine(worker.joined_on, datetime.min.time()), date_format
                )
            else:
                sheet.write_string(index, column, value)
    book.close()
    return buffer.getvalue()


def _fifteen_digits(number: str) -> str:
    """An 18-digit ID typed into a spreadsheet as a number: only 15 significant digits survive (…000)."""
    return format(Decimal(format(float(int(number)), ".15g")), "f")


def _read_back(number: str) -> str:
    """What the reader makes of a numeric cell holding this ID."""
    return cell_text(float(int(number)))


def test_xlsx_ids_typed_as_numbers_are_errors_that_mention_excel(tree, system, today):
    factory = WorkerFactory(12, today)
    pool = [factory.worker(UNIT) for _ in range(40)]
    # Numeric rows whose damaged value the registry refuses (see the next test for the other kind).
    damaged = [w for w in pool if not w.doc_number.endswith("X")]
    damaged = [w for w in damaged if _zeroed_is_refused(w.doc_number, today)][:3]
    plain = [w for w in pool if w not in damaged][:3]
    rows = [(plain[0], False), (damaged[0], True), (plain[1], False), (damaged[1], True), (damaged[2], True),
            (plain[2], False)]  # fmt: skip
    job = run_import(system, tree[HERE], "名册.xlsx", _numeric_id_workbook(TITLE, rows))

    assert job.result["header_line"] == 2
    assert outcomes(job) == {4: "error", 6: "error", 7: "error"}
    for line, (worker, _) in ((4, rows[1]), (6, rows[3]), (7, rows[4])):
        reason = reasons(job)[line]
        assert "Excel" in reason
        assert reason == doc_reason(_read_back(worker.doc_number), today)
    assert set(members_of(tree[HERE])) == {w.doc_number for w in plain}
    # The date cell of 入会日期 was read as a date.
    for worker in plain:
        assert Membership.objects.get(person=person_by_number(worker.doc_number)).joined_on == worker.joined_on


def _zeroed_is_refused(number: str, today: date) -> bool:
    try:
        normalise_document("resident_id", _fifteen_digits(number), today=today)
    except DocumentInvalid:
        return True
    return False


def test_xlsx_numeric_id_whose_zeroed_tail_happens_to_pass_the_check_is_still_refused(tree, system, today):
    """An 18-digit ID stored as a number always loses its last three digits. About one number in eleven then still
    carries a correct check digit ("…000" where the check of "…00" is 0); the import must not take that for a
    valid ID of someone else."""
    factory = WorkerFactory(13, today)
    pool = [w for w in (factory.worker(UNIT) for _ in range(200)) if not w.doc_number.endswith("X")]
    unlucky = next(w for w in pool if not _zeroed_is_refused(w.doc_number, today))
    assert _fifteen_digits(unlucky.doc_number) != unlucky.doc_number  # the number in the file is not the person's ID
    job = run_import(system, tree[HERE], "名册.xlsx", _numeric_id_workbook(TITLE, [(unlucky, True)]))

    assert outcomes(job) == {3: "error"}
    assert "Excel" in reasons(job)[3]
    assert Person.objects.count() == 0


def test_xls_written_with_xlwt(tree, system, today):
    pool = workers(14, today, 20)
    numeric = next(x for x in pool if not x.doc_number.endswith("X") and _zeroed_is_refused(x.doc_number, today))
    w = [x for x in pool if x != numeric][:3]
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("会员名册")
    sheet.write(0, 0, TITLE)
    for column, heading in enumerate(HEADINGS):
        sheet.write(1, column, heading)
    placed = {3: w[0], 5: w[1], 6: w[2]}  # line 4 is left blank
    for line, worker in placed.items():
        for column, value in enumerate(roster_row(line - 2, worker)):
            sheet.write(line - 1, column, value)
    for column, value in enumerate(roster_row(9, numeric)):
        sheet.write(6, column, int(value) if HEADINGS[column] == "证件号码" else value)  # line 7
    buffer = io.BytesIO()
    book.save(buffer)

    job = run_import(system, tree[HERE], "名册.xls", buffer.getvalue())
    assert job.result["summary"] == {
        "rows": 4, "added": 3, "updated": 0, "unchanged": 0, "conflict": 0, "duplicate": 0, "error": 1,
    }  # fmt: skip
    assert outcomes(job) == {7: "error"}
    assert "Excel" in reasons(job)[7]
    assert set(members_of(tree[HERE])) == {x.doc_number for x in placed.values()}


def test_utf8_csv_with_bom(tree, system, today):
    w = workers(15, today, 3)
    rows = [roster_row(1, w[0]), roster_row(2, with_id(w[1], w[1].doc_number.translate(FULL_WIDTH))), [],
            roster_row(3, w[2])]  # fmt: skip
    content = roster_csv(rows)  # utf-8-sig
    assert content.startswith(b"\xef\xbb\xbf")
    job = run_import(system, tree[HERE], "roster.csv", content)

    assert job.result["encoding"] == "UTF-8 (BOM)"
    assert job.result["header_line"] == 1
    assert job.result["unknown_columns"] == []  # the BOM is not glued to the first heading (序号)
    assert "序号" in job.result["ignored_columns"]
    assert outcomes(job) == {}
    assert job.result["summary"]["added"] == 3
    assert set(members_of(tree[HERE])) == {x.doc_number for x in w}


def test_a_cell_far_beyond_the_header_late_in_a_csv_is_still_an_error(tree, system, today):
    """The CSV reader sizes its columns from the first lines of the file; a row further down with a value many
    columns to the right of the header must still be refused (and the value kept in the report), not cut off."""
    w = workers(17, today, 80)
    rows = [roster_row(i + 1, x) for i, x in enumerate(w)]
    rows[74] = [*rows[74], *[""] * 12, "错列的内容"]  # line 76: a value 13 columns right of the last heading
    job = run_import(system, tree[HERE], "late.csv", roster_csv(rows))
    assert outcomes(job) == {76: "error"}
    assert reasons(job)[76] == BEYOND_HEADER
    assert person_by_number(w[74].doc_number) is None
    _, report = _report_rows(_report(job))
    assert len(report) == 1 and "错列的内容" in report[0]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
def test_a_damaged_byte_in_a_utf8_csv_is_refused_not_read_as_gbk(bom, today):
    """A UTF-8 roster with one damaged byte must not be decoded as GB18030 (every name would be garbled)."""
    rows = [roster_row(i + 1, x) for i, x in enumerate(workers(31, today, 5))]
    content = bom + roster_csv(rows).removeprefix(b"\xef\xbb\xbf")
    fourth = content.index(rows[3][1].encode())  # the name on line 5 (header on line 1)
    damaged = content[:fourth] + b"\xff" + content[fourth + 1 :]
    with pytest.raises(SheetUnreadable) as refused:
        decode_csv(damaged)
    assert refused.value.message == (
        "文件是 UTF-8 编码，但第5行有无法识别的字符（文件可能已损坏），请检查该行后重新保存为 CSV"
    )


def test_gbk_text_is_still_read_as_gbk(today):
    rows = [roster_row(i + 1, x) for i, x in enumerate(workers(32, today, 5))]
    content = roster_csv(rows).removeprefix(b"\xef\xbb\xbf").decode("utf-8").encode("gb18030")
    text, encoding = decode_csv(content)
    assert encoding == "GBK/GB18030" and rows[3][1] in text


def test_the_header_check_of_a_large_csv_reads_only_its_head(today):
    """The edge check parses the first rows only; the head is cut at a line break, so it decodes as the file does."""
    rows = [roster_row(i + 1, x) for i, x in enumerate(workers(33, today, 20))] * 600  # ~1.9 MB
    for content in (roster_csv(rows), roster_csv(rows).removeprefix(b"\xef\xbb\xbf").decode().encode("gb18030")):
        assert len(content) > 1 << 20
        head = read_table(content, "big.csv", ROSTER_COLUMNS, limit=21)
        whole = read_table(content, "big.csv", ROSTER_COLUMNS)
        assert head.rows == 20 and whole.rows == 12_000
        assert head.encoding == whole.encoding and head.mapped == whole.mapped
        assert head.frame.rows() == whole.frame.head(20).rows()


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_csv_width_comes_from_the_widest_record_with_or_without_quotes(quoted):
    """Plain CSV is sized by counting commas per line; once a quote appears, commas and line breaks inside quotes
    do not separate cells, so the csv module sizes it. Either way the far cell is read, and nothing more."""
    lines = ["姓名,证件号码,手机号码", "张三,110101199003074514,13800138000"]
    if quoted:
        lines += ['"李四, 备注里有逗号",110101199003071234,"多行\n,,,,,,,,,,,,"', "王五,110101199003075678,,,,,远处"]
    else:
        lines += ["李四,110101199003071234,", "王五,110101199003075678,,,,,远处"]
    table = read_table("\n".join(lines).encode(), "x.csv", ROSTER_COLUMNS)
    far = [c for c in table.original.columns if c.endswith("（无表头）")]
    assert far == ["第7列（无表头）"]
    assert table.original.get_column(far[0]).to_list() == [None, None, "远处"]
    assert table.rows == 3


def test_duplicate_headings_do_not_break_the_reader(tree, system, today):
    """Two columns with the same heading (a second 备注 column, say) are common in hand-made sheets; the reader has
    an explicit rule for a field named twice ("已使用前一列") and must not crash on identical text."""
    w = workers(16, today, 2)
    content = csv_bytes(
        [
            ["姓名", "证件号码", "备注", "备注"],
            [w[0].name, w[0].doc_number, "甲", "乙"],
            [w[1].name, w[1].doc_number, "", ""],
        ]
    )
    table = read_table(content, "dup.csv", ROSTER_COLUMNS)
    assert table.mapped["remarks"] == "备注"
    job = run_import(system, tree[HERE], "dup.csv", content)
    assert job.result["summary"]["added"] == 2


# ---------------------------------------------------------------------------------------------------------------
# 2. Modes


@pytest.fixture
def mixed_registry(tree, system, today):
    """Ten workers and the registry facts the modes are tested against:
    w0 already a member here, w1 a member of another union, w2 left this union (returning), w3 registered here
    under another name; w4..w9 new."""
    w = workers(21, today, 10)
    enrol(system, tree[HERE], name=w[0].name, number=w[0].doc_number)
    enrol(system, tree[ELSEWHERE], name=w[1].name, number=w[1].doc_number)
    left = enrol(system, tree[HERE], name=w[2].name, number=w[2].doc_number)
    membership_leave(actor=system, membership=left, reason="离职")
    enrol(system, tree["SZ-GS-T01-123"], name="改名前", number=w[3].doc_number)
    rows = [roster_row(i + 1, x) for i, x in enumerate(w)]
    rows.append(roster_row(11, w[5]))  # line 12: duplicate of line 7
    rows.append(roster_row(12, with_id(w[6], wrong_check(w[6].doc_number))))  # line 13: error
    return w, roster_csv(rows)


def _snapshot():
    return (
        sorted(Person.objects.values_list("id", "name", "education", "phone_index", "quality_flags", "updated_at")),
        sorted(Membership.objects.values_list("id", "person_id", "org_id", "status", "card_number", "updated_at")),
    )


def test_dry_run_writes_nothing_and_predicts_the_real_run(mixed_registry, tree, system):
    w, content = mixed_registry
    before = _snapshot()
    preview = run_import(system, tree[HERE], "roster.csv", content, mode="dry-run")
    assert _snapshot() == before
    assert preview.result["changed"] is False
    assert preview.result["message"].startswith("预览结果（未写入）")

    expected = {2: "unchanged", 3: "conflict", 5: "error", 12: "duplicate", 13: "error"}
    assert outcomes(preview) == expected
    assert preview.result["summary"] == {
        "rows": 12, "added": 7, "updated": 0, "unchanged": 1, "conflict": 1, "duplicate": 1, "error": 2,
    }  # fmt: skip

    real = run_import(system, tree[HERE], "roster.csv", content, mode="add")
    assert outcomes(real) == outcomes(preview)
    assert real.result["summary"] == preview.result["summary"]
    for line in (3, 5, 12, 13):
        assert reasons(real)[line] == reasons(preview)[line]
    # w3 is registered in another union under another name, w1 is another union's member: neither the name on
    # record nor the union is told to this union.
    assert reasons(real)[5] == "姓名与证件号码不符，请核对证件原件后重新填写"
    masked = person_by_number(w[1].doc_number).doc_masked
    assert reasons(real)[3] == f"该人员已是其他工会会员（证件号码 {masked}），如已调入本单位，请发起会员接转"
    # The returning member (w2) has a new membership here next to the ended one.
    returning = person_by_number(w[2].doc_number)
    assert sorted(returning.memberships.values_list("status", flat=True)) == ["active", "left"]
    assert set(members_of(tree[HERE])) == {x.doc_number for x in (w[0], w[2], w[4], w[5], w[6], w[7], w[8], w[9])}
    assert "第7、12行" in reasons(real)[12]
    assert_no_person_twice()


def test_only_the_union_s_own_member_is_told_the_name_on_record(tree, system, today):
    w = workers(23, today, 2)
    enrol(system, tree[HERE], name="旧名", number=w[0].doc_number)
    enrol(system, tree[ELSEWHERE], name="他名", number=w[1].doc_number)
    job = run_import(system, tree[HERE], "roster.csv", roster_csv([roster_row(1, w[0]), roster_row(2, w[1])]))
    assert reasons(job) == {
        2: "姓名与该证件号码已登记的姓名（旧名）不一致，请核对；如确需更正姓名，请在会员详情页办理",
        3: "姓名与证件号码不符，请核对证件原件后重新填写",
    }


def test_people_registered_after_the_lookup_are_refused_by_the_database(tree, system, today, monkeypatch):
    """Between a chunk's lookup and its insert another transaction may register a person or give a known person a
    membership. The database's unique keys decide: the COPY straight into the tables (PostgreSQL) is refused, the
    savepoint rolls back, and the staged INSERT ... ON CONFLICT path skips exactly those rows."""
    w = workers(23, today, 6)
    raced_person = enrol(system, tree[ELSEWHERE], name=w[1].name, number=w[1].doc_number)
    left = enrol(system, tree[HERE], name=w[3].name, number=w[3].doc_number)
    membership_leave(actor=system, membership=left, reason="离职")
    enrol(system, tree[ELSEWHERE], name=w[3].name, number=w[3].doc_number)  # rejoined elsewhere meanwhile
    original_lookup = roster_merge._lookup

    def stale_lookup(ok):  # what the lookup saw a moment before those registrations
        found = original_lookup(ok)
        found = found.filter(pl.col("person_id") != str(raced_person.person_id))
        return found.with_columns(pl.lit(None, pl.String).alias(c) for c in ("holding_id", "_holding_org",
                                                                              "_holding_org_name"))  # fmt: skip

    monkeypatch.setattr(roster_merge, "_lookup", stale_lookup)
    people_before, members_before = registry_counts()
    job = run_import(system, tree[HERE], "roster.csv", roster_csv([roster_row(i + 1, x) for i, x in enumerate(w)]))
    assert job.result["summary"] == {
        "rows": 6, "added": 4, "updated": 0, "unchanged": 0, "conflict": 2, "duplicate": 0, "error": 0,
    }  # fmt: skip
    assert outcomes(job) == {3: "conflict", 5: "conflict"}
    assert reasons(job)[3] == "该人员刚由其他操作登记，请稍后重新导入本行"
    assert reasons(job)[5] == "该人员刚成为其他工会的会员，请核对后发起会员接转"
    assert registry_counts() == (people_before + 4, members_before + 4)
    assert set(members_of(tree[HERE])) == {x.doc_number for x in (w[0], w[2], w[4], w[5])}
    assert person_by_number(w[1].doc_number).memberships.get().org_id == tree[ELSEWHERE].id
    assert_no_person_twice()


def test_add_then_upsert_then_reimport(tree, system, today):
    w = workers(22, today, 8)
    rows = [roster_row(i + 1, x) for i, x in enumerate(w)]
    first = roster_csv(rows)
    job = run_import(system, tree[HERE], "roster.csv", first)
    assert job.result["summary"]["added"] == 8 and outcomes(job) == {}
    counts = registry_counts()
    assert counts == (8, 8)

    # A second version of the file: w2's 学历 changed, w5's mobile changed.
    new_education = next(e for e in Education if e.value != w[2].education)
    new_phone = "199" + w[5].phone[3:]
    changed = [list(r) for r in rows]
    changed[2][HEADINGS.index("学历")] = new_education.label
    changed[5][HEADINGS.index("手机号码")] = new_phone
    second = roster_csv(changed)
    stamp = {p.id: p.updated_at for p in Person.objects.all()}

    add = run_import(system, tree[HERE], "roster.csv", second, mode="add")
    assert add.result["summary"] == {
        "rows": 8, "added": 0, "updated": 0, "unchanged": 8, "conflict": 0, "duplicate": 0, "error": 0,
    }  # fmt: skip
    assert set(reasons(add).values()) == {"已是本会会员（仅新增模式不更新资料）"}
    assert person_by_number(w[2].doc_number).education == w[2].education  # add mode does not update

    upsert = run_import(system, tree[HERE], "roster.csv", second, mode="upsert")
    assert upsert.result["summary"] == {
        "rows": 8, "added": 0, "updated": 2, "unchanged": 6, "conflict": 0, "duplicate": 0, "error": 0,
    }  # fmt: skip
    assert outcomes(upsert) == {line: ("updated" if line in (4, 7) else "unchanged") for line in range(2, 10)}
    assert person_by_number(w[2].doc_number).education == new_education.value
    assert phone_of(person_by_number(w[5].doc_number)) == new_phone
    for person in Person.objects.all():  # equal rows left alone
        if document_number_of(person) not in (w[2].doc_number, w[5].doc_number):
            assert person.updated_at == stamp[person.id]
    assert registry_counts() == counts

    again = run_import(system, tree[HERE], "roster.csv", second, mode="upsert")
    assert again.result["summary"]["updated"] == 0 and again.result["summary"]["added"] == 0
    assert again.result["changed"] is False
    assert "本次导入没有产生任何变更" in again.result["message"]
    assert "导入过" in again.result["message"]  # the same file was imported before
    for mode in ("add", "upsert", "dry-run"):
        rerun = run_import(system, tree[HERE], "roster.csv", second, mode=mode)
        assert rerun.result["summary"]["added"] == 0 and rerun.result["summary"]["updated"] == 0
        assert registry_counts() == counts
    assert_no_person_twice()


def test_reimporting_a_file_with_problems_changes_nothing(gbk_import, tree, tmp_path):
    counts = registry_counts()
    path = tmp_path / "again.csv"
    path.write_bytes(gbk_import["content"])
    for mode in ("add", "upsert"):
        payload = command_json(str(path), "--org", HERE, "--mode", mode)
        assert payload["summary"]["added"] == 0 and payload["summary"]["updated"] == 0
        assert {r["row"]: r["status"] for r in payload["rows"]} == {
            3: "unchanged", 4: "unchanged", 6: "unchanged", 7: "conflict", 8: "duplicate", 9: "error",
            11: "unchanged", 12: "error", 13: "unchanged",
        }  # fmt: skip
        assert registry_counts() == counts
    assert_no_person_twice()


# ---------------------------------------------------------------------------------------------------------------
# 3. Column-wise validation = the registry's per-value normalisers


def _document_values(today: date, rng: random.Random) -> list[str]:
    regions = LOCAL_REGIONS + MIGRANT_REGIONS
    adult_from, adult_to = date(1930, 1, 1), years_before(today, 17)

    def birth() -> date:
        return adult_from + timedelta(days=rng.randrange((adult_to - adult_from).days))

    def valid() -> str:
        return resident_id(rng.choice(regions), birth(), rng.randrange(1000))

    values: list[str] = []
    values += [valid() for _ in range(80)]
    values += [wrong_check(valid()) for _ in range(30)]
    values += [valid().translate(FULL_WIDTH) for _ in range(20)]
    x_ids = [n for n in (valid() for _ in range(400)) if n.endswith("X")][:10]
    values += [n.lower() for n in x_ids] + [n.translate(FULL_WIDTH).replace("Ｘ", "ｘ") for n in x_ids[:5]]
    for _ in range(20):  # 15-digit legacy numbers, some with impossible dates
        b = birth()
        values.append(f"{rng.choice(regions)}{b:%y%m%d}{rng.randrange(1000):03d}")
    values += ["320506900230123", "32050690013112", "32050690O101123"]
    values += ["3.20506E+17", "3.2050619900101E+17", "3.20506e+17", "4.11522199E+17", "320506199001010018.0"]
    values += [valid()[:15] + "000" for _ in range(20)]  # zeroed tails
    values += [resident_id(rng.choice(regions), today + timedelta(days=d), 11) for d in (1, 30, 400)]  # future
    for days in (1, 100, 2000, 5000):  # under 16
        values.append(resident_id("320508", years_before(today, 16) + timedelta(days=days), 21))
    values.append(resident_id("320508", years_before(today, 16), 23))  # 16 today: accepted
    values += [resident_id(r, birth(), 31) for r in ("999999", "000000", "320599", "990101", "810000", "830000")]
    for year in (1990, 1991, 1993, 2001, 1900):  # 29 February in years without one
        body = f"320508{year}0229123"
        values.append(body + ric.calc_check_digit(body + "0"))
    for year in (1988, 1992, 2000):  # ... and in leap years
        values.append(resident_id("320508", date(year, 2, 29), 123))
    values += [resident_id("320508", date(1899, 12, 31), 5), resident_id("320508", date(1900, 1, 1), 5)]
    values += [f"320508{rng.randrange(10**11):011d}" for _ in range(5)]  # 17 digits
    values += [valid() + "1", valid()[:10] + "AB" + valid()[12:], "320508-19900101-0012", "  " + valid() + " "]
    values += ["3205 0819 9001 0100 1" + ric.calc_check_digit("32050819900101001" + "0"), "E12345678"]
    rng.shuffle(values)
    return values


def test_documents_agree_with_normalise_document(today):
    rng = random.Random(31)
    values = _document_values(today, rng)
    assert len(values) >= 200
    table = read_table(csv_bytes([["姓名", "证件号码"], *[["张三", v] for v in values]]), "ids.csv", ROSTER_COLUMNS)
    result = validate_roster(table, today=today)
    assert result.height == len(values)
    accepted = refused = 0
    for line, value in enumerate(values, start=2):
        row = result.row(by_predicate=pl.col("_line") == line, named=True)
        try:
            document = normalise_document("resident_id", value, today=today)
        except DocumentInvalid as exc:
            refused += 1
            assert (row["status"], row["reason"]) == ("error", str(exc)), value
            assert row["doc_number"] is None
            continue
        accepted += 1
        assert row["status"] == "ok", (value, row["reason"])
        assert (row["doc_type"], row["doc_number"], row["birth_date"], row["sex"], row["region_code"]) == (
            document.doc_type,
            document.number,
            document.birth_date,
            document.sex,
            document.region_code,
        ), value
    assert accepted > 100 and refused > 80


def test_other_document_types_agree_with_normalise_document(today):
    def gb(prefix: str, birth: date, seq: int) -> str:
        body = f"{prefix}{birth:%Y%m%d}{seq:03d}"
        return body + ric.calc_check_digit(body + "0")

    cases = [
        ("港澳居民居住证", gb("810000", date(1985, 3, 4), 12)),
        ("港澳居民居住证", gb("820000", date(1985, 3, 4), 13)),
        ("港澳居民居住证", gb("830000", date(1985, 3, 4), 13)),
        ("台湾居民居住证", gb("830000", date(1979, 11, 30), 7)),
        ("台湾居民居住证", wrong_check(gb("830000", date(1979, 11, 30), 7))),
        ("外国人永久居留身份证", gb("931560", date(1980, 1, 2), 4)),
        ("外国人永久居留身份证", gb("831560", date(1980, 1, 2), 4)),
        ("外国人永久居留身份证", "USA318001012345"),
        ("外国人永久居留身份证", "USA31080123"),
        ("居民身份证", gb("810000", date(1985, 3, 4), 12)),
        ("resident_id", gb("320508", date(1985, 3, 4), 12)),
        ("身份证", gb("320508", date(1985, 3, 4), 12)),
        ("居民身份证", gb("320508", date(1985, 3, 4), 12).translate(FULL_WIDTH)),
    ]
    table = read_table(
        csv_bytes([["姓名", "证件类型", "证件号码"], *[["张三", t, v] for t, v in cases]]), "ids.csv", ROSTER_COLUMNS
    )
    result = validate_roster(table, today=today)
    for line, (doc_type, value) in enumerate(cases, start=2):
        row = result.row(by_predicate=pl.col("_line") == line, named=True)
        try:
            document = normalise_document(doc_type, value, today=today)
        except DocumentInvalid as exc:
            assert (row["status"], row["reason"]) == ("error", str(exc)), (doc_type, value)
            continue
        assert row["status"] == "ok", (doc_type, value, row["reason"])
        assert (row["doc_type"], row["doc_number"], row["birth_date"]) == (
            document.doc_type,
            document.number,
            document.birth_date,
        )
        assert (row["sex"] or "") == document.sex and (row["region_code"] or "") == document.region_code


def _other_script(number: str, position: int, zero: str) -> str:
    assert number[position] == "0"
    return number[:position] + zero + number[position + 1 :]


@pytest.mark.parametrize("zero", ["\u0660", "\u0966"], ids=["arabic-indic", "devanagari"])
@pytest.mark.parametrize("position", [14, 15])
def test_decimal_digits_of_other_scripts_are_normalised_like_the_registry_does(today, zero, position):
    """`clean_number` turns decimal digits of any script into ASCII; the column-wise fast path must either do the
    same or leave the value to `normalise_document`."""
    number = resident_id("320508", date(1990, 1, 1), 1)  # 32050819900101001?
    value = _other_script(number, position, zero)
    assert normalise_document("resident_id", value, today=today).number == number
    table = read_table(csv_bytes([["姓名", "证件号码"], ["张三", value]]), "ids.csv", ROSTER_COLUMNS)
    row = validate_roster(table, today=today).row(0, named=True)
    assert row["status"] == "ok"
    assert row["doc_number"] == number


@pytest.mark.parametrize("zero", ["\u0660", "\u0966"], ids=["arabic-indic", "devanagari"])
def test_other_script_digit_in_the_sex_position_does_not_crash_validation(today, zero):
    number = resident_id("320508", date(1990, 1, 1), 100)  # position 16 (the sex digit) is 0
    value = _other_script(number, 16, zero)
    assert normalise_document("resident_id", value, today=today).number == number
    table = read_table(csv_bytes([["姓名", "证件号码"], ["张三", value]]), "ids.csv", ROSTER_COLUMNS)
    row = validate_roster(table, today=today).row(0, named=True)  # raised polars InvalidOperationError
    assert (row["status"], row["doc_number"], row["sex"]) == ("ok", number, "F")


def test_other_script_digits_do_not_register_a_person_twice(tree, system, today):
    """The consequence at registry level: the same ID written with an Arabic-Indic zero and with an ASCII zero."""
    w = workers(32, today, 1)[0]
    number = resident_id("320508", w.birth_date, 11 if w.sex == "M" else 12)  # sequence 011/012: position 14 is 0
    w = with_id(w, number)
    run_import(
        system, tree[HERE], "a.csv", roster_csv([roster_row(1, with_id(w, _other_script(number, 14, "\u0660")))])
    )
    second = run_import(system, tree["SZ-GS-T01-123"], "b.csv", roster_csv([roster_row(1, w)]))
    assert outcomes(second) == {2: "conflict"}
    assert Person.objects.count() == 1
    assert_no_person_twice()


def _phone_values(rng: random.Random) -> list[str]:
    prefixes = ["130", "131", "135", "138", "139", "145", "147", "150", "152", "157", "166", "170", "171", "173",
                "175", "177", "180", "185", "187", "189", "191", "192", "196", "198", "199"]  # fmt: skip
    values = []
    for _ in range(60):
        mobile = rng.choice(prefixes) + f"{rng.randrange(10**8):08d}"
        style = rng.randrange(9)
        values.append(
            [
                mobile,
                f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
                f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
                "+86" + mobile,
                "+86 " + mobile,
                "0086" + mobile,
                "86" + mobile,
                mobile.translate(FULL_WIDTH),
                f"(+86){mobile}",
            ][style]
        )
    for _ in range(40):  # anything that starts with 1 and has 11 digits
        values.append("1" + f"{rng.randrange(10**10):010d}")
    values += ["0512-65241234", "051265241234", "65241234", "1380013800", "138001380001", "12800138000",
               "10012345678", "14012345678", "+85213800138000", "+86 0138 0013 8000", "138.0013.8000",
               "13800138000转8", "手机13800138000", "abc", "1", "86-13800138000", "＋86 13800138000",
               "(0086)13800138000", "138 0013 8000 ", "８６１３８００１３８０００", "008613800138000",
               "+8613800138000 ", "86 13800138000", "+86-138-0013-8000", "400-800-8888"]  # fmt: skip
    rng.shuffle(values)
    return values


def test_phones_agree_with_normalise_mobile(today):
    values = _phone_values(random.Random(33))
    number = resident_id("320508", date(1990, 1, 1), 11)
    table = read_table(
        csv_bytes([["姓名", "证件号码", "手机号码"], *[["张三", number, v] for v in values]]), "p.csv", ROSTER_COLUMNS
    )
    result = validate_roster(table, today=today)
    for line, value in enumerate(values, start=2):
        row = result.row(by_predicate=pl.col("_line") == line, named=True)
        try:
            phone = normalise_mobile(value)
        except ValueError as exc:
            assert (row["status"], row["reason"], row["phone"]) == ("error", str(exc), None), value
            continue
        assert (row["status"], row["phone"]) == ("ok", phone), (value, row["reason"])


def test_luhn_check_digits_agree_with_stdnum():
    rng = random.Random(34)
    bodies = [f"{rng.randrange(10**16):016d}" for _ in range(3000)] + ["0" * 16, "9" * 16, "3205082026000001"]
    frame = pl.DataFrame({"body": bodies})
    digits = frame.select(luhn_check_digits(pl.col("body"), 16).alias("d")).get_column("d").to_list()
    assert digits == [luhn.calc_check_digit(b) for b in bodies]


def test_imported_quality_flags_equal_the_registry_rule(tree, system, today):
    factory = WorkerFactory(35, today)
    w = [factory.worker(UNIT) for _ in range(10)]

    def born(worker, birth: date):
        seq = 11 if worker.sex == "M" else 12
        return dataclasses.replace(worker, doc_number=resident_id("320508", birth, seq), birth_date=birth)

    people = [
        w[0],
        dataclasses.replace(w[1], phone=""),
        dataclasses.replace(w[2], education=""),
        dataclasses.replace(w[3], work_unit=""),
        dataclasses.replace(w[4], ethnicity="", phone=""),
        born(w[5], years_before(today, 101)),  # 101 today
        born(w[6], years_before(today, 101) + timedelta(days=1)),  # 100 for one more day
        born(w[7], years_before(today, 100)),
        born(w[8], years_before(today, 16)),  # 16 today
        dataclasses.replace(w[9], employment_form=""),
    ]
    rows = [roster_row(i + 1, p) for i, p in enumerate(people)]
    for row in rows:  # joined today: old joining dates would be before a young person's 16th birthday
        row[HEADINGS.index("入会日期")] = ""
    job = run_import(system, tree[HERE], "q.csv", roster_csv(rows))
    assert outcomes(job) == {}

    def check():
        flags = {}
        for person in Person.objects.all():
            assert person.quality_flags == quality_flags(person, today=today), person.name
            flags[document_number_of(person)] = person.quality_flags
        return flags

    flags = check()
    assert len(set(flags.values())) >= 4  # the file really exercises several flags
    assert flags[people[0].doc_number] == 0

    # An upsert that fills some of the gaps recomputes the flags the same way.
    rows[1][HEADINGS.index("手机号码")] = "13912345678"
    rows[2][HEADINGS.index("学历")] = "大专"
    rows[4][HEADINGS.index("民族")] = "汉族"
    upsert = run_import(system, tree[HERE], "q.csv", roster_csv(rows), mode="upsert")
    assert {line for line, status in outcomes(upsert).items() if status == "updated"} == {3, 4, 6}
    flags = check()
    assert flags[people[1].doc_number] == 0


# ---------------------------------------------------------------------------------------------------------------
# 4. Scoping


@pytest.mark.parametrize(
    ("username", "code", "error"),
    [
        ("grassroots_cadre", "SZ-GS-T01-123", NotFound),  # "12" must not cover "123"
        ("grassroots_cadre", "SZ-GS-T02-E1", NotFound),
        ("other_district_cadre", HERE, NotFound),
        ("district_auditor", HERE, PermissionDenied),
        ("town_cadre", "SZ-GS-T01", ValidationFailed),  # not a grassroots union
    ],
)
def test_import_outside_scope_is_refused_and_writes_nothing(actors, tree, today, username, code, error):
    w = workers(41, today, 3)
    content = roster_csv([roster_row(i + 1, x) for i, x in enumerate(w)])
    with pytest.raises(error):
        roster_import_request(
            actor=actors[username], org=tree[code], filename="r.csv", content=content, mode="add",
            enqueue=lambda job_id: pytest.fail("queued"),
        )  # fmt: skip
    assert JobRun.objects.count() == 0
    assert registry_counts() == (0, 0)


def test_command_as_a_cadre_is_scoped(accounts, tree, today, tmp_path):
    w = workers(42, today, 2)
    path = tmp_path / "r.csv"
    path.write_bytes(roster_csv([roster_row(i + 1, x) for i, x in enumerate(w)]))
    with pytest.raises(CommandError):
        command_json(str(path), "--org", "SZ-GS-T01-123", "--user", "grassroots_cadre")
    assert JobRun.objects.count() == 0 and registry_counts() == (0, 0)
    payload = command_json(str(path), "--org", HERE, "--user", "grassroots_cadre")
    assert payload["summary"]["added"] == 2
    assert set(members_of(tree[HERE])) == {x.doc_number for x in w}


def test_cadres_import_into_their_own_subtree(actors, tree, today):
    w = workers(43, today, 2)
    job = run_import(actors["town_cadre"], tree["SZ-GS-T01-123"], "r.csv", roster_csv([roster_row(1, w[0])]))
    assert job.result["summary"]["added"] == 1
    job = run_import(actors["grassroots_cadre"], tree[HERE], "r.csv", roster_csv([roster_row(1, w[1])]))
    assert job.result["summary"]["added"] == 1


def test_cancel_only_by_the_requester_and_only_while_unfinished(actors, tree, today):
    w = workers(44, today, 2)
    content = roster_csv([roster_row(i + 1, x) for i, x in enumerate(w)])
    job = roster_import_request(
        actor=actors["grassroots_cadre"], org=tree[HERE], filename="r.csv", content=content, mode="add",
        enqueue=lambda job_id: None,
    )  # fmt: skip
    with pytest.raises(DomainError) as refused:
        roster_import_cancel(actor=actors["town_cadre"], job=job)
    assert refused.value.code == "not_yours"
    cancelled = roster_import_cancel(actor=actors["grassroots_cadre"], job=job)
    assert cancelled.status == JobStatus.CANCELLED
    roster_import_run(str(job.id))
    assert registry_counts() == (0, 0)
    with pytest.raises(DomainError) as refused:
        roster_import_cancel(actor=actors["grassroots_cadre"], job=job)
    assert refused.value.code == "finished"


def test_unreadable_files_are_refused_at_the_edge(system, tree):
    for filename, content in [
        ("r.csv", "姓名,手机号码\n张三,13800138000\n".encode()),  # no ID column
        ("r.xlsx", b"not a workbook"),
        ("r.pdf", b"%PDF-1.4"),
        ("r.csv", b""),
    ]:
        with pytest.raises(ValidationFailed):
            roster_import_request(actor=system, org=tree[HERE], filename=filename, content=content, mode="add")
    with pytest.raises(SheetUnreadable):
        read_table("姓名,手机号码\n".encode(), "r.csv", ROSTER_COLUMNS)
    assert JobRun.objects.count() == 0


# ---------------------------------------------------------------------------------------------------------------
# 5. Killed and resumed


KILL_ROWS = 2 * imports.CHUNK_ROWS + 10_000  # three chunks: no setting or variable lowers CHUNK_ROWS in a subprocess


def _big_roster(today: date, system, elsewhere) -> bytes:
    """KILL_ROWS data rows (header on line 1): mostly valid, with errors, duplicates across chunks, a member of
    another union and a blank line."""
    factory = WorkerFactory(51, today)
    people = [factory.worker(UNIT) for _ in range(KILL_ROWS - 30)]
    rows = [roster_row(i + 1, p) for i, p in enumerate(people)]
    for index in range(500, len(rows), 9_973):  # errors in every chunk
        rows[index][HEADINGS.index("证件号码")] = wrong_check(rows[index][HEADINGS.index("证件号码")])
    extra = [list(rows[i]) for i in (10, 20, 60_000, 99_999)]  # duplicates of rows in earlier chunks
    rows[60_001:60_001] = extra[:2]
    rows[104_000:104_000] = extra[2:]
    rows.insert(75_000, [])  # a blank line
    enrol(system, elsewhere, name=people[70_000].name, number=people[70_000].doc_number)
    return roster_csv(rows)


def _test_database_url() -> str:
    s = connection.settings_dict
    credentials = quote(s["USER"] or "") + (":" + quote(s["PASSWORD"]) if s["PASSWORD"] else "")
    host = s["HOST"] or "127.0.0.1"
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{s['NAME']}"


def _outcome_statuses(payload: dict) -> dict[int, str]:
    return {row["row"]: row["status"] for row in payload["rows"]}


@pytest.mark.skipif(
    not is_postgres(),
    reason="the killed worker is a separate process; SQLite's test database is in memory and cannot be shared",
)
@pytest.mark.long
@pytest.mark.django_db(transaction=True)
def test_killed_import_resumes_without_gaps_or_duplicates(tree, system, today, tmp_path):
    content = _big_roster(today, system, tree[ELSEWHERE])
    path = tmp_path / "big.csv"
    path.write_bytes(content)
    table = read_table(content, path.name, ROSTER_COLUMNS)
    prepared = prepare_rows(table, today=today)
    assert prepared.height > 2 * imports.CHUNK_ROWS

    # A clean run of the same file into a fresh union, for comparison; then the registry is emptied again.
    clean_org = tree["SZ-GS-T01-123"]
    clean = command_json(str(path), "--org", clean_org.code)
    clean_members = Membership.objects.filter(org=clean_org).count()
    assert clean_members == clean["summary"]["added"] > 2 * imports.CHUNK_ROWS - 100
    assert list(_outcome_statuses(clean).values()).count("conflict") == 1
    Membership.objects.filter(org=clean_org).delete()
    Person.objects.filter(memberships__isnull=True).delete()
    assert registry_counts() == (1, 1)  # the member of the other union

    # The same file into 十二号工会 by `manage.py import_roster` in another process, killed mid-way.
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    child = subprocess.Popen(
        [sys.executable, "manage.py", "import_roster", str(path), "--org", HERE, "--json"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 600
    job = None
    try:
        while time.monotonic() < deadline:
            job = JobRun.objects.filter(kind="roster_import").exclude(id=clean["job"]).first()
            if job is not None and 0 < job.done < job.total:
                break
            if child.poll() is not None:
                out, err = child.communicate()
                pytest.fail(f"the import finished before it could be killed: {out[-500:]!r} {err[-2000:]!r}")
            time.sleep(0.02)
        else:
            pytest.fail("no checkpoint within 10 minutes")
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL

    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and 0 < job.done < job.total
    assert job.done % imports.CHUNK_ROWS == 0  # the checkpoint is at a chunk boundary
    # What was committed is exactly what the checkpoint says.
    assert Membership.objects.filter(org=tree[HERE]).count() == job.result["summary"]["added"]
    assert RosterImportRow.objects.filter(job=job).count() == sum(job.result["summary"][k] for k in NOT_ADDED)

    resumed = command_json("--resume", str(job.id))
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED

    assert resumed["summary"] == clean["summary"]
    assert _outcome_statuses(resumed) == _outcome_statuses(clean)
    memberships = Membership.objects.filter(org=tree[HERE])
    assert memberships.count() == clean_members
    assert memberships.values("person_id").distinct().count() == clean_members  # no duplicates
    assert Person.objects.count() == clean_members + 1
    problem_lines = set(_outcome_statuses(resumed))
    added_rows = prepared.filter(~pl.col("_line").is_in(list(problem_lines)))
    assert added_rows.height == clean_members
    assert set(added_rows.get_column("doc_index").to_list()) == set(
        memberships.values_list("person__doc_index", flat=True)
    )  # no gaps: every valid row's person holds a membership here

    # And a re-import changes nothing.
    counts = registry_counts()
    again = command_json(str(path), "--org", HERE)
    assert again["summary"]["added"] == 0 and again["summary"]["updated"] == 0
    assert registry_counts() == counts
    assert_no_person_twice()


# ---------------------------------------------------------------------------------------------------------------
# 6. The error report


def _report(job: JobRun) -> list[list]:
    assert job.result_name.endswith(".xlsx")
    with job.result_file.open("rb") as handle:
        book = CalamineWorkbook.from_filelike(io.BytesIO(handle.read()))
    return book.get_sheet_by_index(0).to_python()


def _report_cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _report_rows(report: list[list]) -> tuple[list[str], list[list[str]]]:
    """The headings (second row, under the title) and the non-empty rows below them, as text."""
    headings = [_report_cell(c) for c in report[1]]
    rows = [[_report_cell(c) for c in row] for row in report[2:] if any(c not in (None, "") for c in row)]
    return headings, rows


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
