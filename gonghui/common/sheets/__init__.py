"""Reading the spreadsheets people actually send: .xlsx/.xls/.ods (python-calamine) and .csv (polars) in UTF-8,
UTF-8 with BOM or GBK/GB18030, with title rows above the header, columns named in many ways, blank and ragged rows.

Everything comes back as text in a polars DataFrame, one column per recognised field, plus `_line`: the row number a
spreadsheet user sees for that row (title and header rows counted, blank rows counted). Pure: no database.
"""

from gonghui.common.sheets.limits import (
    CSV_SUFFIXES,
    DEFAULT_LIMITS,
    HEAD_BYTES,
    HEADER_SEARCH_ROWS,
    LINE,
    MIB,
    SPARE_COLUMNS,
    SPREADSHEET_SUFFIXES,
    SheetLimits,
    SheetUnreadable,
)
from gonghui.common.sheets.read import read_raw, read_table
from gonghui.common.sheets.table import ColumnSpec, Table, cell_text, decode_csv, heading_key

__all__ = [
    "CSV_SUFFIXES",
    "ColumnSpec",
    "DEFAULT_LIMITS",
    "HEADER_SEARCH_ROWS",
    "HEAD_BYTES",
    "LINE",
    "MIB",
    "SPARE_COLUMNS",
    "SPREADSHEET_SUFFIXES",
    "SheetLimits",
    "SheetUnreadable",
    "Table",
    "cell_text",
    "decode_csv",
    "heading_key",
    "read_raw",
    "read_table",
]
