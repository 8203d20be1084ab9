from django.db import models
from treebeard.mp_tree import MP_Node

from gonghui.common.ids import new_public_id
from gonghui.common.paths import STEPLEN


class OrgType(models.TextChoices):
    CITY = "city", "市总工会"
    COUNTY = "county", "县级(市、区)总工会"
    TOWN = "town", "镇(街道)总工会"
    PARK = "park", "开发区/园区总工会"
    COMMUNITY = "community", "村(社区)工会"
    REGIONAL = "regional", "区域工会联合会"
    INDUSTRY = "industry", "行业工会联合会"
    GRASSROOTS = "grassroots", "独立基层工会"
    JOINT_GRASSROOTS = "joint_grassroots", "联合基层工会"


class OrgLevel(models.TextChoices):
    CITY = "city", "市级"
    COUNTY = "county", "县级"
    TOWN = "town", "镇街级"
    COMMUNITY = "community", "村社区级"
    GRASSROOTS = "grassroots", "基层"


# The level each type sits at; regional and industry federations are placed where they are founded.
TYPE_LEVEL: dict[str, str] = {
    OrgType.CITY: OrgLevel.CITY,
    OrgType.COUNTY: OrgLevel.COUNTY,
    OrgType.TOWN: OrgLevel.TOWN,
    OrgType.PARK: OrgLevel.TOWN,
    OrgType.COMMUNITY: OrgLevel.COMMUNITY,
    OrgType.REGIONAL: OrgLevel.COMMUNITY,
    OrgType.INDUSTRY: OrgLevel.COMMUNITY,
    OrgType.GRASSROOTS: OrgLevel.GRASSROOTS,
    OrgType.JOINT_GRASSROOTS: OrgLevel.GRASSROOTS,
}

GRASSROOTS_TYPES = frozenset({OrgType.GRASSROOTS, OrgType.JOINT_GRASSROOTS})


class OrgStatus(models.TextChoices):
    ACTIVE = "active", "正常"
    DISSOLVED = "dissolved", "已撤销"
    MERGED = "merged", "已合并"


class Organisation(MP_Node):
    """A union organisation: one node of the tree, stored as a materialized path (fixed 4-character steps)."""

    steplen = STEPLEN
    node_order_by: list[str] = []

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    name = models.CharField("名称", max_length=100, db_index=True)
    code = models.CharField("组织代码", max_length=32, unique=True, help_text="简码，用于文件和接口，如 SZ-GS-001")
    org_type = models.CharField("组织类型", max_length=24, choices=OrgType.choices)
    level = models.CharField("层级", max_length=16, choices=OrgLevel.choices)
    region_code = models.CharField("行政区划代码", max_length=6, help_text="GB/T 2260 六位代码")
    uscc = models.CharField("统一社会信用代码", max_length=18, null=True, blank=True, unique=True)
    founded_on = models.DateField("成立日期", null=True, blank=True)
    term_ends_on = models.DateField("本届任期届满日期", null=True, blank=True, help_text="换届到期日")
    status = models.CharField("状态", max_length=16, choices=OrgStatus.choices, default=OrgStatus.ACTIVE)
    merged_into = models.ForeignKey(
        "self", verbose_name="并入组织", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField("地址", max_length=200, blank=True)
    contact_person = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "工会组织"
        verbose_name_plural = "工会组织"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="merged") | models.Q(merged_into__isnull=False),
                name="org_merged_has_target",
            ),
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z0-9][A-Z0-9_-]{1,31}$"), name="org_code_format"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_grassroots(self) -> bool:
        return self.org_type in GRASSROOTS_TYPES


class Industry(models.TextChoices):
    """GB/T 4754-2017 sections."""

    A = "A", "农、林、牧、渔业"
    B = "B", "采矿业"
    C = "C", "制造业"
    D = "D", "电力、热力、燃气及水生产和供应业"
    E = "E", "建筑业"
    F = "F", "批发和零售业"
    G = "G", "交通运输、仓储和邮政业"
    H = "H", "住宿和餐饮业"
    I = "I", "信息传输、软件和信息技术服务业"  # noqa: E741
    J = "J", "金融业"
    K = "K", "房地产业"
    L = "L", "租赁和商务服务业"
    M = "M", "科学研究和技术服务业"
    N = "N", "水利、环境和公共设施管理业"
    O = "O", "居民服务、修理和其他服务业"  # noqa: E741
    P = "P", "教育"
    Q = "Q", "卫生和社会工作"
    R = "R", "文化、体育和娱乐业"
    S = "S", "公共管理、社会保障和社会组织"
    T = "T", "国际组织"


class Employer(models.Model):
    """An enterprise or institution (企业/单位). Union coverage (建会率) is measured over these."""

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    name = models.CharField("单位名称", max_length=150, db_index=True)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    employee_count = models.PositiveIntegerField("职工人数")
    industry = models.CharField("行业", max_length=1, choices=Industry.choices)
    town_org = models.ForeignKey(
        Organisation,
        verbose_name="所在镇(街道)/园区工会",
        on_delete=models.PROTECT,
        related_name="employers_located",
    )
    covering_union = models.ForeignKey(
        Organisation,
        verbose_name="覆盖该单位的工会",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employers_covered",
    )
    address = models.CharField("地址", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "企业/单位"
        verbose_name_plural = "企业/单位"
        indexes = [models.Index(fields=["employee_count"], name="employer_size_idx")]

    def __str__(self) -> str:
        return self.name
