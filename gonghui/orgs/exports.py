"""The organisation roster of a subtree as an .xlsx workbook (组织名册), in the layout such tables carry. The headings
are those the organisation import reads (orgs/imports.py), so an exported roster can be edited and imported again."""

import io
from collections.abc import Callable, Iterable
from datetime import datetime

from gonghui.common.masking import mask_phone
from gonghui.common.workbooks import new_workbook
from gonghui.orgs.models import Organisation

COLUMNS = [
    ("序号", 6),
    ("组织名称", 36),
    ("组织代码", 16),
    ("组织类型", 18),
    ("层级", 8),
    ("上级组织", 30),
    ("上级组织代码", 16),
    ("行政区划代码", 12),
    ("统一社会信用代码", 22),
    ("成立日期", 12),
    ("任期届满日期", 14),
    ("状态", 8),
    ("地址", 36),
    ("联系人", 10),
    ("联系电话", 14),
]


def org_roster_xlsx(
    *,
    root: Organisation,
    orgs: Iterable[Organisation],
    parent_names: dict[str, str],
    parent_codes: dict[str, str] | None = None,
    exported_at: datetime,
    exported_by: str,
    on_row: Callable[[int], None] | None = None,
) -> bytes:
    """`parent_names` / `parent_codes`: path → name / code of the parents inside the exported subtree; the top row's
    parent lies outside it and is left blank (an import reads a blank parent of an existing organisation as "keep")."""
    parent_codes = parent_codes or {}
    buffer = io.BytesIO()
    book = new_workbook(buffer)
    sheet = book.add_worksheet("组织名册")
    title = book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    meta = book.add_format({"font_size": 10})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#E8EEF7", "align": "center", "text_wrap": True})
    cell = book.add_format({"border": 1})
    text = book.add_format({"border": 1, "num_format": "@"})
    last_col = len(COLUMNS) - 1
    sheet.merge_range(0, 0, 0, last_col, f"{root.name}组织名册", title)
    sheet.set_row(0, 28)
    sheet.merge_range(1, 0, 1, 6, f"填报单位：{root.name}", meta)
    sheet.merge_range(1, 7, 1, last_col, f"统计日期：{exported_at:%Y-%m-%d}    导出人：{exported_by}", meta)
    for col, (label, width) in enumerate(COLUMNS):
        sheet.write(2, col, label, head)
        sheet.set_column(col, col, width)
    sheet.freeze_panes(3, 2)
    row = 3
    for number, org in enumerate(orgs, start=1):
        values = [
            number,
            org.name,
            org.code,
            org.get_org_type_display(),
            org.get_level_display(),
            parent_names.get(org.path[: -Organisation.steplen], ""),
            parent_codes.get(org.path[: -Organisation.steplen], ""),
            org.region_code,
            org.uscc or "",
            org.founded_on.isoformat() if org.founded_on else "",
            org.term_ends_on.isoformat() if org.term_ends_on else "",
            org.get_status_display(),
            org.address,
            org.contact_person,
            mask_phone(org.contact_phone),
        ]
        for col, value in enumerate(values):
            sheet.write(row, col, value, cell if col == 0 else text)
        row += 1
        if on_row:
            on_row(number)
    sheet.write(row + 1, 0, f"合计：{row - 3} 个组织", meta)
    book.close()
    return buffer.getvalue()
