"""The roster import template (会员名册导入模板.xlsx): the standard headings, a text-formatted document number
column (so Excel keeps all 18 digits), drop-down lists for every choice column, and a 说明 sheet."""

from gonghui.common.sheet_template import TemplateColumn, import_template_xlsx
from gonghui.members.documents import DOC_TYPE_LABELS
from gonghui.members.models import ETHNICITIES, Education, EmploymentForm, HukouType, PoliticalStatus, SkillLevel

TEMPLATE_COLUMNS = [
    TemplateColumn("姓名", 10, None, "必填。与证件上的姓名一致，不含空格和数字。", required=True),
    TemplateColumn("证件类型", 16, list(DOC_TYPE_LABELS.values()), "选填，默认居民身份证。"),
    TemplateColumn(
        "证件号码", 22, None, "必填。本列已设为文本格式，请勿改为数字格式，否则 Excel 会把后几位变成 0。", required=True
    ),
    TemplateColumn("手机号码", 14, None, "选填。11位中国大陆手机号。"),
    TemplateColumn("性别", 6, ["男", "女"], "居民身份证可不填（按号码判断）；护照等不含性别的证件建议填写。"),
    TemplateColumn("出生日期", 12, None, "居民身份证可不填（按号码判断）；护照必填，格式 2024-05-01。"),
    TemplateColumn("民族", 10, ETHNICITIES, "选填。"),
    TemplateColumn("学历", 14, Education.labels, "选填。"),
    TemplateColumn("政治面貌", 12, PoliticalStatus.labels, "选填。"),
    TemplateColumn("户籍类型", 12, HukouType.labels, "选填。农业户口的职工计为农民工。"),
    TemplateColumn(
        "就业形态", 14, EmploymentForm.labels, "选填。快递员、外卖配送员、网约车驾驶员、货车司机等属于新就业形态。"
    ),
    TemplateColumn("工作单位", 30, None, "选填，不超过150字。"),
    TemplateColumn("岗位/职务", 12, None, "选填，不超过60字。"),
    TemplateColumn("技能等级", 10, SkillLevel.labels, "选填。"),
    TemplateColumn("劳动模范", 8, ["是", "否"], "选填。"),
    TemplateColumn("入会日期", 12, None, "选填，默认导入当天，格式 2024-05-01，不能晚于今天。"),
    TemplateColumn("备注", 30, None, "选填，不超过500字。"),
]
GUIDE = [
    ("文件", "支持 .xlsx、.xls、.ods 和 .csv（UTF-8 或 GBK 编码）。表头上方可以有标题行，列的顺序不限。"),
    ("必填", "姓名、证件号码。其余各列可以留空；“新增并更新”时空白单元格不会清除已有资料。"),
    ("重复", "同一证件号码在文件中出现多次时，只导入第一次出现的行，其余行在问题清单中列出。"),
    ("他会会员", "已是其他工会会员的人员不会被导入，可在导入结果页一键发起会员接转。"),
    ("导入方式", "预览：只检查不写入；仅新增：只登记新会员；新增并更新：同时更新本会已有会员的资料。"),
    ("问题清单", "导入完成后可下载“导入问题清单”，按“问题说明”修改后可直接重新上传。"),
]


def roster_template_xlsx() -> bytes:
    return import_template_xlsx(
        sheet_name="会员名册",
        title="XX工会会员信息登记表（第1行为标题，可修改；第2行为表头，请勿修改）",
        columns=TEMPLATE_COLUMNS,
        guide_title="会员名册导入说明",
        guide=GUIDE,
    )
