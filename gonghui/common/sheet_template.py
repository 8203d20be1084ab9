"""Import templates as .xlsx: a data sheet with a title row and the headings (required ones marked), every column
text-formatted (so Excel keeps leading zeros and long numbers), drop-down lists for choice columns, and a 说明 sheet.
The roster and the organisation imports each describe their columns; this module lays them out."""

import io
from collections.abc import Sequence
from dataclasses import dataclass

import xlsxwriter

from gonghui.common.workbooks import new_workbook

TEMPLATE_ROWS = 5000  # rows prepared with formats and drop-downs


@dataclass(frozen=True)
class TemplateColumn:
    heading: str
    width: int
    choices: list[str] | None  # None: free text
    note: str  # for the 说明 sheet
    required: bool = False


def import_template_xlsx(
    *,
    sheet_name: str,
    title: str,
    columns: list[TemplateColumn],
    guide_title: str,
    guide: list[tuple[str, str]],
    sections: Sequence[tuple[str, list[tuple[str, str]]]] = (),
    frozen_columns: int = 1,
) -> bytes:
    """`guide` rows come first on the 说明 sheet, then each column's note, then any further `sections`."""
    buffer = io.BytesIO()
    book = new_workbook(buffer)
    sheet = book.add_worksheet(sheet_name)
    lists = book.add_worksheet("选项")
    notes = book.add_worksheet("说明")
    bold = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#E8EEF7", "align": "center"})
    required = book.add_format({"bold": True, "border": 1, "bg_color": "#FDECEC", "align": "center"})
    text = book.add_format({"num_format": "@"})
    sheet.write(0, 0, title, bold)
    for col, column in enumerate(columns):
        sheet.write(1, col, column.heading, required if column.required else head)
        sheet.set_column(col, col, column.width, text)
        if column.choices:
            lists.write_column(0, col, column.choices)
            letter = xlsxwriter.utility.xl_col_to_name(col)
            ref = f"=选项!${letter}$1:${letter}${len(column.choices)}"
            sheet.data_validation(
                2, col, TEMPLATE_ROWS, col,
                {"validate": "list", "source": ref, "error_title": "取值不正确", "error_message": "请从下拉列表中选择"},
            )  # fmt: skip
    sheet.freeze_panes(2, frozen_columns)
    lists.hide()
    notes.set_column(0, 0, 14)
    notes.set_column(1, 1, 100)
    notes.write(0, 0, guide_title, bold)
    all_sections = [("", guide), ("各列填写要求", [(c.heading, c.note) for c in columns]), *sections]
    row = 2
    for heading, lines in all_sections:
        if heading:
            row += 1
            notes.write(row, 0, heading, bold)
            row += 1
        for label, note in lines:
            notes.write(row, 0, label)
            notes.write(row, 1, note)
            row += 1
    book.close()
    return buffer.getvalue()
