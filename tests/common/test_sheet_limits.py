"""Hostile uploads are refused before they are read: a 1.6 KB .xlsx with one cell far away, a declared rectangle of
1.7×10¹⁰ cells, a missing dimension with a far cell, a zip bomb, a tiny .xls and .ods whose rectangle is huge, a
10 MB CSV of one line and a CSV too wide. Each is refused with its message under every import's caps, both by the
header check of a request and by a full read (the job), in a child process limited to 1 GiB and 20 s; then through
each import's entry, which must write nothing. The files are made here, never committed."""

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlwt
from django.core.files.storage import default_storage

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.common.sheets import HEADER_SEARCH_ROWS, SheetLimits, SheetUnreadable, read_raw, read_table
from gonghui.imports.orgs import ORG_COLUMNS, ORG_LIMITS, org_tree_import
from gonghui.imports.roster import ROSTER_LIMITS, roster_import_request, roster_import_run
from gonghui.imports.roster.validate import ROSTER_COLUMNS
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.jobs.services import job_create
from gonghui.members.models import Membership, Person
from gonghui.orgs.models import Organisation
from gonghui.stations.imports import (
    DEMAND_COLUMNS,
    DEMAND_LIMITS,
    STATION_COLUMNS,
    STATION_LIMITS,
    demand_points_import,
    stations_import,
)
from gonghui.stations.models import DemandPoint, Station

ROOT = Path(__file__).resolve().parents[2]
MEMORY = 1 << 30
SECONDS = 20

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEADER_CELLS = ("姓名", "证件号码", "组织名称", "组织代码", "站点名称", "管理单位代码", "纬度", "经度", "名称", "人数")


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _header_row() -> str:
    return '<row r="1">' + "".join(_cell(f"{chr(65 + i)}1", h) for i, h in enumerate(_HEADER_CELLS)) + "</row>"


