"""Django forms of the service centre's back-office pages, built from field declarations (`FormField`): a service
type's application and 办结 fields come from its rules in gonghui.casework.kinds, the other pages' fields are declared
here. The forms read the POST as typed and give it back to the page; the services check the values and word the
errors, which the form then shows next to their fields (a service's message is the one a cadre reads)."""

from django import forms
from django.forms.utils import ErrorDict
from django.utils import timezone

from gonghui.casework.kinds import KINDS, FormField
from gonghui.casework.models import AidForm, CareKind, HardshipCause, HardshipTier, PaymentMethod
from gonghui.common.errors import NotFound, ValidationFailed
from gonghui.orgs.selectors import org_get_by_code


class DeclaredField(forms.Field):
    """One value as typed ("" when absent), never checked here: the service checks it. Its declaration (kind,
    choices) tells _fields.html how to show it."""

    widget: type[forms.Widget] = forms.TextInput

    def __init__(self, spec: FormField, **kwargs):
        super().__init__(label=spec.label, required=spec.required, help_text=spec.help, **kwargs)
        self.kind = spec.kind
        self.choices = spec.choices

    def to_python(self, value):
        return "" if value is None else value

    def validate(self, value) -> None:
        """Nothing: a required field that is empty gets the service's own message."""

    def bound_data(self, data, initial):
        return initial if data is None else data


class DeclaredListField(DeclaredField):
    """A `multi` field: every ticked value, in the order sent."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        return list(value or [])


class DeclaredForm(forms.Form):
    """A form of declared fields. `show_errors` puts a refused service call's messages on the fields it names."""

    def __init__(self, specs: tuple[FormField, ...], data=None, *, initial: dict | None = None):
        super().__init__(data, initial=initial)
        for spec in specs:
            field_class = DeclaredListField if spec.kind == "multi" else DeclaredField
            self.fields[spec.name] = field_class(spec)

    def values(self) -> dict:
        """What was typed, field by field, for the service."""
        self.is_valid()
        return dict(self.cleaned_data)

    def show_errors(self, errors: dict[str, str]) -> "DeclaredForm":
        if self.is_bound:
            self.is_valid()
        self._errors = ErrorDict(
            {name: self.error_class([message]) for name, message in errors.items() if name in self.fields}
        )
        return self


def org_from_code(actor, code: str, *, field: str):
    """The organisation a cadre typed the code of, within their scope; else the form's error on `field`."""
    try:
        return org_get_by_code(actor=actor, code=code)
    except NotFound:
        raise ValidationFailed({field: "未找到该组织代码，或不在您的管辖范围内"}) from None


def application_form(kind: str, data=None) -> DeclaredForm:
    """代为录入: the type's application fields, as the cadre fills them in from the paper form."""
    return DeclaredForm(KINDS[kind].application_fields, data)


def close_form(kind: str, data=None) -> DeclaredForm:
    """办结: 办理结果 and the type's outcome fields."""
    return DeclaredForm(KINDS[kind].outcome_fields, data)


# ---------------------------------------------------------------- hardship files and grants

HOUSEHOLD_HELP = "每行一人：姓名 与职工关系 状况 年收入（元），以空格分隔，如：李芳 配偶 患病 0"

FILE_FIELDS = (
    FormField("tier", "困难类别", "select", tuple(HardshipTier.choices)),
    FormField("causes", "致困原因", "multi", tuple(HardshipCause.choices)),
    FormField("household_size", "家庭人口", "number"),
    FormField("household_income", "家庭年收入（元）", "money"),
    FormField("household_text", "家庭成员", "textarea", required=False, help=HOUSEHOLD_HELP),
)

AID_FIELDS = (
    FormField("form", "帮扶形式", "select", tuple(AidForm.choices)),
    FormField("amount", "金额/折价（元）", "money", required=False, help="服务类帮扶可不填"),
    FormField("description", "帮扶内容"),
)

PAY_FIELDS = (
    FormField("paid_method", "发放方式", "select", tuple(PaymentMethod.choices)),
    FormField("paid_amount", "实发金额（元）", "money", help="应与核定的帮扶金额一致"),
    FormField("paid_on", "发放日期", "date"),
    FormField("receiver", "领款人", help="现金发放时为领取人，银行转账时为收款账户户名"),
    FormField("signer", "签收人", help="在签收单上签名的人"),
    FormField("receipt_no", "收据编号", help="签收单或银行回单的编号"),
)


def file_form(data=None, *, initial: dict | None = None) -> DeclaredForm:
    return DeclaredForm(FILE_FIELDS, data, initial=initial)


def aid_form(data=None) -> DeclaredForm:
    return DeclaredForm(AID_FIELDS, data)


def pay_form(data=None, *, initial: dict | None = None) -> DeclaredForm:
    return DeclaredForm(PAY_FIELDS, data, initial={"paid_on": timezone.localdate().isoformat(), **(initial or {})})


# ---------------------------------------------------------------- mutual insurance plans and care campaigns

PLAN_FIELDS = (
    FormField("org_code", "主办工会代码", help="区（县）或市总工会的组织代码"),
    FormField("name", "计划名称"),
    FormField("year", "保障年度", "number"),
    FormField("starts_on", "保障期开始", "date"),
    FormField("ends_on", "保障期结束", "date"),
    FormField("premium", "每人互助金（元）", "money"),
    FormField("daily_allowance", "住院每日补助（元）", "money"),
    FormField("max_days", "每次最多补助天数", "number"),
    FormField("deductible", "医疗费起付线（元）", "money"),
    FormField("reimbursement_ratio", "医疗费补助比例（%）", "number"),
    FormField("claim_cap", "每次医疗费补助上限（元）", "money"),
    FormField("annual_cap", "每人年度补助上限（元）", "money"),
)

CAMPAIGN_FIELDS = (
    FormField("org_code", "组织单位代码"),
    FormField("kind", "慰问类型", "select", tuple(CareKind.choices)),
    FormField("name", "活动名称", help="如：2026年元旦春节送温暖"),
    FormField("starts_on", "开始日期", "date"),
    FormField("ends_on", "结束日期", "date"),
    FormField("budget", "预算（元）", "money"),
)


def plan_form(data=None, *, initial: dict | None = None) -> DeclaredForm:
    year = timezone.localdate().year
    defaults = {"name": "职工住院互助保障", "year": str(year), "starts_on": f"{year}-01-01", "ends_on": f"{year}-12-31"}
    return DeclaredForm(PLAN_FIELDS, data, initial={**defaults, **(initial or {})})


def campaign_form(data=None, *, initial: dict | None = None) -> DeclaredForm:
    defaults = {"starts_on": timezone.localdate().isoformat()}
    return DeclaredForm(CAMPAIGN_FIELDS, data, initial={**defaults, **(initial or {})})
