"""What the other service types keep: 法律援助 (LegalAidRecord), 职工互助保障 (plans, enrolments, claims, payouts),
金秋助学 (StudentGrant) and 慰问 (campaigns and visits)."""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from gonghui.casework.models.cases import (
    MONEY,
    ServiceCase,
)
from gonghui.common.ids import new_public_id
from gonghui.members.models import Membership, Person
from gonghui.orgs.models import Organisation

# ---------------------------------------------------------------- 法律援助


class DisputeCategory(models.TextChoices):
    WAGES = "wages", "劳动报酬"
    CONTRACT = "contract", "劳动合同"
    INJURY = "injury", "工伤"
    SOCIAL_INSURANCE = "social_insurance", "社保"
    OTHER = "other", "其他"


class LegalOutcome(models.TextChoices):
    MEDIATED = "mediated", "调解成功"
    ARBITRATION = "arbitration", "仲裁"
    LITIGATION = "litigation", "诉讼"
    WITHDRAWN = "withdrawn", "撤回"


class LegalAidRecord(models.Model):
    case = models.OneToOneField(ServiceCase, on_delete=models.PROTECT, related_name="legal", primary_key=True)
    category = models.CharField("争议类别", max_length=20, choices=DisputeCategory.choices)
    counterparty = models.CharField("对方单位", max_length=150, blank=True)
    lawyer = models.CharField("承办律师", max_length=50, blank=True)
    station = models.CharField("法律援助站", max_length=100, blank=True)
    outcome = models.CharField("结案方式", max_length=16, choices=LegalOutcome.choices, blank=True)
    amount_recovered = models.DecimalField("挽回经济损失（元）", null=True, blank=True, **MONEY)

    class Meta:
        verbose_name = "法律援助"
        verbose_name_plural = "法律援助"

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_category_display()}"


# ---------------------------------------------------------------- 职工互助保障


