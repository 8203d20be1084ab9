"""Reading: the checked workbook or CSV into a DataFrame of text, the header row found, the columns named."""

import csv
import gc
import io
import itertools
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
from python_calamine import CalamineError, CalamineWorkbook

from gonghui.common.sheets.limits import (
    CSV_SUFFIXES,
    DEFAULT_LIMITS,
    HEAD_BYTES,
    HEADER_SEARCH_ROWS,
    LINE,
    SPARE_COLUMNS,
    SPREADSHEET_SUFFIXES,
    SheetLimits,
    SheetUnreadable,
    _unreadable_workbook,
)
from gonghui.common.sheets.scan_other import _OLE_MAGIC, _check_csv_lines, _check_csv_width, _scan_ods, _scan_xls
from gonghui.common.sheets.scan_xlsx import _scan_xlsx
from gonghui.common.sheets.table import ColumnSpec, Table, cell_text, decode_csv


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
        texts = cells if kinds <= {str, type(None)} else [_cell_or_none(value) for value in cells]
        columns[f"c{index}"] = pl.Series(f"c{index}", texts, dtype=pl.String)
    if not columns:
        return pl.DataFrame(schema={f"c{i}": pl.String for i in range(width)})
    return pl.DataFrame(columns)


# PostgreSQL text cannot hold NUL (a COPY or an INSERT of one fails), and no name, number or address has one: a NUL
# means a damaged file, or text in an encoding the import does not read (UTF-16). Refused before anything is stored.
def _nul_refusal(row: int) -> SheetUnreadable:
    return SheetUnreadable(
        f"第{row}行含有空字符（NUL），文件可能已损坏，或不是 UTF-8、GBK 编码的 CSV，请检查该行后重新保存"
    )


def _refuse_nul_bytes(data: bytes) -> None:
    at = data.find(b"\x00")  # in UTF-8 and GB18030 the byte 0x00 is only ever the NUL character
    if at >= 0:
        raise _nul_refusal(data.count(b"\n", 0, at) + 1)


def _refuse_nul_cells(frame: pl.DataFrame) -> None:
    rows = [hits[0] for name in frame.columns if len(hits := frame[name].str.contains("\x00", literal=True).arg_true())]
    if rows:
        raise _nul_refusal(min(rows) + 1)


def _cell_or_none(value) -> str | None:
    return None if value is None else value if type(value) is str else cell_text(value)


def _csv_width(text: str) -> int:
    """Cells in the widest record, so a cell typed far to the right on any line is read (and reported). Without a
    quote character every comma separates cells and every line break ends a record, so counting commas per line is
    exact (and ten times faster than parsing); with quotes the csv module decides."""
    if '"' not in text:
        return max((line.count(",") for line in text.splitlines()), default=-1) + 1
    return max(map(len, csv.reader(io.StringIO(text))), default=0)


def _csv_frame(text: str, width: int) -> pl.DataFrame:
    width += SPARE_COLUMNS
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


def read_raw(
    data: bytes, filename: str, *, limit: int | None = None, limits: SheetLimits = DEFAULT_LIMITS
) -> tuple[pl.DataFrame, str]:
    """Every row of the file (blank rows included, as null rows) in String columns c0, c1, ...; and the encoding.
    With `limit`, only the first `limit` rows (enough to check the header of an upload). The file is checked
    against `limits` first, by a scan that materialises nothing; a file past a cap raises SheetUnreadable."""
    suffix = Path(filename or "").suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        data = _checked_workbook(data, limits, head_rows=limit)
        with _without_cyclic_gc():
            rows = _rows_from_workbook(data)[:limit]
            width = max((len(r) for r in rows), default=0)
            frame = _frame_from_rows(rows, width)
        if data[:8] == _OLE_MAGIC:  # .xlsx and .ods are XML, which cannot hold a NUL; an .xls string can
            _refuse_nul_cells(frame)
        return frame, ""
    if suffix in CSV_SUFFIXES:
        lines = _check_csv_lines(data, limits)
        _refuse_nul_bytes(data)
        if limit is not None and len(data) > HEAD_BYTES:
            # Cut at a line break (byte 0x0A is never part of a UTF-8 or GB18030 character), so the head decodes
            # as the whole file would. Lines are shorter than the cap, so the head holds whole lines.
            cut = data.rfind(b"\n", 0, HEAD_BYTES)
            data = data[: cut + 1] if cut > 0 else data[:HEAD_BYTES]
        text, encoding = decode_csv(data)
        if limit is not None:
            try:
                records = list(itertools.islice(csv.reader(_lines_of(text)), limit))
            except csv.Error:
                raise SheetUnreadable("CSV 文件格式有误，请用 Excel 另存为 CSV 后重试") from None
            width = max(map(len, records), default=0)
            _check_csv_width(width, lines, limits)
            return _frame_from_rows(records, width), encoding
        width = _csv_width(text)
        _check_csv_width(width, lines, limits)
        try:
            return _csv_frame(text, width), encoding
        except pl.exceptions.PolarsError:
            raise SheetUnreadable(
                "CSV 文件格式有误（引号不配对或分隔符不一致），请用 Excel 另存为 CSV 后重试"
            ) from None
    raise SheetUnreadable("不支持的文件类型，请上传 .xlsx、.xls、.ods 或 .csv 文件")


def _checked_workbook(data: bytes, limits: SheetLimits, *, head_rows: int | None) -> bytes:
    """Scan the workbook as its content says it is (calamine goes by content, not by the file name); the bytes to
    give calamine."""
    if data[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            raise _unreadable_workbook() from None
        if "content.xml" in names:
            _scan_ods(data, limits)
            return data
        if any(name.lower().endswith(".bin") and "worksheets/" in name.lower() for name in names):
            raise _unreadable_workbook()  # .xlsb: binary sheets this scan cannot check
        return _scan_xlsx(data, limits, head_rows=head_rows)
    if data[:8] == _OLE_MAGIC:
        _scan_xls(data, limits)
        return data
    raise _unreadable_workbook()


def _find_header(raw: pl.DataFrame, spec: ColumnSpec) -> int:
    """Index of the header row: the first of the top rows that names every required field."""
    for index, row in enumerate(raw.head(HEADER_SEARCH_ROWS).iter_rows()):
        fields = {spec.field_of(cell) for cell in row if cell}
        if all(name in fields for name in spec.required):
            return index
    wanted = "、".join(f"“{spec.synonyms[name][0]}”" for name in spec.required)
    raise SheetUnreadable(f"没有找到表头：前{HEADER_SEARCH_ROWS}行中没有一行同时包含{wanted}列，请使用导入模板")


def read_table(
    data: bytes, filename: str, spec: ColumnSpec, *, limit: int | None = None, limits: SheetLimits = DEFAULT_LIMITS
) -> Table:
    """The file as a Table; with `limit`, only its first `limit` rows (the header check of an upload). Every import
    passes its own `limits`; a file past them is refused before it is read."""
    raw, encoding = read_raw(data, filename, limit=limit, limits=limits)
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
