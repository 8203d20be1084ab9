"""Roster files as unions send them, built from demo workers: the standard layout (会员名册 headings, Chinese labels)
written as .csv or .xlsx. Used by the demo, the import tests and the import benchmark."""

import csv
import io

import xlsxwriter

from gonghui.demo.people import DemoWorker
from gonghui.members.models import Education, EmploymentForm, HukouType, PoliticalStatus, SkillLevel

HEADINGS = [
    "序号", "姓名", "性别", "证件类型", "证件号码", "手机号码", "民族", "学历", "政治面貌", "户籍类型", "就业形态",
    "工作单位", "岗位/职务", "技能等级", "劳动模范", "入会日期",
]  # fmt: skip


def roster_row(number: int, worker: DemoWorker) -> list[str]:
    return [
        str(number),
        worker.name,
        "男" if worker.sex == "M" else "女",
        "居民身份证",
        worker.doc_number,
        worker.phone,
        worker.ethnicity,
        Education(worker.education).label if worker.education else "",
        PoliticalStatus(worker.political_status).label if worker.political_status else "",
        HukouType(worker.hukou_type).label if worker.hukou_type else "",
        EmploymentForm(worker.employment_form).label if worker.employment_form else "",
        worker.work_unit,
        worker.post,
        SkillLevel(worker.skill_level).label if worker.skill_level else "",
        "是" if worker.is_model_worker else "否",
        worker.joined_on.isoformat(),
    ]


def roster_csv(rows: list[list[str]], *, title: str = "", encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if title:
        writer.writerow([title])
    writer.writerow(HEADINGS)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def roster_xlsx(rows: list[list], *, title: str = "") -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet("会员名册")
    start = 0
    if title:
        sheet.write(0, 0, title)
        start = 1
    sheet.write_row(start, 0, HEADINGS)
    for index, row in enumerate(rows, start=start + 1):
        sheet.write_row(index, 0, row)
    book.close()
    return buffer.getvalue()
