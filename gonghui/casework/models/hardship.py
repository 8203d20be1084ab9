"""困难帮扶: the hardship file (困难职工档案), its household, the aid granted, the city's approval standard and the
requests to the parent union (上级审批)."""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from gonghui.casework.models.cases import (
    MONEY,
    ServiceCase,
)
from gonghui.common.ids import new_public_id
from gonghui.members.models import Person
from gonghui.orgs.models import Organisation

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
