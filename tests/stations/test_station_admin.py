"""Service stations (服务阵地) in the back office: the list in scope, the add and change forms."""

import re
import uuid

import pytest
from django.urls import reverse

from gonghui.common.actor import system_actor
from gonghui.common.geo import gcj02_to_wgs84, wgs84_to_gcj02
from gonghui.error_pages import FORBIDDEN
from gonghui.stations.models import Station
from gonghui.stations.services import station_rate, station_update
from tests.stations.page_factories import (
    C1,
    E12,
    E123,
    MISSING_CODE,
    T01,
    WZT01,
    audits,
    csv_upload,
    station_state,
    text,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


FORBIDDEN_MARK = f"<h1>{FORBIDDEN[0]}</h1>".encode()  # the project's 403 page


ADMINISTRATORS = ("sysadmin", "secadmin", "auditor")


CHANGELIST = "/admin/stations/station/"


ADD = "/admin/stations/station/add/"


RATER = system_actor("portal")  # stands in for the member's actor (member_actor) in the audit trail


def changelist_rows(page: str) -> list[list[str]]:
    """The cells of each row of the admin's station list, as text, in the order shown."""
    rows = []
    for row in page.split('<tr class="data-row')[1:]:
        row = row.split("</tr>", 1)[0]
        cells = re.findall(r'data-label="[^"]*">(.*?)</t[dh]>', row, re.S)
        rows.append([re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    return rows


def shown(response) -> list[str]:
    return [station.name for station in response.context["cl"].result_list]


def form_errors(response) -> dict[str, list[str]]:
    return {field: list(errors) for field, errors in response.context["adminform"].form.errors.items()}


# ================================================================ 1. the back-office list and its scope


LIST_CONTENTS = {
    "city_cadre": ["双塔驿站", "竹辉妈妈驿站", "十二号驿站", "一二三驿站", "木渎驿站"],
    "district_cadre": ["双塔驿站", "竹辉妈妈驿站", "十二号驿站", "一二三驿站"],
    "town_cadre": ["双塔驿站", "竹辉妈妈驿站", "十二号驿站", "一二三驿站"],
    # "12" and "123" differ by a suffix only: union 12 sees its own station, not union 123's.
    "grassroots_cadre": ["十二号驿站"],
    "other_district_cadre": ["木渎驿站"],
}


@pytest.mark.parametrize("username", sorted(LIST_CONTENTS))
def test_the_list_holds_exactly_the_stations_managed_in_the_subtree(layout, login, username):
    response = login(username).get(CHANGELIST)
    assert response.status_code == 200
    assert shown(response) == LIST_CONTENTS[username]
    page = text(response)
    assert [row[0] for row in changelist_rows(page)] == LIST_CONTENTS[username]
    for hidden in set(LIST_CONTENTS["city_cadre"]) - set(LIST_CONTENTS[username]):
        assert hidden not in page, hidden


def test_the_list_shows_type_manager_hours_rating_and_status(layout, member, login):
    station_rate(actor=RATER, person=member.person, station=layout.shuangta, stars=4)
    rows = changelist_rows(text(login("district_cadre").get(CHANGELIST)))
    assert rows == [
        [
            "双塔驿站",
            "户外劳动者服务站点",
            "双塔街道总工会",
            "苏州市姑苏区双塔街道1号",
            "开放中",
            "4.0 星（1 人）",
            "开放",
        ],
        ["竹辉妈妈驿站", "妈妈驿站", "竹辉社区工会", "竹辉路8号", "开放中", "暂无评价", "开放"],
        ["十二号驿站", "户外劳动者服务站点", "十二号公司工会委员会", "人民路12号", "—", "暂无评价", "暂停"],
        ["一二三驿站", "户外劳动者服务站点", "一二三公司工会委员会", "人民路123号", "—", "暂无评价", "撤销"],
    ]
    wz_rows = changelist_rows(text(login("other_district_cadre").get(CHANGELIST)))
    assert wz_rows == [
        ["木渎驿站", "户外劳动者服务站点", "木渎镇总工会", "木渎镇中山路", "不在开放时间", "暂无评价", "开放"]
    ]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"status": "paused"}, ["十二号驿站"]),
        ({"status": "closed"}, ["一二三驿站"]),
        ({"kind": "mothers"}, ["竹辉妈妈驿站"]),
        ({"q": "竹辉"}, ["竹辉妈妈驿站"]),
        ({"q": "人民路"}, ["十二号驿站", "一二三驿站"]),
        ({"q": "木渎"}, []),
    ],
)
def test_the_list_filters_and_searches_within_the_scope(layout, login, query, expected):
    response = login("district_cadre").get(CHANGELIST, query)
    assert response.status_code == 200
    assert shown(response) == expected


