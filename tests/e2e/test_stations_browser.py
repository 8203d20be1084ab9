"""The public station map (服务站点地图) on a phone, in a real browser: a rider opens the map without signing in, lets
the page use the phone's position, and gets the nearest open stations in distance order with walking and riding
times; a paused station never appears and the filter for 母婴室 narrows the list; the first station's page shows its
hours, holiday rule and facilities. Then a tap on the map asks for the stations near another point. The view
follows the list (the rider and every listed station inside the map's bounds), the region's district outlines are
drawn, and a cadre's 15-minute circle is fitted to its cells and suggested sites, each named by its 街道.

The phone's position is fixed through the browser context's geolocation (granted), so the list is exact.
Screenshots: var/test-output/e2e/stations-*.png.
"""

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Page, expect

from gonghui.common.geo import distance_m
from gonghui.demo.federation import DISTRICTS
from gonghui.stations.models import Facility, StationKind, StationStatus
from gonghui.stations.services import station_create, station_status_set
from gonghui.stations.travel import RIDE, WALK, distance_text, duration_text
from tests.e2e.conftest import _require_chromium

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "test-output" / "e2e"
HERE = (31.3000, 120.6200)  # the rider's position (WGS84)
# name, kind, offset north and east in metres, always open, facilities
STATIONS = [
    ("双塔户外劳动者服务站", StationKind.OUTDOOR, 300, 0, True, [Facility.WATER, Facility.CHARGING]),
    ("沧浪妈妈驿站", StationKind.MOTHERS, 0, 800, False, [Facility.NURSING, Facility.REST]),
    ("竹辉职工书屋", StationKind.BOOKS, -1500, 0, False, [Facility.BOOKS]),
    ("木渎司机之家", StationKind.DRIVERS, 0, -2500, True, [Facility.WATER, Facility.TOILET]),
]
DOTS = (
    "(() => { let n = 0; document.getElementById('station-map').ghMap"
    ".eachLayer(layer => { if (layer instanceof L.CircleMarker) n++; }); return n; })()"
)
IN_VIEW = (
    "(points) => { const bounds = document.getElementById('station-map').ghMap.getBounds();"
    " return points.map(p => bounds.contains(L.latLng(p[0], p[1]))); }"
)
ZOOM = "() => document.getElementById('station-map').ghMap.getZoom()"
OUTLINES_DRAWN = (
    "() => { const layer = document.getElementById('station-map').ghDistricts;"
    " return !!layer && layer.getLayers().length === 9; }"
)
OUTLINE_NAMES = (
    "() => document.getElementById('station-map').ghDistricts.getLayers().map(l => l.feature.properties.name).sort()"
)
PAUSED = ("暂停的驿站", StationKind.OUTDOOR, 100, 100, True, [Facility.WATER])


def _point(north_m: float, east_m: float) -> tuple[float, float]:
    lat = HERE[0] + north_m / 111_195.0
    lng = HERE[1] + east_m / (111_195.0 * 0.8544)  # cos(31.3°)
    return round(lat, 7), round(lng, 7)


def _create(system, tree, spec):
    name, kind, north, east, always, facilities = spec
    lat, lng = _point(north, east)
    return station_create(
        actor=system,
        org=tree["SZ-GS-T01"],
        kind=kind,
        name=name,
        address=f"姑苏区{name}路1号",
        lat=lat,
        lng=lng,
        always_open=always,
        hours={} if always else {str(d): "00:00-24:00" for d in range(1, 8)},
        facilities=facilities,
    )


@pytest.fixture
def stations(transactional_db, live_server, tree, system):
    created = [_create(system, tree, spec) for spec in STATIONS]
    paused = _create(system, tree, PAUSED)
    station_status_set(actor=system, station=paused, status=StationStatus.PAUSED, reason="装修")
    return created


