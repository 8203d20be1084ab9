"""A one-sheet .xlsx of text columns, written column-wise with polars: the cell XML of a whole block of rows is built
by string expressions in Rust instead of one Python call per cell (xlsxwriter's way: about 5 µs a cell, 16 s for a
report of 90,000 rows by 18 columns; written here in about 1.5 s).

The sheet: a title in A1 (bold), headings in row 2 (bold, bordered, tinted), then the rows as text cells ("@" format,
so a document number stays as typed); integer and float columns become numbers, and columns may be marked as the
wrapped red "reason" column. Panes are frozen under the headings. Cells are inline strings, which Excel, WPS and LibreOffice read like shared ones.
"""

# ruff: noqa: E501 (the fixed XML parts below are kept one element per line, as the format defines them)

import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl

BLOCK_ROWS = 50_000  # rows turned into XML at a time: bounds the memory of a large sheet
MAX_CELL_CHARS = 32_767  # Excel's limit for a cell
_NOT_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]"  # characters XML 1.0 cannot carry

# Style indexes into cellXfs below.
STYLE_TITLE, STYLE_HEADING, STYLE_TEXT, STYLE_REASON, STYLE_NUMBER = 1, 2, 3, 4, 5

_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="4">
<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="13"/><name val="Calibri"/><family val="2"/></font>
<font><sz val="11"/><color rgb="FFB42318"/><name val="Calibri"/><family val="2"/></font>
</fonts>
<fills count="3">
<fill><patternFill patternType="none"/></fill>
<fill><patternFill patternType="gray125"/></fill>
<fill><patternFill patternType="solid"><fgColor rgb="FFFDECEC"/><bgColor indexed="64"/></patternFill></fill>
</fills>
<borders count="2">
<border><left/><right/><top/><bottom/><diagonal/></border>
<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right><top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border>
</borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="6">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center"/></xf>
<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment wrapText="1"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>
"""

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>
"""

_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>
"""

_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>
"""

_MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


@dataclass(frozen=True)
class TextSheet:
    """What to write. `frame` holds the rows, one column per heading, in order; String columns become text cells,
    integer columns numbers. `reason_columns` are shown wrapped in red; `widths` are column widths in characters."""

    name: str
    title: str
    headings: list[str]
    frame: pl.DataFrame
    widths: Sequence[float] = field(default_factory=list)
    reason_columns: frozenset[str] = frozenset()


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escaped(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.slice(0, MAX_CELL_CHARS)
        .str.replace_all(_NOT_XML, "")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _cell_expr(column: str, letter: str, dtype: pl.DataType, style: int) -> pl.Expr:
    """The XML of one column's cells (empty for a null), given the row number in `_row`."""
    reference = pl.lit(f'<c r="{letter}') + pl.col("_row").cast(pl.String)
    value = pl.col(column)
    if dtype.is_integer() or dtype.is_float():
        xml = reference + pl.lit(f'" s="{STYLE_NUMBER}"><v>') + value.cast(pl.String) + pl.lit("</v></c>")
    else:
        text = _escaped(value.cast(pl.String))
        xml = reference + pl.lit(f'" s="{style}" t="inlineStr"><is><t xml:space="preserve">') + text
        xml = xml + pl.lit("</t></is></c>")
    return pl.when(value.is_null()).then(pl.lit("")).otherwise(xml)


def _row_blocks(sheet: TextSheet, first_row: int) -> Iterable[bytes]:
    styles = [STYLE_REASON if c in sheet.reason_columns else STYLE_TEXT for c in sheet.frame.columns]
    # Positional names, so no heading of the file (say, one called "_row") can collide with the row number column.
    frame = sheet.frame.rename({c: f"c{i}" for i, c in enumerate(sheet.frame.columns)})
    cells = [
        _cell_expr(column, column_letter(index), frame.schema[column], style)
        for index, (column, style) in enumerate(zip(frame.columns, styles, strict=True))
    ]
    for start in range(0, frame.height, BLOCK_ROWS):
        block = frame.slice(start, BLOCK_ROWS).with_row_index("_row", offset=first_row + start)
        rows = block.select(
            pl.concat_str([pl.lit('<row r="'), pl.col("_row").cast(pl.String), pl.lit('">'), *cells, pl.lit("</row>")])
        ).to_series()
        yield rows.str.join("").item().encode("utf-8")


def _inline_row(row: int, values: list[str], style: int) -> str:
    cells = "".join(
        f'<c r="{column_letter(i)}{row}" s="{style}" t="inlineStr"><is><t xml:space="preserve">'
        f"{escape(re.sub(_NOT_XML, '', v))}</t></is></c>"
        for i, v in enumerate(values)
    )
    return f'<row r="{row}">{cells}</row>'


def write_text_xlsx(path: Path, sheet: TextSheet) -> None:
    """Write `sheet` as a workbook at `path`, streaming the rows into the archive block by block."""
    columns = max(len(sheet.headings), 1)
    last = 2 + sheet.frame.height
    widths = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>' for i, w in enumerate(sheet.widths)
    )
    head = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_MAIN} {_REL}>'
        f'<dimension ref="A1:{column_letter(columns - 1)}{last}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>' + (f"<cols>{widths}</cols>" if widths else "") + "<sheetData>"
        + _inline_row(1, [sheet.title], STYLE_TITLE)
        + _inline_row(2, sheet.headings, STYLE_HEADING)
    )  # fmt: skip
    name = escape(sheet.name, {'"': "&quot;"})
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_MAIN} {_REL}><sheets>'
        f'<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(head.encode("utf-8"))
            for block in _row_blocks(sheet, first_row=3):
                part.write(block)
            part.write(b"</sheetData></worksheet>")
