"""Helpers shared by the service-station tests (服务阵地, gonghui/stations)."""

from contextlib import contextmanager
from datetime import date
from pathlib import Path

import chinese_calendar
from django.conf import settings

from gonghui.audit.models import AuditEvent
from gonghui.common.geo import METRES_PER_DEGREE
from gonghui.stations.models import DemandPoint, Station, StationKind, StationPhoto, StationRating
from gonghui.stations.services import station_create, station_status_set

C1, E12, E123, T01, GS = "SZ-GS-T01-C1", "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T01", "SZ-GS"


T02, T02E1, WZ, WZT1 = "SZ-GS-T02", "SZ-GS-T02-E1", "SZ-WZ", "SZ-WZ-T01"


HERE = (31.30, 120.60)  # 姑苏区, inside the default region 30.75–32.05 N, 119.90–121.40 E


WALK_REACH = 5000 / 60 * 15 / 1.3  # 961.538… m in a straight line


RIDE_REACH = 15000 / 60 * 15 / 1.3  # 2,884.615… m


DAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]


NOT_FOUND = "对象不存在或无权访问"


OUT_OF_SCOPE = "所选组织不存在或不在您的管辖范围内"


NO_POOL = (
    "没有“游泳池”这种设施，可选：饮水、热饭、充电、卫生间、休息、药箱、空调/取暖、图书、母婴室、无线网络、维修工具"
)


REGION = "北纬 30.75°–32.05°、东经 119.9°–121.4°"


def north(point: tuple[float, float], metres: float) -> tuple[float, float]:
    """The point `metres` due north (south when negative): exact on the sphere and on the flat projection."""
    return point[0] + metres / METRES_PER_DEGREE, point[1]


def make_station(actor, org, name: str, point: tuple[float, float], **extra) -> Station:
    fields = {"kind": StationKind.OUTDOOR, "address": f"{name}路1号", "always_open": True, **extra}
    return station_create(actor=actor, org=org, name=name, lat=point[0], lng=point[1], **fields)


def set_status(system, station: Station, status: str) -> Station:
    return station_status_set(actor=system, station=station, status=status, reason="测试")


def demand(org, name: str, point: tuple[float, float], workers: int) -> DemandPoint:
    return DemandPoint.objects.create(org=org, name=name, lat=point[0], lng=point[1], workers=workers)


STATION_FIELDS = [field.attname for field in Station._meta.concrete_fields]


def state() -> dict:
    """Everything the station services may write, in a comparable form."""
    root = Path(settings.MEDIA_ROOT)
    return {
        "stations": list(Station.objects.order_by("id").values_list(*STATION_FIELDS)),
        "photos": list(StationPhoto.objects.order_by("id").values_list("id", "station_id", "file", "content_type")),
        "ratings": list(
            StationRating.objects.order_by("id").values_list("id", "station_id", "person_id", "stars", "comment")
        ),
        "demand": list(DemandPoint.objects.order_by("id").values_list("id", "org_id", "name", "lat", "lng", "workers")),
        "audit": AuditEvent.objects.count(),
        "files": sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()),
    }


@contextmanager
def nothing_changes():
    """`with nothing_changes(), pytest.raises(...):` — the refused call wrote nothing, not even an audit event."""
    before = state()
    yield
    assert state() == before


def errors_of(excinfo) -> dict:
    return excinfo.value.errors


def holiday_calendar_is_as_expected():
    """The dates the holiday tests rely on, as chinese-calendar (the package the code uses) has them."""
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 1)) == (True, "National Day")  # Thursday
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 4)) == (True, "National Day")  # Sunday, in the break
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 7)) == (True, "National Day")  # Wednesday, last day
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 8)) == (False, None)  # Thursday, back to work
    # Saturday 10 October 2026 is NOT an ordinary Saturday: it is worked in lieu of the National Day break (调休).
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 10)) == (False, "National Day")
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 11)) == (True, None)  # an ordinary Sunday off
    assert chinese_calendar.get_holiday_detail(date(2026, 9, 30)) == (False, None)  # Wednesday
    for day in range(2, 9):  # 2–8 November 2026: an ordinary week
        assert chinese_calendar.get_holiday_detail(date(2026, 11, day))[1] is None
