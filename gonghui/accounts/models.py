from django.contrib.auth.models import AbstractUser
from django.db import models

from gonghui.common.ids import new_public_id
from gonghui.common.roles import ROLE_LABELS, Role

ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]


class User(AbstractUser):
    """A person who signs in: a cadre or administrator of one organisation (back office), or later a member
    (portal, phone-based, role "member", no organisation of their own: their scope is their own record)."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    full_name = models.CharField("姓名", max_length=50, blank=True)
    org = models.ForeignKey(
        "orgs.Organisation",
        verbose_name="所属组织",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    role = models.CharField("角色", max_length=32, choices=ROLE_CHOICES, default=Role.GRASSROOTS_CADRE)
    # A password chosen by someone else (an account created or reset by another administrator) is good for one
    # sign-in only: until the person sets their own, the account can do nothing but that.
    must_change_password = models.BooleanField("须修改密码", default=False)
    # Administrators created or reset by another person enrol their own authenticator at first sign-in.
    second_factor_enrolment_required = models.BooleanField("须绑定身份验证器", default=False)
    # Granting the audit administrator role takes a second person: until a system administrator approves, the
    # account holds the role but none of its permissions.
    role_pending_approval = models.BooleanField("角色待审批", default=False)
    role_requested_by = models.ForeignKey(
        "self", verbose_name="角色申请人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role_before_request = models.CharField("申请前角色", max_length=32, choices=ROLE_CHOICES, blank=True)

    class Meta:
        verbose_name = "账号"
        verbose_name_plural = "账号"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="member") | models.Q(org__isnull=False),
                name="user_backoffice_role_has_org",
            ),
            models.CheckConstraint(condition=models.Q(is_superuser=False), name="user_no_superuser"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name or self.username}（{self.get_role_display()}）"


class ApiToken(models.Model):
    """A bearer token for an external system. Stored as a SHA-256 hash; acts within its organisation's subtree."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    name = models.CharField("名称", max_length=100)
    org = models.ForeignKey(
        "orgs.Organisation",
        verbose_name="授权范围（组织）",
        on_delete=models.PROTECT,
        related_name="api_tokens",
    )
    prefix = models.CharField("令牌前缀", max_length=12, help_text="用于识别令牌，不能用于认证")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by_label = models.CharField("创建者", max_length=150)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    allow_roster_import = models.BooleanField(
        "允许导入会员名册", default=False, help_text="外部人事系统报送会员名册时勾选；令牌仍不能读取会员名册"
    )

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
