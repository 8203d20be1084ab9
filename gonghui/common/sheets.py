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
import struct
import unicodedata
import zipfile
import zlib
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
MIB = 1 << 20
_CJK_TWICE = re.compile(r"[\u4e00-\u9fff].*?[\u4e00-\u9fff]", re.S)


class SheetUnreadable(DomainError):
    """The file as a whole cannot be used; the message says why in plain Chinese."""

    def __init__(self, message: str):
        super().__init__(message, code="sheet_unreadable")


# ---------------------------------------------------------------------------------------------------------------
# Caps: how much of an upload an import will read, checked before anything is materialised. A spreadsheet reader
# builds the whole rectangle from A1 to the farthest cell (calamine: 32 bytes a cell, before Python sees a row), so
# a 2 KB file with one cell at XFD1048576 asks for 550 GB and kills the process; the caps are checked on the file
# itself (the sheet XML streamed from the zip, the .xls records, the CSV bytes) as the scan goes.


@dataclass(frozen=True)
class SheetLimits:
    """The most an import reads: rows of the sheet (title, header and blank rows counted), columns, cells of the
    rectangle a reader materialises, bytes of one CSV line, and bytes of an .xlsx/.ods once unzipped."""

    rows: int = 1_048_576  # Excel's own limit: any roster Excel can hold
    columns: int = 64
    cells: int = 32_000_000
    line_bytes: int = 64 * 1024
    unpacked_bytes: int = 1024 * MIB


DEFAULT_LIMITS = SheetLimits()
# A rectangle larger than this many cells must be at least 1/SPARSE_RATIO full: a 1.6 KB file declaring 9,000,000
# cells is refused, a real roster with only two columns filled is not.
SPARSE_FLOOR = 1_000_000
SPARSE_RATIO = 16
_ZIP_CHUNK = 4 * MIB
_HEAD_KEEP = 16 * MIB  # at most this much of a worksheet's XML is kept for the header check


@dataclass
class _Extent:
    """One sheet as the scan finds it: farthest row and column holding a value (1-based) and cells holding one."""

    rows: int = 0
    columns: int = 0
    filled: int = 0

    def add(self, row: int, column: int, count: int = 1) -> None:
        self.rows = max(self.rows, row)
        self.columns = max(self.columns, column)
        self.filled += count


def _check_extent(extent: _Extent, limits: SheetLimits) -> None:
    """Called as the scan goes, so a hostile file is refused at the first cell past a cap."""
    if extent.rows > limits.rows:
        raise SheetUnreadable(f"表格行数超过上限（最多 {limits.rows} 行），请拆分后分批导入")
    if extent.columns > limits.columns:
        raise SheetUnreadable(f"表格列数超过上限（最多 {limits.columns} 列），请删除多余的列后重新上传")


def _check_area(extent: _Extent, limits: SheetLimits) -> None:
    _check_extent(extent, limits)
    area = extent.rows * extent.columns
    if area > limits.cells:
        raise SheetUnreadable(
            f"表格过大：{extent.rows} 行 × {extent.columns} 列，超过 {limits.cells} 个单元格的上限，请拆分后分批导入"
        )
    if area > max(SPARSE_FLOOR, SPARSE_RATIO * extent.filled):
        raise SheetUnreadable(
            f"表格的使用范围过大：第 {extent.rows} 行、第 {extent.columns} 列处有内容，而全表只有 {extent.filled} 个"
            "单元格有内容，请删除多余的行和列后重新保存（或把数据复制到新的表格）"
        )


def _check_declared(ref: str, limits: SheetLimits) -> None:
    """The `<dimension ref=…>` an .xlsx declares: cheap to read, refused before the sheet is unzipped further."""
    corners = [_cell_position(part) for part in ref.split(":")]
    known = [corner for corner in corners if corner is not None]
    if len(known) == len(corners):
        rows = max(row for row, _ in known)
        columns = max(column for _, column in known)
        _check_declared_size(f"{ref}，", rows, columns, limits)


def _check_declared_size(label: str, rows: int, columns: int, limits: SheetLimits) -> None:
    if rows > limits.rows or columns > limits.columns or rows * columns > limits.cells:
        raise SheetUnreadable(
            f"表格声明的范围过大（{label}{rows} 行 × {columns} 列），最多 {limits.rows} 行、{limits.columns} 列，"
            "请删除多余的行和列后重新保存"
        )


_A1 = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})")


