"""Reading the spreadsheets people actually send: .xlsx/.xls/.ods (python-calamine) and .csv (polars) in UTF-8,
UTF-8 with BOM or GBK/GB18030, with title rows above the header, columns named in many ways, blank and ragged rows.

Everything comes back as text in a polars DataFrame, one column per recognised field, plus `_line`: the row number a
spreadsheet user sees for that row (title and header rows counted, blank rows counted). Pure: no database.
"""

import csv
import gc
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import polars as pl
from python_calamine import CalamineError, CalamineWorkbook

from gonghui.common.errors import DomainError

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
CSV_SUFFIXES = (".csv", ".txt")
HEADER_SEARCH_ROWS = 20
SPARE_COLUMNS = 8  # cells beyond the header are read too, so data without a heading is reported, not lost
HEAD_BYTES = 1 << 20  # the header check of a CSV upload decodes at most this much of it
LINE = "_line"
_CJK_TWICE = re.compile(r"[\u4e00-\u9fff].*?[\u4e00-\u9fff]", re.S)


class SheetUnreadable(DomainError):
    """The file as a whole cannot be used; the message says why in plain Chinese."""

    def __init__(self, message: str):
        super().__init__(message, code="sheet_unreadable")


@dataclass(frozen=True)
class ColumnSpec:
    """The fields an import understands: field → accepted headings; `ignored` headings are known but not used."""

    synonyms: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    ignored: tuple[str, ...] = ()

    def field_of(self, heading: str) -> str | None:
        key = heading_key(heading)
        for name, accepted in self.synonyms.items():
            if key in {heading_key(a) for a in accepted}:
                return name
        return None

    def is_ignored(self, heading: str) -> bool:
        return heading_key(heading) in {heading_key(a) for a in self.ignored}


@dataclass
class Table:
    """A file read as text. `frame` has one String column per mapped field plus `_line`; `original` keeps every
    column as read, with the file's own headings, for the error report."""

    frame: pl.DataFrame
    original: pl.DataFrame
    headings: list[str]  # as written in the file, in order
    mapped: dict[str, str]  # field → heading as written
    unknown: list[str]  # headings not understood (reported to the user)
    ignored: list[str]  # headings understood but not used
    header_line: int
    encoding: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.frame.height


def heading_key(text: str) -> str:
    """Compare headings loosely: full-width → half-width, no spaces, no '*' marks, no '(必填)' and the like."""
    key = unicodedata.normalize("NFKC", str(text or ""))
    key = re.sub(r"[(\[【（][^)\]】）]*[)\]】）]", "", key)  # (必填), （选填）, [文本]
    key = re.sub(r"[\s*:：]", "", key)
    return key.lower()


def decode_csv(data: bytes) -> tuple[str, str]:
    """The text and the encoding name: a BOM decides; otherwise strict UTF-8, else GB18030 (a superset of GBK)."""
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    try:
        return body.decode("utf-8"), "UTF-8 (BOM)" if bom else "UTF-8"
    except UnicodeDecodeError as exc:
        if bom or _CJK_TWICE.search(body[: exc.start].decode("utf-8")):
            # Marked as UTF-8, or Chinese text read fine as UTF-8 up to here: a UTF-8 file with a damaged byte, not
            # a GBK file. Reading it all as GB18030 would garble every name, so refuse and say where.
            line = body.count(b"\n", 0, exc.start) + 1
            raise SheetUnreadable(
                f"文件是 UTF-8 编码，但第{line}行有无法识别的字符（文件可能已损坏），请检查该行后重新保存为 CSV"
            ) from None
    try:
        return data.decode("gb18030"), "GBK/GB18030"
    except UnicodeDecodeError:
        raise SheetUnreadable("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV，或直接上传 Excel 文件") from None


