"""Service stations: the 15-minute circle page of an organisation and the map of the nearest stations."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.stations.page_factories import C1, E12, E123, MISSING_CODE, SWAPPED, SZ, T01, WZ, WZT01, P, detail, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def card(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def table_rows(html: str) -> list[list[str]]:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def json_script(page: str, element_id: str):
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


# ================================================================ 5. the 15-minute circle


def coverage(client: Client, **query):
    return client.get(reverse("admin:station_coverage"), query)


def figures(page: str) -> list[list[str]]:
    return table_rows(card(page, "gh-coverage-figures"))


def test_the_circle_of_a_town_on_foot_with_two_suggested_sites(demand, login):
    response = coverage(login("district_cadre"), org=T01, source="points", mode="walk", suggestions="2")
    assert response.status_code == 200
    page = text(response)
    assert '<h2 class="gh-h2">双塔街道总工会 · 15分钟服务圈</h2>' in page
    assert "15分钟可达距离按直线距离 × 1.3 的绕行系数计算：962 米以内（直线）有开放站点即为覆盖。" in page
    assert '<td class="gh-num" id="gh-coverage-share">54.5%</td>' in page
    assert figures(page) == [
        ["开放站点", "3 个"],
        ["需求点", "5 个，其中覆盖 2 个"],
        ["劳动者", "110 人，其中覆盖 60"],
        ["覆盖率", "54.5%"],
    ]
    assert table_rows(card(page, "gh-uncovered")) == [
        ["环卫所", "31.32000, 120.60000", "25", "1223 米"],
        ["工地", "31.32100, 120.60100", "15", "1338 米"],
        ["快递点", "31.35000, 120.65000", "10", "6581 米"],
    ]
    # Each suggested site is named by its district (the shipped outlines) and, where a known place of that
    # district is near, by the 街道 of that place's town union; the coordinates follow in small print.
    assert table_rows(card(page, "gh-suggestions")) == [
        [
            "1",
            '姑苏区双塔街道<br><span class="gh-muted">依据：最近的站点“竹辉妈妈驿站”（相距 1.3 公里）；'
            "坐标 31.32083, 120.59953</span>",
            "40",
            "2",
            "90.9%",
        ],
        [
            "2",
            '相城区<br><span class="gh-muted">2 公里内没有已登记所属街道（镇）的站点或企业，仅能确定区县；'
            "坐标 31.35130, 120.64942</span>",
            "10",
            "1",
            "100.0%",
        ],
    ]
    data = json_script(page, "gh-coverage-data")
    assert data["bounds"] == [[30.75, 119.9], [32.05, 121.4]]
    assert [(cell["demand"], cell["covered"]) for cell in data["cells"]] == [(40, 0), (10, 0), (40, 40), (20, 20)]
    assert all(len(cell["boundary"]) == 6 for cell in data["cells"])
    assert data["uncovered"] == [
        {"name": "环卫所", "lat": 31.32, "lng": 120.6, "workers": 25},
        {"name": "工地", "lat": 31.321, "lng": 120.601, "workers": 15},
        {"name": "快递点", "lat": 31.35, "lng": 120.65, "workers": 10},
    ]
    assert data["suggestions"] == [
        {"lat": 31.320832, "lng": 120.599528, "adds": 40, "place": "姑苏区双塔街道"},
        {"lat": 31.351303, "lng": 120.649416, "adds": 10, "place": "相城区"},
    ]
    assert data["districts"] == "/static/stations/districts.geojson"
    # The open stations near the cells (木渎驿站 lies 5 km beyond them; paused and withdrawn ones never count).
    assert data["stations"] == [
        {"name": "双塔驿站", "lat": 31.3027, "lng": 120.6},
        {"name": "竹辉妈妈驿站", "lat": 31.309, "lng": 120.6},
    ]
    form = page[page.index('id="gh-coverage-form"') : page.index("</form>", page.index('id="gh-coverage-form"'))]
    assert f'<input type="hidden" name="org" value="{T01}">' in form
    assert '<option value="points" selected>导入的需求点</option>' in form
    assert '<option value="walk" selected>步行（5 公里/小时）</option>' in form
    assert '<input type="number" name="suggestions" value="2"' in form


def test_by_e_bike_all_but_the_far_point_are_covered(demand, login):
    page = text(coverage(login("town_cadre"), org=T01, mode="ride", suggestions="0"))
    assert "2885 米以内（直线）" in page
    assert figures(page)[1:] == [
        ["需求点", "5 个，其中覆盖 4 个"],
        ["劳动者", "110 人，其中覆盖 100"],
        ["覆盖率", "90.9%"],
    ]
    assert table_rows(card(page, "gh-uncovered")) == [["快递点", "31.35000, 120.65000", "10", "6581 米"]]
    assert '<p class="gh-muted">没有需要补充的站点。</p>' in card(page, "gh-suggestions")


def test_the_circle_of_the_community_only_counts_its_own_points(demand, login):
    page = text(coverage(login("town_cadre"), org=C1))
    assert figures(page) == [
        ["开放站点", "3 个"],
        ["需求点", "1 个，其中覆盖 1 个"],
        ["劳动者", "20 人，其中覆盖 20"],
        ["覆盖率", "100.0%"],
    ]
    assert '<p class="gh-muted">全部覆盖。</p>' in card(page, "gh-uncovered")


def test_without_demand_points_the_page_says_where_to_import_them(layout, login):
    page = text(coverage(login("grassroots_cadre")))
    assert '<h2 class="gh-h2">十二号公司工会委员会 · 15分钟服务圈</h2>' in page
    assert '<td class="gh-num" id="gh-coverage-share">—（没有需求数据）</td>' in page
    link = f'<a class="gh-link" href="{reverse("admin:demand_import")}?org={E12}">导入需求点</a>'
    assert f"请先{link}，或改用企业、网格作为需求来源。" in page
    assert json_script(page, "gh-coverage-data")["cells"] == []


@pytest.mark.parametrize(
    "username, code",
    [("district_cadre", WZ), ("district_cadre", WZT01), ("district_cadre", SZ), ("grassroots_cadre", E123)],
)
def test_the_circle_of_an_org_out_of_scope_is_the_missing_page(demand, login, username, code):
    client = login(username)
    hidden = coverage(client, org=code, source="points", mode="walk", suggestions="2")
    absent = coverage(client, org=MISSING_CODE, source="points", mode="walk", suggestions="2")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.content == absent.content
    assert "木渎工地" not in text(hidden)


# ================================================================ 6. the portal's e-map


def nearest_items(page: str) -> list[tuple[str, str, str, str, str]]:
    """(link, name, type · open, distance and times, address) of each station of the nearest list."""
    return re.findall(
        r'<li data-lat="[0-9.]+" data-lng="[0-9.]+"><a href="([^"]*)">'
        r"\s*<strong>([^<]*)</strong>\s*<small>([^<]*)</small>\s*<small>([^<]*)</small>\s*"
        r"<small>([^<]*)</small>\s*</a></li>",
        page,
    )


def test_the_map_counts_the_open_stations_and_carries_them_for_the_script(layout):
    response = Client().get(reverse("portal:station_map"))
    assert response.status_code == 200
    page = text(response)
    assert "户外劳动者服务站点、工会驿站、妈妈驿站、职工之家……共 3 个开放站点。" in page
    data = json_script(page, "station-data")
    assert data == {
        "bounds": [[30.75, 119.9], [32.05, 121.4]],
        "tiles": {"url": "", "attribution": "", "subdomains": "01234567"},
        "stations": [
            {"id": str(s.id), "name": s.name, "lat": s.lat, "lng": s.lng, "kind": s.get_kind_display()}
            for s in sorted((layout.shuangta, layout.zhuhui, layout.mudu), key=lambda s: s.name)
        ],
        "detail": "/stations/00000000-0000-0000-0000-000000000000/",
        "districts": "/static/stations/districts.geojson",
    }
    assert "离您最近的站点" not in page


def test_the_nearest_stations_in_distance_order_with_walking_and_riding_times(layout):
    page = text(Client().get(reverse("portal:station_map"), P))
    assert "共 3 个开放站点" in page
    assert '<input type="hidden" name="lat" value="31.3"><input type="hidden" name="lng" value="120.6">' in page
    assert nearest_items(page) == [
        (
            detail(layout.shuangta),
            "双塔驿站",
            "户外劳动者服务站点 · 开放中",
            "距离 300 米 · 步行约5分钟 · 骑行约2分钟",
            "苏州市姑苏区双塔街道1号",
        ),
        (
            detail(layout.zhuhui),
            "竹辉妈妈驿站",
            "妈妈驿站 · 开放中",
            "距离 1.0 公里 · 步行约16分钟 · 骑行约6分钟",
            "竹辉路8号",
        ),
        (
            detail(layout.mudu),
            "木渎驿站",
            "户外劳动者服务站点 · 现在不开放",
            "距离 5.6 公里 · 步行约1个半小时 · 骑行约29分钟",
            "木渎镇中山路",
        ),
    ]
    for never in ("十二号驿站", "一二三驿站"):
        assert never not in page


@pytest.mark.parametrize(
    "query, names, count",
    [
        ({"kind": "mothers"}, ["竹辉妈妈驿站"], 1),
        ({"kind": "outdoor"}, ["双塔驿站", "木渎驿站"], 2),
        ({"facility": "charging"}, ["双塔驿站"], 1),
        ({"facility": "water"}, ["双塔驿站", "竹辉妈妈驿站", "木渎驿站"], 3),
        ({"open": "1"}, ["双塔驿站", "竹辉妈妈驿站"], 3),
        ({"open": "1", "facility": "meals"}, [], 1),
        ({"kind": "drivers"}, [], 0),
        ({"kind": "nonsense", "facility": "nonsense"}, ["双塔驿站", "竹辉妈妈驿站", "木渎驿站"], 3),  # ignored
    ],
)
def test_the_filters_of_the_map(layout, query, names, count):
    page = text(Client().get(reverse("portal:station_map"), {**P, **query}))
    assert [item[1] for item in nearest_items(page)] == names
    assert f"共 {count} 个开放站点" in page
    if not names:
        assert '<p class="muted">附近没有符合条件的开放站点，请放宽筛选条件。</p>' in page
    if query.get("open") == "1":
        assert '<input type="checkbox" name="open" value="1" checked>' in page


def test_swapped_coordinates_show_the_reason_instead_of_a_list(layout):
    for url in (reverse("portal:station_map"), reverse("portal:station_nearest")):
        response = Client().get(url, {"lat": "120.6", "lng": "31.3"})
        assert response.status_code == 200
        page = text(response)
        assert f'<p class="alert" role="alert">{SWAPPED}</p>' in page
        assert nearest_items(page) == []
    page = text(Client().get(reverse("portal:station_map"), {"lat": "0", "lng": "0"}))
    assert '<p class="alert" role="alert">坐标是 0,0（没有定位），请填写站点的实际经纬度</p>' in page


def test_the_nearest_fragment_is_the_list_alone(layout):
    response = Client().get(reverse("portal:station_nearest"), {**P, "open": "1"})
    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page and "<form" not in page
    assert page.strip().startswith("<h2>离您最近的站点</h2>")
    assert [item[1:] for item in nearest_items(page)] == [
        (
            "双塔驿站",
            "户外劳动者服务站点 · 开放中",
            "距离 300 米 · 步行约5分钟 · 骑行约2分钟",
            "苏州市姑苏区双塔街道1号",
        ),
        ("竹辉妈妈驿站", "妈妈驿站 · 开放中", "距离 1.0 公里 · 步行约16分钟 · 骑行约6分钟", "竹辉路8号"),
    ]
    assert '<p class="muted">距离为直线距离，步行、骑行时间按道路绕行估算，仅供参考。</p>' in page
    assert Client().get(reverse("portal:station_nearest")).content.strip() == b""