def _cell_position(ref: str) -> tuple[int, int] | None:
    match = _A1.fullmatch(ref.strip().upper())
    if match is None:
        return None
    return int(match.group(2)), _column_number(match.group(1).encode())


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _unreadable_workbook() -> SheetUnreadable:
    return SheetUnreadable("无法打开这个表格文件，请确认文件未损坏、未加密，并使用 .xlsx、.xls 或 .ods 格式")


# .xlsx: every part is unzipped by hand (its real size, whatever the zip's header says), worksheets are scanned.

_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']+)[\"']")
_SHEET_DATA = re.compile(rb"<(?:([\w.-]+):)?sheetData[\s>/]")
_PREFIXED_CELL = re.compile(rb"<[\w.-]+:c[\s>/]")
# The form every common writer uses (`<c r="B7" …>`): a literal start the regex engine finds fast. Any other form
# (a prefix, attributes in another order, no reference) makes the counts differ and takes the general path.
_CELL_REF = re.compile(rb'<c r="[A-Z]{1,3}[0-9]{1,7}"[^>/]*/?>')
_FILLED_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})[0-9]{1,7}"[^>/]*>')  # not self-closing: holds a value
_FILLED_ROW = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"[^>/]*>')
_ROW_OR_CELL = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s>/])([^>]*?)(/?)>")
_R_ATTRIBUTE = re.compile(rb"\sr\s*=\s*[\"']([A-Z]{0,3})([0-9]{1,7})[\"']")
_ROW_END = re.compile(rb"</(?:[\w.-]+:)?row\s*>|<(?:[\w.-]+:)?row\s[^>]*/>")