class InsurancePlan(models.Model):
    """A yearly mutual-insurance plan (互助保障计划) and its benefit rules (insurance.payout_for):

    payout = daily allowance × min(hospital days, max days)
           + min(max(eligible costs − deductible, 0) × reimbursement ratio, claim cap),
    never above what the member's annual cap still allows.
    """

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    org = models.ForeignKey(Organisation, verbose_name="主办工会", on_delete=models.PROTECT, related_name="plans")
    name = models.CharField("计划名称", max_length=100)
    year = models.PositiveSmallIntegerField("保障年度")
    starts_on = models.DateField("保障期开始")
    ends_on = models.DateField("保障期结束")
    premium = models.DecimalField("每人互助金（元）", **MONEY)
    daily_allowance = models.DecimalField("住院每日补助（元）", **MONEY)
    max_days = models.PositiveSmallIntegerField("每次最多补助天数")
    deductible = models.DecimalField("医疗费起付线（元）", **MONEY)
    reimbursement_ratio = models.DecimalField("医疗费补助比例", max_digits=4, decimal_places=3)
    claim_cap = models.DecimalField("每次医疗费补助上限（元）", **MONEY)
    annual_cap = models.DecimalField("每人年度补助上限（元）", **MONEY)
    enrolment_open = models.BooleanField("接受参保登记", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "互助保障计划"
        verbose_name_plural = "互助保障计划"
        constraints = [
            models.UniqueConstraint(fields=["org", "year", "name"], name="plan_unique_name_per_org_year"),
            models.CheckConstraint(
                condition=Q(reimbursement_ratio__gte=0, reimbursement_ratio__lte=1), name="plan_ratio_0_to_1"
            ),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="plan_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.name}"


class InsuranceEnrolment(models.Model):
    """A member enrolled in a plan for its year by their union."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    plan = models.ForeignKey(InsurancePlan, verbose_name="计划", on_delete=models.PROTECT, related_name="enrolments")
    person = models.ForeignKey(Person, verbose_name="参保会员", on_delete=models.PROTECT, related_name="enrolments")
    membership = models.ForeignKey(Membership, verbose_name="会籍", on_delete=models.PROTECT, related_name="+")
    org = models.ForeignKey(Organisation, verbose_name="参保工会", on_delete=models.PROTECT, related_name="+")
    premium = models.DecimalField("互助金（元）", **MONEY)
    enrolled_on = models.DateField("参保日期")
    enrolled_by = models.CharField("经办人", max_length=150)

    class Meta:
        verbose_name = "参保登记"
        verbose_name_plural = "参保登记"
        constraints = [models.UniqueConstraint(fields=["plan", "person"], name="enrolment_once_per_plan")]

    def __str__(self) -> str:
        return f"{self.person.name} · {self.plan}"


class InsuranceClaim(models.Model):
    case = models.OneToOneField(ServiceCase, on_delete=models.PROTECT, related_name="claim", primary_key=True)
    enrolment = models.ForeignKey(
        InsuranceEnrolment, verbose_name="参保记录", on_delete=models.PROTECT, related_name="claims"
    )
    hospital = models.CharField("就诊医院", max_length=100)
    admitted_on = models.DateField("入院日期")
    discharged_on = models.DateField("出院日期")
    hospital_days = models.PositiveSmallIntegerField("住院天数")
    total_cost = models.DecimalField("医疗总费用（元）", **MONEY)
    eligible_cost = models.DecimalField("政策范围内自付费用（元）", **MONEY)
    payout = models.DecimalField("核定补助金额（元）", null=True, blank=True, **MONEY)

    class Meta:
        verbose_name = "互助保障理赔"
        verbose_name_plural = "互助保障理赔"

    def __str__(self) -> str:
        return f"{self.case.number} 理赔"


class InsurancePayout(models.Model):
    claim = models.OneToOneField(InsuranceClaim, on_delete=models.PROTECT, related_name="paid", primary_key=True)
    amount = models.DecimalField("支付金额（元）", **MONEY)
    paid_on = models.DateField("支付日期")
    reference = models.CharField("支付凭证号", max_length=60)
    paid_by = models.CharField("经办人", max_length=150)

    class Meta:
        verbose_name = "理赔支付"
        verbose_name_plural = "理赔支付"

    def __str__(self) -> str:
        return f"{self.amount} 元"


# ---------------------------------------------------------------- 金秋助学


class StudentGrant(models.Model):
    """One 金秋助学 grant; a student (by document number) gets at most one per year."""

    case = models.OneToOneField(ServiceCase, on_delete=models.PROTECT, related_name="student_grant", primary_key=True)
    student_name = models.CharField("学生姓名", max_length=50)
    student_index = models.CharField("学生证件号码索引", max_length=64, editable=False)
    student_masked = models.CharField("学生证件号码", max_length=32)
    school = models.CharField("录取/就读学校", max_length=100)
    grade = models.CharField("年级", max_length=30)
    year = models.PositiveSmallIntegerField("资助年度")
    amount = models.DecimalField("资助金额（元）", **MONEY)
    granted_on = models.DateField("发放日期")

    class Meta:
        verbose_name = "金秋助学资助"
        verbose_name_plural = "金秋助学资助"
        constraints = [
            models.UniqueConstraint(fields=["student_index", "year"], name="student_one_grant_per_year"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="student_grant_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年 {self.student_name}"


# ---------------------------------------------------------------- 慰问


class CareKind(models.TextChoices):
    WARMTH = "warmth", "送温暖"
    COOLNESS = "coolness", "送清凉"
    FESTIVAL = "festival", "节日慰问"


class CareCampaign(models.Model):
    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    org = models.ForeignKey(Organisation, verbose_name="组织单位", on_delete=models.PROTECT, related_name="campaigns")
    kind = models.CharField("慰问类型", max_length=16, choices=CareKind.choices)
    name = models.CharField("活动名称", max_length=100)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    budget = models.DecimalField("预算（元）", **MONEY)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.CharField("创建人", max_length=150)

    class Meta:
        verbose_name = "慰问活动"
        verbose_name_plural = "慰问活动"
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="campaign_budget_not_negative"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_period_ordered"),
        ]

    def __str__(self) -> str:
        return self.name


class CareVisit(models.Model):
    """One visit of a campaign: to a person (a member in the registry) or to a group (a team, a site)."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    campaign = models.ForeignKey(CareCampaign, verbose_name="慰问活动", on_delete=models.PROTECT, related_name="visits")
    org = models.ForeignKey(Organisation, verbose_name="慰问工会", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        Person, verbose_name="慰问对象", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    group_name = models.CharField("慰问群体", max_length=100, blank=True)
    headcount = models.PositiveIntegerField("人数")
    money = models.DecimalField("慰问金（元）", default=Decimal("0"), **MONEY)
    goods = models.CharField("慰问品", max_length=200, blank=True)
    goods_value = models.DecimalField("慰问品折价（元）", default=Decimal("0"), **MONEY)
    visited_on = models.DateField("慰问日期")
    recorded_by = models.CharField("录入人", max_length=150)
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = "慰问记录"
        verbose_name_plural = "慰问记录"
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, headcount=1) | (Q(person__isnull=True) & ~Q(group_name="")),
                name="visit_person_or_group",
            ),
            models.CheckConstraint(condition=Q(money__gte=0, goods_value__gte=0), name="visit_amounts_not_negative"),
        ]

    def __str__(self) -> str:
        return self.group_name or str(self.person)
