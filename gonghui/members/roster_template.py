"""The roster import template (会员名册导入模板.xlsx): the standard headings, a text-formatted document number
column (so Excel keeps all 18 digits), drop-down lists for every choice column, and a 说明 sheet."""

import io

import xlsxwriter

from gonghui.members.documents import DOC_TYPE_LABELS
from gonghui.members.models import ETHNICITIES, Education, EmploymentForm, HukouType, PoliticalStatus, SkillLevel

TEMPLATE_COLUMNS = [
    # heading, width, drop-down values (None: free text), note for the 说明 sheet
    ("姓名", 10, None, "必填。与证件上的姓名一致，不含空格和数字。"),
    ("证件类型", 16, list(DOC_TYPE_LABELS.values()), "选填，默认居民身份证。"),
    ("证件号码", 22, None, "必填。本列已设为文本格式，请勿改为数字格式，否则 Excel 会把后几位变成 0。"),
    ("手机号码", 14, None, "选填。11位中国大陆手机号。"),
    ("性别", 6, ["男", "女"], "居民身份证可不填（按号码判断）；护照必填。"),
    ("出生日期", 12, None, "居民身份证可不填（按号码判断）；护照必填，格式 2024-05-01。"),
    ("民族", 10, ETHNICITIES, "选填。"),
    ("学历", 14, Education.labels, "选填。"),
    ("政治面貌", 12, PoliticalStatus.labels, "选填。"),
    ("户籍类型", 12, HukouType.labels, "选填。农业户口的职工计为农民工。"),
    ("就业形态", 14, EmploymentForm.labels, "选填。快递员、外卖配送员、网约车驾驶员、货车司机等属于新就业形态。"),
    ("工作单位", 30, None, "选填，不超过150字。"),
    ("岗位/职务", 12, None, "选填，不超过60字。"),
    ("技能等级", 10, SkillLevel.labels, "选填。"),
    ("劳动模范", 8, ["是", "否"], "选填。"),
    ("入会日期", 12, None, "选填，默认导入当天，格式 2024-05-01，不能晚于今天。"),
    ("备注", 30, None, "选填，不超过500字。"),
]
TEMPLATE_ROWS = 5000  # rows prepared with formats and drop-downs


def roster_template_xlsx() -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("会员名册")
    lists = book.add_worksheet("选项")
    guide = book.add_worksheet("说明")
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#E8EEF7", "align": "center"})
    required = book.add_format({"bold": True, "border": 1, "bg_color": "#FDECEC", "align": "center"})
    text = book.add_format({"num_format": "@"})
    sheet.write(0, 0, "XX工会会员信息登记表（第1行为标题，可修改；第2行为表头，请勿修改）", title)
    for col, (heading, width, choices, _note) in enumerate(TEMPLATE_COLUMNS):
        sheet.write(1, col, heading, required if heading in ("姓名", "证件号码") else head)
        sheet.set_column(col, col, width, text)
        if choices:
            lists.write_column(0, col, choices)
            letter = xlsxwriter.utility.xl_col_to_name(col)
            ref = f"=选项!${letter}$1:${letter}${len(choices)}"
            sheet.data_validation(
                2, col, TEMPLATE_ROWS, col,
                {"validate": "list", "source": ref, "error_title": "取值不正确", "error_message": "请从下拉列表中选择"},
            )  # fmt: skip
    sheet.freeze_panes(2, 1)
    lists.hide()
    guide.set_column(0, 0, 14)
    guide.set_column(1, 1, 90)
    guide.write(0, 0, "会员名册导入说明", title)
    lines = [
        ("文件", "支持 .xlsx、.xls、.ods 和 .csv（UTF-8 或 GBK 编码）。表头上方可以有标题行，列的顺序不限。"),
        ("必填", "姓名、证件号码。其余各列可以留空；“新增并更新”时空白单元格不会清除已有资料。"),
        ("重复", "同一证件号码在文件中出现多次时，只导入第一次出现的行，其余行在问题清单中列出。"),
        ("他会会员", "已是其他工会会员的人员不会被导入，可在导入结果页一键发起会员接转。"),
        ("导入方式", "预览：只检查不写入；仅新增：只登记新会员；新增并更新：同时更新本会已有会员的资料。"),
        ("问题清单", "导入完成后可下载“导入问题清单”，按“问题说明”修改后可直接重新上传。"),
    ]
    for row, (label, note) in enumerate(lines, start=2):
        guide.write(row, 0, label)
        guide.write(row, 1, note)
    start = len(lines) + 3
    guide.write(start, 0, "各列填写要求", title)
    for offset, (heading, _width, _choices, note) in enumerate(TEMPLATE_COLUMNS, start=1):
        guide.write(start + offset, 0, heading)
        guide.write(start + offset, 1, note)
    book.close()
    return buffer.getvalue()
