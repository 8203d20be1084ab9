"""The member roster of a subtree as an .xlsx workbook or a .csv file (会员名册), in the standard layout that the roster
import reads back unchanged. Personal numbers are masked unless the requester may unmask and stated a reason (then
the export is audited with that reason)."""

import io
from collections.abc import Callable, Iterable
from datetime import datetime

from gonghui.common.workbooks import csv_writer, new_workbook
from gonghui.members.models import Membership
from gonghui.members.people import document_number_of, phone_of
from gonghui.orgs.models import Organisation

COLUMNS = [
    ("序号", 7),
    ("姓名", 10),
    ("性别", 6),
    ("出生日期", 12),
    ("证件类型", 14),
    ("证件号码", 22),
    ("手机号码", 14),
    ("民族", 8),
    ("学历", 14),
    ("政治面貌", 12),
    ("户籍类型", 12),
    ("就业形态", 14),
    ("工作单位", 30),
    ("岗位/职务", 12),
    ("技能等级", 10),
    ("劳动模范", 8),
    ("所在工会", 30),
    ("工会代码", 18),
    ("会籍状态", 10),
    ("入会日期", 12),
    ("会员卡号", 20),
    ("来源", 10),
]


def roster_values(number: int, m: Membership, *, unmasked: bool) -> list:
    p = m.person
    return [
        number,
        p.name,
        p.get_sex_display(),
        p.birth_date.isoformat() if p.birth_date else "",
        p.get_doc_type_display(),
        document_number_of(p) if unmasked else p.doc_masked,
        (phone_of(p) if unmasked else p.phone_masked),
        p.ethnicity,
        p.get_education_display() if p.education else "",
        p.get_political_status_display() if p.political_status else "",
        p.get_hukou_type_display() if p.hukou_type else "",
        p.get_employment_form_display() if p.employment_form else "",
        p.work_unit,
        p.post,
        p.get_skill_level_display() if p.skill_level else "",
        "是" if p.is_model_worker else "否",
        m.org.name,
        m.org.code,
        m.get_status_display(),
        m.joined_on.isoformat(),
        m.card_number,
        m.get_source_display(),
    ]


def member_roster_csv(
    *, memberships: Iterable[Membership], unmasked: bool = False, on_row: Callable[[int], None] | None = None
) -> bytes:
    """UTF-8 with BOM (Excel opens it as Chinese text), the header in the first line."""
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow([label for label, _width in COLUMNS])
    for number, m in enumerate(memberships, start=1):
        writer.writerow(roster_values(number, m, unmasked=unmasked))
        if on_row:
            on_row(number)
    return buffer.getvalue().encode("utf-8-sig")


def member_roster_xlsx(
    *,
    root: Organisation,
    memberships: Iterable[Membership],
    exported_at: datetime,
    exported_by: str,
    on_row: Callable[[int], None] | None = None,
    unmasked: bool = False,
) -> bytes:
    buffer = io.BytesIO()
    book = new_workbook(buffer, constant_memory=True)
    sheet = book.add_worksheet("会员名册")
    title = book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    meta = book.add_format({"font_size": 10})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#E8EEF7", "align": "center", "text_wrap": True})
    cell = book.add_format({"border": 1})
    text = book.add_format({"border": 1, "num_format": "@"})
    last_col = len(COLUMNS) - 1
    for col, (_label, width) in enumerate(COLUMNS):
        sheet.set_column(col, col, width)
    sheet.merge_range(0, 0, 0, last_col, f"{root.name}会员名册", title)
    sheet.set_row(0, 28)
    sheet.merge_range(1, 0, 1, 8, f"填报单位：{root.name}", meta)
    sheet.merge_range(
        1,
        9,
        1,
        last_col,
        f"统计日期：{exported_at:%Y-%m-%d}    导出人：{exported_by}    "
        + ("含完整证件号码和手机号码，请妥善保管" if unmasked else "证件号码、手机号码已脱敏"),
        meta,
    )
    for col, (label, _width) in enumerate(COLUMNS):
        sheet.write(2, col, label, head)
    sheet.freeze_panes(3, 2)
    row = 3
    for number, m in enumerate(memberships, start=1):
        values = roster_values(number, m, unmasked=unmasked)
        for col, value in enumerate(values):
            sheet.write(row, col, value, cell if col == 0 else text)
        row += 1
        if on_row:
            on_row(number)
    sheet.write(row + 1, 0, f"合计：{row - 3} 名会员", meta)
    book.close()
    return buffer.getvalue()
