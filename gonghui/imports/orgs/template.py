"""The organisation import template (组织架构导入模板.xlsx): the headings the import reads, text-formatted code and
date columns (so Excel keeps leading zeros and does not turn codes into numbers), a drop-down list of organisation
types, and a 说明 sheet."""

from gonghui.common.sheet_template import TemplateColumn, import_template_xlsx
from gonghui.imports.orgs.rows import MAX_ROWS
from gonghui.orgs.models import TYPE_LEVEL, OrgLevel, OrgType

TEMPLATE_COLUMNS = [
    TemplateColumn("组织名称", 36, None, "新建必填，不超过100字。更新已有组织时留空表示不修改。", required=True),
    TemplateColumn(
        "组织代码",
        18,
        None,
        "必填。2-32位大写字母、数字、“-”或“_”，以字母或数字开头，如 SZ-GS-T01-E001。"
        "平台中已有这个代码的组织时更新该组织，否则新建。",
        required=True,
    ),
    TemplateColumn(
        "组织类型", 22, OrgType.labels, "新建必填，请从下拉列表中选择。层级由组织类型决定，无需填写。", required=True
    ),
    TemplateColumn(
        "上级组织代码",
        18,
        None,
        "新建必填。填写平台中已有组织的代码，或本表中另一行的组织代码（上下行顺序不限）。"
        "更新已有组织时可留空；填写时须与现在的上级一致（调整隶属关系请使用“移动到新上级”）。",
        required=True,
    ),
    TemplateColumn("行政区划代码", 14, None, "新建必填。6位 GB/T 2260 代码，如 320508。", required=True),
    TemplateColumn("统一社会信用代码", 22, None, "选填。18位，不能与其他工会组织重复。"),
    TemplateColumn("成立日期", 12, None, "选填，格式 2024-05-01，不能晚于今天。"),
    TemplateColumn("任期届满日期", 14, None, "选填，格式 2029-05-01，应晚于成立日期。"),
    TemplateColumn("地址", 36, None, "选填，不超过200字。"),
    TemplateColumn("联系人", 10, None, "选填。"),
    TemplateColumn("联系电话", 16, None, "选填。11位手机号或带区号的固定电话，如 0512-65241234。"),
]
GUIDE = [
    ("用途", "按组织代码新建或更新本人管辖范围内的工会组织。上级工会干部和系统管理员可以导入。"),
    ("文件", "支持 .xlsx、.xls、.ods 和 .csv（UTF-8 或 GBK 编码）。表头上方可以有标题行，列的顺序不限。"),
    (
        "全部或不导入",
        "任何一行有错误时，整个文件都不导入；请按结果页各行的说明修改后重新上传。建议先勾选“仅预览”检查。",
    ),
    ("新建", "组织代码在平台中不存在时新建，须填写组织名称、组织类型、上级组织代码和行政区划代码。"),
    ("更新", "组织代码已存在时更新该组织：只修改填了内容且与现有资料不同的项目，空白单元格不会清除已有资料。"),
    ("不能做的", "导入不能调整隶属关系，也不能撤销或合并组织；请在“工会组织”中使用相应功能。"),
    ("导出后再导入", "从平台导出的组织名册可以修改后直接导入；“序号”“层级”“状态”“上级组织”列会被忽略。"),
    ("行数", f"每个文件不超过 {MAX_ROWS} 行。"),
]


def org_import_template_xlsx() -> bytes:
    types = [(label, f"层级：{OrgLevel(TYPE_LEVEL[value]).label}") for value, label in OrgType.choices]
    return import_template_xlsx(
        sheet_name="组织架构",
        title="XX总工会组织架构表（第1行为标题，可修改；第2行为表头，请勿修改）",
        columns=TEMPLATE_COLUMNS,
        guide_title="组织架构导入说明",
        guide=GUIDE,
        sections=[("组织类型与层级", types)],
        frozen_columns=2,
    )