def test_another_districts_station_is_the_missing_page_and_nothing_changes(layout, login):
    client = login("other_district_cadre")
    missing = uuid.uuid4()
    edit = {"org_code": T01, "kind": "outdoor", "name": "改名", "address": "x", "lat": "31.3", "lng": "120.6"}
    before = station_state()
    for hidden_id in (layout.shuangta.id, layout.paused.id, layout.closed.id):
        hidden = client.get(f"{CHANGELIST}{hidden_id}/change/")
        absent = client.get(f"{CHANGELIST}{missing}/change/")
        assert hidden.status_code == absent.status_code == 404
        assert hidden.content == absent.content
        assert "双塔驿站" not in text(hidden)
        hidden = client.post(f"{CHANGELIST}{hidden_id}/change/", {**edit, "status": "closed", "status_reason": "撤"})
        absent = client.post(f"{CHANGELIST}{missing}/change/", {**edit, "status": "closed", "status_reason": "撤"})
        assert hidden.status_code == absent.status_code == 404
        assert hidden.content == absent.content
        history = client.get(f"{CHANGELIST}{hidden_id}/history/")
        assert history.status_code == client.get(f"{CHANGELIST}{missing}/history/").status_code == 404
    assert station_state() == before


def test_union_12_gets_the_missing_page_for_union_123s_station(layout, login):
    client = login("grassroots_cadre")
    hidden = client.get(f"{CHANGELIST}{layout.closed.id}/change/")
    absent = client.get(f"{CHANGELIST}{uuid.uuid4()}/change/")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.content == absent.content


@pytest.mark.parametrize("username", ADMINISTRATORS)
def test_the_three_administrators_have_no_stations_at_all(demand, login, username):
    client = login(username)
    before = station_state()
    missing = uuid.uuid4()
    pages = [
        CHANGELIST,
        ADD,
        reverse("admin:station_import"),
        reverse("admin:demand_import"),
        f"{reverse('admin:demand_import')}?org={T01}",
        reverse("admin:station_coverage"),
        f"{reverse('admin:station_coverage')}?org={T01}&source=points&mode=walk&suggestions=2",
    ]
    upload = ["站点名称,管理单位代码,地址,纬度,经度", "新站,SZ-GS-T01,x,31.3,120.6"]
    responses = []
    for url in pages:
        responses.append((url, client.get(url)))
        responses.append((url, client.post(url, {"org": T01, "file": csv_upload("站点.csv", upload)})))
    for station in (demand.shuangta, demand.mudu):
        hidden = client.get(f"{CHANGELIST}{station.id}/change/")
        absent = client.get(f"{CHANGELIST}{missing}/change/")
        assert hidden.content == absent.content
        responses.append(("change", hidden))
    for url, response in responses:
        assert response.status_code == 403, (url, response.status_code)
        assert FORBIDDEN_MARK in response.content, url
        for secret in ("双塔驿站", "木渎驿站", "环卫所", "服务站点"):
            assert secret not in text(response), (url, secret)
    assert station_state() == before
    # The sidebar's 服务阵地 group is rendered with an empty list (hidden by its CSS rule), and no link leads here.
    index = text(client.get(reverse("admin:index")))
    assert "/admin/stations/" not in index
    group = index.split("服务阵地", 1)[1].split("</ol>", 1)[0]
    assert "<li" not in group


