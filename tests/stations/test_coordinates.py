"""Service stations (服务阵地, gonghui/stations): reading, checking and converting coordinates (WGS-84,
GCJ-02)."""

import math

import pytest

from gonghui.common.errors import ValidationFailed
from gonghui.common.geo import box_around, clean_coordinates, distance_m, gcj02_to_wgs84, wgs84_to_gcj02
from gonghui.stations.models import Station, StationKind
from gonghui.stations.services import station_create
from tests.stations.factories import HERE, REGION, T01, errors_of, make_station, nothing_changes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


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
