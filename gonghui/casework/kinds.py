"""What each service type adds to the common workflow, declared once: its deadlines, which consents it needs, how its
application is checked, and the fields a cadre fills in to apply and to close it and the lines a case's page shows.
The back office builds its forms and its case page from these declarations; adding a service type means a `CaseKind`
value, one `KindRules` entry here and, when closing it records more than the result, a closing step in services
(docs/casework.md walks through it)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, overload

from gonghui.casework.models import (
    AidForm,
    CaseKind,
    CaseStatus,
    DisputeCategory,
    HardshipCause,
    HardshipTier,
    LegalOutcome,
)
from gonghui.common.errors import ValidationFailed

# Routing: hardship aid is handled by the applicant's own union unless the amount asked for reaches this sum, when
# it goes to the county-level federation above; legal aid always goes to the county-level federation (its 职工法律
# 援助站); a mutual-insurance claim goes to the union that runs the plan; student aid stays with the own union.
HARDSHIP_HIGHER_LEVEL_AMOUNT = Decimal("5000")
MAX_AMOUNT = Decimal("1000000")
SUMMARY_MAX = 1000
HEALTH_CAUSES = frozenset({HardshipCause.ILLNESS, HardshipCause.DISABILITY})

# 上级审批 of hardship filings and grants: working days the parent union has to decide (the case's own step for an
# application, the request's deadline for a file or a grant outside one).
APPROVAL_WORKING_DAYS = 5
# The standard a fresh installation starts from (tier: 建档需上级审批, 单笔帮扶审批限额); the city federation keeps its
# own in the HardshipAidRule table (loaded with these by a data migration), and a tier without a row uses these.
HARDSHIP_APPROVAL_DEFAULTS: dict[str, tuple[bool, Decimal]] = {
    HardshipTier.DEEP: (True, Decimal("2000.00")),
    HardshipTier.RELATIVE: (False, Decimal("2000.00")),
    HardshipTier.ACCIDENTAL: (False, Decimal("3000.00")),
}


@dataclass(frozen=True)
class FormField:
    """One field a cadre fills in, as the form shows it (the service checks the value and words the error)."""

    name: str
    label: str
    kind: str = "text"  # text, textarea, number, money, date, select, multi, checkbox
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True
    help: str = ""


@dataclass(frozen=True)
class DetailRow:
    """One line of a case's page: its label and how it reads the application's details."""

    label: str
    text: Callable[[dict], str]


# The fields every service type shares: 申请事由 to apply, 办理结果 to close.
SUMMARY_FIELD = FormField("summary", "申请事由", "textarea", help="申请人陈述的困难或诉求")
RESULT_FIELD = FormField("result", "办理结果", "textarea", help="申请人将看到这段说明")


@dataclass(frozen=True)
class KindRules:
    kind: str
    label: str
    description: str  # one line a worker reads before applying
    needs_financial_consent: bool
    needs_health_consent: Callable[[dict], bool]
    clean: Callable[[Mapping[str, Any]], dict]
    # The type's own application fields (after 申请事由), its 办结 fields (after 办理结果), its lines on the case page.
    fields: tuple[FormField, ...] = ()
    close_fields: tuple[FormField, ...] = ()
    details: tuple[DetailRow, ...] = ()
    # Working days allowed in each open step (受理 after 申请, 开始办理 after 受理, 办结 after 开始办理, 上级审批).
    working_days: dict[str, int] | None = None

    @property
    def application_fields(self) -> tuple[FormField, ...]:
        return (SUMMARY_FIELD, *self.fields)

    @property
    def value_field_names(self) -> tuple[str, ...]:
        """The application fields that hold one value each (a `multi` field is read as a list)."""
        return tuple(f.name for f in self.application_fields if f.kind != "multi")

    @property
    def outcome_fields(self) -> tuple[FormField, ...]:
        return (RESULT_FIELD, *self.close_fields)

    def detail_rows(self, details: dict) -> list[tuple[str, str]]:
        return [(row.label, row.text(details)) for row in self.details]


# ---------------------------------------------------------------- field cleaners (plain Chinese messages)


def clean_text(data: Mapping[str, Any], field: str, label: str, *, required: bool = True, max_length: int = 100) -> str:
    text = str(data.get(field) or "").strip()
    if required and not text:
        raise ValidationFailed({field: f"请填写{label}"})
    if len(text) > max_length:
        raise ValidationFailed({field: f"{label}不能超过{max_length}个字"})
    return text


@overload
def clean_money(
    data: Mapping[str, Any], field: str, label: str, *, required: Literal[True] = True, positive: bool = False
) -> Decimal: ...


@overload
def clean_money(
    data: Mapping[str, Any], field: str, label: str, *, required: bool, positive: bool = False
) -> Decimal | None: ...


def clean_money(
    data: Mapping[str, Any], field: str, label: str, *, required: bool = True, positive: bool = False
) -> Decimal | None:
    """A sum of money in yuan, to the fen; None only when the field may be left empty."""
    raw = data.get(field)
    if raw is None or str(raw).strip() == "":
        if required:
            raise ValidationFailed({field: f"请填写{label}"})
        return None
    text = str(raw).strip().replace(",", "").replace("，", "").removesuffix("元")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed({field: f"{label}应为金额，如 1200 或 1200.50"}) from None
    if not value.is_finite() or value < 0 or (positive and value == 0):
        raise ValidationFailed({field: f"{label}应大于零" if positive else f"{label}不能为负数"})
    if value > MAX_AMOUNT:  # before rounding: a huge number cannot be rounded to the fen
        raise ValidationFailed({field: f"{label}不能超过 {MAX_AMOUNT:,.0f} 元"})
    if value != value.quantize(Decimal("0.01")):
        raise ValidationFailed({field: f"{label}最多保留两位小数（精确到分）"})
    return value.quantize(Decimal("0.01"))


def clean_int(data: Mapping[str, Any], field: str, label: str, *, low: int, high: int) -> int:
    raw = str(data.get(field) or "").strip()
    if not raw:
        raise ValidationFailed({field: f"请填写{label}"})
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed({field: f"{label}应为整数"}) from None
    if not low <= value <= high:
        raise ValidationFailed({field: f"{label}应在 {low} 到 {high} 之间"})
    return value


def clean_date(data: Mapping[str, Any], field: str, label: str) -> date:
    raw = data.get(field)
    if isinstance(raw, date):
        return raw
    text = str(raw or "").strip()
    if not text:
        raise ValidationFailed({field: f"请填写{label}"})
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({field: f"{label}格式应为 YYYY-MM-DD"}) from None


def clean_choice(data: Mapping[str, Any], field: str, label: str, choices) -> str:
    value = str(data.get(field) or "").strip()
    if value not in {c.value for c in choices}:
        raise ValidationFailed({field: f"请选择{label}"})
    return value


# ---------------------------------------------------------------- per type


def _clean_hardship(data: Mapping[str, Any]) -> dict:
    causes = data.get("causes") or []
    if isinstance(causes, str):
        causes = [causes]
    allowed = {c.value for c in HardshipCause}
    causes = [c for c in dict.fromkeys(str(c) for c in causes) if c]
    if not causes:
        raise ValidationFailed({"causes": "请选择至少一项致困原因"})
    if any(c not in allowed for c in causes):
        raise ValidationFailed({"causes": "致困原因不在可选范围内"})
    return {
        "causes": causes,
        "household_size": clean_int(data, "household_size", "家庭人口", low=1, high=20),
        "household_income": str(clean_money(data, "household_income", "家庭年收入")),
    }


def _clean_legal(data: Mapping[str, Any]) -> dict:
    return {
        "category": clean_choice(data, "category", "争议类别", DisputeCategory),
        "counterparty": clean_text(data, "counterparty", "对方单位名称", max_length=150),
    }


def _clean_insurance(data: Mapping[str, Any]) -> dict:
    admitted = clean_date(data, "admitted_on", "入院日期")
    discharged = clean_date(data, "discharged_on", "出院日期")
    if discharged < admitted:
        raise ValidationFailed({"discharged_on": "出院日期不能早于入院日期"})
    total = clean_money(data, "total_cost", "医疗总费用", positive=True)
    eligible = clean_money(data, "eligible_cost", "政策范围内自付费用")
    if eligible > total:
        raise ValidationFailed({"eligible_cost": "政策范围内自付费用不能超过医疗总费用"})
    return {
        "enrolment": clean_text(data, "enrolment", "参保计划", max_length=40),
        "hospital": clean_text(data, "hospital", "就诊医院"),
        "admitted_on": admitted.isoformat(),
        "discharged_on": discharged.isoformat(),
        "hospital_days": max(1, (discharged - admitted).days),
        "total_cost": str(total),
        "eligible_cost": str(eligible),
    }


def _clean_student(data: Mapping[str, Any]) -> dict:
    relation = clean_choice_text(data, "relation", "与学生关系", ("本人", "子女"))
    return {
        "student_name": clean_text(data, "student_name", "学生姓名", max_length=50),
        "relation": relation,
        "school": clean_text(data, "school", "录取/就读学校"),
        "grade": clean_text(data, "grade", "年级", max_length=30),
    }


def clean_choice_text(data: Mapping[str, Any], field: str, label: str, options: tuple[str, ...]) -> str:
    value = str(data.get(field) or "").strip()
    if value not in options:
        raise ValidationFailed({field: f"请选择{label}"})
    return value


def _choices(choices) -> tuple[tuple[str, str], ...]:
    return tuple((str(value), str(label)) for value, label in choices)


def _joined_causes(details: dict) -> str:
    labels = dict(HardshipCause.choices)
    return "、".join(labels.get(c, c) for c in details.get("causes", []))


KINDS: dict[str, KindRules] = {
    CaseKind.HARDSHIP: KindRules(
        kind=CaseKind.HARDSHIP,
        label="困难帮扶",
        description="因病、因残、因灾、因学、失业等原因家庭生活困难的会员，可申请困难帮扶并建立困难职工档案。",
        needs_financial_consent=True,
        needs_health_consent=lambda details: bool(HEALTH_CAUSES.intersection(details.get("causes", []))),
        clean=_clean_hardship,
        fields=(
            FormField("causes", "致困原因", "multi", _choices(HardshipCause.choices)),
            FormField("household_size", "家庭人口", "number"),
            FormField("household_income", "家庭年收入（元）", "money"),
            FormField(
                "amount_requested",
                "申请金额（元）",
                "money",
                required=False,
                help="5000 元及以上转区（县）总工会承办",
            ),
        ),
        close_fields=(
            FormField("granted", "给予帮扶", "checkbox", required=False, help="不勾选表示经核查不予帮扶"),
            FormField("tier", "困难类别（首次建档时填写）", "select", _choices(HardshipTier.choices), required=False),
            FormField("aid_form", "帮扶形式", "select", _choices(AidForm.choices), required=False),
            FormField("amount", "金额/物资折价（元）", "money", required=False),
            FormField("aid_description", "帮扶内容", required=False),
        ),
        details=(
            DetailRow("致困原因", _joined_causes),
            DetailRow("家庭人口", lambda d: f"{d.get('household_size', '')} 人"),
            DetailRow("家庭年收入", lambda d: f"{d.get('household_income', '')} 元"),
        ),
        working_days={
            CaseStatus.SUBMITTED: 5,
            CaseStatus.ACCEPTED: 3,
            CaseStatus.IN_PROGRESS: 15,
            CaseStatus.PENDING_APPROVAL: 5,
        },
    ),
    CaseKind.LEGAL: KindRules(
        kind=CaseKind.LEGAL,
        label="法律援助",
        description="拖欠工资、劳动合同、工伤、社保等劳动争议，由区（县）总工会职工法律援助站提供免费咨询、调解和代理。",
        needs_financial_consent=False,
        needs_health_consent=lambda details: details.get("category") == DisputeCategory.INJURY,
        clean=_clean_legal,
        fields=(
            FormField("category", "争议类别", "select", _choices(DisputeCategory.choices)),
            FormField("counterparty", "对方单位"),
            FormField("amount_requested", "涉及金额（元）", "money", required=False),
        ),
        close_fields=(
            FormField("outcome", "结案方式", "select", _choices(LegalOutcome.choices)),
            FormField("amount_recovered", "挽回经济损失（元）", "money", required=False),
        ),
        details=(
            DetailRow("争议类别", lambda d: dict(DisputeCategory.choices).get(d.get("category", ""), "")),
            DetailRow("对方单位", lambda d: d.get("counterparty", "")),
        ),
        working_days={CaseStatus.SUBMITTED: 3, CaseStatus.ACCEPTED: 2, CaseStatus.IN_PROGRESS: 30},
    ),
    CaseKind.INSURANCE: KindRules(
        kind=CaseKind.INSURANCE,
        label="互助保障",
        description="已参加职工互助保障的会员住院后，凭出院小结和费用清单申请补助，按计划规则核定金额。",
        needs_financial_consent=False,
        needs_health_consent=lambda details: True,
        clean=_clean_insurance,
        fields=(
            FormField("enrolment", "参保记录编号", help="在“参保登记”中查看会员的参保记录编号"),
            FormField("hospital", "就诊医院"),
            FormField("admitted_on", "入院日期", "date"),
            FormField("discharged_on", "出院日期", "date"),
            FormField("total_cost", "医疗总费用（元）", "money"),
            FormField("eligible_cost", "政策范围内自付费用（元）", "money"),
        ),
        close_fields=(
            FormField("payable", "核定支付", "checkbox", required=False, help="按计划规则计算补助金额"),
            FormField("reference", "支付凭证号", required=False),
        ),
        details=(
            DetailRow("就诊医院", lambda d: d.get("hospital", "")),
            DetailRow(
                "住院", lambda d: f"{d.get('admitted_on')} 至 {d.get('discharged_on')}，{d.get('hospital_days')} 天"
            ),
            DetailRow("医疗总费用", lambda d: f"{d.get('total_cost')} 元"),
            DetailRow("政策范围内自付", lambda d: f"{d.get('eligible_cost')} 元"),
        ),
        working_days={CaseStatus.SUBMITTED: 5, CaseStatus.ACCEPTED: 2, CaseStatus.IN_PROGRESS: 10},
    ),
    CaseKind.STUDENT: KindRules(
        kind=CaseKind.STUDENT,
        label="金秋助学",
        description="家庭困难会员本人或子女考入大学、中职的，可申请金秋助学金，每名学生每年限资助一次。",
        needs_financial_consent=True,
        needs_health_consent=lambda details: False,
        clean=_clean_student,
        fields=(
            FormField("student_name", "学生姓名"),
            FormField("student_doc_number", "学生身份证号码"),
            FormField("relation", "与学生关系", "select", (("本人", "本人"), ("子女", "子女"))),
            FormField("school", "录取/就读学校"),
            FormField("grade", "年级", help="如：本科一年级、高职一年级"),
            FormField("amount_requested", "申请金额（元）", "money", required=False),
        ),
        close_fields=(
            FormField("granted", "给予资助", "checkbox", required=False),
            FormField("amount", "资助金额（元）", "money", required=False),
        ),
        details=(
            DetailRow("学生", lambda d: f"{d.get('student_name', '')}（{d.get('relation', '')}）"),
            DetailRow("学生身份证号码", lambda d: d.get("student_masked", "")),
            DetailRow("学校与年级", lambda d: f"{d.get('school', '')} {d.get('grade', '')}"),
        ),
        working_days={CaseStatus.SUBMITTED: 5, CaseStatus.ACCEPTED: 3, CaseStatus.IN_PROGRESS: 15},
    ),
}

# Working days allowed in each open step of each type, as declared above.
STEP_WORKING_DAYS: dict[str, dict[str, int]] = {kind: dict(rules.working_days or {}) for kind, rules in KINDS.items()}


def kind_rules(kind: str) -> KindRules:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValidationFailed({"kind": "请选择服务类型"}) from None


def step_working_days(kind: str, status: str) -> int:
    return STEP_WORKING_DAYS[kind][status]


def clean_application(kind: str, data: Mapping[str, Any]) -> tuple[str, dict, Decimal | None]:
    """The summary, the type's own details and the amount asked for, or ValidationFailed naming the field."""
    rules = kind_rules(kind)
    summary = clean_text(data, "summary", "申请事由", max_length=SUMMARY_MAX)
    details = rules.clean(data)
    amount = clean_money(data, "amount_requested", "申请金额", required=False)
    return summary, details, amount