def test_cadres_see_the_four_station_pages_in_the_sidebar(login):
    index = text(login("grassroots_cadre").get(reverse("admin:index")))
    group = index.split("服务阵地", 1)[1].split("</ol>", 1)[0]
    links = re.findall(r'href="([^"]+)"', group)
    assert links == [
        CHANGELIST,
        reverse("admin:station_coverage"),
        reverse("admin:station_import"),
        reverse("admin:demand_import"),
    ]


# ================================================================ 2. the add and change form

GOOD = {
    "org_code": E12,
    "kind": "outdoor",
    "name": "人民路驿站",
    "address": "苏州市姑苏区人民路18号",
    "phone": "0512-65001234",
    "description": "夏季供应绿豆汤",
    "status": "open",
    "status_reason": "",
    "lat": "31.3050",
    "lng": "120.6100",
    "coord_system": "wgs84",
    **{f"hours_{day}": "08:00-12:00, 14:00-18:00" for day in range(1, 6)},
    "hours_6": "09:00-17:00",
    "hours_7": "",
    "holiday_rule": "special",
    "holiday_hours": "10:00-16:00",
    "facilities": ["water", "toilet", "charging"],
    "photo_caption": "",
}


SPLIT_DAY = [["08:00", "12:00"], ["14:00", "18:00"]]


def test_the_add_and_change_pages_open(layout, login):
    client = login("town_cadre")
    assert client.get(ADD).status_code == 200
    response = client.get(f"{CHANGELIST}{layout.zhuhui.id}/change/")
    assert response.status_code == 200
    initial = response.context["adminform"].form.initial
    assert {key: initial[key] for key in ("org_code", "lat", "lng", "hours_1", "hours_6", "hours_7")} == {
        "org_code": C1,
        "lat": "31.3090000",
        "lng": "120.6000000",
        "hours_1": "08:00-20:00",
        "hours_6": "09:00-17:00",
        "hours_7": "",
    }


def test_adding_a_station_through_the_form(tree, login):
    response = login("grassroots_cadre").post(ADD, GOOD)
    assert (response.status_code, response["Location"]) == (302, CHANGELIST)
    station = Station.objects.get()
    assert {
        "org": station.org.code,
        "kind": station.kind,
        "name": station.name,
        "address": station.address,
        "lat": station.lat,
        "lng": station.lng,
        "hours": station.hours,
        "always_open": station.always_open,
        "holiday_rule": station.holiday_rule,
        "holiday_hours": station.holiday_hours,
        "facilities": station.facilities,
        "phone": station.phone,
        "description": station.description,
        "status": station.status,
    } == {
        "org": E12,
        "kind": "outdoor",
        "name": "人民路驿站",
        "address": "苏州市姑苏区人民路18号",
        "lat": 31.305,
        "lng": 120.61,
        "hours": {**{str(day): SPLIT_DAY for day in range(1, 6)}, "6": [["09:00", "17:00"]], "7": []},
        "always_open": False,
        "holiday_rule": "special",
        "holiday_hours": [["10:00", "16:00"]],
        "facilities": ["water", "charging", "toilet"],  # in the order of the list of facilities
        "phone": "051265001234",
        "description": "夏季供应绿豆汤",
        "status": "open",
    }
    assert audits("station.create") == [
        ("grassroots_cadre", "station", str(station.id), "人民路驿站", tree[E12].path, {"kind": "outdoor"})
    ]
    assert audits("station.status") == []


@pytest.mark.parametrize(
    "lat, lng, message",
    [
        ("120.61", "31.305", "经纬度填反了：120.61 像是经度、31.305 像是纬度，请交换后重新填写"),
        ("0", "0", "坐标是 0,0（没有定位），请填写站点的实际经纬度"),
        (
            "39.9",
            "116.4",
            "坐标（纬度 39.9000，经度 116.4000）不在本地区范围内（北纬 30.75°–32.05°、东经 119.9°–121.4°），请核对",
        ),
        ("31.3度", "120.6", "纬度“31.3度”不是数字，请填写十进制度数，如 31.2990"),
    ],
    ids=["swapped", "zero", "outside-the-region", "not-a-number"],
)
def test_bad_coordinates_are_shown_on_the_form_and_nothing_is_written(tree, login, lat, lng, message):
    before = station_state()
    response = login("grassroots_cadre").post(ADD, {**GOOD, "lat": lat, "lng": lng})
    assert response.status_code == 200
    assert form_errors(response) == {"lat": [message]}
    assert message in text(response)
    assert station_state() == before


