"""Service stations and the 15-minute circle (服务阵地, gonghui/stations): coordinates checked at the edge (0,0,
swapped, out of range, outside the region, GCJ-02 input), opening hours over midnight and statutory holidays, the
nearest-station search against brute force on random data, the coverage analysis on a hand-built case (shares,
uncovered points, greedy suggestions, the three demand sources), scoping of every service, photos, ratings, and the
station and demand-point sheet imports (line numbers, all or nothing, dry runs, re-imports).

Every refused call is checked to leave the stations, their photos (rows and stored files), ratings, demand points and
the audit trail exactly as they were (`nothing_changes`)."""

import io
import math
import random
from contextlib import contextmanager
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import chinese_calendar
import h3
import pytest
import xlsxwriter
from django.conf import settings
from django.db.models import Count

from gonghui.audit.models import AuditEvent
from gonghui.common.actor import system_actor
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.geo import (
    METRES_PER_DEGREE,
    box_around,
    clean_coordinates,
    distance_m,
    gcj02_to_wgs84,
    region_bounds,
    wgs84_to_gcj02,
)
from gonghui.orgs.models import Employer
from gonghui.orgs.services import employer_create, org_dissolve
from gonghui.stations.coverage import coverage_analyse
from gonghui.stations.hours import (
    describe_intervals,
    holiday_text,
    intervals_of_day,
    is_open_at,
    parse_intervals,
    statutory_holiday,
    week_table,
)
from gonghui.stations.imports import RowOutcome, demand_points_import, stations_import
from gonghui.stations.models import (
    DemandPoint,
    Facility,
    Station,
    StationKind,
    StationPhoto,
    StationRating,
    StationStatus,
)
from gonghui.stations.selectors import (
    public_stations,
    station_get,
    station_public_get,
    stations_nearest,
    stations_of,
)
from gonghui.stations.services import (
    station_create,
    station_photo_add,
    station_rate,
    station_status_set,
    station_update,
)
from gonghui.stations.travel import RIDE, WALK, distance_text
from tests.conftest import valid_uscc
from tests.members.factories import enrol, resident_id

pytestmark = pytest.mark.django_db

C1, E12, E123, T01, GS = "SZ-GS-T01-C1", "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T01", "SZ-GS"
T02, T02E1, WZ, WZT1 = "SZ-GS-T02", "SZ-GS-T02-E1", "SZ-WZ", "SZ-WZ-T01"
HERE = (31.30, 120.60)  # 姑苏区, inside the default region 30.75–32.05 N, 119.90–121.40 E
WALK_REACH = 5000 / 60 * 15 / 1.3  # 961.538… m in a straight line
RIDE_REACH = 15000 / 60 * 15 / 1.3  # 2,884.615… m
EVERY_DAY = {str(day): "08:00-20:00" for day in range(1, 8)}
DAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
NOT_FOUND = "对象不存在或无权访问"
NO_PERMISSION = "当前角色无权执行此操作"
OUT_OF_SCOPE = "所选组织不存在或不在您的管辖范围内"
NO_POOL = (
    "没有“游泳池”这种设施，可选：饮水、热饭、充电、卫生间、休息、药箱、空调/取暖、图书、母婴室、无线网络、维修工具"
)
REGION = "北纬 30.75°–32.05°、东经 119.9°–121.4°"

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
GIF = b"GIF89a" + b"\x00" * 32

RATER = system_actor("portal")  # stands in for the member's actor (member_actor) in the audit trail


# ---------------------------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Photos go to a directory of this test's own, so the stored files can be compared before and after."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


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