def cell_text(value) -> str:
    """One spreadsheet cell as the text a user sees. Numbers keep Excel's 15 significant digits (so an ID typed as a
    number shows its zeroed tail, which validation then explains); dates become YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) >= 1e15:
            # More digits than a spreadsheet number keeps: the tail is already lost. Show it the way Excel does, so
            # validation refuses it instead of accepting a different person's number whose check digit happens to fit.
            return format(value, ".14E")
        if value.is_integer():
            return format(Decimal(format(value, ".15g")), "f")
        return format(value, ".15g")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _rows_from_workbook(data: bytes) -> list[list]:
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except CalamineError:
        raise SheetUnreadable(
            "无法打开这个表格文件，请确认文件未损坏、未加密，并使用 .xlsx、.xls 或 .ods 格式"
        ) from None
    except Exception:
        raise SheetUnreadable(
            "无法打开这个表格文件，请确认文件未损坏、未加密，并使用 .xlsx、.xls 或 .ods 格式"
        ) from None
    names = book.sheet_names
    if not names:
        raise SheetUnreadable("表格文件中没有工作表")
    for name in names:  # the first sheet that has any content (a template's 说明 sheet comes after the data)
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        if any(any(cell not in (None, "") for cell in row) for row in rows[:HEADER_SEARCH_ROWS]):
            return rows
    raise SheetUnreadable("表格是空的：没有找到任何数据")


def _frame_from_rows(rows: list[list], width: int) -> pl.DataFrame:
    """Rows of cells → String columns. Transposed first, so a column of plain text (most of a roster) goes to polars
    as it is, and only columns holding numbers or dates pay for the per-cell conversion."""
    padded = rows if all(len(row) == width for row in rows) else [[*row, *[None] * (width - len(row))] for row in rows]
    columns = {}
    for index, cells in enumerate(zip(*padded, strict=True)) if width else ():
        kinds = set(map(type, cells))
        if not kinds <= {str, type(None)}:
            cells = [_cell_or_none(value) for value in cells]
        columns[f"c{index}"] = pl.Series(f"c{index}", cells, dtype=pl.String)
    if not columns:
        return pl.DataFrame(schema={f"c{i}": pl.String for i in range(width)})
    return pl.DataFrame(columns)


def _cell_or_none(value) -> str | None:
    return None if value is None else value if type(value) is str else cell_text(value)


def _csv_width(text: str) -> int:
    """Cells in the widest record, so a cell typed far to the right on any line is read (and reported). Without a
    quote character every comma separates cells and every line break ends a record, so counting commas per line is
    exact (and ten times faster than parsing); with quotes the csv module decides."""
    if '"' not in text:
        return max((line.count(",") for line in text.splitlines()), default=-1) + 1
    return max(map(len, csv.reader(io.StringIO(text))), default=0)


def _csv_frame(text: str) -> pl.DataFrame:
    width = _csv_width(text) + SPARE_COLUMNS
    return pl.read_csv(
        io.BytesIO(text.encode("utf-8")),
        has_header=False,
        schema={f"c{i}": pl.String for i in range(width)},
        missing_columns="insert",
        truncate_ragged_lines=True,
    )


def _lines_of(text: str) -> Iterator[str]:
    """The lines of `text`, lazily: the header check reads 21 records of a file that may hold a million."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


