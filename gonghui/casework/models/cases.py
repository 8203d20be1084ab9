"""The common workflow's records: a service case (申请 → 受理 → 办理 → 办结 → 评价), its numbering, timeline and
attachments."""

from typing import TypedDict

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from gonghui.common.ids import new_public_id
from gonghui.members.models import MemberAccount, Person
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
