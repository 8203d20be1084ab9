"""The column-wise .xlsx writer (gonghui.common.text_xlsx): what it writes reads back exactly, with calamine (the
importer's reader) and as a well-formed Office Open XML package."""

import io
import zipfile
from xml.etree import ElementTree  # noqa: S405 (parses only what the test itself wrote)

import polars as pl
import pytest
from python_calamine import CalamineWorkbook

from gonghui.common import text_xlsx
from gonghui.common.sheets import read_table
from gonghui.common.text_xlsx import TextSheet, column_letter, write_text_xlsx
from gonghui.imports.roster.validate import ROSTER_COLUMNS

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _write(tmp_path, sheet: TextSheet) -> bytes:
    path = tmp_path / "out.xlsx"
    write_text_xlsx(path, sheet)
    return path.read_bytes()


def _xml(data: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(data)  # noqa: S314 (the test's own output, not untrusted input)


def _cells(data: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"), (51, "AZ"), (52, "BA"), (701, "ZZ"),
                           (702, "AAA"), (16383, "XFD")],
)  # fmt: skip
def test_column_letters(index, letters):
    assert column_letter(index) == letters


def test_text_numbers_and_blanks_read_back_exactly(tmp_path):
    frame = pl.DataFrame(
        {
            "姓名": ["张三", None, " 前后空格 ", "A&B <c> \"d\" 'e'"],
            "证件号码": ["320506199001011234", "00123", None, "3.20506E+17"],
            "原行号": [3, 4, 5, 6],
        }
    )
    sheet = TextSheet(name="清单", title="标题：共4行 & <说明>", headings=list(frame.columns), frame=frame)
    rows = _cells(_write(tmp_path, sheet))
    assert rows[0][0] == "标题：共4行 & <说明>"
    assert rows[1] == ["姓名", "证件号码", "原行号"]
    assert rows[2:] == [
        ["张三", "320506199001011234", 3.0],
        ["", "00123", 4.0],
        [" 前后空格 ", "", 5.0],
        ["A&B <c> \"d\" 'e'", "3.20506E+17", 6.0],
    ]


def test_any_heading_is_only_a_heading(tmp_path):
    """Column names come from the uploaded file; none of them may clash with the writer's own working columns."""
    frame = pl.DataFrame({"_row": ["甲", "乙"], "c0": ["x", None], "原行号": [3, 4]})
    rows = _cells(_write(tmp_path, TextSheet(name="s", title="t", headings=list(frame.columns), frame=frame)))
    assert rows[1:] == [["_row", "c0", "原行号"], ["甲", "x", 3.0], ["乙", "", 4.0]]


def test_characters_xml_cannot_carry_are_dropped_not_fatal(tmp_path):
    frame = pl.DataFrame({"说明": ["前\x00中\x07后\x1f", "换行\n保留\t制表"]})
    rows = _cells(_write(tmp_path, TextSheet(name="s", title="t\x01", headings=["说\x02明"], frame=frame)))
    assert rows[0][0] == "t"
    assert rows[1] == ["说明"]
    assert [r[0] for r in rows[2:]] == ["前中后", "换行\n保留\t制表"]


def test_a_cell_is_cut_at_excels_limit(tmp_path):
    frame = pl.DataFrame({"长": ["字" * (text_xlsx.MAX_CELL_CHARS + 10)]})
    rows = _cells(_write(tmp_path, TextSheet(name="s", title="t", headings=["长"], frame=frame)))
    assert rows[2][0] == "字" * text_xlsx.MAX_CELL_CHARS


def test_rows_span_several_blocks_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(text_xlsx, "BLOCK_ROWS", 7)
    frame = pl.DataFrame({"序号": [f"第{i}行" for i in range(30)], "n": list(range(30))})
    rows = _cells(_write(tmp_path, TextSheet(name="s", title="t", headings=["序号", "n"], frame=frame)))
    assert rows[2:] == [[f"第{i}行", float(i)] for i in range(30)]


def test_package_parts_are_well_formed_with_styles_widths_and_frozen_headings(tmp_path):
    frame = pl.DataFrame({"甲": ["x"], "问题说明": ["【有错误】原因"]})
    sheet = TextSheet(
        name='问题 "清单"', title="t", headings=["甲", "问题说明"], frame=frame, widths=[14, 60],
        reason_columns=frozenset({"问题说明"}),
    )  # fmt: skip
    archive = zipfile.ZipFile(io.BytesIO(_write(tmp_path, sheet)))
    for name in archive.namelist():  # every part parses as XML
        _xml(archive.read(name))
    workbook = _xml(archive.read("xl/workbook.xml"))
    assert workbook.find(f"{MAIN}sheets/{MAIN}sheet").get("name") == '问题 "清单"'
    worksheet = _xml(archive.read("xl/worksheets/sheet1.xml"))
    assert worksheet.find(f"{MAIN}dimension").get("ref") == "A1:B3"
    pane = worksheet.find(f"{MAIN}sheetViews/{MAIN}sheetView/{MAIN}pane")
    assert (pane.get("ySplit"), pane.get("state")) == ("2", "frozen")
    assert [c.get("width") for c in worksheet.iter(f"{MAIN}col")] == ["14", "60"]
    styles = {c.get("r"): c.get("s") for c in worksheet.iter(f"{MAIN}c")}
    assert styles == {
        "A1": str(text_xlsx.STYLE_TITLE),
        "A2": str(text_xlsx.STYLE_HEADING),
        "B2": str(text_xlsx.STYLE_HEADING),
        "A3": str(text_xlsx.STYLE_TEXT),
        "B3": str(text_xlsx.STYLE_REASON),
    }
    xfs = _xml(archive.read("xl/styles.xml")).find(f"{MAIN}cellXfs")
    assert xfs.findall(f"{MAIN}xf")[text_xlsx.STYLE_TEXT].get("numFmtId") == "49"  # text, so IDs stay as typed


def test_the_roster_reader_reads_a_written_sheet_under_its_title_row(tmp_path):
    frame = pl.DataFrame({"姓名": ["李四"], "证件号码": ["11010519491231002X"], "手机号码": ["13800138000"]})
    data = _write(
        tmp_path, TextSheet(name="名册", title="某公司工会会员名册", headings=list(frame.columns), frame=frame)
    )
    table = read_table(data, "back.xlsx", ROSTER_COLUMNS)
    assert table.header_line == 2
    assert table.frame.select("_line", "name", "doc_number", "phone").rows() == [
        (3, "李四", "11010519491231002X", "13800138000")
    ]
