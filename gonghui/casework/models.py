"""The service centre (职工服务): one closed-loop workflow for the services a union gives its members, and the
records each service keeps.

A `ServiceCase` is one request: 申请 → 受理 (or 不予受理) → 办理 → 办结 → 评价, with working-day deadlines per
step, escalation when overdue, attachments, consent and a callback sample. What each type adds lives beside it:
困难职工档案 (HardshipFile, its household members and the aid granted), 法律援助 (LegalAidRecord), 职工互助保障
(InsurancePlan, InsuranceEnrolment, InsuranceClaim, InsurancePayout), 金秋助学 (StudentGrant) and 慰问
(CareCampaign, CareVisit). Amounts are Decimal 元 with two places.
"""

from decimal import Decimal
from typing import TypedDict

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from gonghui.common.ids import new_public_id
from gonghui.members.models import MemberAccount, Membership, Person
from gonghui.orgs.models import Organisation


class _Money(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _Money = {"max_digits": 12, "decimal_places": 2}  # every amount in 元: up to 9,999,999,999.99


class CaseKind(models.TextChoices):
    HARDSHIP = "hardship", "困难帮扶"
    LEGAL = "legal", "法律援助"
    INSURANCE = "insurance", "互助保障"
    STUDENT = "student", "金秋助学"


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", "待受理"
    ACCEPTED = "accepted", "已受理"
    REJECTED = "rejected", "不予受理"
    IN_PROGRESS = "in_progress", "办理中"
    PENDING_APPROVAL = "approval", "待上级审批"
    CLOSED = "closed", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"


# 待上级审批 is open: a hardship case whose aid needs the parent union's approval waits there before 办结.
OPEN_CASE_STATUSES = (
    CaseStatus.SUBMITTED,
    CaseStatus.ACCEPTED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.PENDING_APPROVAL,
)


class CaseSource(models.TextChoices):
    ONLINE = "online", "会员线上申请"
    CADRE = "cadre", "干部代为录入"


class CallbackStatus(models.TextChoices):
    NONE = "", "未抽中"
    PENDING = "pending", "待回访"
    DONE = "done", "已回访"


class CallbackResult(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASICALLY = "basically", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"
    UNREACHABLE = "unreachable", "无法联系"


class CaseSerial(models.Model):
    """The last case number issued per year; locked while a number is drawn."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class ServiceCase(models.Model):
    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    number = models.CharField("受理编号", max_length=20, unique=True)
    kind = models.CharField("服务类型", max_length=16, choices=CaseKind.choices)
    person = models.ForeignKey(Person, verbose_name="申请人", on_delete=models.PROTECT, related_name="service_cases")
    account = models.ForeignKey(
        MemberAccount, verbose_name="会员端账号", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField("来源", max_length=16, choices=CaseSource.choices)
    home_org = models.ForeignKey(
        Organisation, verbose_name="申请人所在工会", on_delete=models.PROTECT, related_name="service_cases_of_members"
    )
    org = models.ForeignKey(
        Organisation, verbose_name="承办工会", on_delete=models.PROTECT, related_name="service_cases_handled"
    )
    status = models.CharField("状态", max_length=16, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED)
    summary = models.CharField("申请事由", max_length=1000)
    details = models.JSONField("申请内容", default=dict, blank=True)
    amount_requested = models.DecimalField("申请金额（元）", null=True, blank=True, **MONEY)
    amount_granted = models.DecimalField("发放金额（元）", null=True, blank=True, **MONEY)
    consent_health_at = models.DateTimeField("同意处理健康信息时间", null=True, blank=True)
    consent_financial_at = models.DateTimeField("同意处理家庭经济信息时间", null=True, blank=True)
    consent_by = models.CharField("同意记录方式", max_length=150, blank=True)
    returned_to_hardship = models.BooleanField("返困", default=False)
    submitted_at = models.DateTimeField("申请时间", auto_now_add=True)
    submitted_by = models.CharField("提交人", max_length=150)
    step_started_on = models.DateField("当前环节开始日期")
    due_on = models.DateField("当前环节期限")
    was_overdue = models.BooleanField("曾超期", default=False)
    escalated_at = models.DateTimeField("超期上报时间", null=True, blank=True)
    escalated_to = models.ForeignKey(
        Organisation, verbose_name="上报至", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    started_at = models.DateTimeField("开始办理时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结/终止时间", null=True, blank=True)
    handled_by = models.CharField("最近经办人", max_length=150, blank=True)
    rejection_reason = models.CharField("不予受理理由", max_length=500, blank=True)
    result = models.CharField("办理结果", max_length=1000, blank=True)
    rating = models.PositiveSmallIntegerField(
        "评价", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.CharField("评价意见", max_length=500, blank=True)
    rated_at = models.DateTimeField("评价时间", null=True, blank=True)
    callback_status = models.CharField(
        "回访", max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.NONE, blank=True
    )
    callback_drawn_at = models.DateTimeField("抽取回访时间", null=True, blank=True)
    callback_result = models.CharField("回访结果", max_length=16, choices=CallbackResult.choices, blank=True)
    callback_note = models.CharField("回访记录", max_length=500, blank=True)
    callback_at = models.DateTimeField("回访时间", null=True, blank=True)
    callback_by = models.CharField("回访人", max_length=150, blank=True)

    class Meta:
        verbose_name = "服务申请"
        verbose_name_plural = "服务申请"
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="case_rating_1_to_5"
            ),
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(status="closed"), name="case_rated_closed"),
            models.CheckConstraint(
                condition=Q(amount_requested__isnull=True) | Q(amount_requested__gte=0),
                name="case_amount_requested_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount_granted__isnull=True) | Q(amount_granted__gte=0),
                name="case_amount_granted_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["org", "status"], name="case_org_status_idx"),
            models.Index(fields=["status", "due_on"], name="case_status_due_idx"),
            models.Index(fields=["kind", "submitted_at"], name="case_kind_submitted_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES


class CaseEvent(models.Model):
    """The case's own timeline: every step with who and when, as the member and the cadre read it."""

    case = models.ForeignKey(ServiceCase, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=24)
    label = models.CharField(max_length=40)
    by = models.CharField(max_length=150)
    note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case.number} {self.label}"


class CaseAttachment(models.Model):
    """Offline evidence (证明材料): a scan or photo, type and size checked, kept in Django storage."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    case = models.ForeignKey(ServiceCase, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to="casework/%Y/%m/")
    name = models.CharField("文件名", max_length=150)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    uploaded_by = models.CharField("上传人", max_length=150)

    class Meta:
        verbose_name = "证明材料"
        verbose_name_plural = "证明材料"
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- 困难帮扶 / 困难职工档案


class HardshipCause(models.TextChoices):
    ILLNESS = "illness", "因病"
    DISABILITY = "disability", "因残"
    DISASTER = "disaster", "因灾"
    SCHOOLING = "schooling", "因学"
    UNEMPLOYMENT = "unemployment", "失业"
    OTHER = "other", "其他"


class HardshipTier(models.TextChoices):
    DEEP = "deep", "深度困难"
    RELATIVE = "relative", "相对困难"
    ACCIDENTAL = "accidental", "意外致困"


class HardshipFileStatus(models.TextChoices):
    PENDING = "pending", "待上级审批"
    REFUSED = "refused", "未获批准"
    ACTIVE = "active", "在档"
    TRANSITION = "transition", "脱困过渡期"
    EXITED = "exited", "已解困脱困"


OPEN_FILE_STATUSES = (HardshipFileStatus.ACTIVE, HardshipFileStatus.TRANSITION)


class HardshipFile(models.Model):
    """困难职工档案: one household's file. A person holds at most one open file; an exited file stays as history,
    and a new file for someone who had exited is flagged 返困."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    person = models.ForeignKey(Person, verbose_name="困难职工", on_delete=models.PROTECT, related_name="hardship_files")
    org = models.ForeignKey(
        Organisation, verbose_name="建档工会", on_delete=models.PROTECT, related_name="hardship_files"
    )
    status = models.CharField("档案状态", max_length=16, choices=HardshipFileStatus.choices)
    tier = models.CharField("困难类别", max_length=16, choices=HardshipTier.choices)
    causes = models.JSONField("致困原因", default=list)
    household_size = models.PositiveSmallIntegerField("家庭人口")
    household_income = models.DecimalField("家庭年收入（元）", **MONEY)
    income_per_head = models.DecimalField("家庭人均月收入（元）", **MONEY)
    established_on = models.DateField("建档日期")
    verified_on = models.DateField("最近核查日期")
    next_verification_on = models.DateField("下次核查期限")
    returned = models.BooleanField("返困", default=False)
    previous = models.ForeignKey(
        "self", verbose_name="此前档案", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exited_on = models.DateField("解困脱困日期", null=True, blank=True)
    transition_until = models.DateField("过渡期截止", null=True, blank=True)
    exit_reason = models.CharField("脱困说明", max_length=500, blank=True)
    case = models.ForeignKey(
        ServiceCase, verbose_name="建档申请", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "困难职工档案"
        verbose_name_plural = "困难职工档案"
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["pending", "active", "transition"]),
                name="hardship_one_open_file_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person.name} 的困难职工档案"


class HouseholdMember(models.Model):
    file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="household")
    name = models.CharField("姓名", max_length=50)
    relation = models.CharField("与职工关系", max_length=20)
    situation = models.CharField("状况", max_length=60, blank=True, help_text="如：在职、在读、患病、残疾、失业")
    annual_income = models.DecimalField("年收入（元）", default=Decimal("0"), **MONEY)

    class Meta:
        verbose_name = "家庭成员"
        verbose_name_plural = "家庭成员"

    def __str__(self) -> str:
        return f"{self.relation} {self.name}"


class AidForm(models.TextChoices):
    MONEY = "money", "资金"
    GOODS = "goods", "物资"
    SERVICE = "service", "服务"


class AidApproval(models.TextChoices):
    NOT_NEEDED = "", "无需审批"
    PENDING = "pending", "待上级审批"
    APPROVED = "approved", "上级已批准"
    REFUSED = "refused", "上级未批准"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "现金"
    BANK = "bank", "银行转账"


class HardshipAid(models.Model):
    """Aid granted to a filed household: money, goods (valued) or a service."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    file = models.ForeignKey(HardshipFile, verbose_name="档案", on_delete=models.PROTECT, related_name="aid")
    case = models.ForeignKey(
        ServiceCase, verbose_name="服务申请", null=True, blank=True, on_delete=models.PROTECT, related_name="aid"
    )
    form = models.CharField("帮扶形式", max_length=10, choices=AidForm.choices)
    amount = models.DecimalField("金额/折价（元）", **MONEY)
    description = models.CharField("内容", max_length=300)
    granted_on = models.DateField("发放日期")
    granted_by = models.CharField("经办人", max_length=150)
    in_transition = models.BooleanField("过渡期内帮扶", default=False)
    approval = models.CharField("上级审批", max_length=10, choices=AidApproval.choices, blank=True, default="")
    # 发放签收: a grant in money is paid once, exactly the approved amount, with who received and signed for it.
    paid_on = models.DateField("发放日期", null=True, blank=True)
    paid_method = models.CharField("发放方式", max_length=10, choices=PaymentMethod.choices, blank=True)
    paid_amount = models.DecimalField("实发金额（元）", null=True, blank=True, **MONEY)
    receiver = models.CharField("领款人", max_length=50, blank=True)
    signer = models.CharField("签收人", max_length=50, blank=True)
    receipt_no = models.CharField("收据编号", max_length=40, blank=True)
    paid_recorded_by = models.CharField("发放经办人", max_length=150, blank=True)
    paid_recorded_at = models.DateTimeField("签收登记时间", null=True, blank=True)

    class Meta:
        verbose_name = "帮扶记录"
        verbose_name_plural = "帮扶记录"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="hardship_aid_not_negative"),
            # Unpaid: no payment field at all; paid: every field of the receipt.
            models.CheckConstraint(
                condition=Q(
                    paid_on__isnull=True,
                    paid_amount__isnull=True,
                    paid_method="",
                    receiver="",
                    signer="",
                    receipt_no="",
                    paid_recorded_at__isnull=True,
                )
                | (
                    Q(paid_on__isnull=False, paid_amount__isnull=False, paid_recorded_at__isnull=False)
                    & ~Q(paid_method="")
                    & ~Q(receiver="")
                    & ~Q(signer="")
                    & ~Q(receipt_no="")
                ),
                name="hardship_aid_receipt_complete",
            ),
            # Only money is paid, only when no approval was needed or it was given, and exactly the amount granted.
            models.CheckConstraint(
                condition=Q(paid_on__isnull=True)
                | Q(form="money", approval__in=["", "approved"], paid_amount=models.F("amount")),
                name="hardship_aid_paid_as_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_form_display()} {self.amount} 元"


class HardshipAidRule(models.Model):
    """困难帮扶审批标准, one row per 困难类别, set by the city federation and changed yearly: whether 建档 at this level
    needs the parent union's approval, and the single-grant amount above which a grant needs it."""

    tier = models.CharField("困难类别", max_length=16, choices=HardshipTier.choices, unique=True)
    file_needs_approval = models.BooleanField("建档需上级审批", default=False)
    grant_limit = models.DecimalField("单笔帮扶审批限额（元）", help_text="单笔帮扶金额超过此数需上级工会审批", **MONEY)
    updated_at = models.DateTimeField("修改时间", auto_now=True)
    updated_by = models.CharField("修改人", max_length=150, blank=True)

    class Meta:
        verbose_name = "困难帮扶审批标准"
        verbose_name_plural = "困难帮扶审批标准"
        constraints = [models.CheckConstraint(condition=Q(grant_limit__gte=0), name="aid_rule_limit_not_negative")]

    def __str__(self) -> str:
        return self.get_tier_display()


class ApprovalSubject(models.TextChoices):
    CASE = "case", "困难帮扶申请办结"
    FILE = "file", "建立困难职工档案"
    AID = "aid", "发放帮扶"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "不予批准"


class HardshipApproval(models.Model):
    """上级审批: a filing or a grant above the city's standard waits for the requesting union's parent union. For a
    case, the proposed 办结 (result and outcome) is kept here and carried out on approval; a file or a grant outside
    an application exists already and waits in 待上级审批."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    subject = models.CharField("审批事项", max_length=8, choices=ApprovalSubject.choices)
    case = models.ForeignKey(
        ServiceCase, verbose_name="服务申请", null=True, blank=True, on_delete=models.PROTECT, related_name="approvals"
    )
    file = models.ForeignKey(
        HardshipFile, verbose_name="档案", null=True, blank=True, on_delete=models.PROTECT, related_name="approvals"
    )
    aid = models.ForeignKey(
        HardshipAid, verbose_name="帮扶记录", null=True, blank=True, on_delete=models.PROTECT, related_name="approvals"
    )
    person = models.ForeignKey(Person, verbose_name="困难职工", on_delete=models.PROTECT, related_name="+")
    org = models.ForeignKey(Organisation, verbose_name="报送工会", on_delete=models.PROTECT, related_name="+")
    approver = models.ForeignKey(
        Organisation, verbose_name="审批工会", on_delete=models.PROTECT, related_name="hardship_approvals"
    )
    tier = models.CharField("困难类别", max_length=16, choices=HardshipTier.choices, blank=True)
    form = models.CharField("帮扶形式", max_length=10, choices=AidForm.choices, blank=True)
    amount = models.DecimalField("帮扶金额/折价（元）", null=True, blank=True, **MONEY)
    reasons = models.JSONField("需审批原因", default=list)
    proposal = models.JSONField("拟办结内容", default=dict, blank=True)
    status = models.CharField("审批状态", max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    requested_at = models.DateTimeField("报送时间", auto_now_add=True)
    requested_by = models.CharField("报送人", max_length=150)
    requester_account = models.UUIDField("报送人账号", null=True, blank=True)
    due_on = models.DateField("审批期限")
    escalated_at = models.DateTimeField("超期上报时间", null=True, blank=True)
    escalated_to = models.ForeignKey(
        Organisation, verbose_name="上报至", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decided_by = models.CharField("审批人", max_length=150, blank=True)
    decision_note = models.CharField("审批意见", max_length=500, blank=True)

    class Meta:
        verbose_name = "上级审批"
        verbose_name_plural = "上级审批"
        indexes = [models.Index(fields=["approver", "status"], name="hardship_approval_queue_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject="case", case__isnull=False, aid__isnull=True)
                | Q(subject="file", file__isnull=False, aid__isnull=True)
                | Q(subject="aid", aid__isnull=False, file__isnull=False),
                name="hardship_approval_subject_set",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (Q(status="approved", decided_at__isnull=False))
                | (Q(status="refused", decided_at__isnull=False) & ~Q(decision_note="")),
                name="hardship_approval_decision_recorded",
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="hardship_approval_one_pending_per_case"
            ),
            models.UniqueConstraint(
                fields=["file"], condition=Q(subject="file"), name="hardship_approval_once_per_file"
            ),
            models.UniqueConstraint(fields=["aid"], condition=Q(subject="aid"), name="hardship_approval_once_per_aid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} · {self.person.name}"


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
