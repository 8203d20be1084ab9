"""The bounds every upload is held to before it is read (rows, columns, cells, unpacked bytes), and the refusal."""

import re
from dataclasses import dataclass

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