def xlsx(rows: list[list | None], *, title: str | None = "姑苏区服务站点清单") -> bytes:
    """A workbook: an optional title row, then `rows` (header first); None is a blank row."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("站点")
    line = 0
    if title:
        sheet.write(0, 0, title)
        line = 1
    for row in rows:
        for col, value in enumerate(row or []):
            if value is not None:
                sheet.write(line, col, value)
        line += 1
    book.close()
    return buffer.getvalue()


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


# ---------------------------------------------------------------------------------------------------------------
# Coordinates


def test_coordinates_are_rounded_to_seven_places():
    assert clean_coordinates("31.29901234", "120.6") == (31.2990123, 120.6)
    assert clean_coordinates(31.3, 120.6) == (31.3, 120.6)


def test_full_width_digits_and_a_degree_sign_are_accepted():
    assert clean_coordinates("３１.２９９０", "１２０.６３００°") == (31.299, 120.63)
    assert clean_coordinates(" 31.299 ", "120.63") == (31.299, 120.63)


@pytest.mark.parametrize(
    ("lat", "lng", "errors"),
    [
        ("0", "0", {"坐标": "坐标是 0,0（没有定位），请填写站点的实际经纬度"}),
        (0, 0.0, {"坐标": "坐标是 0,0（没有定位），请填写站点的实际经纬度"}),
        ("120.6", "31.3", {"坐标": "经纬度填反了：120.6 像是经度、31.3 像是纬度，请交换后重新填写"}),
        (120.63, 31.29, {"坐标": "经纬度填反了：120.63 像是经度、31.29 像是纬度，请交换后重新填写"}),
        ("95", "120.6", {"纬度": "纬度 95 超出 -90 到 90 的范围"}),
        ("-91.5", "120.6", {"纬度": "纬度 -91.5 超出 -90 到 90 的范围"}),
        ("31.3", "200", {"经度": "经度 200 超出 -180 到 180 的范围"}),
        ("39.9042", "116.4074", {"坐标": f"坐标（纬度 39.9042，经度 116.4074）不在本地区范围内（{REGION}），请核对"}),
        ("0", "120.6", {"坐标": f"坐标（纬度 0.0000，经度 120.6000）不在本地区范围内（{REGION}），请核对"}),
        ("abc", "120.6", {"纬度": "纬度“abc”不是数字，请填写十进制度数，如 31.2990"}),
        ("31.3", "一百二十", {"经度": "经度“一百二十”不是数字，请填写十进制度数，如 31.2990"}),
        ("", "120.6", {"纬度": "请填写纬度"}),
        (None, "120.6", {"纬度": "请填写纬度"}),
        ("31.3", "   ", {"经度": "请填写经度"}),
        ("nan", "120.6", {"纬度": "纬度不是有效的数字"}),
        (31.3, float("inf"), {"经度": "经度不是有效的数字"}),
    ],
)
def test_bad_coordinates_are_refused_with_one_plain_reason(lat, lng, errors):
    with pytest.raises(ValidationFailed) as exc:
        clean_coordinates(lat, lng)
    assert errors_of(exc) == errors


@pytest.mark.parametrize("point", [(31.3, 120.6), (30.8, 119.95), (32.0, 121.3), (31.5123456, 120.9876543)])
def test_gcj02_input_is_converted_back_to_the_wgs84_point(point):
    shifted = wgs84_to_gcj02(*point)
    offset = distance_m(*point, *shifted)
    assert 100 < offset < 1000  # a map copy is a few hundred metres off: the conversion matters

    lat, lng = clean_coordinates(f"{shifted[0]:.10f}", f"{shifted[1]:.10f}", system="gcj02")

    assert abs(lat - point[0]) < 1e-6
    assert abs(lng - point[1]) < 1e-6
    back = gcj02_to_wgs84(*shifted)
    assert abs(back[0] - point[0]) < 1e-9 and abs(back[1] - point[1]) < 1e-9
    # Read as WGS84 the same numbers stay where they are.
    assert clean_coordinates(*shifted) == (round(shifted[0], 7), round(shifted[1], 7))


def test_an_unknown_coordinate_system_is_refused():
    with pytest.raises(ValidationFailed) as exc:
        clean_coordinates("31.3", "120.6", system="bd09")
    assert errors_of(exc) == {"坐标系": "坐标系只能是 WGS84 或 GCJ-02"}


def test_a_box_around_a_point_holds_every_point_within_the_radius():
    for radius in (2_000, 64_000, 256_000):
        south, west, north_edge, east = box_around(*HERE, radius)
        for bearing in range(0, 360, 5):
            # walk (just under) `radius` along the sphere towards `bearing`: the end point lies in the box
            d = radius * (1 - 1e-9) / 6_371_008.8
            lat1, lng1, b = math.radians(HERE[0]), math.radians(HERE[1]), math.radians(bearing)
            lat2 = math.asin(math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(b))
            lng2 = lng1 + math.atan2(
                math.sin(b) * math.sin(d) * math.cos(lat1), math.cos(d) - math.sin(lat1) * math.sin(lat2)
            )
            lat2, lng2 = math.degrees(lat2), math.degrees(lng2)
            assert distance_m(*HERE, lat2, lng2) == pytest.approx(radius, rel=1e-8)
            assert south <= lat2 <= north_edge and west <= lng2 <= east


@pytest.mark.parametrize(
    ("lat", "lng", "errors"),
    [
        ("120.63", "31.29", {"lat": "经纬度填反了：120.63 像是经度、31.29 像是纬度，请交换后重新填写"}),
        ("0", "0", {"lat": "坐标是 0,0（没有定位），请填写站点的实际经纬度"}),
        ("39.9", "116.4", {"lat": f"坐标（纬度 39.9000，经度 116.4000）不在本地区范围内（{REGION}），请核对"}),
        ("三十一", "120.6", {"lat": "纬度“三十一”不是数字，请填写十进制度数，如 31.2990"}),
        ("", "120.6", {"lat": "此项为必填项"}),
    ],
)
def test_station_create_refuses_bad_coordinates_and_writes_nothing(tree, actors, lat, lng, errors):
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_create(
            actor=actors["town_cadre"],
            org=tree[T01],
            kind=StationKind.OUTDOOR,
            name="十全街驿站",
            address="十全街1号",
            lat=lat,
            lng=lng,
            always_open=True,
        )
    assert errors_of(exc) == errors
    assert not Station.objects.exists()


def test_station_create_converts_gcj02_input(tree, system):
    shifted = wgs84_to_gcj02(31.31, 120.61)

    station = make_station(system, tree[T01], "高德坐标驿站", shifted, coord_system="gcj02")

    station.refresh_from_db()
    assert abs(station.lat - 31.31) < 1e-6 and abs(station.lng - 120.61) < 1e-6


# ---------------------------------------------------------------------------------------------------------------
# Opening hours


@pytest.mark.parametrize(
    ("text", "intervals"),
    [
        ("08:00-20:00", [["08:00", "20:00"]]),
        ("8:00-12:00, 14:00-18:00", [["08:00", "12:00"], ["14:00", "18:00"]]),
        ("０８：００－２０：００", [["08:00", "20:00"]]),
        ("08:00至12:00，14:00～18:00", [["08:00", "12:00"], ["14:00", "18:00"]]),
        ("07:00 — 11:00；13:30 到 19:00、20:00~21:00", [["07:00", "11:00"], ["13:30", "19:00"], ["20:00", "21:00"]]),
        ("22:00-06:00", [["22:00", "06:00"]]),
        ("20:00-24:00", [["20:00", "24:00"]]),
        ("", []),
        ("休息", []),
        ("闭站", []),
        ("不开放", []),
        ("全天", [["00:00", "24:00"]]),
        ("24小时", [["00:00", "24:00"]]),
        ("00:00-24:00", [["00:00", "24:00"]]),
        ("0:00-24:00", [["00:00", "24:00"]]),
    ],
)
def test_opening_hours_are_read_from_the_ways_people_write_them(text, intervals):
    assert parse_intervals(text) == intervals


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("08:00", "“08:00”不是时间段，请写成 08:00-18:00，多个时间段用逗号分开"),
        ("08:00-12:00-18:00", "“08:00-12:00-18:00”不是时间段，请写成 08:00-18:00，多个时间段用逗号分开"),
        ("8点-20点", "时间“8点”格式不对，请写成 08:30 这样的24小时制"),
        ("08:00-8pm", "时间“8pm”格式不对，请写成 08:30 这样的24小时制"),
        ("08:00-25:00", "时间“25:00”不存在"),
        ("08:60-20:00", "时间“08:60”不存在"),
        ("08:00-24:30", "时间“24:30”不存在"),
        ("08:00-08:00", "“08:00-08:00”开始和结束是同一时间；全天开放请写“全天”"),
        ("24:00-06:00", "“24:00-06:00”不能从 24:00 开始"),
        ("08:00-12:00, 14:00-14:00", "“14:00-14:00”开始和结束是同一时间；全天开放请写“全天”"),
    ],
)
def test_bad_opening_hours_are_refused_with_the_reason(text, message):
    with pytest.raises(ValidationFailed) as exc:
        parse_intervals(text, "周三")
    assert errors_of(exc) == {"周三": message}


def test_opening_hours_are_described_for_people():
    assert describe_intervals([]) == "休息"
    assert describe_intervals([["00:00", "24:00"]]) == "全天"
    assert describe_intervals([["08:00", "12:00"], ["14:00", "18:00"]]) == "08:00-12:00，14:00-18:00"
    assert describe_intervals([["22:00", "06:00"]]) == "22:00-06:00（次日）"
    assert describe_intervals([["20:00", "24:00"]]) == "20:00-24:00"

    weekly = Station(
        hours={"1": [["08:00", "20:00"]], "6": [["22:00", "06:00"]], "7": []},
        holiday_rule="special",
        holiday_hours=[["09:00", "12:00"]],
    )
    assert week_table(weekly) == [
        ("周一", "08:00-20:00"),
        ("周二", "休息"),
        ("周三", "休息"),
        ("周四", "休息"),
        ("周五", "休息"),
        ("周六", "22:00-06:00（次日）"),
        ("周日", "休息"),
    ]
    assert holiday_text(weekly) == "法定节假日：09:00-12:00"
    assert holiday_text(Station(holiday_rule="closed")) == "法定节假日：闭站"
    assert holiday_text(Station(holiday_rule="regular")) == "法定节假日：照常开放"
    always = Station(always_open=True, holiday_rule="closed")
    assert week_table(always) == [("每天", "全天")]
    assert holiday_text(always) == "节假日照常开放（全天）"


def at(day: date, clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute)


MON, TUE, SUN_BEFORE = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 1)


def test_an_interval_past_midnight_belongs_to_the_day_it_started_on():
    holiday_calendar_is_as_expected()
    assert (MON.isoweekday(), TUE.isoweekday()) == (1, 2)
    # Monday 22:00–06:00; Tuesday has its own, later hours; Sunday nothing.
    station = Station(hours={"1": [["22:00", "06:00"]], "2": [["09:00", "17:00"]]})

    assert is_open_at(station, at(MON, "22:00"))
    assert not is_open_at(station, at(MON, "21:59"))
    assert is_open_at(station, at(MON, "23:59"))
    assert is_open_at(station, at(TUE, "00:00"))
    assert is_open_at(station, at(TUE, "02:00"))
    assert is_open_at(station, at(TUE, "05:59"))
    assert not is_open_at(station, at(TUE, "06:00"))
    assert not is_open_at(station, at(TUE, "07:00"))
    assert is_open_at(station, at(TUE, "09:00"))
    assert not is_open_at(station, at(TUE, "17:00"))
    assert not is_open_at(station, at(MON, "02:00"))  # Sunday opened nothing that runs into Monday
    assert not is_open_at(station, at(SUN_BEFORE, "23:00"))


def test_a_close_at_24_00_ends_the_day():
    station = Station(hours={"1": [["20:00", "24:00"]], "2": [["00:00", "24:00"]]})

    assert is_open_at(station, at(MON, "23:59"))
    assert not is_open_at(station, at(MON, "19:59"))
    assert is_open_at(station, at(TUE, "00:00"))  # Tuesday's own whole day
    assert is_open_at(station, at(TUE, "23:59"))
    assert not is_open_at(station, at(date(2026, 11, 4), "00:00"))  # Wednesday: the whole day did not spill over
    assert not is_open_at(station, at(date(2026, 11, 4), "12:00"))


def test_an_always_open_station_is_open_at_every_moment_even_on_holidays():
    holiday_calendar_is_as_expected()
    station = Station(always_open=True, hours={}, holiday_rule="closed")

    for moment in (at(MON, "00:00"), at(TUE, "03:17"), at(date(2026, 10, 1), "12:00"), at(date(2026, 10, 4), "23:59")):
        assert is_open_at(station, moment)
    assert intervals_of_day(station, date(2026, 10, 1)) == [["00:00", "24:00"]]


WEEK_WITH_SHORT_SATURDAY = {
    "1": [["08:00", "20:00"]],
    "2": [["08:00", "20:00"]],
    "3": [["08:00", "20:00"]],
    "4": [["08:00", "20:00"]],
    "5": [["08:00", "20:00"]],
    "6": [["09:00", "12:00"]],
    "7": [],
}


def test_statutory_holidays_are_the_notice_days_off_not_ordinary_weekends():
    holiday_calendar_is_as_expected()
    assert statutory_holiday(date(2026, 10, 1))
    assert statutory_holiday(date(2026, 10, 4))
    assert not statutory_holiday(date(2026, 10, 8))
    assert not statutory_holiday(date(2026, 10, 10))  # the Saturday worked in lieu
    assert not statutory_holiday(date(2026, 10, 11))  # an ordinary Sunday
    with pytest.raises(NotImplementedError):
        chinese_calendar.get_holiday_detail(date(2027, 10, 1))
    assert not statutory_holiday(date(2027, 10, 1))  # a year the package does not know yet: no holidays


def test_a_station_closed_on_holidays_keeps_its_weekday_hours_on_other_days():
    holiday_calendar_is_as_expected()
    station = Station(hours=WEEK_WITH_SHORT_SATURDAY, holiday_rule="closed")

    assert intervals_of_day(station, date(2026, 10, 1)) == []
    assert not is_open_at(station, at(date(2026, 10, 1), "10:00"))  # National Day, a Thursday
    assert not is_open_at(station, at(date(2026, 10, 5), "10:00"))  # a Monday in the break
    assert is_open_at(station, at(date(2026, 10, 8), "10:00"))  # Thursday, back to work
    # The Saturday worked in lieu keeps Saturday's hours, not a weekday's.
    assert intervals_of_day(station, date(2026, 10, 10)) == [["09:00", "12:00"]]
    assert is_open_at(station, at(date(2026, 10, 10), "10:00"))
    assert not is_open_at(station, at(date(2026, 10, 10), "13:00"))
    assert not is_open_at(station, at(date(2026, 10, 11), "10:00"))  # an ordinary Sunday: Sunday's rest
    assert is_open_at(station, at(date(2027, 10, 1), "10:00"))  # unknown year: a plain Friday


def test_a_station_open_as_usual_on_holidays_follows_the_calendar_weekday():
    holiday_calendar_is_as_expected()
    station = Station(hours=WEEK_WITH_SHORT_SATURDAY, holiday_rule="regular")

    assert is_open_at(station, at(date(2026, 10, 1), "19:59"))  # Thursday's hours
    assert not is_open_at(station, at(date(2026, 10, 3), "13:00"))  # Saturday's short hours
    assert is_open_at(station, at(date(2026, 10, 3), "11:00"))
    assert not is_open_at(station, at(date(2026, 10, 4), "10:00"))  # Sunday's rest


def test_a_station_with_special_holiday_hours_uses_them_on_every_holiday():
    holiday_calendar_is_as_expected()
    station = Station(hours=WEEK_WITH_SHORT_SATURDAY, holiday_rule="special", holiday_hours=[["10:00", "16:00"]])

    assert intervals_of_day(station, date(2026, 10, 4)) == [["10:00", "16:00"]]
    assert not is_open_at(station, at(date(2026, 10, 1), "09:00"))
    assert is_open_at(station, at(date(2026, 10, 1), "10:00"))
    assert not is_open_at(station, at(date(2026, 10, 1), "16:00"))
    assert is_open_at(station, at(date(2026, 10, 4), "12:00"))  # a Sunday off, open for the holiday
    assert is_open_at(station, at(date(2026, 10, 8), "09:00"))  # an ordinary Thursday again
    assert not is_open_at(station, at(date(2026, 10, 11), "12:00"))  # an ordinary Sunday is not a holiday


def test_the_night_part_of_a_holiday_interval_spills_into_the_next_day():
    holiday_calendar_is_as_expected()
    station = Station(
        hours={"4": [["08:00", "17:00"]]},
        holiday_rule="special",
        holiday_hours=[["20:00", "02:00"]],
    )

    assert is_open_at(station, at(date(2026, 10, 7), "21:00"))  # the last day of the break
    assert is_open_at(station, at(date(2026, 10, 8), "01:30"))  # Thursday morning: still the holiday's night
    assert not is_open_at(station, at(date(2026, 10, 8), "02:00"))
    assert not is_open_at(station, at(date(2026, 10, 8), "07:59"))
    assert is_open_at(station, at(date(2026, 10, 8), "08:00"))  # Thursday's own hours
    assert not is_open_at(station, at(date(2026, 10, 8), "21:00"))  # Thursday has no evening interval
    assert not is_open_at(station, at(date(2026, 10, 9), "01:30"))


def test_an_ordinary_night_runs_into_a_holiday_and_a_closed_holiday_has_no_night():
    holiday_calendar_is_as_expected()
    night = [["22:00", "06:00"]]
    station = Station(hours={"3": night, "4": night}, holiday_rule="closed")

    assert is_open_at(station, at(date(2026, 9, 30), "23:00"))  # an ordinary Wednesday
    assert is_open_at(station, at(date(2026, 10, 1), "02:00"))  # Wednesday's night, though Thursday is a holiday
    assert not is_open_at(station, at(date(2026, 10, 1), "22:30"))  # the holiday is closed
    assert not is_open_at(station, at(date(2026, 10, 2), "02:00"))  # so it has no night part either
    assert not is_open_at(station, at(date(2026, 10, 8), "02:00"))  # Wednesday 7 October was a holiday
    assert is_open_at(station, at(date(2026, 10, 8), "23:00"))
    assert is_open_at(station, at(date(2026, 10, 9), "05:59"))


# ---------------------------------------------------------------------------------------------------------------
# The nearest stations


HOURS_PATTERNS = [
    ({}, True),
    (dict(EVERY_DAY), False),
    ({"1": "09:00-17:00", "2": "09:00-17:00", "3": "09:00-17:00", "4": "09:00-17:00", "5": "09:00-17:00"}, False),
    ({str(day): "22:00-06:00" for day in range(1, 8)}, False),
    ({str(day): "07:00-11:00, 13:00-19:00" for day in range(1, 6)}, False),
    ({"7": "10:00-16:00"}, False),
]


def random_stations(rng: random.Random, tree, count: int) -> list[Station]:
    """`count` stations over the region: most uniform, some in tight clusters, some on the very same spot (ties go
    by id), of every kind, with random facilities and hours; about a tenth paused and a tenth withdrawn."""
    bounds = region_bounds()
    orgs = [tree[T01], tree[C1], tree[T02E1], tree[WZT1], tree[E12]]
    clusters = [(31.30, 120.62), (31.28, 120.58), (31.55, 120.95), (31.05, 120.35)]
    points = []
    for index in range(count):
        if index % 5 == 0:
            base = clusters[index % len(clusters)]
            point = (base[0] + rng.gauss(0, 0.003), base[1] + rng.gauss(0, 0.003))
        elif index % 37 == 1 and points:
            point = points[-1]  # the same spot as the previous station
        else:
            point = (rng.uniform(bounds.south, bounds.north), rng.uniform(bounds.west, bounds.east))
        points.append(point)
    stations = []
    for index, (lat, lng) in enumerate(points):
        hours, always = HOURS_PATTERNS[index % len(HOURS_PATTERNS)]
        roll = rng.random()
        status = StationStatus.PAUSED if roll < 0.1 else StationStatus.CLOSED if roll < 0.2 else StationStatus.OPEN
        stations.append(
            Station(
                org=orgs[index % len(orgs)],
                kind=rng.choice(StationKind.values),
                name=f"随机站点{index:04d}",
                address=f"随机路{index}号",
                lat=round(lat, 7),
                lng=round(lng, 7),
                always_open=always,
                hours={day: parse_intervals(text) for day, text in hours.items()},
                facilities=sorted(rng.sample(Facility.values, rng.randint(0, 4))),
                status=status,
            )
        )
    Station.objects.bulk_create(stations)
    return list(Station.objects.all())


def brute_force(stations, point, limit, *, kind=None, facility=None, open_at=None):
    matching = [
        s
        for s in stations
        if s.status == StationStatus.OPEN
        and (kind is None or s.kind == kind)
        and (facility is None or facility in s.facilities)
        and (open_at is None or is_open_at(s, open_at))
    ]
    ranked = sorted(matching, key=lambda s: (distance_m(point[0], point[1], s.lat, s.lng), str(s.id)))
    return [(str(s.id), distance_m(point[0], point[1], s.lat, s.lng)) for s in ranked[:limit]]


def found(results) -> list[tuple[str, float]]:
    return [(str(r.station.id), r.distance_m) for r in results]


def test_the_nearest_stations_equal_a_brute_force_search_on_random_data(tree):
    rng = random.Random(20260315)
    stations = random_stations(rng, tree, 420)
    bounds = region_bounds()
    now = datetime(2026, 11, 4, 12, 0)  # an ordinary Wednesday noon
    queries = [
        (round(rng.uniform(bounds.south, bounds.north), 6), round(rng.uniform(bounds.west, bounds.east), 6))
        for _ in range(35)
    ]
    for lat, lng in [(31.30, 120.62), (31.28, 120.58), (31.55, 120.95), (31.05, 120.35)] * 3:  # inside the clusters
        queries.append((round(lat + rng.gauss(0, 0.004), 6), round(lng + rng.gauss(0, 0.004), 6)))
    tied = Station.objects.values("lat", "lng").order_by().annotate(n=Count("id"))
    tied_spots = [(row["lat"], row["lng"]) for row in tied if row["n"] > 1]
    assert tied_spots  # some stations share a spot, so the tie-break by id is exercised
    queries += tied_spots[:4]
    open_moments = [datetime(2026, 11, 4, 7, 30), datetime(2026, 11, 4, 23, 30), datetime(2026, 11, 8, 2, 0), now]

    compared = open_now_differs = ties = 0
    for index, point in enumerate(queries):
        for limit in (1, 5, 20):
            result = stations_nearest(lat=point[0], lng=point[1], now=now, limit=limit)
            assert found(result) == brute_force(stations, point, limit)
            ties += any(a.distance_m == b.distance_m for a, b in zip(result, result[1:], strict=False))
            compared += 1
        kind = rng.choice(StationKind.values)
        facility = rng.choice(Facility.values)
        limit = (1, 5, 20)[index % 3]
        for filters in ({"kind": kind}, {"facility": facility}, {"kind": kind, "facility": facility}):
            result = stations_nearest(lat=point[0], lng=point[1], now=now, limit=limit, **filters)
            assert found(result) == brute_force(stations, point, limit, **filters)
            assert all(r.station.status == StationStatus.OPEN for r in result)
            compared += 1
        moment = open_moments[index % len(open_moments)]
        result = stations_nearest(lat=point[0], lng=point[1], now=moment, limit=limit, open_now=True)
        expected = brute_force(stations, point, limit, open_at=moment)
        assert found(result) == expected
        assert all(r.open_now for r in result)
        open_now_differs += expected != brute_force(stations, point, limit)
        compared += 1

    assert compared == len(queries) * 7
    assert ties > 0  # results held stations at the same distance, ordered by id
    assert open_now_differs > len(queries) // 2  # the open-now filter really removes stations
    # The results carry the travel model's minutes and whether each station is open now.
    sample = stations_nearest(lat=31.3, lng=120.62, now=now, limit=20)
    for item in sample:
        assert item.walk_minutes == WALK.minutes(item.distance_m)
        assert item.ride_minutes == RIDE.minutes(item.distance_m)
        assert item.open_now == is_open_at(item.station, now)
    assert {item.open_now for item in sample} == {True, False}


def test_a_lone_station_far_beyond_the_first_radius_is_still_found(tree, system):
    holiday_calendar_is_as_expected()
    # Everything stands in the north-east corner of the region; the query is in the south-west corner.
    far = make_station(system, tree[WZT1], "东北角驿站", (32.0, 121.3))
    farther = make_station(system, tree[WZT1], "东北角书屋", (32.02, 121.33), kind=StationKind.BOOKS)
    nightly = make_station(
        system, tree[WZT1], "东北角夜间站", (31.99, 121.29), always_open=False, hours={"3": "22:00-06:00"}
    )
    paused = make_station(system, tree[T01], "西南角暂停站", (30.81, 119.96))
    set_status(system, paused, StationStatus.PAUSED)
    closed = make_station(system, tree[T01], "西南角撤销站", (30.80, 119.95))
    set_status(system, closed, StationStatus.CLOSED)
    here = (30.80, 119.95)
    stations = list(Station.objects.all())
    wednesday_noon = datetime(2026, 11, 4, 12, 0)

    nearest = stations_nearest(lat=here[0], lng=here[1], now=wednesday_noon, limit=1)

    assert found(nearest) == brute_force(stations, here, 1)
    assert nearest[0].station.id == nightly.id
    assert nearest[0].distance_m > 150_000
    assert nearest[0].distance_m == distance_m(*here, nightly.lat, nightly.lng)
    assert nearest[0].open_now is False
    everything = stations_nearest(lat=here[0], lng=here[1], now=wednesday_noon, limit=50)
    assert [r.station.id for r in everything] == [nightly.id, far.id, farther.id]  # fewer than asked: all open ones
    assert found(everything) == brute_force(stations, here, 50)
    # Open now at Wednesday noon: the night station is not; at Thursday 02:00 it is (Wednesday's night part).
    assert [r.station.id for r in stations_nearest(lat=here[0], lng=here[1], now=wednesday_noon, open_now=True)] == [
        far.id,
        farther.id,
    ]
    thursday_night = datetime(2026, 11, 5, 2, 0)
    night = stations_nearest(lat=here[0], lng=here[1], now=thursday_night, limit=1, open_now=True)
    assert [r.station.id for r in night] == [nightly.id]
    books = stations_nearest(lat=here[0], lng=here[1], now=wednesday_noon, kind=StationKind.BOOKS)
    assert [r.station.id for r in books] == [farther.id]


def test_a_nearby_result_carries_distance_travel_minutes_and_text(tree, system):
    close = make_station(system, tree[T01], "五百米驿站", north(HERE, 500))
    make_station(system, tree[T01], "一公里半驿站", north(HERE, -1500), always_open=False, hours=EVERY_DAY)

    first, second = stations_nearest(lat=HERE[0], lng=HERE[1], now=datetime(2026, 11, 4, 21, 0), limit=5)

    assert first.station.id == close.id
    assert first.distance_m == pytest.approx(500, abs=0.01)
    assert (first.walk_minutes, first.ride_minutes, first.distance_text, first.open_now) == (8, 3, "500 米", True)
    assert second.distance_m == pytest.approx(1500, abs=0.01)
    assert (second.walk_minutes, second.ride_minutes, second.distance_text, second.open_now) == (
        24,
        8,
        "1.5 公里",
        False,
    )
    assert WALK.minutes(0) == 1 and RIDE.minutes(0) == 1
    assert WALK.reach_m() == pytest.approx(WALK_REACH) and RIDE.reach_m() == pytest.approx(RIDE_REACH)
    assert distance_text(850.4) == "850 米"
    assert distance_text(2449) == "2.4 公里"


def test_a_distance_that_rounds_to_a_kilometre_is_shown_in_kilometres():
    assert distance_text(999.6) == "1.0 公里"


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"limit": 0}, {"limit": "一次最多查询 50 个站点"}),
        ({"limit": 51}, {"limit": "一次最多查询 50 个站点"}),
        ({"kind": "hotel"}, {"kind": "没有这种站点类型"}),
        ({"facility": "pool"}, {"facility": "没有这种设施"}),
        ({"lat": "120.6", "lng": "31.3"}, {"坐标": "经纬度填反了：120.6 像是经度、31.3 像是纬度，请交换后重新填写"}),
        (
            {"lat": "39.9", "lng": "116.4"},
            {"坐标": f"坐标（纬度 39.9000，经度 116.4000）不在本地区范围内（{REGION}），请核对"},
        ),
    ],
)
def test_a_bad_nearest_query_is_refused(tree, system, query, errors):
    make_station(system, tree[T01], "驿站", HERE)
    with pytest.raises(ValidationFailed) as exc:
        stations_nearest(**{"lat": HERE[0], "lng": HERE[1], "now": datetime(2026, 11, 4, 12), **query})
    assert errors_of(exc) == errors


# ---------------------------------------------------------------------------------------------------------------
# The 15-minute circle


@pytest.fixture
def circle(tree, system):
    """A hand-built case. The stations and points stand on one meridian, so every distance is a plain difference of
    latitudes (exact on the flat projection).

    S1 双塔驿站 (T01, open) at 31.30 N; S2 木渎驿站 (another district, open) at 31.20 N;
    a paused station 1,500 m north of S1 and a withdrawn one on Y, neither of which covers anything.
    Demand in T01's subtree: A 500 m north of S1 (100), B 1,500 m north of S1 (50), D 300 m south of S2 (40),
    X1 ~11 km north of S1 at the centre of a resolution-9 hexagon (300) and X2 10 m north of it (200),
    Y 5,000 m south of S2 (80). Demand of other subtrees (T02, WZ) is left out."""
    cell = h3.latlng_to_cell(31.40, 120.60, 9)
    x1 = tuple(round(v, 7) for v in h3.cell_to_latlng(cell))
    s1, s2 = (31.30, x1[1]), (31.20, x1[1])
    y = north(s2, -5000)
    make_station(system, tree[T01], "双塔驿站", s1)
    make_station(system, tree[WZT1], "木渎驿站", s2)
    set_status(system, make_station(system, tree[T01], "暂停驿站", north(s1, 1500)), StationStatus.PAUSED)
    set_status(system, make_station(system, tree[E12], "撤销驿站", y), StationStatus.CLOSED)
    points = {
        "A": demand(tree[C1], "竹辉环卫所", north(s1, 500), 100),
        "B": demand(tree[T01], "十全街快递站", north(s1, 1500), 50),
        "D": demand(tree[T01], "木渎边工地", north(s2, -300), 40),
        "X1": demand(tree[E12], "城北分拨中心", x1, 300),
        "X2": demand(tree[T01], "城北分拨中心北门", north(x1, 10), 200),
        "Y": demand(tree[E123], "南郊物流园", y, 80),
    }
    demand(tree[T02], "沧浪外卖站", north(s1, 20000), 999)  # a sibling subtree
    demand(tree[WZ], "吴中工业园", north(s2, 100), 777)  # another district
    return {"cell": cell, "x1": x1, "s1": s1, "s2": s2, "y": y, "b": north(s1, 1500), "points": points}


def centre_of_cell_holding(point: tuple[float, float]) -> tuple[float, float]:
    lat, lng = h3.cell_to_latlng(h3.latlng_to_cell(point[0], point[1], 9))
    return round(lat, 6), round(lng, 6)


def uncovered(result) -> list[tuple[str, int, float | None]]:
    return [(u.name, u.workers, u.nearest_m) for u in result.uncovered]


def suggestions(result) -> list[tuple[tuple[float, float], int, int, Decimal]]:
    return [((s.lat, s.lng), s.adds, s.adds_points, s.share_after) for s in result.suggestions]


def test_walking_coverage_of_imported_points_is_exact(tree, actors, circle):
    x_distance = (circle["x1"][0] - 31.30) * METRES_PER_DEGREE  # S1 is the nearest station to X1
    audit_before = AuditEvent.objects.count()

    result = coverage_analyse(actor=actors["district_cadre"], org=tree[T01], source="points", mode="walk")

    assert (result.source, result.mode, result.minutes) == ("points", "walk", 15)
    assert result.reach_m == pytest.approx(WALK_REACH)
    assert result.stations == 2  # the two open ones, the other district's included
    # Covered: A (by S1) and D (by S2, which another district manages: supply is region-wide).
    assert (result.points, result.points_covered) == (6, 2)
    assert (result.demand, result.demand_covered) == (770, 140)
    assert result.share == Decimal("18.2")
    assert isinstance(result.share, Decimal)
    assert uncovered(result) == [
        ("城北分拨中心", 300, pytest.approx(x_distance, abs=1e-3)),
        ("城北分拨中心北门", 200, pytest.approx(x_distance + 10, abs=1e-3)),
        ("南郊物流园", 80, pytest.approx(5000, abs=1e-3)),  # the withdrawn station standing on it does not count
        ("十全街快递站", 50, pytest.approx(1500, abs=1e-3)),  # the paused station standing on it does not count
    ]
    # Greedy: the X cluster first (its hexagon's centre reaches both points), then Y, then B.
    x_centre = tuple(round(v, 6) for v in h3.cell_to_latlng(circle["cell"]))
    assert suggestions(result) == [
        (x_centre, 500, 2, Decimal("83.1")),
        (centre_of_cell_holding(circle["y"]), 80, 1, Decimal("93.5")),
        (centre_of_cell_holding(circle["b"]), 50, 1, Decimal("100.0")),
    ]
    assert distance_m(*x_centre, *circle["x1"]) < WALK_REACH
    # The map layer: the X hexagon (res 8) is the heaviest uncovered one; all demand is accounted for.
    assert (result.layer[0].demand, result.layer[0].covered) == (500, 0)
    assert result.layer[0].cell == h3.latlng_to_cell(*circle["x1"], 8)
    assert sum(c.demand for c in result.layer) == 770
    assert sum(c.covered for c in result.layer) == 140
    assert AuditEvent.objects.count() == audit_before


def test_riding_coverage_of_imported_points_is_exact(tree, actors, circle):
    x_distance = (circle["x1"][0] - 31.30) * METRES_PER_DEGREE

    result = coverage_analyse(actor=actors["town_cadre"], org=tree[T01], source="points", mode="ride", suggestions=5)

    assert result.reach_m == pytest.approx(RIDE_REACH)
    assert (result.points, result.points_covered, result.demand, result.demand_covered) == (6, 3, 770, 190)
    assert result.share == Decimal("24.7")
    assert uncovered(result) == [
        ("城北分拨中心", 300, pytest.approx(x_distance, abs=1e-3)),
        ("城北分拨中心北门", 200, pytest.approx(x_distance + 10, abs=1e-3)),
        ("南郊物流园", 80, pytest.approx(5000, abs=1e-3)),
    ]
    x_centre = tuple(round(v, 6) for v in h3.cell_to_latlng(circle["cell"]))
    assert suggestions(result) == [
        (x_centre, 500, 2, Decimal("89.6")),
        (centre_of_cell_holding(circle["y"]), 80, 1, Decimal("100.0")),
    ]


def test_the_number_of_suggestions_is_the_one_asked_for(tree, actors, circle):
    one = coverage_analyse(actor=actors["district_cadre"], org=tree[T01], suggestions=1)
    none = coverage_analyse(actor=actors["district_cadre"], org=tree[T01], suggestions=0)

    assert [(s.adds, s.share_after) for s in one.suggestions] == [(500, Decimal("83.1"))]
    assert none.suggestions == []
    assert none.share == Decimal("18.2")


def test_a_smaller_subtree_counts_only_its_own_points(tree, actors, circle):
    # E12 holds only X1; the grassroots cadre of E12 may analyse it, and the town's stations still serve it.
    result = coverage_analyse(actor=actors["grassroots_cadre"], org=tree[E12], mode="walk")

    assert (result.points, result.demand, result.demand_covered, result.share) == (1, 300, 0, Decimal("0.0"))
    assert [u.name for u in result.uncovered] == ["城北分拨中心"]


def test_a_paused_station_reopened_covers_again(tree, actors, system, circle):
    paused = Station.objects.get(name="暂停驿站")
    set_status(system, paused, StationStatus.OPEN)

    result = coverage_analyse(actor=actors["district_cadre"], org=tree[T01], mode="walk")

    assert (result.stations, result.points_covered, result.demand_covered) == (3, 3, 190)
    assert result.share == Decimal("24.7")
    assert [u.name for u in result.uncovered] == ["城北分拨中心", "城北分拨中心北门", "南郊物流园"]


def test_the_covered_share_is_rounded_half_up_to_one_place(tree, actors, system):
    make_station(system, tree[T01], "驿站", HERE)
    demand(tree[T01], "门口", north(HERE, 100), 1)
    demand(tree[T01], "远处", north(HERE, 5000), 399)  # 1 of 400 covered: 0.25 % (half-even would give 0.2)

    result = coverage_analyse(actor=actors["town_cadre"], org=tree[T01], mode="walk")

    assert result.share == Decimal("0.3")
    assert [(s.adds, s.share_after) for s in result.suggestions] == [(399, Decimal("100.0"))]


def test_with_no_demand_the_share_is_unknown_and_nothing_is_suggested(tree, actors, system):
    make_station(system, tree[T01], "驿站", HERE)

    result = coverage_analyse(actor=actors["town_cadre"], org=tree[T01])

    assert (result.points, result.demand, result.share, result.uncovered, result.suggestions, result.layer) == (
        0,
        0,
        None,
        [],
        [],
        [],
    )


def test_without_any_open_station_every_point_is_uncovered_with_no_nearest(tree, actors, system):
    set_status(system, make_station(system, tree[T01], "暂停驿站", HERE), StationStatus.PAUSED)
    demand(tree[T01], "甲", north(HERE, 100), 30)
    demand(tree[T01], "乙", north(HERE, 200), 30)

    result = coverage_analyse(actor=actors["town_cadre"], org=tree[T01])

    assert (result.stations, result.points_covered, result.share) == (0, 0, Decimal("0.0"))
    assert uncovered(result) == [("乙", 30, None), ("甲", 30, None)]  # equal demand: by name
    assert [(s.adds, s.adds_points, s.share_after) for s in result.suggestions] == [(60, 2, Decimal("100.0"))]


def test_employers_with_coordinates_are_the_demand_weighted_by_staff(tree, actors, system, employer_set):
    make_station(system, tree[T01], "双塔驿站", HERE)
    Employer.objects.filter(id=employer_set["covered"].id).update(lat=north(HERE, 500)[0], lng=HERE[1])
    Employer.objects.filter(id=employer_set["wuzhong"].id).update(lat=31.25, lng=120.50)  # another district
    site = employer_create(
        actor=system,
        name="双塔建筑工地",
        uscc=valid_uscc("91320508MA1W0004D"),
        employee_count=60,
        industry="E",
        town_org=tree[T01],
        lat=north(HERE, 2000)[0],
        lng=HERE[1],
    )
    assert (site.lat, site.lng) == (round(north(HERE, 2000)[0], 7), HERE[1])
    # 双塔物流有限公司 (150 staff) has no coordinates and is left out.

    walk = coverage_analyse(actor=actors["town_cadre"], org=tree[T01], source="employers", mode="walk")
    ride = coverage_analyse(actor=actors["town_cadre"], org=tree[T01], source="employers", mode="ride")

    assert (walk.points, walk.points_covered, walk.demand, walk.demand_covered) == (2, 1, 140, 80)
    assert walk.share == Decimal("57.1")
    assert uncovered(walk) == [("双塔建筑工地", 60, pytest.approx(2000, abs=0.01))]
    assert [(s.adds, s.share_after) for s in walk.suggestions] == [(60, Decimal("100.0"))]
    assert (ride.points, ride.points_covered, ride.demand, ride.demand_covered) == (2, 2, 140, 140)
    assert ride.share == Decimal("100.0")
    assert ride.uncovered == [] and ride.suggestions == []


def test_the_grid_source_counts_hexagons_over_the_subtree_and_covers_those_near_an_open_station(tree, actors, system):
    # T02's subtree: an open and a paused station, an employer and a demand point; its withdrawn station far away
    # does not stretch the box. A station of another district inside the box serves it too.
    g1 = make_station(system, tree[T02E1], "沧浪驿站", (31.251, 120.551))
    set_status(system, make_station(system, tree[T02], "沧浪暂停站", (31.23, 120.56)), StationStatus.PAUSED)
    set_status(system, make_station(system, tree[T02], "沧浪撤销站", (31.35, 120.70)), StationStatus.CLOSED)
    wz = make_station(system, tree[WZT1], "木渎驿站", (31.265, 120.575))
    employer_create(
        actor=system,
        name="沧浪纺织有限公司",
        uscc=valid_uscc("91320508MA1W0005E"),
        employee_count=40,
        industry="C",
        town_org=tree[T02],
        lat=31.24,
        lng=120.57,
    )
    demand(tree[T02], "沧浪快递站", (31.27, 120.58), 25)
    south, west, north_edge, east = 31.23 - 0.005, 120.551 - 0.005, 31.27 + 0.005, 120.58 + 0.005
    cells = sorted(
        h3.h3shape_to_cells(h3.LatLngPoly([(south, west), (south, east), (north_edge, east), (north_edge, west)]), 8)
    )
    open_points = [(g1.lat, g1.lng), (wz.lat, wz.lng)]

    def nearest(cell):
        return min(distance_m(*h3.cell_to_latlng(cell), *p) for p in open_points)

    for cell in cells:  # nothing sits on the edge of the circle, so the flat projection's 1 % cannot matter
        assert abs(nearest(cell) - WALK_REACH) > 0.02 * WALK_REACH
    expected_uncovered = sorted(c for c in cells if nearest(c) > WALK_REACH)

    result = coverage_analyse(actor=actors["district_cadre"], org=tree[T02], source="grid", mode="walk")

    assert len(cells) > 15
    assert (result.points, result.demand) == (len(cells), len(cells))
    assert result.points_covered == result.demand_covered == len(cells) - len(expected_uncovered)
    assert 0 < result.points_covered < len(cells)
    assert [u.name for u in result.uncovered] == expected_uncovered  # equal weights: by cell id
    assert all(u.workers == 1 for u in result.uncovered)
    for u in result.uncovered:
        assert u.nearest_m == pytest.approx(nearest(u.name), rel=0.01)
    assert h3.latlng_to_cell(31.251, 120.551, 8) not in expected_uncovered  # the hexagon holding 沧浪驿站
    assert h3.latlng_to_cell(31.23, 120.56, 8) in expected_uncovered  # the paused station's hexagon
    covered_cells = set(cells) - set(expected_uncovered)
    # Some hexagons are covered only by the other district's station.
    assert any(distance_m(*h3.cell_to_latlng(c), g1.lat, g1.lng) > WALK_REACH for c in covered_cells)
    share = (Decimal(result.demand_covered * 100) / len(cells)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert result.share == share
    # A lone station: the box is the station ± 0.005° (about 500 m), the hexagons whose centres fall inside it.
    lone = coverage_analyse(actor=actors["other_district_cadre"], org=tree[WZ], source="grid", mode="walk")
    lone_box = h3.LatLngPoly([(31.26, 120.57), (31.26, 120.58), (31.27, 120.58), (31.27, 120.57)])
    assert lone.points == len(h3.h3shape_to_cells(lone_box, 8)) >= 1
    assert lone.points_covered == lone.points  # every centre in that box is within 962 m of the station


def test_coverage_is_for_an_organisation_in_scope_and_a_role_that_may_view_stations(tree, actors, circle):
    for username in ("other_district_cadre", "grassroots_cadre"):
        with pytest.raises(NotFound) as exc:
            coverage_analyse(actor=actors[username], org=tree[T01])
        assert exc.value.message == NOT_FOUND
    for username in ("secadmin", "auditor", "sysadmin"):
        with pytest.raises(PermissionDenied) as exc:
            coverage_analyse(actor=actors[username], org=tree[T01])
        assert exc.value.message == NO_PERMISSION


@pytest.mark.parametrize(
    ("arguments", "errors"),
    [
        ({"source": "members"}, {"source": "需求来源只能是导入的需求点、企业或网格"}),
        ({"mode": "drive"}, {"mode": "出行方式只能是步行或骑行"}),
        ({"suggestions": 51}, {"suggestions": "建议选址最多 50 个"}),
        ({"suggestions": -1}, {"suggestions": "建议选址最多 50 个"}),
    ],
)
def test_a_bad_coverage_request_is_refused(tree, actors, arguments, errors):
    with pytest.raises(ValidationFailed) as exc:
        coverage_analyse(actor=actors["district_cadre"], org=tree[T01], **arguments)
    assert errors_of(exc) == errors


# ---------------------------------------------------------------------------------------------------------------
# Registering and changing stations


def test_a_cadre_registers_a_station_in_their_subtree_and_it_is_audited(tree, actors):
    station = station_create(
        actor=actors["town_cadre"],
        org=tree[C1],
        kind="女职工康乃馨服务站",
        name="  竹辉康乃馨服务站 ",
        address="竹辉路１８号",
        lat="31.2990",
        lng="120.6300",
        hours={"1": "08:00-12:00, 14:00-18:00", "6": "全天", "7": "休息"},
        holiday_rule="special",
        holiday_hours="09:00-12:00",
        facilities=["母婴室", "water", "饮水"],
        phone="0512-6524 1234",
        description=" 二楼 ",
    )

    station.refresh_from_db()
    assert (station.org_id, station.kind, station.name, station.address) == (
        tree[C1].id,
        StationKind.WOMEN,
        "竹辉康乃馨服务站",
        "竹辉路18号",
    )
    assert (station.lat, station.lng, station.always_open, station.status) == (31.299, 120.63, False, "open")
    assert station.hours == {
        "1": [["08:00", "12:00"], ["14:00", "18:00"]],
        "2": [],
        "3": [],
        "4": [],
        "5": [],
        "6": [["00:00", "24:00"]],
        "7": [],
    }
    assert (station.holiday_rule, station.holiday_hours) == ("special", [["09:00", "12:00"]])
    assert station.facilities == ["water", "nursing"]
    assert station.facility_labels == ["饮水", "母婴室"]
    assert (station.phone, station.description, station.rating) == ("051265241234", "二楼", None)
    event = AuditEvent.objects.get(action="station.create")
    assert (event.action, event.object_type, event.object_id, event.object_label, event.object_org_path) == (
        "station.create",
        "station",
        str(station.id),
        "竹辉康乃馨服务站",
        tree[C1].path,
    )
    assert (event.actor_label, event.details) == ("town_cadre", {"kind": "women"})


def test_a_station_outside_the_actors_subtree_is_refused_and_nothing_is_written(tree, actors):
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["district_cadre"], tree[WZT1], "木渎驿站", HERE)
    assert errors_of(exc) == {"org": OUT_OF_SCOPE}
    # The "12"/"123" pair: a grassroots cadre of 12 may not register a station for 123.
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["grassroots_cadre"], tree[E123], "一二三驿站", HERE)
    assert errors_of(exc) == {"org": OUT_OF_SCOPE}
    assert not Station.objects.exists()


def test_a_role_without_station_management_may_not_register_a_station(tree, actors):
    for username in ("auditor", "secadmin", "sysadmin"):
        with nothing_changes(), pytest.raises(PermissionDenied):
            make_station(actors[username], tree[T01], "驿站", HERE)


def test_registering_a_station_reports_every_missing_or_bad_field_at_once(tree, actors, system):
    dissolved = org_dissolve(actor=system, org=tree[C1], reason="社区合并")
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_create(actor=actors["town_cadre"], org=tree[T01], name="", address="一号", lat="31.3", lng="120.6")
    assert errors_of(exc) == {"kind": "此项为必填项", "name": "此项为必填项"}

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_create(
            actor=actors["town_cadre"],
            org=tree[T01],
            kind="驿站",
            name="驿站",
            address="一号",
            lat="31.3",
            lng="120.6",
            hours={"2": "08:00-25:00"},
            holiday_rule="sometimes",
            facilities=["饮水", "游泳池"],
            phone="12345",
        )
    assert errors_of(exc) == {
        "kind": "请选择站点类型",
        "hours_2": "周二：时间“25:00”不存在",
        "holiday_rule": "请选择法定节假日的开放方式",
        "facilities": NO_POOL,
        "phone": "联系电话不是有效的中国大陆号码，应为11位手机号或带区号的固定电话",
    }

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_create(
            actor=actors["town_cadre"], org=tree[T01], kind="outdoor", name="驿站", address="一号", lat="31.3",
            lng="120.6",
        )  # fmt: skip
    assert errors_of(exc) == {"hours": "请至少填写一天的开放时间，或选择24小时开放"}

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["town_cadre"], tree[T01], "驿站", HERE, holiday_rule="special", holiday_hours="")
    assert errors_of(exc) == {"holiday_hours": "节假日“另定时间”时请填写节假日开放时间"}

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["town_cadre"], dissolved, "驿站", HERE)
    assert errors_of(exc) == {"org": "所选组织不是正常状态"}

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["town_cadre"], None, "驿站", HERE, address="x" * 201)
    assert errors_of(exc) == {"org": "请选择管理单位", "address": "地址不能超过 200 个字"}


def test_a_station_name_is_unique_within_its_managing_union_only(tree, actors):
    make_station(actors["town_cadre"], tree[T01], "双塔驿站", HERE)

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        make_station(actors["town_cadre"], tree[T01], "双塔驿站", north(HERE, 300))
    assert errors_of(exc) == {"name": "本单位已有同名站点"}

    other = make_station(actors["town_cadre"], tree[C1], "双塔驿站", north(HERE, 300))
    assert other.org_id == tree[C1].id
    assert Station.objects.filter(name="双塔驿站").count() == 2


def test_station_get_finds_only_stations_in_scope(tree, actors, system):
    mine = make_station(system, tree[E12], "十二号驿站", HERE)
    theirs = make_station(system, tree[E123], "一二三驿站", HERE)

    assert station_get(actor=actors["grassroots_cadre"], station_id=mine.id) == mine
    assert station_get(actor=actors["grassroots_cadre"], station_id=str(mine.id)) == mine
    assert station_get(actor=actors["town_cadre"], station_id=theirs.id) == theirs
    for actor, station_id in (
        (actors["grassroots_cadre"], theirs.id),
        (actors["other_district_cadre"], mine.id),
        (actors["town_cadre"], "not-a-uuid"),
        (actors["town_cadre"], "00000000-0000-0000-0000-000000000000"),
    ):
        with pytest.raises(NotFound) as exc:
            station_get(actor=actor, station_id=station_id)
        assert exc.value.message == NOT_FOUND
    with pytest.raises(PermissionDenied):
        station_get(actor=actors["auditor"], station_id=mine.id)


def test_the_station_list_holds_only_the_subtree(tree, actors, system):
    make_station(system, tree[T01], "双塔驿站", HERE)
    make_station(system, tree[E12], "十二号驿站", HERE, kind=StationKind.HOME)
    make_station(system, tree[E123], "一二三驿站", HERE, address="凤凰街")
    set_status(system, make_station(system, tree[C1], "竹辉书屋", HERE, kind=StationKind.BOOKS), "closed")
    make_station(system, tree[T02], "沧浪驿站", HERE)
    make_station(system, tree[WZT1], "木渎驿站", HERE)

    def names(username, **filters):
        return [s.name for s in stations_of(actors[username], **filters)]

    assert names("city_cadre") == ["双塔驿站", "竹辉书屋", "十二号驿站", "一二三驿站", "沧浪驿站", "木渎驿站"]
    assert names("district_cadre") == ["双塔驿站", "竹辉书屋", "十二号驿站", "一二三驿站", "沧浪驿站"]
    assert names("town_cadre") == ["双塔驿站", "竹辉书屋", "十二号驿站", "一二三驿站"]
    assert names("grassroots_cadre") == ["十二号驿站"]
    assert names("other_district_cadre") == ["木渎驿站"]
    assert names("town_cadre", query="凤凰") == ["一二三驿站"]
    assert names("town_cadre", kind="home") == ["十二号驿站"]
    assert names("town_cadre", status="closed") == ["竹辉书屋"]
    with pytest.raises(PermissionDenied):
        stations_of(actors["secadmin"])


def test_an_update_audits_only_the_fields_that_changed(tree, actors):
    station = make_station(actors["town_cadre"], tree[T01], "双塔驿站", HERE, phone="13812341234")
    created_at = Station.objects.get().updated_at

    updated = station_update(
        actor=actors["town_cadre"],
        station=station,
        name="双塔驿站",
        phone="0512-65241234",
        facilities=["充电", "饮水"],
        lat="31.3",
        lng="120.6",
    )

    assert (updated.phone, updated.facilities) == ("051265241234", ["water", "charging"])
    event = AuditEvent.objects.filter(action="station.update").get()
    assert event.details == {"fields": ["facilities", "phone"]}
    assert (event.object_id, event.object_org_path, event.actor_label) == (
        str(station.id),
        tree[T01].path,
        "town_cadre",
    )
    assert Station.objects.get().updated_at > created_at

    with nothing_changes():  # the same values again: nothing to write, nothing to audit
        station_update(actor=actors["town_cadre"], station=station, phone="051265241234", facilities=["饮水", "充电"])


def test_an_update_out_of_scope_or_with_bad_values_changes_nothing(tree, actors, system):
    station = make_station(system, tree[T01], "双塔驿站", HERE)
    make_station(system, tree[T01], "十全街驿站", north(HERE, 500))

    with nothing_changes(), pytest.raises(NotFound):
        station_update(actor=actors["other_district_cadre"], station=station, phone="13812341234")
    with nothing_changes(), pytest.raises(NotFound):
        station_update(actor=actors["grassroots_cadre"], station=station, phone="13812341234")
    with nothing_changes(), pytest.raises(PermissionDenied):
        station_update(actor=actors["auditor"], station=station, phone="13812341234")
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_update(actor=actors["town_cadre"], station=station, name="十全街驿站", phone="13812341234")
    assert errors_of(exc) == {"name": "本单位已有同名站点"}
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_update(actor=actors["town_cadre"], station=station, lat="120.6", lng="31.3")
    assert errors_of(exc) == {"lat": "经纬度填反了：120.6 像是经度、31.3 像是纬度，请交换后重新填写"}


def test_an_update_may_not_leave_a_station_without_any_opening_hours(tree, actors):
    station = make_station(actors["town_cadre"], tree[T01], "双塔驿站", HERE)  # always open, no weekly hours

    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_update(actor=actors["town_cadre"], station=station, always_open=False)
    assert errors_of(exc) == {"hours": "请至少填写一天的开放时间，或选择24小时开放"}


def test_pausing_or_withdrawing_needs_a_reason_and_the_status_must_change(tree, actors):
    cadre = actors["town_cadre"]
    station = make_station(cadre, tree[T01], "双塔驿站", HERE)

    for status in (StationStatus.PAUSED, StationStatus.CLOSED):
        with nothing_changes(), pytest.raises(ValidationFailed) as exc:
            station_status_set(actor=cadre, station=station, status=status, reason="  ")
        assert errors_of(exc) == {"reason": "暂停或撤销站点请说明原因"}
    with nothing_changes(), pytest.raises(DomainError) as exc:
        station_status_set(actor=cadre, station=station, status=StationStatus.OPEN, reason="")
    assert exc.value.message == "站点已经是“开放”状态"
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_status_set(actor=cadre, station=station, status="demolished", reason="拆除")
    assert errors_of(exc) == {"status": "请选择站点状态"}
    with nothing_changes(), pytest.raises(NotFound):
        station_status_set(actor=actors["other_district_cadre"], station=station, status="paused", reason="装修")

    paused = station_status_set(actor=cadre, station=station, status=StationStatus.PAUSED, reason=" 装修 ")
    assert Station.objects.get().status == paused.status == "paused"
    with nothing_changes(), pytest.raises(DomainError) as exc:
        station_status_set(actor=cadre, station=station, status=StationStatus.PAUSED, reason="还在装修")
    assert exc.value.message == "站点已经是“暂停”状态"
    station_status_set(actor=cadre, station=station, status=StationStatus.CLOSED, reason="撤并")
    station_status_set(actor=cadre, station=station, status=StationStatus.OPEN, reason="")  # reopened, no reason

    events = AuditEvent.objects.filter(action="station.status").order_by("at")
    assert [e.details for e in events] == [
        {"from": "open", "to": "paused", "reason": "装修"},
        {"from": "paused", "to": "closed", "reason": "撤并"},
        {"from": "closed", "to": "open", "reason": ""},
    ]
    assert Station.objects.get().status == "open"


def test_the_public_sees_open_and_paused_stations_but_not_withdrawn_ones(tree, system):
    open_one = make_station(system, tree[T01], "开放驿站", HERE, facilities=["饮水"])
    paused = set_status(system, make_station(system, tree[T01], "暂停驿站", HERE), "paused")
    closed = set_status(system, make_station(system, tree[T01], "撤销驿站", HERE), "closed")

    assert station_public_get(open_one.id) == open_one
    assert station_public_get(str(paused.id)).status == "paused"
    with pytest.raises(NotFound) as exc:
        station_public_get(closed.id)
    assert exc.value.message == "站点不存在或已撤销"
    with pytest.raises(NotFound):
        station_public_get("nonsense")
    assert [s.name for s in public_stations()] == ["开放驿站"]
    assert [s.name for s in public_stations(facility="water")] == ["开放驿站"]
    assert public_stations(facility="toilet") == []


# ---------------------------------------------------------------------------------------------------------------
# Photos


def test_jpeg_and_png_photos_are_recognised_by_content(tree, actors, media):
    station = make_station(actors["town_cadre"], tree[T01], "双塔驿站", HERE)

    jpeg = station_photo_add(actor=actors["town_cadre"], station=station, data=JPEG, caption=" 门头 ")
    png = station_photo_add(actor=actors["town_cadre"], station=station, data=PNG)

    assert (jpeg.content_type, jpeg.caption, jpeg.file.name.endswith(".jpg")) == ("image/jpeg", "门头", True)
    assert (png.content_type, png.file.name.endswith(".png")) == ("image/png", True)
    assert (media / jpeg.file.name).read_bytes() == JPEG
    assert (media / png.file.name).read_bytes() == PNG
    events = AuditEvent.objects.filter(action="station.photo").order_by("at")
    assert [e.details for e in events] == [{"photo": jpeg.id}, {"photo": png.id}]


def test_other_files_empty_or_oversized_photos_and_a_seventh_photo_are_refused(tree, actors):
    cadre = actors["town_cadre"]
    station = make_station(cadre, tree[T01], "双塔驿站", HERE)
    too_big = JPEG + b"\x00" * (5 * 1024 * 1024 - len(JPEG) + 1)
    for data, message in (
        (GIF, "只能上传 JPG 或 PNG 照片"),
        (b"%PDF-1.7\n", "只能上传 JPG 或 PNG 照片"),
        (b"\x89PNG", "只能上传 JPG 或 PNG 照片"),  # a truncated signature
        (b"", "请选择照片"),
        (too_big, "照片不能超过 5 MB"),
    ):
        with nothing_changes(), pytest.raises(ValidationFailed) as exc:
            station_photo_add(actor=cadre, station=station, data=data)
        assert errors_of(exc) == {"photo": message}

    largest = station_photo_add(actor=cadre, station=station, data=too_big[:-1])  # exactly 5 MiB
    assert largest.file.size == 5 * 1024 * 1024
    for _ in range(5):
        station_photo_add(actor=cadre, station=station, data=PNG)
    assert station.photos.count() == 6
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_photo_add(actor=cadre, station=station, data=JPEG)
    assert errors_of(exc) == {"photo": "每个站点最多 6 张照片"}
    with nothing_changes(), pytest.raises(NotFound):
        station_photo_add(actor=actors["other_district_cadre"], station=station, data=JPEG)


# ---------------------------------------------------------------------------------------------------------------
# Ratings


@pytest.fixture
def people(tree, system):
    first = enrol(system, tree[E12], name="张伟", seq=11).person
    second = enrol(system, tree[E12], name="李娜", number=resident_id(date(1988, 3, 2), 22)).person
    return first, second


def test_a_member_rates_once_and_rating_again_replaces_the_stars(tree, system, people):
    first, second = people
    station = make_station(system, tree[T01], "双塔驿站", HERE)

    station_rate(actor=RATER, person=first, station=station, stars=4, comment="很方便")
    station.refresh_from_db()
    assert (station.rating_count, station.rating_total, station.rating) == (1, 4, 4.0)

    again = station_rate(actor=RATER, person=first, station=station, stars=2, comment=" 水不热 ")
    station.refresh_from_db()
    assert (station.rating_count, station.rating_total, station.rating) == (1, 2, 2.0)
    assert (again.stars, again.comment) == (2, "水不热")

    station_rate(actor=RATER, person=second, station=station, stars=5)
    station.refresh_from_db()
    assert (station.rating_count, station.rating_total, station.rating) == (2, 7, 3.5)
    assert sorted(StationRating.objects.values_list("person_id", "stars")) == sorted([(first.id, 2), (second.id, 5)])
    rated = AuditEvent.objects.filter(action="station.rate").order_by("at", "id")
    assert [(e.actor_label, e.object_id, e.object_org_path, e.details) for e in rated] == [
        ("portal", str(station.id), tree[T01].path, {"stars": stars}) for stars in (4, 2, 5)
    ]


def test_a_closed_or_paused_station_cannot_be_rated_and_bad_stars_are_refused(tree, system, people):
    first, _ = people
    station = make_station(system, tree[T01], "双塔驿站", HERE)
    station_rate(actor=RATER, person=first, station=station, stars=3)

    for stars in (0, 6, True, "5", 4.5):
        with nothing_changes(), pytest.raises(ValidationFailed) as exc:
            station_rate(actor=RATER, person=first, station=station, stars=stars)
        assert errors_of(exc) == {"stars": "请选择 1 到 5 颗星"}
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        station_rate(actor=RATER, person=first, station=station, stars=5, comment="好" * 201)
    assert errors_of(exc) == {"comment": "评价不能超过 200 字"}
    for status in ("paused", "closed"):
        set_status(system, station, status)
        with nothing_changes(), pytest.raises(NotFound) as exc:
            station_rate(actor=RATER, person=first, station=station, stars=5)
        assert exc.value.message == "站点不存在或未开放"
    station.refresh_from_db()
    assert (station.rating_count, station.rating_total) == (1, 3)


# ---------------------------------------------------------------------------------------------------------------
# Station sheets


SHEET_HEAD = ["序号", "站点", "工会代码", "站点类型", "详细地址", "latitude", "lon", "坐标系", "营业时间", "周日",
              "节假日", "服务设施", "电话", "负责人", "状态"]  # fmt: skip
GCJ = wgs84_to_gcj02(31.31, 120.61)


def sheet_rows(phone: str = "0512-65241234") -> list[list]:
    return [
        SHEET_HEAD,
        [1, "双塔驿站", "sz-gs-t01", "户外劳动者服务站点", "姑苏区十全街1号", 31.299, 120.63, "", "08:00-20:00", "休息",
         "照常开放", "饮水、充电", phone, "王五", "开放"],
        [2, "竹辉妈妈驿站", "SZ-GS-T01-C1", "妈妈驿站", "竹辉路2号", GCJ[0], GCJ[1], "GCJ-02", "24小时", None,
         "闭站", "母婴室，休息", None, None, None],
        [3, "沧浪书屋", "SZ-GS-T02", "books", "沧浪区书院巷3号", "31.28", "120.61", "WGS84",
         "08:00-12:00, 14:00-18:00", "10:00-16:00", "09:00-12:00", "图书 wifi", "13812341234", None, None],
    ]  # fmt: skip


def import_stations(actor, data: bytes, filename: str = "stations.xlsx", *, dry_run: bool = False):
    return stations_import(actor=actor, data=data, filename=filename, dry_run=dry_run)


def test_a_station_sheet_with_a_title_row_and_other_headings_creates_the_stations(tree, actors):
    result = import_stations(actors["district_cadre"], xlsx(sheet_rows()))

    assert result.rows == [
        RowOutcome(3, "双塔驿站", "added"),
        RowOutcome(4, "竹辉妈妈驿站", "added"),
        RowOutcome(5, "沧浪书屋", "added"),
    ]
    assert (result.written, result.dry_run, result.unknown_columns) == (True, False, ["负责人"])
    assert result.summary == {"added": 3, "updated": 0, "unchanged": 0, "error": 0}
    shuangta = Station.objects.get(name="双塔驿站")
    assert (shuangta.org_id, shuangta.kind, shuangta.address, shuangta.lat, shuangta.lng) == (
        tree[T01].id,
        "outdoor",
        "姑苏区十全街1号",
        31.299,
        120.63,
    )
    assert shuangta.hours == {**{str(d): [["08:00", "20:00"]] for d in range(1, 7)}, "7": []}
    assert (shuangta.always_open, shuangta.holiday_rule, shuangta.holiday_hours) == (False, "regular", [])
    assert (shuangta.facilities, shuangta.phone, shuangta.status) == (["water", "charging"], "051265241234", "open")
    mothers = Station.objects.get(name="竹辉妈妈驿站")
    assert (mothers.org_id, mothers.kind, mothers.always_open, mothers.holiday_rule) == (
        tree[C1].id,
        "mothers",
        True,
        "closed",
    )
    assert abs(mothers.lat - 31.31) < 1e-6 and abs(mothers.lng - 120.61) < 1e-6  # GCJ-02 converted
    assert mothers.hours == {str(d): [] for d in range(1, 8)}
    assert mothers.facilities == ["rest", "nursing"]
    books = Station.objects.get(name="沧浪书屋")
    assert (books.org_id, books.kind, books.holiday_rule, books.holiday_hours) == (
        tree[T02].id,
        "books",
        "special",
        [["09:00", "12:00"]],
    )
    assert books.hours == {
        **{str(d): [["08:00", "12:00"], ["14:00", "18:00"]] for d in range(1, 7)},
        "7": [["10:00", "16:00"]],
    }
    assert (books.facilities, books.phone) == (["books", "wifi"], "13812341234")
    assert AuditEvent.objects.filter(action="station.create").count() == 3
    event = AuditEvent.objects.get(action="stations.import")
    assert (event.actor_label, event.object_org_path) == ("district_cadre", tree[GS].path)
    assert event.details == {"file": "stations.xlsx", "added": 3, "updated": 0, "unchanged": 0, "error": 0}


def test_importing_the_same_sheet_again_changes_nothing(tree, actors):
    content = xlsx(sheet_rows())
    import_stations(actors["district_cadre"], content)
    before = state()

    again = import_stations(actors["district_cadre"], content)

    assert [(r.line, r.status) for r in again.rows] == [(3, "unchanged"), (4, "unchanged"), (5, "unchanged")]
    assert again.written is True
    after = state()
    assert after["stations"] == before["stations"]  # not even updated_at moved
    assert after["audit"] == before["audit"] + 1  # only the import itself is recorded
    assert AuditEvent.objects.filter(action="stations.import").order_by("at").last().details == {
        "file": "stations.xlsx", "added": 0, "updated": 0, "unchanged": 3, "error": 0,
    }  # fmt: skip
    assert not AuditEvent.objects.filter(action="station.update").exists()


def test_an_update_row_changes_only_that_station(tree, actors):
    import_stations(actors["district_cadre"], xlsx(sheet_rows()))
    before = {s.name: s for s in Station.objects.all()}

    result = import_stations(actors["district_cadre"], xlsx(sheet_rows(phone="13912345678")), "更新.xlsx")

    assert [(r.line, r.name, r.status) for r in result.rows] == [
        (3, "双塔驿站", "updated"),
        (4, "竹辉妈妈驿站", "unchanged"),
        (5, "沧浪书屋", "unchanged"),
    ]
    after = {s.name: s for s in Station.objects.all()}
    assert after["双塔驿站"].phone == "13912345678"
    assert after["双塔驿站"].updated_at > before["双塔驿站"].updated_at
    for name in ("竹辉妈妈驿站", "沧浪书屋"):
        assert [getattr(after[name], f) for f in STATION_FIELDS] == [getattr(before[name], f) for f in STATION_FIELDS]
    update = AuditEvent.objects.get(action="station.update")
    assert (update.object_id, update.details) == (str(before["双塔驿站"].id), {"fields": ["phone"]})
    assert AuditEvent.objects.filter(action="stations.import").order_by("at").last().details == {
        "file": "更新.xlsx", "added": 0, "updated": 1, "unchanged": 2, "error": 0,
    }  # fmt: skip


def test_every_row_error_is_reported_with_its_line_and_nothing_is_written(tree, actors, system):
    org_dissolve(actor=system, org=tree[C1], reason="社区合并")
    existing = make_station(system, tree[T02], "沧浪书屋", (31.28, 120.61), phone="13812341234")
    rows = [
        SHEET_HEAD,
        [1, "双塔驿站", "SZ-GS-T01", "", "十全街1号", 31.299, 120.63, "", "08:00-20:00", None, "", "饮水", "", "", ""],
        [2, "十全街驿站", "SZ-GS-T01", "", "十全街5号", 120.63, 31.29, "", "全天", None, "", "", "", "", ""],
        None,  # a blank line 5 is skipped but counted
        [4, "无名驿站", "SZ-XX-99", "", "某路", 31.3, 120.6, "", "全天", None, "", "", "", "", ""],
        [5, "木渎驿站", "SZ-WZ-T01", "", "木渎镇", 31.26, 120.51, "", "全天", None, "", "", "", "", ""],
        [6, "双塔驿站", "sz-gs-t01", "", "十全街9号", 31.3, 120.6, "", "全天", None, "", "", "", "", ""],
        [7, "夜间驿站", "SZ-GS-T01", "", "夜路", 31.3, 120.6, "", "08:00-25:00", "8点-12点", "", "", "", "", ""],
        [8, "缺项驿站", "SZ-GS-T01", "", "", None, 120.6, "", "全天", None, "", "", "", "", ""],
        [9, "竹辉驿站", "SZ-GS-T01-C1", "", "竹辉路", 31.3, 120.6, "", "全天", None, "", "", "", "", ""],
        [10, "驿站甲", "SZ-GS-T01", "驿站", "甲路", 31.3, 120.6, "", "全天", None, "", "", "", "", ""],
        [11, "驿站乙", "SZ-GS-T01", "", "乙路", 31.3, 120.6, "BD-09", "全天", None, "", "", "", "", ""],
        [12, "驿站丙", "SZ-GS-T01", "", "丙路", 0, 0, "", "全天", None, "", "", "", "", ""],
        [13, "驿站丁", "SZ-GS-T01", "", "丁路", 31.3, 120.6, "", "全天", None, "", "饮水、游泳池", "", "", ""],
        [14, "沧浪书屋", "SZ-GS-T02", "职工书屋", "沧浪区书院巷3号", 31.28, 120.61, "", "全天", None, "", "",
         "13900000000", "", ""],
    ]  # fmt: skip
    # A bad everyday column is reported once (the 周日 column's own error shows after it is fixed).
    hours_reason = "开放时间：时间“25:00”不存在"

    with nothing_changes():
        result = import_stations(actors["district_cadre"], xlsx(rows), "有错.xlsx")

    assert result.rows == [
        RowOutcome(3, "双塔驿站", "added"),
        RowOutcome(4, "十全街驿站", "error", "经纬度填反了：120.63 像是经度、31.29 像是纬度，请交换后重新填写"),
        RowOutcome(6, "无名驿站", "error", "管理单位代码“SZ-XX-99”不存在或不在您的管辖范围内"),
        RowOutcome(7, "木渎驿站", "error", "管理单位代码“SZ-WZ-T01”不存在或不在您的管辖范围内"),
        RowOutcome(8, "双塔驿站", "error", "与第3行是同一站点（同一管理单位、同名）"),
        RowOutcome(9, "夜间驿站", "error", hours_reason),
        RowOutcome(10, "缺项驿站", "error", "请填写地址、纬度"),
        RowOutcome(11, "竹辉驿站", "error", "所选组织不是正常状态"),
        RowOutcome(12, "驿站甲", "error", "请选择站点类型"),
        RowOutcome(13, "驿站乙", "error", "坐标系“BD-09”无法识别，请填写 WGS84 或 GCJ-02"),
        RowOutcome(14, "驿站丙", "error", "坐标是 0,0（没有定位），请填写站点的实际经纬度"),
        RowOutcome(
            15,
            "驿站丁",
            "error",
            NO_POOL,
        ),
        RowOutcome(16, "沧浪书屋", "updated"),
    ]
    assert result.summary == {"added": 1, "updated": 1, "unchanged": 0, "error": 11}
    assert result.written is False
    assert Station.objects.get().phone == existing.phone == "13812341234"


def test_a_dry_run_reports_the_rows_and_writes_nothing(tree, actors):
    with nothing_changes():
        result = import_stations(actors["district_cadre"], xlsx(sheet_rows()), dry_run=True)

    assert [(r.line, r.status) for r in result.rows] == [(3, "added"), (4, "added"), (5, "added")]
    assert (result.dry_run, result.written) == (True, False)
    assert not Station.objects.exists()


def test_a_gbk_csv_with_a_title_line_and_full_width_digits_is_imported(tree, actors):
    text = (
        "沧浪区服务站点\r\n"
        "名称,管理单位代码,地址,纬度,经度,开放时间,周六,配套设施,联系电话,备注\r\n"
        "沧浪驿站,SZ-GS-T02,沧浪区人民路８号,３１.２９,１２０.６１,０８：００－２０：００,休息,饮水，热饭,,靠近地铁站\r\n"
        "精工驿站,SZ-GS-T02-E1,沧浪区工业园1号,31.285,120.615,全天,,卫生间,0512-65241234,\r\n"
    )
    data = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    with nothing_changes():
        preview = import_stations(actors["district_cadre"], data, "站点.csv", dry_run=True)
    result = import_stations(actors["district_cadre"], data, "站点.csv")

    assert [(r.line, r.name, r.status) for r in preview.rows] == [(3, "沧浪驿站", "added"), (4, "精工驿站", "added")]
    assert result.rows == [RowOutcome(3, "沧浪驿站", "added"), RowOutcome(4, "精工驿站", "added")]
    canglang = Station.objects.get(name="沧浪驿站")
    assert (canglang.org_id, canglang.address, canglang.lat, canglang.lng) == (
        tree[T02].id,
        "沧浪区人民路8号",
        31.29,
        120.61,
    )
    assert canglang.hours == {**{str(d): [["08:00", "20:00"]] for d in (1, 2, 3, 4, 5, 7)}, "6": []}
    assert (canglang.facilities, canglang.phone, canglang.description) == (["water", "meals"], "", "靠近地铁站")
    jinggong = Station.objects.get(name="精工驿站")
    assert (jinggong.org_id, jinggong.always_open, jinggong.facilities, jinggong.phone) == (
        tree[T02E1].id,
        True,
        ["toilet"],
        "051265241234",
    )


def test_an_unusable_station_sheet_is_refused_as_a_whole(tree, actors):
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        import_stations(actors["district_cadre"], b"", "空.xlsx")
    assert errors_of(exc) == {"file": "上传的文件是空的"}
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        import_stations(actors["district_cadre"], xlsx([SHEET_HEAD]))
    assert errors_of(exc) == {"file": "表头下方没有数据"}
    with nothing_changes(), pytest.raises(PermissionDenied):
        import_stations(actors["auditor"], xlsx(sheet_rows()))


def test_the_facility_label_with_a_slash_is_read_from_a_sheet(tree, actors):
    rows = [
        SHEET_HEAD,
        [1, "空调驿站", "SZ-GS-T01", "", "十全街1号", 31.3, 120.6, "", "全天", None, "", "饮水、空调/取暖"],
    ]

    result = import_stations(actors["district_cadre"], xlsx(rows))

    assert result.rows == [RowOutcome(3, "空调驿站", "added")]
    assert Station.objects.get().facilities == ["water", "climate"]


# ---------------------------------------------------------------------------------------------------------------
# Demand-point sheets


def demand_csv(*rows: str) -> bytes:
    return ("户外劳动者分布\n名称,纬度,经度,户外劳动者人数,备注\n" + "".join(f"{row}\n" for row in rows)).encode()


def test_a_demand_sheet_replaces_the_organisations_own_points_with_one_audit_event(tree, actors):
    kept = demand(tree[C1], "竹辉环卫所", HERE, 12)  # a child's points are not the organisation's own
    first = demand_points_import(
        actor=actors["town_cadre"],
        org=tree[T01],
        data=demand_csv("顺丰分拨中心,31.31,120.61,120,", "环卫所,３１.３２,120.62,35,", "工地,31.33,120.63,80,夜班"),
        filename="需求点.csv",
        dry_run=False,
    )
    assert first.rows == [
        RowOutcome(3, "顺丰分拨中心", "added"),
        RowOutcome(4, "环卫所", "added"),
        RowOutcome(5, "工地", "added"),
    ]
    assert first.written is True
    assert sorted(DemandPoint.objects.filter(org=tree[T01]).values_list("name", "lat", "lng", "workers")) == [
        ("工地", 31.33, 120.63, 80),
        ("环卫所", 31.32, 120.62, 35),
        ("顺丰分拨中心", 31.31, 120.61, 120),
    ]
    events_before = AuditEvent.objects.count()

    second = demand_points_import(
        actor=actors["town_cadre"],
        org=tree[T01],
        data=demand_csv("新分拨中心,31.34,120.64,200,", "新工地,31.35,120.65,15,"),
        filename="需求点2.csv",
        dry_run=False,
    )

    assert [(r.line, r.status) for r in second.rows] == [(3, "added"), (4, "added")]
    assert sorted(DemandPoint.objects.filter(org=tree[T01]).values_list("name", "workers")) == [
        ("新分拨中心", 200),
        ("新工地", 15),
    ]
    assert list(DemandPoint.objects.filter(org=tree[C1]).values_list("id", "name")) == [(kept.id, "竹辉环卫所")]
    assert AuditEvent.objects.count() == events_before + 1
    event = AuditEvent.objects.filter(action="stations.demand_import").order_by("at").last()
    assert (event.object_type, event.object_id, event.object_org_path, event.actor_label) == (
        "organisation",
        str(tree[T01].id),
        tree[T01].path,
        "town_cadre",
    )
    assert event.details == {"file": "需求点2.csv", "points": 2, "replaced": 3}


def test_a_demand_sheet_with_any_bad_row_or_a_dry_run_writes_nothing(tree, actors):
    demand(tree[T01], "原有需求点", HERE, 10)
    bad = demand_csv(
        "分拨中心,31.31,120.61,120,",
        "半个人,31.31,120.61,12.5,",
        "没坐标,,120.61,10,",
        ",31.31,120.61,0,",
        "填反了,120.61,31.31,很多,",
    )
    with nothing_changes():
        result = demand_points_import(
            actor=actors["town_cadre"], org=tree[T01], data=bad, filename="b.csv", dry_run=False
        )
    assert result.rows == [
        RowOutcome(3, "分拨中心", "added"),
        RowOutcome(4, "半个人", "error", "人数应为 1 至 1000000 之间的整数"),
        RowOutcome(5, "没坐标", "error", "请填写纬度"),
        RowOutcome(6, "", "error", "请填写名称；人数应为 1 至 1000000 之间的整数"),
        RowOutcome(
            7,
            "填反了",
            "error",
            "经纬度填反了：120.61 像是经度、31.31 像是纬度，请交换后重新填写；人数应为 1 至 1000000 之间的整数",
        ),
    ]
    assert result.written is False

    with nothing_changes():
        preview = demand_points_import(
            actor=actors["town_cadre"], org=tree[T01], data=demand_csv("甲,31.31,120.61,5,"), filename="p.csv",
            dry_run=True,
        )  # fmt: skip
    assert (preview.rows, preview.written) == ([RowOutcome(3, "甲", "added")], False)

    good = demand_csv("甲,31.31,120.61,5,")
    with nothing_changes(), pytest.raises(ValidationFailed) as exc:
        demand_points_import(
            actor=actors["other_district_cadre"], org=tree[T01], data=good, filename="g.csv", dry_run=False
        )
    assert errors_of(exc) == {"org": OUT_OF_SCOPE}
    with nothing_changes(), pytest.raises(PermissionDenied):
        demand_points_import(actor=actors["auditor"], org=tree[T01], data=good, filename="g.csv", dry_run=False)


def test_gcj02_demand_points_are_converted(tree, actors):
    shifted = wgs84_to_gcj02(31.31, 120.61)
    data = f"名称,纬度,经度,人数,坐标系\n分拨中心,{shifted[0]:.9f},{shifted[1]:.9f},30,火星坐标\n".encode()

    demand_points_import(actor=actors["town_cadre"], org=tree[T01], data=data, filename="g.csv", dry_run=False)

    point = DemandPoint.objects.get()
    assert abs(point.lat - 31.31) < 1e-6 and abs(point.lng - 120.61) < 1e-6


def test_an_infinite_number_of_workers_is_a_row_error_not_a_crash(tree, actors):
    data = demand_csv("分拨中心,31.31,120.61,inf,")

    result = demand_points_import(actor=actors["town_cadre"], org=tree[T01], data=data, filename="i.csv", dry_run=True)

    assert result.rows == [RowOutcome(3, "分拨中心", "error", "人数应为 1 至 1000000 之间的整数")]