def _xlsx(sheet_data: str, *, dimension: str | None = None, padding: int = 0) -> bytes:
    """An .xlsx written by hand: the parts a reader needs and one worksheet, `padding` spaces inside its data."""
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="{_MAIN}">' + (f'<dimension ref="{dimension}"/>' if dimension else "") + "<sheetData>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC}"><sheets><sheet name="名册" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(head.encode())
            part.write(_header_row().encode())
            block = b" " * (64 << 20)
            for _ in range(padding // len(block)):
                part.write(block)
            part.write((sheet_data + "</sheetData></worksheet>").encode())
    return buffer.getvalue()


def _xls_far() -> bytes:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名册")
    for column, heading in enumerate(_HEADER_CELLS):
        sheet.write(0, column, heading)
    sheet.write(65535, 255, "x")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _ods_repeated() -> bytes:
    """Two header cells and one row of a filled cell repeated 30 times, repeated 300,000 times: 900 bytes."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    header = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>' for h in _HEADER_CELLS
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2"><office:body>'
        f'<office:spreadsheet><table:table table:name="名册"><table:table-row>{header}</table:table-row>'
        '<table:table-row table:number-rows-repeated="300000"><table:table-cell table:number-columns-repeated="30" '
        'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row></table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
            'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
            'vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" '
            'manifest:media-type="text/xml"/></manifest:manifest>',
            compress_type=zipfile.ZIP_DEFLATED,
        )
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    """name → a file on disk (the child processes read them from there)."""
    folder = tmp_path_factory.mktemp("hostile")
    far = '<row r="300000">' + _cell("AD300000", "x") + "</row>"
    corner = '<row r="1048576">' + _cell("XFD1048576", "x") + "</row>"
    files = {
        "far.xlsx": _xlsx(far, dimension="A1:AD300000"),
        "declared.xlsx": _xlsx(corner, dimension="A1:XFD1048576"),
        "undeclared.xlsx": _xlsx(corner),
        "understated.xlsx": _xlsx(corner, dimension="A1:J1"),
        "bomb.xlsx": _xlsx("", padding=1100 << 20),
        "far.xls": _xls_far(),
        "repeated.ods": _ods_repeated(),
        "one-line.csv": ",".join(_HEADER_CELLS).encode()
        + b","
        + b"x" * ((19 << 20) // 2),  # under the smallest upload cap (10 MB)
        "wide.csv": (",".join(_HEADER_CELLS) + "," * 200 + "\r\n张三,110101199003070011\r\n").encode(),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    assert len(files["far.xlsx"]) < 2048 and len(files["bomb.xlsx"]) < 4 << 20
    return paths


def _message(
    path: Path, limits: SheetLimits, *, head: bool, memory: int = MEMORY, seconds: int = SECONDS
) -> tuple[str, float]:
    """The refusal (or "read") of reading `path` under `limits`, in a child process held to `memory` and `seconds`;
    and the child's peak resident memory in MiB."""
    code = f"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
from gonghui.common.sheets import SheetLimits, SheetUnreadable, read_raw
limits = SheetLimits(**json.loads(sys.argv[2]))
data = open(sys.argv[1], "rb").read()
try:
    read_raw(data, sys.argv[1], limit={HEADER_SEARCH_ROWS + 1 if head else None}, limits=limits)
    outcome = "read"
except SheetUnreadable as exc:
    outcome = exc.message
# VmHWM, not ru_maxrss: the latter keeps the forking parent's high-water mark across exec.
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps([outcome, peak]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), json.dumps(limits.__dict__)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    outcome, peak = json.loads(done.stdout)
    return outcome, peak


ROWS = "表格行数超过上限（最多 {} 行），请拆分后分批导入"
COLUMNS = "表格列数超过上限（最多 64 列），请删除多余的列后重新上传"
SPARSE = (
    "表格的使用范围过大：第 {} 行、第 {} 列处有内容，而全表只有 {} 个单元格有内容，请删除多余的行和列后重新保存"
    "（或把数据复制到新的表格）"
)
DECLARED = "表格声明的范围过大（{}{} 行 × {} 列），最多 {} 行、64 列，请删除多余的行和列后重新保存"
LONG_LINE = "第 1 行过长（超过 64 KB），请检查文件是否为正常的 CSV 表格（每行一条记录），或直接上传 Excel 文件"
UNPACKED = "表格文件解压后超过 {} MB，请拆分后分批导入"

IMPORTS = {"roster": ROSTER_LIMITS, "orgs": ORG_LIMITS, "stations": STATION_LIMITS, "demand": DEMAND_LIMITS}


def expected(name: str, limits: SheetLimits) -> str:
    small = limits.rows < 300_000
    return {
        "far.xlsx": (
            DECLARED.format("A1:AD300000，", 300000, 30, limits.rows)
            if small
            else SPARSE.format(300000, 30, len(_HEADER_CELLS) + 1)
        ),
        "declared.xlsx": DECLARED.format("A1:XFD1048576，", 1048576, 16384, limits.rows),
        "undeclared.xlsx": ROWS.format(limits.rows) if small else COLUMNS,
        "understated.xlsx": ROWS.format(limits.rows) if small else COLUMNS,
        "bomb.xlsx": UNPACKED.format(limits.unpacked_bytes >> 20),
        "far.xls": DECLARED.format("", 65536, 256, limits.rows),
        "repeated.ods": ROWS.format(limits.rows) if small else SPARSE.format(300001, 30, len(_HEADER_CELLS) + 1),
        "one-line.csv": LONG_LINE,
        "wide.csv": COLUMNS,
    }[name]


HOSTILE = ["far.xlsx", "declared.xlsx", "undeclared.xlsx", "understated.xlsx", "bomb.xlsx", "far.xls",
           "repeated.ods", "one-line.csv", "wide.csv"]  # fmt: skip


@pytest.mark.parametrize("head", [True, False], ids=["header check", "job"])
@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("which", list(IMPORTS))
def test_a_hostile_file_is_refused_within_a_gibibyte_and_twenty_seconds(hostile, which, name, head):
    outcome, peak = _message(hostile[name], IMPORTS[which], head=head)
    assert outcome == expected(name, IMPORTS[which])
    assert peak < 350  # the interpreter with polars and calamine loaded, and the file, take about 250 MiB


def test_the_caps_are_what_the_imports_need():
    assert (ROSTER_LIMITS.rows, ROSTER_LIMITS.columns, ROSTER_LIMITS.cells) == (1_048_576, 64, 32_000_000)
    assert ROSTER_LIMITS.rows * 26 <= ROSTER_LIMITS.cells  # a million members, every column of an export
    assert (ORG_LIMITS.rows, STATION_LIMITS.rows, DEMAND_LIMITS.rows) == (20_020, 10_020, 100_020)


def test_a_real_roster_with_a_far_reaching_header_row_still_reads(hostile, tmp_path):
    """The density rule refuses a near-empty rectangle, not a sheet whose rows are short and many."""
    rows = "".join(
        f'<row r="{n}">' + _cell(f"A{n}", "张三") + _cell(f"B{n}", "110101199003070011") + "</row>"
        for n in range(2, 30_002)
    )
    path = tmp_path / "ok.xlsx"
    path.write_bytes(_xlsx(rows, dimension="A1:J30001"))
    outcome, peak = _message(path, ROSTER_LIMITS, head=True, seconds=60)
    assert (outcome, peak < 350) == ("read", True)
    table = read_table(path.read_bytes(), "ok.xlsx", ROSTER_COLUMNS, limits=ROSTER_LIMITS)
    assert table.rows == 30_000


# ---------------------------------------------------------------------------------------------------------------
# Through each import's entry: the refusal reaches the user and nothing is written. (The caps refuse these files
# in milliseconds: the child-process tests above show it; here they run in this process.)

ENTRY_FILES = ["far.xlsx", "declared.xlsx", "undeclared.xlsx", "bomb.xlsx", "far.xls", "one-line.csv", "wide.csv"]


def _written() -> tuple:
    return (
        Person.objects.count(),
        Membership.objects.count(),
        JobRun.objects.count(),
        Organisation.objects.count(),
        Station.objects.count(),
        DemandPoint.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize("name", ENTRY_FILES)
def test_the_roster_request_refuses_and_stores_nothing(tree, system, hostile, name, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        roster_import_request(
            actor=system,
            org=tree["SZ-GS-T01-12"],
            filename=name,
            content=hostile[name].read_bytes(),
            mode="add",
            enqueue=lambda job_id: None,
        )
    assert refused.value.errors == {"file": expected(name, ROSTER_LIMITS)}
    assert _written() == before
    assert not (tmp_path / "media").exists()


@pytest.mark.parametrize("name", ENTRY_FILES)
def test_the_roster_job_fails_with_the_refusal_and_imports_nothing(tree, system, hostile, name, settings, tmp_path):
    """A file that reached the job another way (stored before the caps, or the command) is refused there too."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = tree["SZ-GS-T01-12"]
    stored = default_storage.save(f"imports/{name}", io.BytesIO(hostile[name].read_bytes()))
    job = job_create(
        actor=system,
        kind="roster_import",
        title="导入会员名册",
        params={"org_id": str(org.id), "mode": "add", "upload": stored, "filename": name, "sha256": ""},
        enqueue=lambda job_id: None,
    )
    people = (Person.objects.count(), Membership.objects.count())
    roster_import_run(str(job.id))
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, expected(name, ROSTER_LIMITS))
    assert (Person.objects.count(), Membership.objects.count()) == people
    assert not job.import_rows.exists()


@pytest.mark.parametrize("name", ENTRY_FILES)
def test_the_organisation_import_refuses_and_writes_nothing(tree, system, hostile, name):
    before = _written()
    with pytest.raises(DomainError) as refused:
        org_tree_import(actor=system, data=hostile[name].read_bytes(), filename=name, dry_run=False)
    assert refused.value.message == expected(name, ORG_LIMITS)
    assert _written() == before


@pytest.mark.parametrize("name", ENTRY_FILES)
def test_the_station_and_demand_imports_refuse_and_write_nothing(tree, system, hostile, name):
    before = _written()
    with pytest.raises(DomainError) as refused:
        stations_import(actor=system, data=hostile[name].read_bytes(), filename=name, dry_run=False)
    assert refused.value.message == expected(name, STATION_LIMITS)
    with pytest.raises(DomainError) as refused:
        demand_points_import(
            actor=system, org=tree["SZ-GS-T01"], data=hostile[name].read_bytes(), filename=name, dry_run=False
        )
    assert refused.value.message == expected(name, DEMAND_LIMITS)
    assert _written() == before


def test_the_column_specs_are_the_imports_own():
    # The hostile files carry every import's required headings, so a refusal is the caps', never "no header".
    for spec in (ROSTER_COLUMNS, ORG_COLUMNS, STATION_COLUMNS, DEMAND_COLUMNS):
        assert {spec.field_of(h) for h in _HEADER_CELLS} >= set(spec.required)


# Through the interfaces a person or a system uses: the back-office upload pages and the API upload. The refusal is
# shown in Chinese on the page (or as the API's 422 message) and nothing is written.

INTERFACE_FILES = ["far.xlsx", "one-line.csv"]  # the zip bomb is refused by the same call as the roster request above


def _upload(hostile, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, hostile[name].read_bytes())


def _page_text(response) -> str:
    from html import unescape

    return unescape(response.content.decode())


@pytest.mark.parametrize("name", INTERFACE_FILES)
def test_the_back_office_uploads_show_the_refusal_and_write_nothing(tree, login, hostile, name, settings, tmp_path):
    from django.urls import reverse

    settings.MEDIA_ROOT = str(tmp_path / "media")
    cadre = login("city_cadre")
    before = _written()
    pages = [
        (
            reverse("admin:roster_import"),
            {"org_code": "SZ-GS-T01-12", "mode": "add"},
            ROSTER_LIMITS,
        ),
        (reverse("admin:org_import"), {}, ORG_LIMITS),
        (reverse("admin:station_import"), {}, STATION_LIMITS),
        (reverse("admin:demand_import") + "?org=SZ-GS-T01", {}, DEMAND_LIMITS),
    ]
    for url, fields, limits in pages:
        response = cadre.post(url, {**fields, "file": _upload(hostile, name)})
        assert response.status_code == 200, url
        assert expected(name, limits) in _page_text(response), url
    assert _written() == before
    assert not (tmp_path / "media").exists()


@pytest.mark.parametrize("name", INTERFACE_FILES)
def test_the_api_upload_answers_422_with_the_refusal_and_writes_nothing(
    tree, system, hostile, name, settings, tmp_path
):
    from django.test import Client

    from gonghui.accounts.services import api_token_create

    settings.MEDIA_ROOT = str(tmp_path / "media")
    _token, raw = api_token_create(actor=system, org=tree["SZ-GS-T01"], name="人事系统", allow_roster_import=True)
    before = _written()
    response = Client(headers={"Authorization": f"Bearer {raw}"}).post(
        "/api/v1/members/imports", {"file": _upload(hostile, name), "org_code": "SZ-GS-T01-12", "mode": "add"}
    )
    assert response.status_code == 422
    assert response.json()["message"] == expected(name, ROSTER_LIMITS)
    assert _written() == before
    assert not (tmp_path / "media").exists()


# A NUL character: PostgreSQL text cannot hold one (the roster's COPY failed with "invalid byte sequence"), and no
# real cell has one. It is refused with the line it sits on, before anything is stored, in the request and the job.

NUL_MESSAGE = "第3行含有空字符（NUL），文件可能已损坏，或不是 UTF-8、GBK 编码的 CSV，请检查该行后重新保存"


def _roster_with_nul() -> tuple[bytes, bytes]:
    """The same three-line roster (heading, a clean row, a row with a NUL in the name) as CSV and as .xls."""
    rows = [["姓名", "证件号码"], ["张三", "110101199003070011"], ["李\x00四", "110101199003070038"]]
    csv_data = "".join(",".join(row) + "\r\n" for row in rows).encode()
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名册")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return csv_data, buffer.getvalue()


@pytest.mark.parametrize("suffix", [".csv", ".xls"])
def test_a_nul_in_a_cell_is_refused_with_its_line_and_nothing_is_stored(tree, system, suffix, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    data = dict(zip((".csv", ".xls"), _roster_with_nul(), strict=True))[suffix]
    with pytest.raises(SheetUnreadable) as refused:
        read_raw(data, "名册" + suffix)
    assert refused.value.message == NUL_MESSAGE
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        roster_import_request(
            actor=system, org=tree["SZ-GS-T01-12"], filename="名册" + suffix, content=data, mode="add",
            enqueue=lambda job_id: None,
        )  # fmt: skip
    assert refused.value.errors == {"file": NUL_MESSAGE}
    with pytest.raises(DomainError) as refused:
        org_tree_import(actor=system, data=data, filename="组织" + suffix, dry_run=False)
    assert refused.value.message == NUL_MESSAGE
    assert _written() == before
    assert not (tmp_path / "media").exists()


def test_a_roster_job_given_a_nul_fails_with_the_refusal_and_imports_nothing(tree, system, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = tree["SZ-GS-T01-12"]
    stored = default_storage.save("imports/名册.csv", io.BytesIO(_roster_with_nul()[0]))
    job = job_create(
        actor=system,
        kind="roster_import",
        title="导入会员名册",
        params={"org_id": str(org.id), "mode": "add", "upload": stored, "filename": "名册.csv", "sha256": ""},
        enqueue=lambda job_id: None,
    )
    roster_import_run(str(job.id))
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, NUL_MESSAGE)
    assert (Person.objects.count(), Membership.objects.count()) == (0, 0)