def _zip_member(data: bytes, info: zipfile.ZipInfo, budget: list[int]) -> Iterator[bytes]:
    """The member's bytes, unzipped from its raw stream in chunks; `budget` is what may still be unpacked (a zip
    bomb is stopped at the cap, whatever size the zip's header claims)."""
    offset = info.header_offset
    if data[offset : offset + 4] != b"PK\x03\x04":
        raise _unreadable_workbook()
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    start = offset + 30 + name_length + extra_length
    raw = memoryview(data)[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[bytes] = (bytes(raw[i : i + _ZIP_CHUNK]) for i in range(0, len(raw), _ZIP_CHUNK))
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        pieces = _inflate(raw)
    else:
        raise _unreadable_workbook()
    for piece in pieces:
        budget[0] -= len(piece)
        if budget[0] < 0:
            raise SheetUnreadable(f"表格文件解压后超过 {budget[1] // MIB} MB，请拆分后分批导入")
        yield piece


def _tag_aligned(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """The pieces regrouped so that no tag straddles two of them (a tag cut by a chunk waits for the next)."""
    carry = b""
    for piece in pieces:
        buffer = carry + piece
        cut = buffer.rfind(b"<")
        if cut < 0 or (cut == 0 and buffer.find(b">") > 0):
            yield buffer
            carry = b""
        elif cut == 0:
            if len(buffer) > _HEAD_KEEP:  # one tag of many megabytes: not a spreadsheet
                raise _unreadable_workbook()
            carry = buffer
        else:
            yield buffer[:cut]
            carry = buffer[cut:]
    if carry:
        yield carry


def _inflate(raw: memoryview) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    position = 0
    try:
        while True:
            if inflater.unconsumed_tail:
                source = inflater.unconsumed_tail
            elif position < len(raw) and not inflater.eof:
                source, position = bytes(raw[position : position + MIB]), position + MIB
            else:
                source = b""
            piece = inflater.decompress(source, _ZIP_CHUNK)
            if piece:
                yield piece
            elif not source:
                return
    except zlib.error:
        raise _unreadable_workbook() from None


@dataclass
class _SheetScan:
    """The state of one worksheet's scan between chunks."""

    limits: SheetLimits
    head_rows: int | None
    extent: _Extent = field(default_factory=_Extent)
    row: int = 0
    column: int = 0
    in_data: bool = False
    declared_checked: bool = False
    prefix: bytes = b""  # the namespace prefix of sheetData and worksheet ("x:" or "")
    head: list[bytes] = field(default_factory=list)
    head_size: int = 0
    head_done: bool = False
    head_seen: int = 0
    head_last_end: int = 0

    def feed(self, buffer: bytes) -> None:
        if not self.declared_checked:
            dimension = _DIMENSION.search(buffer)
            if dimension is not None or _SHEET_DATA.search(buffer):
                self.declared_checked = True
            if dimension is not None:
                _check_declared(dimension.group(1).decode("ascii", "replace"), self.limits)
        if not self.in_data:
            found = _SHEET_DATA.search(buffer)
            if found is None:
                self._keep(buffer)
                return
            self.in_data = True
            self.prefix = found.group(1) + b":" if found.group(1) else b""
        every = buffer.count(b"<c ") + buffer.count(b"<c>") + buffer.count(b"<c/>")
        if len(_CELL_REF.findall(buffer)) == every and _PREFIXED_CELL.search(buffer) is None:
            self._fast(buffer)
        else:
            self._slow(buffer)
        _check_extent(self.extent, self.limits)
        self._keep(buffer)

    def _fast(self, buffer: bytes) -> None:
        """Every cell carries its reference (what Excel, WPS and LibreOffice write): no per-cell Python code."""
        columns = _FILLED_COLUMN.findall(buffer)
        if columns:
            widest = max(set(columns), key=lambda column: (len(column), column))
            lowest = max(map(int, set(_FILLED_ROW.findall(buffer))))
            self.extent.add(lowest, _column_number(widest), len(columns))
        last = buffer.rfind(b'<c r="')
        if last >= 0:
            reference = _A1.match(buffer[last + 6 : last + 16].decode("ascii", "replace"))
            if reference:
                self.row, self.column = int(reference.group(2)), _column_number(reference.group(1).encode())

    def _slow(self, buffer: bytes) -> None:
        """Some cells or rows leave out their reference: they follow the one before."""
        for element in _ROW_OR_CELL.finditer(buffer):
            reference = _R_ATTRIBUTE.search(element.group(2))
            if element.group(1) == b"row":
                self.row = int(reference.group(2)) if reference else self.row + 1
                self.column = 0
                continue
            if reference and reference.group(1):
                self.row, self.column = int(reference.group(2)), _column_number(reference.group(1))
            else:
                self.column += 1
            if not element.group(3):
                self.extent.add(self.row, self.column)

    def _keep(self, buffer: bytes) -> None:
        """For the header check: the XML up to the end of its first `head_rows` rows."""
        if self.head_rows is None or self.head_done:
            return
        ends = list(itertools.islice(_ROW_END.finditer(buffer), self.head_rows - self.head_seen))
        self.head_seen += len(ends)
        if self.head_seen >= self.head_rows:
            self.head.append(buffer[: ends[-1].end()])
            self.head_done = True
            return
        if ends:
            self.head_last_end = self.head_size + ends[-1].end()
        self.head.append(buffer)
        self.head_size += len(buffer)
        if self.head_size > _HEAD_KEEP:
            # No table has top rows this long: keep the rows that ended; the scan goes on and decides.
            self.head = [b"".join(self.head)[: self.head_last_end]]
            self.head_done = True

    def head_xml(self) -> bytes:
        xml = b"".join(self.head)
        if self.head_done and self.in_data:
            xml += b"</" + self.prefix + b"sheetData></" + self.prefix + b"worksheet>"
        return xml


def _scan_xlsx(data: bytes, limits: SheetLimits, *, head_rows: int | None) -> bytes:
    """Check an .xlsx against the caps without materialising it; the file to hand to calamine (with `head_rows`,
    a copy whose worksheets stop after that many rows, so the header check reads only the top of each sheet)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _unreadable_workbook() from None
    budget = [limits.unpacked_bytes, limits.unpacked_bytes]
    heads: dict[str, bytes] = {}
    for info in members:
        if info.is_dir():
            continue
        pieces = _zip_member(data, info, budget)
        if not _is_worksheet(info.filename):
            for _piece in pieces:  # unzipped all the same: the reader unzips it too, and the cap counts it
                pass
            continue
        scan = _SheetScan(limits, head_rows)
        for buffer in _tag_aligned(pieces):
            scan.feed(buffer)
        _check_area(scan.extent, limits)
        if head_rows is not None:
            heads[info.filename] = scan.head_xml()
    if head_rows is None:
        return data
    copy = io.BytesIO()
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
        for info in members:
            if not info.is_dir():
                out.writestr(info.filename, heads[info.filename] if info.filename in heads else archive.read(info))
    return copy.getvalue()


def _is_worksheet(name: str) -> bool:
    name = name.lower()
    return name.endswith(".xml") and ("/worksheets/" in name or name.startswith("worksheets/"))


# .ods: one content.xml holds every table; repeated rows and cells are expanded by the reader, so they are counted.

_ODS_ELEMENT = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s>/])([^>]*?)(/?)>")
_ODS_REPEAT = re.compile(rb"table:number-(?:rows|columns)-repeated\s*=\s*[\"']([0-9]{1,10})[\"']")


def _scan_ods(data: bytes, limits: SheetLimits) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _unreadable_workbook() from None
    budget = [limits.unpacked_bytes, limits.unpacked_bytes]
    for info in members:
        if info.is_dir():
            continue
        pieces = _zip_member(data, info, budget)
        if info.filename != "content.xml":
            for _piece in pieces:
                pass
            continue
        state = _OdsScan(limits)
        for buffer in _tag_aligned(pieces):
            state.feed(buffer)
        state.close_table()


@dataclass
class _OdsScan:
    limits: SheetLimits
    extent: _Extent = field(default_factory=_Extent)
    row: int = 0  # rows before the current one
    row_repeat: int = 1
    column: int = 0
    row_columns: int = 0
    row_filled: int = 0
    cell_open: int = 0  # columns of the open (not self-closing) cell: filled if it turns out to hold anything

    def feed(self, buffer: bytes) -> None:
        for element in _ODS_ELEMENT.finditer(buffer):
            closing, name, attributes, empty = element.groups()
            if name == b"table":
                if closing:
                    self.close_table()
                continue
            if name == b"table-row":
                if closing:
                    self._end_row()
                    continue
                repeat = _ODS_REPEAT.search(attributes)
                self.row_repeat = int(repeat.group(1)) if repeat else 1
                self.column = self.row_columns = self.row_filled = 0
                if empty:
                    self.row += self.row_repeat
                continue
            if closing:
                continue
            repeat = _ODS_REPEAT.search(attributes)
            count = int(repeat.group(1)) if repeat else 1
            self.column += count
            if not empty:  # an element with content (a value or text); its repeats cost the file nothing, so
                # they count once towards how full the sheet is, and in full towards its rows and columns
                self.row_columns = self.column
                self.row_filled += 1
                self.extent.add(self.row + self.row_repeat, self.row_columns, 0)
                _check_extent(self.extent, self.limits)

    def _end_row(self) -> None:
        self.extent.filled += self.row_filled
        self.row += self.row_repeat
        self.row_repeat = 1

    def close_table(self) -> None:
        _check_area(self.extent, self.limits)
        self.extent, self.row, self.row_repeat = _Extent(), 0, 1


# .xls: the Workbook stream of the compound document, its cell records read for their row and column.

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_END = 0xFFFFFFFA  # this and above: free, end of chain, FAT or DIFAT sector
_XLS_VALUE_CELLS = {0x0006, 0x00FD, 0x0203, 0x027E, 0x0204, 0x0205, 0x00D6, 0x0406, 0x0003, 0x0004, 0x0002}
_XLS_MULRK, _XLS_BOF, _XLS_EOF, _XLS_DIMENSIONS = 0x00BD, 0x0809, 0x000A, 0x0200


def _ole_stream(data: bytes, names: tuple[str, ...]) -> bytes:
    """The named stream of an OLE2 compound document (only what .xls needs: FAT, DIFAT, mini stream)."""
    if len(data) < 512 or data[:8] != _OLE_MAGIC:
        raise _unreadable_workbook()
    shift, mini_shift = struct.unpack_from("<HH", data, 30)
    if shift not in (9, 12) or mini_shift != 6:
        raise _unreadable_workbook()
    size = 1 << shift
    fat_count, first_dir = struct.unpack_from("<II", data, 44)
    mini_cutoff, first_mini_fat, _mini_count, first_difat, _difat_count = struct.unpack_from("<IIIII", data, 56)
    sectors = (len(data) - size) // size

    def sector(index: int) -> bytes:
        if index >= sectors:
            raise _unreadable_workbook()
        return data[(index + 1) * size : (index + 2) * size]

    difat = [s for s in struct.unpack_from("<109I", data, 76) if s < _OLE_END]
    seen: set[int] = set()
    next_difat = first_difat
    while next_difat < _OLE_END and next_difat not in seen and len(difat) <= sectors:
        seen.add(next_difat)
        pointers = struct.unpack(f"<{size // 4}I", sector(next_difat))
        difat.extend(s for s in pointers[:-1] if s < _OLE_END)
        next_difat = pointers[-1]
    fat = [entry for index in difat[:fat_count] for entry in struct.unpack(f"<{size // 4}I", sector(index))]

    def chain(start: int, table: list[int]) -> list[int]:
        found: list[int] = []
        while start < _OLE_END:
            if start >= len(table) or len(found) > len(table):
                raise _unreadable_workbook()
            found.append(start)
            start = table[start]
        return found

    directory = b"".join(sector(s) for s in chain(first_dir, fat))
    entries: list[tuple[str, int, int, int]] = []
    for offset in range(0, len(directory) - 127, 128):
        length = min(struct.unpack_from("<H", directory, offset + 64)[0], 64)
        name = directory[offset : offset + max(length - 2, 0)].decode("utf-16-le", "replace")
        start, stream_size = struct.unpack_from("<II", directory, offset + 116)
        entries.append((name, directory[offset + 66], start, stream_size))
    if not entries:
        raise _unreadable_workbook()
    wanted = next((entry for entry in entries if entry[0] in names and entry[1] == 2), None)
    if wanted is None:
        raise _unreadable_workbook()
    _name, _kind, start, stream_size = wanted
    if stream_size >= mini_cutoff:
        return b"".join(sector(s) for s in chain(start, fat))[:stream_size]
    mini_stream = b"".join(sector(s) for s in chain(entries[0][2], fat))
    mini_fat = [e for s in chain(first_mini_fat, fat) for e in struct.unpack(f"<{size // 4}I", sector(s))]
    return b"".join(mini_stream[s * 64 : (s + 1) * 64] for s in chain(start, mini_fat))[:stream_size]


def _scan_xls(data: bytes, limits: SheetLimits) -> None:
    stream = _ole_stream(data, ("Workbook", "Book"))
    extent = _Extent()
    position, end = 0, len(stream) - 4
    while position <= end:
        kind, length = struct.unpack_from("<HH", stream, position)
        body = position + 4
        if kind == _XLS_BOF:
            extent = _Extent()
        elif kind == _XLS_EOF:
            _check_area(extent, limits)
        elif kind == _XLS_DIMENSIONS and length in (10, 14):
            # The reader reserves room for the declared rectangle before reading a cell.
            if length == 14:
                _first_row, rows, _first_column, columns = struct.unpack_from("<IIHH", stream, body)
            else:
                _first_row, rows, _first_column, columns = struct.unpack_from("<HHHH", stream, body)
            _check_declared_size("", rows, columns, limits)
        elif length >= 4 and (kind in _XLS_VALUE_CELLS or kind == _XLS_MULRK):
            row, column = struct.unpack_from("<HH", stream, body)
            if kind == _XLS_MULRK and length >= 6:
                last = struct.unpack_from("<H", stream, body + length - 2)[0]
                extent.add(row + 1, last + 1, max(last - column + 1, 1))
            else:
                extent.add(row + 1, column + 1)
            _check_extent(extent, limits)
        position = body + length
    _check_area(extent, limits)


# CSV: the bytes themselves bound the work: lines are counted and measured before anything is decoded or parsed.


def _check_csv_lines(data: bytes, limits: SheetLimits) -> int:
    """Refuse a line longer than the cap or more lines than the row cap; the number of lines."""
    lines, start, size = 0, 0, len(data)
    step = max(_ZIP_CHUNK, limits.line_bytes * 2)
    carry = 0  # length of the line continuing from the previous piece
    while start < size:
        piece = data[start : start + step]
        parts = piece.split(b"\n")
        lengths = [carry + len(parts[0]), *map(len, parts[1:])]
        longest = max(lengths)
        if longest > limits.line_bytes:
            number = lines + next(i for i, length in enumerate(lengths) if length > limits.line_bytes) + 1
            raise SheetUnreadable(
                f"第 {number} 行过长（超过 {limits.line_bytes // 1024} KB），请检查文件是否为正常的 CSV 表格"
                "（每行一条记录），或直接上传 Excel 文件"
            )
        lines += len(parts) - 1
        carry = lengths[-1]
        start += step
        if lines > limits.rows:
            raise SheetUnreadable(f"表格行数超过上限（最多 {limits.rows} 行），请拆分后分批导入")
    return lines + (1 if carry else 0)


def _check_csv_width(width: int, lines: int, limits: SheetLimits) -> None:
    _check_area(_Extent(rows=lines, columns=width, filled=lines * width), limits)


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
