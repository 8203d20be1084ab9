""".ods, .xls and .csv: each format's size is counted the way its reader would expand it, before it is read."""

import io
import re
import struct
import zipfile
from dataclasses import dataclass, field

from gonghui.common.sheets.limits import (
    _ZIP_CHUNK,
    SheetLimits,
    SheetUnreadable,
    _check_area,
    _check_declared_size,
    _check_extent,
    _Extent,
    _unreadable_workbook,
)
from gonghui.common.sheets.scan_xlsx import _tag_aligned, _zip_member

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
