"""The member registry (会员实名制): people, their memberships of grassroots unions, join applications, transfers
(接转) and the declared member totals that 入库率 is measured against.

Personal numbers are never stored in clear: the document number and the phone are AES-GCM ciphertexts with a keyed
HMAC blind index for lookup and uniqueness, plus the masked form that lists show.
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from gonghui.common.ids import new_public_id
from gonghui.members.documents import DOC_TYPE_LABELS
from gonghui.orgs.models import Organisation


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


ETHNICITIES = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族",
    "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族",
    "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族",
    "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
    "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
    "其他", "外国血统中国籍人士",
]  # fmt: skip


class Education(models.TextChoices):
    POSTGRADUATE = "postgraduate", "研究生"
    BACHELOR = "bachelor", "大学本科"
    COLLEGE = "college", "大学专科"
    VOCATIONAL = "vocational", "中专/中技/职高"
    HIGH_SCHOOL = "high_school", "高中"
    JUNIOR_OR_BELOW = "junior", "初中及以下"


class PoliticalStatus(models.TextChoices):
    CPC_MEMBER = "cpc", "中共党员"
    CPC_PROBATIONARY = "cpc_probationary", "中共预备党员"
    CYL_MEMBER = "cyl", "共青团员"
    DEMOCRATIC_PARTY = "democratic_party", "民主党派成员"
    NON_PARTISAN = "non_partisan", "无党派人士"
    MASSES = "masses", "群众"


class HukouType(models.TextChoices):
    AGRICULTURAL = "agricultural", "农业户口"
    NON_AGRICULTURAL = "non_agricultural", "非农业户口"


class EmploymentForm(models.TextChoices):
    STANDARD = "standard", "标准劳动关系"
    COURIER = "courier", "快递员"
    FOOD_DELIVERY = "food_delivery", "外卖配送员"
    RIDE_HAILING = "ride_hailing", "网约车驾驶员"
    TRUCK_DRIVER = "truck_driver", "货车司机"
    OTHER_FLEXIBLE = "other_flexible", "其他灵活就业"


NEW_EMPLOYMENT_FORMS = frozenset(set(EmploymentForm) - {EmploymentForm.STANDARD})  # 新就业形态


class SkillLevel(models.TextChoices):
    NONE = "none", "无"
    GRADE_5 = "grade5", "初级工"
    GRADE_4 = "grade4", "中级工"
    GRADE_3 = "grade3", "高级工"
    GRADE_2 = "grade2", "技师"
    GRADE_1 = "grade1", "高级技师"


class QualityFlag:
    """Checks a person's own record can fail; stored as a bit set, refreshed on every write and by
    `manage.py recheck_members`. Checks that involve other records (duplicates, inactive union) are computed
    in the data-quality selectors."""

    DOCUMENT = 1
    PHONE = 2
    REQUIRED_FIELDS = 4
    AGE = 8


class Person(models.Model):
    """One real person, keyed by one validated identity document."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    name = models.CharField("姓名", max_length=50)
    doc_type = models.CharField("证件类型", max_length=24, choices=list(DOC_TYPE_LABELS.items()))
    doc_number_enc = models.BinaryField("证件号码（密文）")
    doc_index = models.CharField("证件号码索引", max_length=64, editable=False)
    doc_masked = models.CharField("证件号码", max_length=32)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, blank=True)
    region_code = models.CharField("证件签发地区划代码", max_length=6, blank=True)
    phone_enc = models.BinaryField("手机号码（密文）", null=True, blank=True)
    phone_index = models.CharField("手机号码索引", max_length=64, blank=True, editable=False)
    phone_masked = models.CharField("手机号码", max_length=20, blank=True)
    ethnicity = models.CharField("民族", max_length=16, blank=True, choices=[(e, e) for e in ETHNICITIES])
    education = models.CharField("学历", max_length=16, blank=True, choices=Education.choices)
    political_status = models.CharField("政治面貌", max_length=20, blank=True, choices=PoliticalStatus.choices)
    hukou_type = models.CharField("户籍类型", max_length=20, blank=True, choices=HukouType.choices)
    employment_form = models.CharField("就业形态", max_length=20, blank=True, choices=EmploymentForm.choices)
    work_unit = models.CharField("工作单位", max_length=150, blank=True)
    post = models.CharField("岗位/职务", max_length=60, blank=True)
    skill_level = models.CharField("技能等级", max_length=10, blank=True, choices=SkillLevel.choices)
    is_model_worker = models.BooleanField("劳动模范", default=False)
    remarks = models.CharField("备注", max_length=500, blank=True)
    quality_flags = models.PositiveSmallIntegerField("数据质量问题", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        constraints = [models.UniqueConstraint(fields=["doc_type", "doc_index"], name="person_unique_document")]
        indexes = [
            models.Index(fields=["phone_index"], name="person_phone_idx"),
            models.Index(fields=["name", "birth_date"], name="person_name_birth_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_migrant_worker(self) -> bool:
        """农民工: an agricultural household registration, working for a wage."""
        return self.hukou_type == HukouType.AGRICULTURAL

    @property
    def is_new_employment(self) -> bool:
        return self.employment_form in NEW_EMPLOYMENT_FORMS


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", "正式会员"
    RESERVED = "reserved", "保留会籍"
    TRANSFERRED_OUT = "transferred_out", "已转出"
    LEFT = "left", "已退会"
    CANCELLED = "cancelled", "已注销"


HOLDING_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.RESERVED)  # the person holds membership


class MembershipSource(models.TextChoices):
    ONLINE = "online", "线上申请"
    CADRE = "cadre", "干部录入"
    IMPORT = "import", "批量导入"
    TRANSFER_IN = "transfer_in", "接转转入"


class Membership(models.Model):
    """A person's membership of one grassroots union. A person holds at most one at a time (database constraint);
    ended memberships stay as history."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.PROTECT, related_name="memberships")
    # The (org, status) index below serves lookups by org; the single-column index the foreign key would get is
    # left out (each index costs every insert, and a roster import inserts hundreds of thousands).
    org = models.ForeignKey(
        Organisation, verbose_name="所在基层工会", on_delete=models.PROTECT, related_name="memberships", db_index=False
    )
    status = models.CharField("会籍状态", max_length=20, choices=MembershipStatus.choices)
    joined_on = models.DateField("入会日期")
    source = models.CharField("来源", max_length=16, choices=MembershipSource.choices)
    card_number = models.CharField("会员卡号", max_length=20)  # unique: see Meta (no LIKE index beside it)
    ended_on = models.DateField("会籍终止日期", null=True, blank=True)
    end_reason = models.CharField("终止/变更原因", max_length=200, blank=True)
    # The person's profile (masked numbers only) as this union held it when the membership ended: what the union
    # keeps reading afterwards, instead of the record other unions go on to change. Null while held.
    profile_at_end = models.JSONField("会籍终止时的个人信息", null=True, blank=True, editable=False)
    previous = models.ForeignKey(
        "self",
        verbose_name="转出前会籍",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # indexed only where set: see Meta
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "会籍"
        verbose_name_plural = "会员"
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["active", "reserved"]),
                name="membership_one_holding_per_person",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "reserved"], ended_on__isnull=True)
                | Q(status__in=["transferred_out", "left", "cancelled"], ended_on__isnull=False),
                name="membership_end_date_matches_status",
            ),
            models.UniqueConstraint(fields=["card_number"], name="membership_card_number_unique"),
        ]
        indexes = [
            models.Index(fields=["org", "status"], name="membership_org_status_idx"),
            models.Index(fields=["previous"], condition=Q(previous__isnull=False), name="membership_previous_idx"),
        ]

    # Set by the registry's selectors when the reader sees the person as they were at the end of this membership
    # (the person has moved on beyond the reader's subtree); `person` is then a display-only stand-in.
    seen_at_end = False

    def __str__(self) -> str:
        return f"{self.person.name}（{self.card_number}）"

    @property
    def is_holding(self) -> bool:
        return self.status in HOLDING_STATUSES


class CardSerial(models.Model):
    """The last card serial issued per region and year; locked while a number is drawn."""

    region_code = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region_code", "year"], name="card_serial_unique")]

    def __str__(self) -> str:
        return f"{self.region_code}/{self.year}: {self.last}"


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    APPROVED = "approved", "已通过"
    REJECTED = "rejected", "未通过"
    WITHDRAWN = "withdrawn", "已撤回"
    CONVERTED = "converted", "已改为接转"


class JoinApplication(models.Model):
    """入会申请: decided by the grassroots union within JOIN_DECISION_WORKING_DAYS working days."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    person = models.ForeignKey(Person, verbose_name="申请人", on_delete=models.PROTECT, related_name="applications")
    org = models.ForeignKey(
        Organisation, verbose_name="申请加入的工会", on_delete=models.PROTECT, related_name="join_applications"
    )
    status = models.CharField(
        "状态", max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING
    )
    source = models.CharField("来源", max_length=16, choices=MembershipSource.choices)
    submitted_at = models.DateTimeField("提交时间", auto_now_add=True)
    submitted_by = models.CharField("提交人", max_length=150)
    due_on = models.DateField("审核期限")
    consent_at = models.DateTimeField("同意隐私说明时间", null=True, blank=True)
    note = models.CharField("申请说明", max_length=500, blank=True)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.CharField("审核人", max_length=150, blank=True)
    decision_reason = models.CharField("审核意见", max_length=500, blank=True)
    membership = models.OneToOneField(
        Membership, verbose_name="会籍", null=True, blank=True, on_delete=models.PROTECT, related_name="application"
    )

    class Meta:
        verbose_name = "入会申请"
        verbose_name_plural = "入会申请"
        # One pending application per person and union, and one of the person's own (online). An application a
        # cadre enters never stops the person applying themself elsewhere.
        constraints = [
            models.UniqueConstraint(
                fields=["person", "org"],
                condition=Q(status="pending"),
                name="join_application_one_pending_per_union",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="pending", source="online"),
                name="join_application_one_own_pending",
            ),
        ]
        indexes = [models.Index(fields=["org", "status"], name="join_app_org_status_idx")]

    def __str__(self) -> str:
        return f"{self.person.name} 申请加入 {self.org.name}"


class TransferStatus(models.TextChoices):
    PENDING_RELEASE = "pending_release", "待转出"
    PENDING_ACCEPT = "pending_accept", "待接收"
    COMPLETED = "completed", "已完成"
    REFUSED = "refused", "已拒绝"
    WITHDRAWN = "withdrawn", "已撤回"


OPEN_TRANSFER_STATUSES = (TransferStatus.PENDING_RELEASE, TransferStatus.PENDING_ACCEPT)


class TransferRequest(models.Model):
    """会员接转: the source union releases, the target union accepts; either may refuse with a reason. Past its
    deadline a request is escalated to the lowest common parent of the two unions."""

    # Set for the viewer by members.selectors (a member's history): the union's name, or 其他工会 out of scope.
    from_label: str
    to_label: str

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    person = models.ForeignKey(Person, verbose_name="会员", on_delete=models.PROTECT, related_name="transfers")
    membership = models.ForeignKey(
        Membership, verbose_name="转出会籍", on_delete=models.PROTECT, related_name="transfers_out"
    )
    from_org = models.ForeignKey(
        Organisation, verbose_name="转出工会", on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_org = models.ForeignKey(
        Organisation, verbose_name="转入工会", on_delete=models.PROTECT, related_name="transfers_in"
    )
    common_parent = models.ForeignKey(
        Organisation, verbose_name="共同上级", on_delete=models.PROTECT, related_name="transfers_supervised"
    )
    status = models.CharField(
        "状态", max_length=20, choices=TransferStatus.choices, default=TransferStatus.PENDING_RELEASE
    )
    reason = models.CharField("接转原因", max_length=200)
    requested_by = models.CharField("申请人", max_length=150)
    requested_by_member = models.BooleanField("会员本人申请", default=False)
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    due_on = models.DateField("当前环节期限")
    released_at = models.DateTimeField("同意转出时间", null=True, blank=True)
    released_by = models.CharField("同意转出人", max_length=150, blank=True)
    decided_at = models.DateTimeField("办结时间", null=True, blank=True)
    decided_by = models.CharField("办结人", max_length=150, blank=True)
    refused_by_side = models.CharField(
        "拒绝方", max_length=8, blank=True, choices=[("source", "转出工会"), ("target", "转入工会")]
    )
    refusal_reason = models.CharField("拒绝原因", max_length=500, blank=True)
    escalated_at = models.DateTimeField("超期上报时间", null=True, blank=True)
    new_membership = models.OneToOneField(
        Membership, verbose_name="转入后会籍", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "会员接转"
        verbose_name_plural = "会员接转"
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=Q(status__in=["pending_release", "pending_accept"]),
                name="transfer_one_open_per_membership",
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="transfer_status_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person.name}：{self.from_org.name} → {self.to_org.name}"


class DeclaredTotal(models.Model):
    """实有会员数: the member total a grassroots union declares (from its own books), with the date it refers to.
    The latest declaration counts; earlier ones stay as history."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    org = models.ForeignKey(
        Organisation, verbose_name="基层工会", on_delete=models.PROTECT, related_name="declared_totals"
    )
    total = models.PositiveIntegerField("实有会员数")
    as_of = models.DateField("统计日期")
    recorded_by = models.CharField("填报人", max_length=150)
    recorded_at = models.DateTimeField("填报时间", auto_now_add=True)

    class Meta:
        verbose_name = "实有会员数"
        verbose_name_plural = "实有会员数"
        indexes = [models.Index(fields=["org", "-as_of", "-recorded_at"], name="declared_total_latest_idx")]

    def __str__(self) -> str:
        return f"{self.org.name} {self.as_of:%Y-%m-%d}：{self.total}人"


class ImportOutcome(models.TextChoices):
    ADDED = "added", "新增"
    UPDATED = "updated", "更新"
    UNCHANGED = "unchanged", "无变化"
    CONFLICT = "conflict", "他会会员"
    DUPLICATE = "duplicate", "文件内重复"
    ERROR = "error", "有错误"


class RosterImportRow(models.Model):
    """The outcome of one row of a roster import that was not simply added (the report and the `--json` rows).
    Written in the same transaction as the chunk it belongs to."""

    job = models.ForeignKey("jobs.JobRun", on_delete=models.CASCADE, related_name="import_rows")
    line = models.PositiveIntegerField("行号")
    status = models.CharField("结果", max_length=16, choices=ImportOutcome.choices)
    reason = models.CharField("说明", max_length=1000, blank=True)
    name = models.CharField("姓名", max_length=60, blank=True)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    holding = models.ForeignKey(
        Membership, verbose_name="他会会籍", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "导入结果行"
        verbose_name_plural = "导入结果行"
        constraints = [models.UniqueConstraint(fields=["job", "line"], name="roster_import_row_unique_line")]

    def __str__(self) -> str:
        return f"第{self.line}行：{self.get_status_display()}"


class MemberAccount(models.Model):
    """A worker's sign-in to the member portal: a mobile number proved by a one-time SMS code, bound to one Person
    once the worker confirms name and document number (or submits a join application). Kept apart from the
    back-office accounts (docs/decisions.md): a member session can never become a cadre session."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    phone_index = models.CharField("手机号码索引", max_length=64, unique=True, editable=False)
    phone_enc = models.BinaryField("手机号码（密文）")
    phone_masked = models.CharField("手机号码", max_length=20)
    person = models.OneToOneField(
        Person,
        verbose_name="绑定的人员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="member_account",
    )
    password = models.CharField("密码（摘要）", max_length=128, blank=True)
    is_active = models.BooleanField("可以登录", default=True)
    session_version = models.PositiveIntegerField(default=0, help_text="递增后该账号的所有会话失效")
    created_at = models.DateTimeField("注册时间", auto_now_add=True)
    bound_at = models.DateTimeField("绑定时间", null=True, blank=True)
    last_login_at = models.DateTimeField("最近登录", null=True, blank=True)

    class Meta:
        verbose_name = "会员端账号"
        verbose_name_plural = "会员端账号"

    def __str__(self) -> str:
        return self.phone_masked


class PhoneCode(models.Model):
    """一次性短信验证码. Only a keyed hash is stored; a code is single use, expires, and dies after a few wrong
    tries. Sending a new code retires the earlier ones for that phone."""

    phone_index = models.CharField(max_length=64, editable=False)
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone_index", "-created_at"], name="phone_code_latest_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M}"


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    APPLIED = "applied", "已更正"
    REJECTED = "rejected", "不予更正"
    WITHDRAWN = "withdrawn", "已撤回"


class CorrectionRequest(models.Model):
    """更正申请: a member asks their union to correct profile fields of their own record. The union applies it
    (through the registry's correction service, audited before/after) or refuses with a reason. Personal numbers
    are never carried here: a wrong document number is corrected at the union with the document in hand."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    person = models.ForeignKey(Person, verbose_name="会员", on_delete=models.PROTECT, related_name="corrections")
    org = models.ForeignKey(
        Organisation, verbose_name="处理工会", on_delete=models.PROTECT, related_name="correction_requests"
    )
    changes = models.JSONField("申请更正的内容")
    # What the record said when the correction was applied: the page keeps showing 更正前 → 更正为 afterwards.
    previous = models.JSONField("更正前的内容", default=dict, blank=True, encoder=DjangoJSONEncoder)
    note = models.CharField("说明", max_length=500, blank=True)
    status = models.CharField("状态", max_length=16, choices=CorrectionStatus.choices, default=CorrectionStatus.PENDING)
    submitted_at = models.DateTimeField("提交时间", auto_now_add=True)
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    decided_by = models.CharField("处理人", max_length=150, blank=True)
    decision_reason = models.CharField("处理意见", max_length=500, blank=True)

    class Meta:
        verbose_name = "资料更正申请"
        verbose_name_plural = "资料更正申请"
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="pending"), name="correction_one_pending_per_person"
            )
        ]
        indexes = [models.Index(fields=["org", "status"], name="correction_org_status_idx")]

    def __str__(self) -> str:
        return f"{self.person.name} 的资料更正申请"


class NoticeKind(models.TextChoices):
    JOIN_APPROVED = "join_approved", "入会申请已通过"
    JOIN_REJECTED = "join_rejected", "入会申请未通过"
    JOIN_CONVERTED = "join_converted", "入会申请已改为会员接转"
    JOIN_OVERDUE = "join_overdue", "入会申请超期未审核"
    TRANSFER_REQUESTED = "transfer_requested", "工会发起会员接转"
    TRANSFER_RELEASED = "transfer_released", "原工会已同意转出"
    TRANSFER_COMPLETED = "transfer_completed", "会员接转已完成"
    TRANSFER_REFUSED = "transfer_refused", "会员接转未通过"
    TRANSFER_WITHDRAWN = "transfer_withdrawn", "会员接转已撤回"
    TRANSFER_OVERDUE = "transfer_overdue", "会员接转超期上报"
    CASE_ACCEPTED = "case_accepted", "服务申请已受理"
    CASE_REJECTED = "case_rejected", "服务申请不予受理"
    CASE_STARTED = "case_started", "服务申请办理中"
    CASE_CLOSED = "case_closed", "服务申请已办结"
    CASE_WITHDRAWN = "case_withdrawn", "服务申请已撤回"
    CASE_PROGRESS = "case_progress", "服务申请进展"
    CASE_OVERDUE = "case_overdue", "服务申请超期上报"


class NoticeSubject(models.TextChoices):
    """What a notice is about; the portal links each to its page."""

    JOIN_APPLICATION = "join_application", "入会申请"
    TRANSFER = "transfer", "会员接转"
    SERVICE_CASE = "service_case", "服务申请"


class NoticeSms(models.TextChoices):
    NONE = "none", "未发送（无手机号码）"
    QUEUED = "queued", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class Notice(models.Model):
    """A message in a person's inbox (消息): a union decided on their application, transfer or service case, or a
    deadline passed. Shown in the portal; also sent as a short SMS to the phone on file (the status of that SMS is
    kept here). `dedupe_key` makes a notice that must be sent once (one per case per deadline) unique per person."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    person = models.ForeignKey(
        Person, verbose_name="收件人", on_delete=models.PROTECT, related_name="notices", db_index=False
    )
    kind = models.CharField("类型", max_length=24, choices=NoticeKind.choices)
    title = models.CharField("标题", max_length=60)
    body = models.CharField("内容", max_length=1000)
    subject_type = models.CharField("关联事项", max_length=20, choices=NoticeSubject.choices)
    subject_id = models.UUIDField("关联事项编号")
    dedupe_key = models.CharField("去重键", max_length=120, blank=True, editable=False)
    created_at = models.DateTimeField("发送时间", auto_now_add=True)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)
    sms_status = models.CharField("短信", max_length=10, choices=NoticeSms.choices, default=NoticeSms.NONE)
    sms_at = models.DateTimeField("短信发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "消息"
        verbose_name_plural = "消息"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "dedupe_key"], condition=~Q(dedupe_key=""), name="notice_once_per_key"
            )
        ]
        indexes = [
            models.Index(fields=["person", "-created_at"], name="notice_person_latest_idx"),
            models.Index(fields=["person"], condition=Q(read_at__isnull=True), name="notice_person_unread_idx"),
        ]

    def __str__(self) -> str:
        return self.title
