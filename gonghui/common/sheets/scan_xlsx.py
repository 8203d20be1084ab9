""".xlsx: every part is unzipped by hand (its real size, whatever the zip's header says), worksheets are scanned."""

import io
import itertools
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from gonghui.common.sheets.limits import (
    _A1,
    _HEAD_KEEP,
    _ZIP_CHUNK,
    MIB,
    SheetLimits,
    SheetUnreadable,
    _check_area,
    _check_declared,
    _check_extent,
    _column_number,
    _Extent,
    _unreadable_workbook,
)

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
