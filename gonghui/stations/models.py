"""Service stations (服务阵地) and the points of demand the 15-minute circle is measured against.

A `Station` is a place where a union serves workers: an outdoor workers' station (户外劳动者服务站点/工会驿站), a
女职工康乃馨服务站, a 妈妈驿站, a 职工之家 ... It belongs to the union that manages it (its scope), stands at a WGS84
point (GCJ-02 input is converted on the way in, gonghui/stations/geo.py), keeps its opening hours per weekday and
for public holidays (gonghui/stations/hours.py), its facilities, photos and the visitors' star ratings.

A `DemandPoint` is a place where workers are: imported from a sheet of worker locations for an organisation's
subtree (a delivery hub, a sanitation depot, a construction site) with the number of workers there.
"""

from django.db import models
from django.db.models import Q

from gonghui.common.ids import new_public_id
from gonghui.members.models import Person
from gonghui.orgs.models import Organisation


class StationKind(models.TextChoices):
    OUTDOOR = "outdoor", "户外劳动者服务站点"
    WOMEN = "women", "女职工康乃馨服务站"
    MOTHERS = "mothers", "妈妈驿站"
    HOME = "home", "职工之家"
    BOOKS = "books", "职工书屋"
    DRIVERS = "drivers", "司机之家"
    COUNSELLING = "counselling", "心理服务室"
    OTHER = "other", "其他"


class Facility(models.TextChoices):
    WATER = "water", "饮水"
    MEALS = "meals", "热饭"
    CHARGING = "charging", "充电"
    TOILET = "toilet", "卫生间"
    REST = "rest", "休息"
    MEDICINE = "medicine", "药箱"
    CLIMATE = "climate", "空调/取暖"
    BOOKS = "books", "图书"
    NURSING = "nursing", "母婴室"
    WIFI = "wifi", "无线网络"
    REPAIR = "repair", "维修工具"


class StationStatus(models.TextChoices):
    OPEN = "open", "开放"
    PAUSED = "paused", "暂停"
    CLOSED = "closed", "撤销"


class Station(models.Model):
    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    org = models.ForeignKey(Organisation, verbose_name="管理单位", on_delete=models.PROTECT, related_name="stations")
    kind = models.CharField("类型", max_length=16, choices=StationKind.choices)
    name = models.CharField("站点名称", max_length=100)
    address = models.CharField("地址", max_length=200)
    # WGS84 (= CGCS2000 to well within a metre), degrees. Indexed with the status for the nearest stations' box.
    lat = models.FloatField("纬度")
    lng = models.FloatField("经度")
    # {"1": [["08:00", "20:00"]], ..., "7": [...]} by ISO weekday; a close before its open runs past midnight.
    hours = models.JSONField("开放时间", default=dict, blank=True)
    always_open = models.BooleanField("24小时开放", default=False)
    # On statutory holidays: "closed", "regular" (as on that weekday) or "special" (holiday_hours).
    holiday_rule = models.CharField("法定节假日", max_length=8, default="regular")
    holiday_hours = models.JSONField("节假日开放时间", default=list, blank=True)
    facilities = models.JSONField("设施", default=list, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    description = models.CharField("说明", max_length=500, blank=True)
    status = models.CharField("状态", max_length=8, choices=StationStatus.choices, default=StationStatus.OPEN)
    rating_count = models.PositiveIntegerField("评价人数", default=0)
    rating_total = models.PositiveIntegerField("评分合计", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "服务站点"
        verbose_name_plural = "服务站点"
        constraints = [
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90), name="station_lat_range"),
            models.CheckConstraint(condition=Q(lng__gte=-180, lng__lte=180), name="station_lng_range"),
            models.CheckConstraint(
                condition=Q(holiday_rule__in=["closed", "regular", "special"]), name="station_holiday_rule"
            ),
            models.UniqueConstraint(fields=["org", "name"], name="station_name_per_org"),
        ]
        # The nearest search's box: open stations by latitude, the longitude checked in the index, the id carried
        # along (an index-only scan on PostgreSQL).
        indexes = [models.Index(fields=["status", "lat", "lng"], name="station_box_idx", include=["id"])]

    def __str__(self) -> str:
        return self.name

    @property
    def rating(self) -> float | None:
        return round(self.rating_total / self.rating_count, 1) if self.rating_count else None

    @property
    def facility_labels(self) -> list[str]:
        labels = dict(Facility.choices)
        return [labels[code] for code in self.facilities if code in labels]


class StationPhoto(models.Model):
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="photos", verbose_name="站点")
    file = models.FileField("照片", upload_to="stations/")
    content_type = models.CharField("类型", max_length=20)
    caption = models.CharField("说明", max_length=100, blank=True)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "站点照片"
        verbose_name_plural = "站点照片"

    def __str__(self) -> str:
        return self.caption or f"{self.station}的照片"


class StationRating(models.Model):
    """One visitor's stars for one station (a member signed in to the portal; a new rating replaces the old)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="ratings", verbose_name="站点")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", verbose_name="评价人")
    stars = models.PositiveSmallIntegerField("星级")
    comment = models.CharField("评价", max_length=200, blank=True)
    rated_at = models.DateTimeField("评价时间", auto_now=True)

    class Meta:
        verbose_name = "站点评价"
        verbose_name_plural = "站点评价"
        constraints = [
            models.UniqueConstraint(fields=["station", "person"], name="station_rating_once_per_person"),
            models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="station_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.stars}星"


class DemandPoint(models.Model):
    """Workers at a place, for the coverage analysis of `org`'s subtree (imported from a sheet)."""

    id = models.BigAutoField(primary_key=True)
    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="demand_points", verbose_name="组织")
    name = models.CharField("名称", max_length=100)
    lat = models.FloatField("纬度")
    lng = models.FloatField("经度")
    workers = models.PositiveIntegerField("人数")
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "服务需求点"
        verbose_name_plural = "服务需求点"

    def __str__(self) -> str:
        return self.name