@pytest.mark.parametrize("code", [E123, WZT01, MISSING_CODE])
def test_an_org_code_out_of_scope_is_refused_like_a_missing_one(tree, login, code):
    before = station_state()
    response = login("grassroots_cadre").post(ADD, {**GOOD, "org_code": code})
    assert response.status_code == 200
    assert form_errors(response) == {"org_code": ["找不到该代码的组织，或不在您的管辖范围内"]}
    assert station_state() == before


def test_pausing_needs_a_reason_and_is_audited_apart(layout, tree, login):
    client = login("town_cadre")
    url = f"{CHANGELIST}{layout.shuangta.id}/change/"
    same = {
        **GOOD,
        "org_code": T01,
        "name": "双塔驿站",
        "kind": "outdoor",
        "address": "苏州市姑苏区双塔街道1号",
        "lat": "31.3027",
        "lng": "120.6",
        "always_open": "on",
        **{f"hours_{day}": "" for day in range(1, 8)},
        "holiday_rule": "regular",
        "holiday_hours": "",
        "facilities": ["water", "charging"],
        "description": "夏季供应绿豆汤",
    }
    before = station_state()
    response = client.post(url, {**same, "status": "paused"})
    assert response.status_code == 200
    assert form_errors(response) == {"status_reason": ["暂停或撤销站点请说明原因"]}
    assert station_state() == before
    # Creating a station that starts paused needs the reason too.
    response = client.post(ADD, {**GOOD, "org_code": T01, "status": "paused"})
    assert form_errors(response) == {"status_reason": ["暂停或撤销站点请说明原因"]}
    assert station_state() == before
    response = client.post(url, {**same, "status": "paused", "status_reason": "道路施工"})
    assert (response.status_code, response["Location"]) == (302, CHANGELIST)
    assert Station.objects.get(id=layout.shuangta.id).status == "paused"
    assert [event for event in audits("station.status") if event[2] == str(layout.shuangta.id)] == [
        (
            "town_cadre",
            "station",
            str(layout.shuangta.id),
            "双塔驿站",
            tree[T01].path,
            {"from": "open", "to": "paused", "reason": "道路施工"},
        )
    ]
    assert audits("station.update") == []  # nothing else changed


def test_a_gcj02_point_is_stored_in_wgs84(tree, login):
    response = login("grassroots_cadre").post(ADD, {**GOOD, "coord_system": "gcj02"})
    assert response.status_code == 302
    station = Station.objects.get()
    # 高德's 31.3050, 120.6100 lies 465 m south-east of the place itself.
    assert (station.lat, station.lng) == (31.3071834, 120.6058295)
    assert (station.lat, station.lng) == tuple(round(v, 7) for v in gcj02_to_wgs84(31.305, 120.61))
    back = wgs84_to_gcj02(station.lat, station.lng)
    assert abs(back[0] - 31.305) < 1e-6 and abs(back[1] - 120.61) < 1e-6


def test_a_name_already_used_in_the_union_is_shown_on_the_form(layout, login):
    before = station_state()
    response = login("town_cadre").post(ADD, {**GOOD, "org_code": T01, "name": "双塔驿站"})
    assert response.status_code == 200
    assert form_errors(response) == {"name": ["本单位已有同名站点"]}
    assert station_state() == before


def test_saving_a_station_with_overnight_holiday_hours_unchanged(layout, actors, login):
    station_update(
        actor=actors["town_cadre"], station=layout.zhuhui, holiday_rule="special", holiday_hours="22:00-06:00"
    )
    client = login("town_cadre")
    url = f"{CHANGELIST}{layout.zhuhui.id}/change/"
    initial = client.get(url).context["adminform"].form.initial
    data = {key: value for key, value in initial.items() if value is not None}
    data.update(always_open="", coord_system="wgs84", status_reason="")
    before = station_state()
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    assert response["Location"] == CHANGELIST
    assert station_state() == before
