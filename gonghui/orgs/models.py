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
        # The children of a node: depth = d + 1 and the path's prefix. Without it, the children of the root are
        # found by reading every organisation (the path index alone matches them all). On PostgreSQL it also carries
        # id and status, so the dashboard's ranking of a node's children reads no table rows for them.
        indexes = [
            models.Index(
                fields=["depth", "path"],
                name="org_depth_path_idx",
                opclasses=["int4_ops", "varchar_pattern_ops"],
                include=["id", "status"],
            )
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
    # WGS84, optional: where its workers are, for the 15-minute service circle (gonghui/stations/coverage.py).
    lat = models.FloatField("纬度", null=True, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "企业/单位"
        verbose_name_plural = "企业/单位"
        indexes = [models.Index(fields=["employee_count"], name="employer_size_idx")]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- figures kept per organisation (统计数)
#
# Each row holds the figures of an organisation's whole subtree (the organisation and everything below it), so a
# dashboard reads one row for any node. They are kept in the same transaction as every change that moves them (the
# registry's and the employer registry's services), and rebuilt from the source tables by `manage.py rebuild_counts`.
# See gonghui/orgs/figures.py for how they are kept and docs/statistics.md for what each one means.

MEMBER_STOCK_FIELDS = (
    "members",
    "active",
    "reserved",
    "male",
    "female",
    "new_employment",
    "migrant",
    "form_standard",
    "form_courier",
    "form_food_delivery",
    "form_ride_hailing",
    "form_truck_driver",
    "form_other_flexible",
    "form_unknown",
)
DECLARED_FIELDS = ("declared_total", "declared_unions", "registered_in_declared")
EMPLOYER_FIELDS = (
    "employers",
    "employers_covered",
    "employers_25",
    "employers_25_covered",
    "employers_100",
    "employers_100_covered",
)
STOCK_FIELDS = MEMBER_STOCK_FIELDS + DECLARED_FIELDS + EMPLOYER_FIELDS

FLOW_FIELDS = (
    "joined",
    "transferred_in",
    "transferred_out",
    "left",
    "cancelled",
    "net_members",
    "net_male",
    "net_female",
    "net_new_employment",
    "net_migrant",
)


def _counter(label: str) -> models.IntegerField:
    return models.IntegerField(label, default=0, db_default=0)


class OrgFigures(models.Model):
    """Current figures of an organisation's subtree: members held (正式会员 + 保留会籍) by sex, employment form,
    农民工 and 新就业形态; the declared member totals 入库率 is measured against; employers located there by size
    and whether a union covers them (建会率). `own_declared` is this union's own latest declaration (not summed).
    `failing` (records failing a data-quality check, for 准确率) is refreshed by the daily re-check, not per write."""

    org = models.OneToOneField(
        Organisation, primary_key=True, on_delete=models.CASCADE, related_name="figures", verbose_name="组织"
    )
    members = _counter("会员数")
    active = _counter("正式会员")
    reserved = _counter("保留会籍")
    male = _counter("男")
    female = _counter("女")
    new_employment = _counter("新就业形态")
    migrant = _counter("农民工")
    form_standard = _counter("标准劳动关系")
    form_courier = _counter("快递员")
    form_food_delivery = _counter("外卖配送员")
    form_ride_hailing = _counter("网约车驾驶员")
    form_truck_driver = _counter("货车司机")
    form_other_flexible = _counter("其他灵活就业")
    form_unknown = _counter("就业形态未填")
    declared_total = _counter("实有会员数合计")
    declared_unions = _counter("已填报实有会员数的基层工会")
    registered_in_declared = _counter("已填报工会的入库会员")
    own_declared = models.IntegerField("本会实有会员数", null=True, blank=True)
    employers = _counter("企业/单位")
    employers_covered = _counter("已建会企业/单位")
    employers_25 = _counter("25人以上企业")
    employers_25_covered = _counter("25人以上已建会企业")
    employers_100 = _counter("100人以上企业")
    employers_100_covered = _counter("100人以上已建会企业")
    failing = _counter("未通过质量核查的会员")
    failing_checked_at = models.DateTimeField("质量核查时间", null=True, blank=True)

    class Meta:
        verbose_name = "组织统计数"
        verbose_name_plural = "组织统计数"

    def __str__(self) -> str:
        return f"{self.org_id}: {self.members}"


class OrgMonthFigures(models.Model):
    """Movements in one calendar month in an organisation's subtree: joins (入会, by join date), transfers in and out
    and leavings (by the date they took effect), and the net change of the member count and of the members by sex,
    新就业形态 and 农民工. The member count at the end of any month is the current count less the net changes of
    the months after it."""

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", verbose_name="组织")
    month = models.DateField("月份")
    joined = _counter("新入会")
    transferred_in = _counter("接转转入")
    transferred_out = _counter("接转转出")
    left = _counter("退会")
    cancelled = _counter("注销")
    net_members = _counter("会员净增")
    net_male = _counter("男会员净增")
    net_female = _counter("女会员净增")
    net_new_employment = _counter("新就业形态会员净增")
    net_migrant = _counter("农民工会员净增")

    class Meta:
        verbose_name = "组织月度变动"
        verbose_name_plural = "组织月度变动"
        constraints = [models.UniqueConstraint(fields=["org", "month"], name="org_month_figures_unique")]

    def __str__(self) -> str:
        return f"{self.org_id} {self.month:%Y-%m}"


class OrgAgeFigures(models.Model):
    """Members held in an organisation's subtree by year of birth (0: unknown), so age bands can be drawn for any
    reference year."""

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", verbose_name="组织")
    birth_year = models.PositiveSmallIntegerField("出生年份")
    members = _counter("会员数")

    class Meta:
        verbose_name = "组织会员出生年份分布"
        verbose_name_plural = "组织会员出生年份分布"
        constraints = [models.UniqueConstraint(fields=["org", "birth_year"], name="org_age_figures_unique")]

    def __str__(self) -> str:
        return f"{self.org_id} {self.birth_year}: {self.members}"
