"""Helpers of the roster import tests: generated workers, files built from rows, one import run to its end, and
what a run left in the registry. Row numbers are always those a spreadsheet user sees: title and header rows
counted, blank lines counted."""

import csv
import dataclasses
import io
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
import xlsxwriter
from django.core.management import call_command
from python_calamine import CalamineWorkbook
from stdnum.cn import ric

from gonghui.common.sheets import cell_text
from gonghui.demo.people import WorkerFactory
from gonghui.demo.rosters import HEADINGS, roster_row
from gonghui.imports.roster import import_rows_json, roster_import_request, roster_import_run
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.members.documents import DocumentInvalid, normalise_document
from gonghui.members.models import Membership, MembershipStatus, Person
from gonghui.members.people import document_index, document_number_of

UNIT = "十二号有限公司"


TITLE = "XX公司工会会员信息登记表"


HERE = "SZ-GS-T01-12"  # 十二号公司工会委员会


ELSEWHERE = "SZ-WZ-T01-E1"  # 木渎光电有限公司工会委员会


ELSEWHERE_NAME = "木渎光电有限公司工会委员会"


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


NOT_ADDED = ("updated", "unchanged", "conflict", "duplicate", "error")


BEYOND_HEADER = "本行在没有表头的列中填了内容，请核对是否错列"


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


def _zeroed_is_refused(number: str, today: date) -> bool:
    try:
        normalise_document("resident_id", _fifteen_digits(number), today=today)
    except DocumentInvalid:
        return True
    return False


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