@contextmanager
def _without_cyclic_gc():
    """Reading a sheet creates millions of short-lived cell objects and no reference cycles; the cyclic collector
    would walk all of them several times over (a third of the read time for a 200,000-row .xlsx)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_raw(data: bytes, filename: str, *, limit: int | None = None) -> tuple[pl.DataFrame, str]:
    """Every row of the file (blank rows included, as null rows) in String columns c0, c1, ...; and the encoding.
    With `limit`, only the first `limit` rows (enough to check the header of an upload)."""
    suffix = Path(filename or "").suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        with _without_cyclic_gc():
            rows = _rows_from_workbook(data)[:limit]
            width = max((len(r) for r in rows), default=0)
            return _frame_from_rows(rows, width), ""
    if suffix in CSV_SUFFIXES:
        if limit is not None and len(data) > HEAD_BYTES:
            # Cut at a line break (byte 0x0A is never part of a UTF-8 or GB18030 character), so the head decodes
            # as the whole file would.
            cut = data.rfind(b"\n", 0, HEAD_BYTES)
            data = data[: cut + 1] if cut > 0 else data
        text, encoding = decode_csv(data)
        if limit is not None:
            try:
                records = list(itertools.islice(csv.reader(_lines_of(text)), limit))
            except csv.Error:
                raise SheetUnreadable("CSV 文件格式有误，请用 Excel 另存为 CSV 后重试") from None
            width = max(map(len, records), default=0)
            return _frame_from_rows(records, width), encoding
        try:
            return _csv_frame(text), encoding
        except pl.exceptions.PolarsError:
            raise SheetUnreadable(
                "CSV 文件格式有误（引号不配对或分隔符不一致），请用 Excel 另存为 CSV 后重试"
            ) from None
    raise SheetUnreadable("不支持的文件类型，请上传 .xlsx、.xls、.ods 或 .csv 文件")


def _find_header(raw: pl.DataFrame, spec: ColumnSpec) -> int:
    """Index of the header row: the first of the top rows that names every required field."""
    for index, row in enumerate(raw.head(HEADER_SEARCH_ROWS).iter_rows()):
        fields = {spec.field_of(cell) for cell in row if cell}
        if all(name in fields for name in spec.required):
            return index
    wanted = "、".join(f"“{spec.synonyms[name][0]}”" for name in spec.required)
    raise SheetUnreadable(f"没有找到表头：前{HEADER_SEARCH_ROWS}行中没有一行同时包含{wanted}列，请使用导入模板")


def read_table(data: bytes, filename: str, spec: ColumnSpec, *, limit: int | None = None) -> Table:
    """The file as a Table; with `limit`, only its first `limit` rows (the header check of an upload)."""
    raw, encoding = read_raw(data, filename, limit=limit)
    header_index = _find_header(raw, spec)
    header = list(raw.row(header_index))
    last = max((i for i, h in enumerate(header) if h and h.strip()), default=-1)
    body = raw.slice(header_index + 1).with_row_index(LINE, offset=header_index + 2)
    body = body.with_columns(pl.col(LINE).cast(pl.Int64))
    mapped: dict[str, str] = {}
    source_of: dict[str, str] = {}
    unknown: list[str] = []
    ignored: list[str] = []
    headings: list[str] = []
    notes: list[str] = []
    for index in range(last + 1):
        heading = (header[index] or "").strip()
        if not heading:
            heading = f"第{index + 1}列（无表头）"
            unknown.append(heading)
        if heading in headings:  # the same heading twice: keep both columns in the report, under distinct names
            heading = f"{heading}（第{index + 1}列）"
        headings.append(heading)
        name = spec.field_of(heading)
        if name is None:
            if spec.is_ignored(heading):
                ignored.append(heading)
            elif heading not in unknown:
                unknown.append(heading)
            continue
        if name in mapped:
            notes.append(f"“{heading}”与“{mapped[name]}”是同一项，已使用前一列")
            continue
        mapped[name] = heading
        source_of[name] = f"c{index}"
    cells = [f"c{i}" for i in range(last + 1)]
    trimmed = [pl.col(c).str.strip_chars().replace("", None).alias(c) for c in cells]
    body = body.with_columns(trimmed)
    spare = [c for c in body.columns if c.startswith("c") and c not in cells]
    if spare:
        body = body.with_columns(pl.col(c).str.strip_chars().replace("", None).alias(c) for c in spare)
    blank = pl.all_horizontal(pl.col(c).is_null() for c in cells + spare)
    body = body.filter(~blank)
    frame = body.select(
        pl.col(LINE),
        *[pl.col(column).alias(name) for name, column in source_of.items()],
        (pl.any_horizontal(pl.col(c).is_not_null() for c in spare) if spare else pl.lit(False)).alias("_beyond_header"),
    )
    extra = [
        pl.col(c).alias(f"第{int(c[1:]) + 1}列（无表头）") for c in spare if body.get_column(c).is_not_null().any()
    ]
    original = body.select(pl.col(LINE), *[pl.col(c).alias(h) for c, h in zip(cells, headings, strict=True)], *extra)
    return Table(
        frame=frame,
        original=original,
        headings=headings,
        mapped=mapped,
        unknown=unknown,
        ignored=ignored,
        header_line=header_index + 1,
        encoding=encoding,
        notes=notes,
    )