@pytest.fixture
def located_phone():
    """A phone (360x740, touch, zh-CN) that lets the page read its position."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    from scripts.browser import CHROMIUM, CHROMIUM_ARGS
    from tests.e2e.conftest import PHONE

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                **PHONE, geolocation={"latitude": HERE[0], "longitude": HERE[1]}, permissions=["geolocation"]
            )
            context.set_default_timeout(10_000)
            yield context.new_page()
            context.close()
        finally:
            browser.close()
            from django.db import connections

            connections.close_all()


def expected_lines(stations) -> list[str]:
    lines = []
    for station in sorted(stations, key=lambda s: distance_m(*HERE, s.lat, s.lng)):
        metres = distance_m(*HERE, station.lat, station.lng)
        lines.append(
            f"距离 {distance_text(metres)} · 步行{duration_text(WALK.minutes(metres))}"
            f" · 骑行{duration_text(RIDE.minutes(metres))}"
        )
    return lines


def test_a_rider_finds_the_nearest_open_stations_from_the_phone(located_phone: Page, live_server, stations):
    page = located_phone
    page.goto(f"{live_server.url}/map/")
    expect(page.get_by_role("heading", name="服务站点地图")).to_be_visible()
    expect(page.locator("text=共 4 个开放站点")).to_be_visible()
    # Leaflet drew one dot per open station, on a canvas over the plain background (no tile layer configured).
    expect(page.locator("#station-map canvas")).to_have_count(1)
    assert page.evaluate(DOTS) == 4
    assert page.locator("#station-map .leaflet-tile").count() == 0

    page.get_by_role("button", name="定位我的位置，查找最近的站点").click()

    items = page.locator("#station-nearest li")
    expect(items).to_have_count(4)
    names = [items.nth(i).locator("strong").inner_text() for i in range(4)]
    assert names == ["双塔户外劳动者服务站", "沧浪妈妈驿站", "竹辉职工书屋", "木渎司机之家"]
    assert [items.nth(i).locator("small").nth(1).inner_text() for i in range(4)] == expected_lines(stations)
    expect(page.locator("#station-hint")).to_have_text("已按您的位置查找。")
    # The view was fitted to the rider and every listed station (the nearest is 300 m away, the farthest 2.5 km): all
    # of them are inside the map's bounds, and the view is not the whole region any more.
    page.wait_for_function("() => document.getElementById('station-map').ghFitted >= 1")
    assert page.evaluate(IN_VIEW, [list(HERE)] + [[s.lat, s.lng] for s in stations]) == [True] * 5
    assert page.evaluate(ZOOM) >= 13
    # The district outlines of the region are drawn (the site's own file), one layer per district, under the dots.
    page.wait_for_function(OUTLINES_DRAWN)
    assert page.evaluate(OUTLINE_NAMES) == sorted(name for name, _, _, _ in DISTRICTS)
    assert page.locator("#station-map .gh-district-label", has_text="姑苏区").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "stations-nearest.png"), full_page=True)

    # Only stations with a nursing room: the filter form keeps the position.
    page.locator("select[name=facility]").select_option(Facility.NURSING)
    page.get_by_role("button", name="定位我的位置，查找最近的站点").click()
    expect(items).to_have_count(1)
    expect(items.first.locator("strong")).to_have_text("沧浪妈妈驿站")

    items.first.locator("a").click()
    expect(page.get_by_role("heading", name="沧浪妈妈驿站")).to_be_visible()
    expect(page.locator("dl.kv dt")).to_have_text(["周一", "周二", "周三", "周四", "周五", "周六", "周日"])
    expect(page.locator("dl.kv dd").first).to_have_text("全天")
    expect(page.locator("ul.chips li")).to_have_text(["休息", "母婴室"])
    expect(page.locator("text=法定节假日：照常开放")).to_be_visible()
    metres = distance_m(*HERE, stations[1].lat, stations[1].lng)
    expect(page.locator(f"text=距离您 {distance_text(metres)}")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "stations-detail.png"), full_page=True)


def test_a_tap_on_the_map_asks_for_the_stations_near_that_point(located_phone: Page, live_server, stations):
    page = located_phone
    page.goto(f"{live_server.url}/map/")
    page.wait_for_function("() => " + DOTS + " === 4")  # a function: a bare expression would be eval-ed
    box = page.locator("#station-map").bounding_box()

    with page.expect_response(lambda response: "/map/nearest/" in response.url) as asked:
        # A tap in the middle of the map, which opens fitted to the open stations: a point among them, not the rider.
        page.locator("#station-map").tap(position={"x": box["width"] / 2, "y": box["height"] / 2})

    query = parse_qs(urlparse(asked.value.url).query)
    tapped = (float(query["lat"][0]), float(query["lng"][0]))
    assert tapped != HERE
    items = page.locator("#station-nearest li")
    expect(items).to_have_count(4)
    by_distance = sorted(stations, key=lambda s: distance_m(*tapped, s.lat, s.lng))
    assert [items.nth(i).locator("strong").inner_text() for i in range(4)] == [s.name for s in by_distance]
    nearest = distance_m(*tapped, by_distance[0].lat, by_distance[0].lng)
    assert items.first.locator("small").nth(1).inner_text().startswith(f"距离 {distance_text(nearest)} · ")


RESULTS_IN_VIEW = (
    "() => { const map = document.getElementById('gh-coverage-map').ghMap; const bounds = map.getBounds();"
    " const data = JSON.parse(document.getElementById('gh-coverage-data').textContent);"
    " const points = data.suggestions.map(s => [s.lat, s.lng]);"
    " data.cells.forEach(c => c.boundary.forEach(p => points.push(p)));"
    " return [points.length, points.every(p => bounds.contains(L.latLng(p[0], p[1])))]; }"
)
COVERAGE_OUTLINES = (
    "() => { const layer = document.getElementById('gh-coverage-map').ghDistricts;"
    " return !!layer && layer.getLayers().length === 9; }"
)


def test_a_cadre_sees_the_circle_fitted_to_its_results_inside_the_district_outlines(
    browser_page: Page, live_server, stations, tree, accounts, system
):
    """A district cadre's 15-minute circle of 双塔街道: the view holds every demand cell and suggested site, the
    region's districts are outlined, and the suggested site is named by its 街道, on the map as in the table."""
    from gonghui.stations.services import demand_points_replace
    from tests.e2e.test_backoffice_browser import sign_in

    rows = [
        {"name": "配送站", "lat": _point(1800, 0)[0], "lng": _point(1800, 0)[1], "workers": 30},  # 1.5 km beyond 双塔
        {"name": "环卫所", "lat": _point(100, 100)[0], "lng": _point(100, 100)[1], "workers": 10},  # covered
    ]
    demand_points_replace(actor=system, org=tree["SZ-GS-T01"], rows=rows, filename="需求点.csv")
    page = browser_page
    base = live_server.url
    sign_in(page, base, "district_cadre")
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/stations/coverage/?org=SZ-GS-T01&source=points&suggestions=1")
    expect(page.locator("#gh-coverage-share")).to_have_text("25.0%")
    cells = page.locator("#gh-suggestions tbody tr td")
    expect(cells.nth(1)).to_contain_text("姑苏区双塔街道")
    page.wait_for_function(COVERAGE_OUTLINES)
    assert page.evaluate(RESULTS_IN_VIEW) == [1 + 2 * 6, True]  # one site, two hexagons of six corners
    expect(page.locator("#gh-coverage-map .gh-suggestion")).to_have_attribute(
        "title", "建议站点 1（姑苏区双塔街道）：新增覆盖 30"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "stations-coverage.png"), full_page=True)


def test_a_list_in_the_address_is_in_view_without_a_tap(located_phone: Page, live_server, stations):
    """The map opened with a point in its address (a shared link, or no script for the list): the server lists the
    nearest stations and the view is fitted to the point and all of them on load."""
    page = located_phone
    page.goto(f"{live_server.url}/map/?lat={HERE[0]}&lng={HERE[1]}")
    expect(page.locator("#station-nearest li")).to_have_count(4)
    page.wait_for_function("() => " + DOTS + " === 4")
    assert page.evaluate(IN_VIEW, [list(HERE)] + [[s.lat, s.lng] for s in stations]) == [True] * 5
    assert page.evaluate(ZOOM) >= 13
