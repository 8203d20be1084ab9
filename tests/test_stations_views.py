"""Service stations (服务阵地) through the test client: the back-office list, add and change form of the station
admin, the station and demand-point sheet imports, the 15-minute circle page, the public e-map and station pages of
the portal with the members' ratings, and the two station API endpoints by bearer token.

The clock is fixed at Wednesday 2026-05-20 12:00 (Asia/Shanghai), an ordinary working day. The layout (WGS84; one
degree of latitude is 111,195 m on the mean sphere, so a station due north of the query point P = 31.3000, 120.6000
lies 111,195 m × Δlat from it):

    station        managed by      kind     where (lat, lng)     from P    hours                       status
    双塔驿站        SZ-GS-T01       outdoor  31.3027, 120.6000    300 m     24 hours                    open
    竹辉妈妈驿站    SZ-GS-T01-C1    mothers  31.3090, 120.6000    1,001 m   Mon–Fri 08–20, Sat 09–17    open
    木渎驿站        SZ-WZ-T01       outdoor  31.2500, 120.6000    5,560 m   18:00–22:00 daily           open
    十二号驿站      SZ-GS-T01-12    outdoor  31.3005, 120.6000    56 m      24 hours                    paused
    一二三驿站      SZ-GS-T01-123   outdoor  31.3001, 120.6000    11 m      24 hours                    closed

At noon 木渎驿站 is not open; the paused and the withdrawn station are never offered, however near. Walking at 5 km/h
and riding at 15 km/h over 1.3 × the straight line: 300 m takes 5 and 2 minutes, 1,001 m 16 and 6, 5,560 m 87 and 29.

The demand of the 15-minute circle (reach on foot: 5000 / 60 × 15 / 1.3 = 962 m in a straight line):

    point          of              where (lat, lng)     workers   nearest open station
    双塔配送站      SZ-GS-T01       31.3000, 120.6000    40        双塔驿站 300 m          covered
    环卫所          SZ-GS-T01       31.3200, 120.6000    25        竹辉妈妈驿站 1,223 m    not covered
    工地            SZ-GS-T01       31.3210, 120.6010    15        竹辉妈妈驿站 1,338 m    not covered
    快递点          SZ-GS-T01       31.3500, 120.6500    10        6,581 m                 not covered
    社区菜场        SZ-GS-T01-C1    31.3100, 120.6000    20        竹辉妈妈驿站 111 m      covered
    木渎工地        SZ-WZ-T01       31.2600, 120.6000    99        木渎驿站 1,112 m        not covered (吴中's only)

So SZ-GS-T01 covers 60 of 110 workers (54.5%); one new site near 环卫所 and 工地 adds 40 (90.9%), one at 快递点 the
last 10 (100.0%).
"""

import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import xlsxwriter
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gonghui.audit.models import AuditEvent
from gonghui.common.actor import system_actor
from gonghui.common.geo import gcj02_to_wgs84, wgs84_to_gcj02
from gonghui.common.sms import MemorySmsSender
from gonghui.error_pages import FORBIDDEN
from gonghui.members.member_accounts import member_account_bind, phone_code_send, phone_code_sign_in
from gonghui.stations.models import DemandPoint, Station, StationRating
from gonghui.stations.services import (
    demand_points_replace,
    station_create,
    station_rate,
    station_status_set,
    station_update,
)
from tests.members.factories import enrol, resident_id

NOW = datetime(2026, 5, 20, 4, 0, tzinfo=UTC)  # Wednesday 12:00 in Asia/Shanghai
SZ, GS, T01, C1 = "SZ", "SZ-GS", "SZ-GS-T01", "SZ-GS-T01-C1"
E12, E123, WZ, WZT01 = "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-WZ", "SZ-WZ-T01"
MISSING_CODE = "SZ-NOPE-99"
P = {"lat": "31.3", "lng": "120.6"}
FORBIDDEN_MARK = f"<h1>{FORBIDDEN[0]}</h1>".encode()  # the project's 403 page
NOT_FOUND = {"code": "not_found", "message": "对象不存在或无权访问"}
PERMISSION_DENIED = {"code": "permission_denied", "message": "当前角色无权执行此操作"}
ADMINISTRATORS = ("sysadmin", "secadmin", "auditor")
SWAPPED = "经纬度填反了：120.6 像是经度、31.3 像是纬度，请交换后重新填写"
STARS_REFUSED = "请选择 1 到 5 颗星"
CHANGELIST = "/admin/stations/station/"
ADD = "/admin/stations/station/add/"

pytestmark = pytest.mark.django_db

RATER = system_actor("portal")  # stands in for the member's actor (member_actor) in the audit trail


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Every timezone.now() / localtime() of the code under test reads the fixed time."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


# ---------------------------------------------------------------- the layout


@dataclass
class Layout:
    shuangta: Station  # 双塔驿站, SZ-GS-T01, 300 m north of P, always open
    zhuhui: Station  # 竹辉妈妈驿站, SZ-GS-T01-C1, 1,001 m north of P, weekday hours
    mudu: Station  # 木渎驿站, SZ-WZ-T01, 5,560 m south of P, evenings only
    paused: Station  # 十二号驿站, SZ-GS-T01-12, 56 m from P, paused
    closed: Station  # 一二三驿站, SZ-GS-T01-123, 11 m from P, withdrawn


@pytest.fixture
def layout(tree, actors) -> Layout:
    town, wz = actors["town_cadre"], actors["other_district_cadre"]
    shuangta = station_create(
        actor=town,
        org=tree[T01],
        kind="outdoor",
        name="双塔驿站",
        address="苏州市姑苏区双塔街道1号",
        lat="31.3027",
        lng="120.6",
        always_open=True,
        facilities=["water", "charging"],
        phone="0512-65001234",
        description="夏季供应绿豆汤",
    )
    zhuhui = station_create(
        actor=town,
        org=tree[C1],
        kind="mothers",
        name="竹辉妈妈驿站",
        address="竹辉路8号",
        lat="31.309",
        lng="120.6",
        hours={**{str(d): "08:00-20:00" for d in range(1, 6)}, "6": "09:00-17:00", "7": ""},
        holiday_rule="closed",
        facilities=["nursing", "water", "toilet"],
    )
    mudu = station_create(
        actor=wz,
        org=tree[WZT01],
        kind="outdoor",
        name="木渎驿站",
        address="木渎镇中山路",
        lat="31.25",
        lng="120.6",
        hours={str(d): "18:00-22:00" for d in range(1, 8)},
        holiday_rule="special",
        holiday_hours="10:00-16:00",
        facilities=["water", "meals"],
    )
    paused, closed = (
        station_create(
            actor=town,
            org=tree[code],
            kind="outdoor",
            name=name,
            address=address,
            lat=lat,
            lng="120.6",
            always_open=True,
        )
        for code, name, address, lat in (
            (E12, "十二号驿站", "人民路12号", "31.3005"),
            (E123, "一二三驿站", "人民路123号", "31.3001"),
        )
    )
    paused = station_status_set(actor=town, station=paused, status="paused", reason="装修")
    closed = station_status_set(actor=town, station=closed, status="closed", reason="场地收回")
    return Layout(
        shuangta=Station.objects.get(id=shuangta.id),
        zhuhui=Station.objects.get(id=zhuhui.id),
        mudu=Station.objects.get(id=mudu.id),
        paused=Station.objects.get(id=paused.id),
        closed=Station.objects.get(id=closed.id),
    )


@pytest.fixture
def demand(layout, tree, actors):
    """The demand points of the table above, through the service the demand import uses."""
    town, wz = actors["town_cadre"], actors["other_district_cadre"]
    demand_points_replace(
        actor=town,
        org=tree[T01],
        rows=[
            {"name": "双塔配送站", "lat": 31.3, "lng": 120.6, "workers": 40},
            {"name": "环卫所", "lat": 31.32, "lng": 120.6, "workers": 25},
            {"name": "工地", "lat": 31.321, "lng": 120.601, "workers": 15},
            {"name": "快递点", "lat": 31.35, "lng": 120.65, "workers": 10},
        ],
        filename="双塔.csv",
    )
    demand_points_replace(
        actor=town, org=tree[C1], rows=[{"name": "社区菜场", "lat": 31.31, "lng": 120.6, "workers": 20}], filename="c1"
    )
    demand_points_replace(
        actor=wz, org=tree[WZT01], rows=[{"name": "木渎工地", "lat": 31.26, "lng": 120.6, "workers": 99}], filename="wz"
    )
    return layout


# ---------------------------------------------------------------- helpers


def text(response) -> str:
    return response.content.decode()


def station_state() -> dict:
    """Everything the station pages may write (and the size of the audit trail), to prove a refusal wrote nothing."""
    return {
        "stations": sorted(
            Station.objects.values_list(
                "id",
                "org_id",
                "kind",
                "name",
                "address",
                "lat",
                "lng",
                "hours",
                "always_open",
                "holiday_rule",
                "holiday_hours",
                "facilities",
                "phone",
                "description",
                "status",
                "rating_count",
                "rating_total",
            )
        ),
        "ratings": sorted(StationRating.objects.values_list("station_id", "person_id", "stars", "comment")),
        "points": sorted(DemandPoint.objects.values_list("org_id", "name", "lat", "lng", "workers")),
        "audit": AuditEvent.objects.count(),
    }


def audits(action: str) -> list[tuple]:
    return [
        (e.actor_label, e.object_type, e.object_id, e.object_label, e.object_org_path, e.details)
        for e in AuditEvent.objects.filter(action=action).order_by("at", "id")
    ]


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


def csv_upload(name: str, lines: list[str]) -> SimpleUploadedFile:
    content = "\n".join(lines) + "\n"
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


def xlsx_upload(name: str, rows: list[list]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("站点")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.close()
    return SimpleUploadedFile(name, buffer.getvalue())


def result_section(page: str) -> str:
    start = page.index('<section class="gh-card" id="gh-station-import-result">')
    return page[start : page.index("</section>", start)]


def import_summary(page: str) -> tuple[str, list[str]]:
    """(the message, [added, updated, unchanged, errors]) of an import result."""
    section = result_section(page)
    message = re.search(r'<p id="gh-station-import-message"><strong>(.*?)</strong></p>', section).group(1)
    counts = re.search(r"<tbody><tr>(.*?)</tr></tbody></table>", section).group(1)
    return message, re.findall(r'<td class="gh-num">([^<]*)</td>', counts)


def import_rows(page: str) -> list[tuple[str, str, str, str]]:
    """(line, name, result, reason) of each row of an import result, in the order shown."""
    section = result_section(page)
    table = section[section.index('id="gh-station-import-rows"') :]
    rows = re.findall(r'<tr><td class="gh-num">(\d+)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>', table)
    return [(line, name, re.sub(r"<[^>]+>", "", result), reason) for line, name, result, reason in rows]


def card(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def table_rows(html: str) -> list[list[str]]:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def json_script(page: str, element_id: str):
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def bearer(code: str) -> Client:
    out = io.StringIO()
    call_command("create_api_token", "--name", f"站点{code}", "--org", code, stdout=out, stderr=io.StringIO())
    return Client(headers={"Authorization": f"Bearer {out.getvalue().strip()}"})


# ---------------------------------------------------------------- portal members


@dataclass
class Worker:
    name: str
    number: str
    phone: str
    membership: object

    @property
    def person(self):
        return self.membership.person


@pytest.fixture
def member(tree, system) -> Worker:
    number = resident_id(date(1990, 5, 17), 101)
    membership = enrol(system, tree[E12], name="张三", number=number, phone="13812341234")
    return Worker(name="张三", number=number, phone="13812341234", membership=membership)


def last_code(phone: str) -> str:
    sent = [body for to, body in MemorySmsSender.outbox if to == phone]
    return re.search(r"\d{6}", sent[-1]).group(0)


def portal_sign_in(phone: str, client: Client | None = None, url: str | None = None):
    """Sign in on the portal's login page (`url` may carry ?next=); the response to the sign-in."""
    client = client or Client()
    url = url or reverse("portal:login")
    client.post(url, {"phone": phone, "action": "send"})
    response = client.post(url, {"phone": phone, "code": last_code(phone)})
    assert response.status_code == 302
    return response


def portal_member(who: Worker) -> Client:
    """The worker signed in on the portal and bound to their record through the binding page."""
    client = Client()
    portal_sign_in(who.phone, client)
    response = client.post(
        reverse("portal:bind"), {"name": who.name, "doc_type": "resident_id", "doc_number": who.number}
    )
    assert response.status_code == 302
    return client


def bind_through_services(who: Worker) -> None:
    sent = phone_code_send(phone=who.phone)
    account = phone_code_sign_in(phone=who.phone, code=sent.code)
    member_account_bind(account=account, name=who.name, doc_type="resident_id", doc_number=who.number)


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


# ================================================================ 3. the station import

# One sheet as the spreadsheet shows it: a title on line 1, the header on line 2, the stations from line 3.
TITLE = "2026年双塔街道服务站点登记表"
HEADER = "站点名称,管理单位代码,站点类型,地址,纬度,经度,坐标系,开放时间,周日,法定节假日,设施,联系电话,备注"
ROW_SAME = (  # 双塔驿站 exactly as registered
    "双塔驿站,SZ-GS-T01,户外劳动者服务站点,苏州市姑苏区双塔街道1号,31.3027,120.6,,24小时,,,饮水、充电,"
    "0512-65001234,夏季供应绿豆汤"
)
ROW_SWAPPED = "十二号新驿站,SZ-GS-T01-12,,人民路18号,120.61,31.305,,08:00-18:00,休息,闭站,饮水,,"
ROW_FIXED = "十二号新驿站,SZ-GS-T01-12,,人民路18号,31.305,120.61,,08:00-18:00,休息,闭站,饮水,,"
ROW_WUZHONG = "吴中驿站,SZ-WZ-T01,,木渎,31.25,120.6,,,,,,,"
ROW_BOOKS = "竹辉书屋,SZ-GS-T01-C1,职工书屋,竹辉路10号,31.3095,120.601,GCJ-02,09:00-21:00,,10:00-16:00,图书、无线网络,,"


def import_page(client: Client, upload, **extra):
    return client.post(reverse("admin:station_import"), {"file": upload, **extra})


def test_the_import_page_explains_the_sheet(login):
    response = login("grassroots_cadre").get(reverse("admin:station_import"))
    assert response.status_code == 200
    page = text(response)
    assert '<h2 class="gh-h2">站点导入</h2>' in page
    assert "必填列：站点名称、管理单位代码、纬度、经度（还需地址；类型不填时为户外劳动者服务站点）。" in page
    assert '<input type="checkbox" name="dry_run" value="1" id="id_dry_run" checked>' in page
    assert 'id="gh-station-import-result"' not in page


def test_a_sheet_with_a_bad_row_is_reported_line_by_line_and_nothing_is_written(layout, login):
    before = station_state()
    rows = [TITLE, HEADER, ROW_SAME, ROW_SWAPPED, ROW_WUZHONG, ROW_BOOKS]
    response = import_page(login("town_cadre"), csv_upload("站点.csv", rows))
    assert response.status_code == 200
    page = text(response)
    assert '<h3 class="gh-h3">导入结果：站点.csv</h3>' in page
    assert import_summary(page) == ("有 2 行错误，整个文件未导入。", ["1", "0", "1", "2"])
    # The title is line 1 and the header line 2, as the spreadsheet shows them; errors come first.
    assert import_rows(page) == [
        ("4", "十二号新驿站", "有错误", "经纬度填反了：120.61 像是经度、31.305 像是纬度，请交换后重新填写"),
        ("5", "吴中驿站", "有错误", "管理单位代码“SZ-WZ-T01”不存在或不在您的管辖范围内"),
        ("3", "双塔驿站", "无变化", ""),
        ("6", "竹辉书屋", "新增", ""),
    ]
    assert "未识别的列" not in page
    assert station_state() == before


def test_a_preview_checks_every_row_and_writes_nothing(layout, login):
    before = station_state()
    rows = [TITLE, HEADER, ROW_SAME, ROW_FIXED, ROW_BOOKS]
    response = import_page(login("town_cadre"), csv_upload("站点.csv", rows), dry_run="1")
    page = text(response)
    assert '<h3 class="gh-h3">预览结果：站点.csv</h3>' in page
    assert import_summary(page) == ("检查通过，取消“仅预览”后再上传即可导入。", ["2", "0", "1", "0"])
    assert import_rows(page) == [
        ("3", "双塔驿站", "无变化", ""),
        ("4", "十二号新驿站", "新增", ""),
        ("5", "竹辉书屋", "新增", ""),
    ]
    assert station_state() == before


def test_the_corrected_sheet_is_written_in_one_go(layout, tree, login):
    rows = [TITLE, HEADER, ROW_SAME, ROW_FIXED, ROW_BOOKS, ",,,,,,,,,,,,"]  # a blank row at the end
    response = import_page(login("town_cadre"), csv_upload("站点.csv", rows))
    page = text(response)
    assert import_summary(page) == ("已导入。", ["2", "0", "1", "0"])
    assert import_rows(page) == [
        ("3", "双塔驿站", "无变化", ""),
        ("4", "十二号新驿站", "新增", ""),
        ("5", "竹辉书屋", "新增", ""),
    ]
    new = Station.objects.get(name="十二号新驿站")
    assert (new.org.code, new.kind, new.address, new.lat, new.lng, new.always_open) == (
        E12,
        "outdoor",  # a blank type is an outdoor workers' station
        "人民路18号",
        31.305,
        120.61,
        False,
    )
    assert new.hours == {**{str(day): [["08:00", "18:00"]] for day in range(1, 7)}, "7": []}
    assert (new.holiday_rule, new.holiday_hours, new.facilities, new.status) == ("closed", [], ["water"], "open")
    books = Station.objects.get(name="竹辉书屋")
    assert (books.org.code, books.kind, books.lat, books.lng) == (
        C1,
        "books",
        *(round(v, 7) for v in gcj02_to_wgs84(31.3095, 120.601)),
    )
    assert books.hours == {str(day): [["09:00", "21:00"]] for day in range(1, 8)}
    assert (books.holiday_rule, books.holiday_hours, books.facilities) == (
        "special",
        [["10:00", "16:00"]],
        ["books", "wifi"],
    )
    assert sorted(name for _, _, _, name, _, _ in audits("station.create")) == sorted(
        ["双塔驿站", "竹辉妈妈驿站", "木渎驿站", "十二号驿站", "一二三驿站", "十二号新驿站", "竹辉书屋"]
    )
    assert audits("stations.import") == [
        (
            "town_cadre",
            "station",
            "",
            "站点导入",
            tree[T01].path,
            {"file": "站点.csv", "added": 2, "updated": 0, "unchanged": 1, "error": 0},
        )
    ]


def test_an_xlsx_sheet_with_numbers_updates_the_rows_that_changed(layout, login):
    heading = ["序号", "站点名称", "管理单位代码", "站点类型", "地址", "纬度", "经度", "开放时间", "法定节假日", "设施"]
    rows = [
        ["双塔街道服务站点（更新）"],
        [*heading, "联系电话", "备注"],
        [1, "双塔驿站", T01, "户外劳动者服务站点", "苏州市姑苏区双塔街道1号", 31.3027, 120.6, "24小时", None]
        + ["饮水，充电，热饭", "0512-65001234", "夏季供应绿豆汤"],
        [2, "竹辉妈妈驿站", C1, "妈妈驿站", "竹辉路8号", 31.309, 120.6, "08:00-20:00", "闭站", "饮水、卫生间、母婴室"],
    ]
    client = login("town_cadre")
    response = import_page(client, xlsx_upload("站点.xlsx", rows))
    assert import_summary(text(response)) == ("已导入。", ["0", "2", "0", "0"])
    assert import_rows(text(response)) == [("3", "双塔驿站", "更新", ""), ("4", "竹辉妈妈驿站", "更新", "")]
    shuangta = Station.objects.get(id=layout.shuangta.id)
    assert (shuangta.facilities, shuangta.phone) == (["water", "meals", "charging"], "051265001234")
    zhuhui = Station.objects.get(id=layout.zhuhui.id)
    assert zhuhui.hours == {str(day): [["08:00", "20:00"]] for day in range(1, 8)}  # Saturday and Sunday too now
    assert (zhuhui.kind, zhuhui.holiday_rule, zhuhui.facilities) == (
        "mothers",
        "closed",
        ["water", "toilet", "nursing"],
    )
    assert {label: details for _, _, _, label, _, details in audits("station.update")} == {
        "双塔驿站": {"fields": ["facilities"]},
        "竹辉妈妈驿站": {"fields": ["hours"]},
    }
    # The same sheet again changes nothing.
    before = station_state()
    response = import_page(client, xlsx_upload("站点.xlsx", rows))
    assert import_summary(text(response)) == ("已导入。", ["0", "0", "2", "0"])
    assert station_state()["stations"] == before["stations"]


def test_columns_missing_from_the_sheet_leave_existing_stations_as_they_are(layout, login):
    lines = [
        "站点名称,管理单位代码,地址,纬度,经度,开放时间,周六,周日,法定节假日,设施",
        "双塔驿站,SZ-GS-T01,苏州市姑苏区双塔街道1号,31.3027,120.6,24小时,,,,饮水、充电",
        "竹辉妈妈驿站,SZ-GS-T01-C1,竹辉路8号,31.309,120.6,08:00-20:00,09:00-17:00,休息,闭站,饮水、卫生间、母婴室",
    ]
    before = station_state()
    page = text(import_page(login("town_cadre"), csv_upload("站点.csv", lines)))
    assert import_rows(page) == [("2", "双塔驿站", "无变化", ""), ("3", "竹辉妈妈驿站", "无变化", "")]
    assert station_state()["stations"] == before["stations"]


def test_the_grassroots_cadre_imports_for_its_own_union_only(layout, tree, login):
    client = login("grassroots_cadre")
    rows = [HEADER, ROW_FIXED, "一二三新驿站,SZ-GS-T01-123,,人民路1号,31.3011,120.6,,全天,,,,,"]
    before = station_state()
    page = text(import_page(client, csv_upload("站点.csv", rows)))
    assert import_summary(page) == ("有 1 行错误，整个文件未导入。", ["1", "0", "0", "1"])
    assert import_rows(page) == [
        ("3", "一二三新驿站", "有错误", "管理单位代码“SZ-GS-T01-123”不存在或不在您的管辖范围内"),
        ("2", "十二号新驿站", "新增", ""),
    ]
    assert station_state() == before
    page = text(import_page(client, csv_upload("站点.csv", rows[:2])))
    assert import_summary(page) == ("已导入。", ["1", "0", "0", "0"])
    assert Station.objects.get(name="十二号新驿站").org.code == E12


def test_a_file_without_the_header_or_without_rows_is_refused_as_a_whole(layout, login):
    client = login("town_cadre")
    before = station_state()
    response = import_page(client, csv_upload("站点.csv", ["名称,地址", "双塔驿站,x"]))
    page = text(response)
    assert response.status_code == 200
    assert "没有找到表头：前20行中没有一行同时包含“站点名称”、“管理单位代码”、“纬度”、“经度”列，请使用导入模板" in page
    assert 'id="gh-station-import-result"' not in page
    response = import_page(client, csv_upload("站点.csv", [HEADER]))
    assert "表头下方没有数据" in text(response)
    response = client.post(reverse("admin:station_import"), {})
    assert "请选择要导入的文件" in text(response)
    assert station_state() == before


# ================================================================ 4. the demand import

DEMAND_HEADER = "名称,纬度,经度,人数,坐标系"
DEMAND_ROWS = [
    "双塔配送站,31.3000,120.6000,40,",
    "环卫所,31.3200,120.6000,25,",
    "工地,31.3210,120.6010,15,WGS84",
    "快递点,31.3500,120.6500,10,",
]


def test_the_demand_import_replaces_the_points_of_the_chosen_organisation(layout, tree, login):
    client = login("town_cadre")
    url = f"{reverse('admin:demand_import')}?org={T01}"
    page = text(client.get(url))
    assert '<h2 class="gh-h2">需求点导入 · 双塔街道总工会</h2>' in page
    assert f'<input type="hidden" name="org" value="{T01}">' in page
    before = station_state()
    rows = ["双塔街道户外劳动者聚集点", DEMAND_HEADER, *DEMAND_ROWS, "坏点,0,0,3.5,"]
    page = text(client.post(url, {"org": T01, "file": csv_upload("需求点.csv", rows)}))
    assert import_summary(page) == ("有 1 行错误，整个文件未导入。", ["4", "0", "0", "1"])
    assert import_rows(page)[0] == (
        "7",
        "坏点",
        "有错误",
        "坐标是 0,0（没有定位），请填写站点的实际经纬度；人数应为 1 至 1000000 之间的整数",
    )
    assert [row[:3] for row in import_rows(page)[1:]] == [
        ("3", "双塔配送站", "新增"),
        ("4", "环卫所", "新增"),
        ("5", "工地", "新增"),
        ("6", "快递点", "新增"),
    ]
    assert station_state() == before
    page = text(client.post(url, {"org": T01, "file": csv_upload("需求点.csv", rows[:-1])}))
    assert import_summary(page) == ("已导入。", ["4", "0", "0", "0"])
    assert sorted(DemandPoint.objects.values_list("org__code", "name", "lat", "lng", "workers")) == sorted(
        [
            (T01, "双塔配送站", 31.3, 120.6, 40),
            (T01, "环卫所", 31.32, 120.6, 25),
            (T01, "工地", 31.321, 120.601, 15),
            (T01, "快递点", 31.35, 120.65, 10),
        ]
    )
    # A second sheet replaces the first.
    page = text(client.post(url, {"org": T01, "file": csv_upload("需求点2.csv", [DEMAND_HEADER, DEMAND_ROWS[0]])}))
    assert import_summary(page) == ("已导入。", ["1", "0", "0", "0"])
    assert list(DemandPoint.objects.values_list("name", flat=True)) == ["双塔配送站"]
    assert sorted(audits("stations.demand_import"), key=lambda event: event[5]["file"]) == [
        ("town_cadre", "organisation", str(tree[T01].id), "双塔街道总工会", tree[T01].path, detail)
        for detail in (
            {"file": "需求点.csv", "points": 4, "replaced": 0},
            {"file": "需求点2.csv", "points": 1, "replaced": 4},
        )
    ]


def test_without_an_org_the_demand_import_is_for_the_cadres_own_union(login):
    page = text(login("grassroots_cadre").get(reverse("admin:demand_import")))
    assert '<h2 class="gh-h2">需求点导入 · 十二号公司工会委员会</h2>' in page


@pytest.mark.parametrize("username, code", [("town_cadre", WZ), ("town_cadre", SZ), ("grassroots_cadre", E123)])
def test_the_demand_import_for_an_org_out_of_scope_is_the_missing_page(layout, login, username, code):
    client = login(username)
    url = reverse("admin:demand_import")
    before = station_state()
    for method in ("get", "post"):
        call = getattr(client, method)
        data = {"file": csv_upload("需求点.csv", [DEMAND_HEADER, *DEMAND_ROWS])} if method == "post" else {}
        hidden = call(f"{url}?org={code}", data)
        data = {"file": csv_upload("需求点.csv", [DEMAND_HEADER, *DEMAND_ROWS])} if method == "post" else {}
        absent = call(f"{url}?org={MISSING_CODE}", data)
        assert hidden.status_code == absent.status_code == 404
        assert hidden.content == absent.content
    assert station_state() == before


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


def nav_links(page: str) -> list[tuple[str, str]]:
    """(href, text) of the station page's walking-direction links."""
    return re.findall(
        r'<li><a class="btn btn-ghost btn-block" href="([^"]*)" rel="noopener noreferrer" target="_blank">'
        r"([^<]*)</a></li>",
        page,
    )


def detail(station: Station, query: str = "lat=31.3&amp;lng=120.6") -> str:
    return f"{reverse('portal:station_detail', args=[station.id])}?{query}"


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


# ---------------------------------------------------------------- station pages


def station_page(station: Station, **query):
    return Client().get(reverse("portal:station_detail", args=[station.id]), query)


def test_a_station_page_shows_hours_holidays_facilities_navigation_and_distance(layout):
    response = station_page(layout.zhuhui, **P)
    assert response.status_code == 200
    page = text(response)
    assert "<h1>竹辉妈妈驿站</h1>" in page
    assert '<p class="muted">妈妈驿站 · 竹辉社区工会管理 · <a href="/map/">返回地图</a></p>' in page
    assert '<p class="ok">现在开放</p>' in page
    assert '<p class="muted">距离您 1.0 公里，步行约16分钟，骑行约6分钟。</p>' in page
    # Walking directions in the three Chinese web maps, to the station in GCJ-02 (31.309, 120.6 WGS84 is
    # 31.306816, 120.604171 there) from the asked point (31.3, 120.6 → 31.297812, 120.604170); names URL-encoded.
    assert nav_links(page) == [
        (
            "https://uri.amap.com/navigation?from=120.604170,31.297812,%E5%87%BA%E5%8F%91%E7%82%B9"
            "&amp;to=120.604171,31.306816,%E7%AB%B9%E8%BE%89%E5%A6%88%E5%A6%88%E9%A9%BF%E7%AB%99"
            "&amp;mode=walk&amp;coordinate=gaode&amp;callnative=1&amp;src=gonghui",
            "用高德地图导航",
        ),
        (
            "https://apis.map.qq.com/uri/v1/routeplan?type=walk&amp;from=%E5%87%BA%E5%8F%91%E7%82%B9"
            "&amp;fromcoord=31.297812,120.604170&amp;to=%E7%AB%B9%E8%BE%89%E5%A6%88%E5%A6%88%E9%A9%BF%E7%AB%99"
            "&amp;tocoord=31.306816,120.604171&amp;referer=gonghui",
            "用腾讯地图导航",
        ),
        (
            "https://api.map.baidu.com/direction?origin=latlng:31.297812,120.604170|name:%E5%87%BA%E5%8F%91%E7%82%B9"
            "&amp;destination=latlng:31.306816,120.604171|name:%E7%AB%B9%E8%BE%89%E5%A6%88%E5%A6%88%E9%A9%BF%E7%AB%99"
            "&amp;mode=walking&amp;coord_type=gcj02&amp;output=html&amp;src=webapp.gonghui.stations",
            "用百度地图导航",
        ),
    ]
    assert "geo:" not in page and "WGS84" not in page
    assert (
        '<dl class="kv"><dt>周一</dt><dd>08:00-20:00</dd><dt>周二</dt><dd>08:00-20:00</dd><dt>周三</dt>'
        "<dd>08:00-20:00</dd><dt>周四</dt><dd>08:00-20:00</dd><dt>周五</dt><dd>08:00-20:00</dd><dt>周六</dt>"
        "<dd>09:00-17:00</dd><dt>周日</dt><dd>休息</dd></dl>"
    ) in page
    assert '<p class="muted">法定节假日：闭站</p>' in page
    assert '<ul class="chips"><li>饮水</li><li>卫生间</li><li>母婴室</li></ul>' in page
    assert "tel:" not in page
    assert "<p>暂无评价</p>" in page
    login_link = f"/login/?next=/stations/{layout.zhuhui.id}/%3Flat%3D31.3%26lng%3D120.6"
    assert f'<p class="muted"><a href="{login_link}">登录</a>后可以评价站点。</p>' in page


def test_the_page_of_an_always_open_station_and_of_one_open_in_the_evening(layout):
    page = text(station_page(layout.shuangta))
    assert '<dl class="kv"><dt>每天</dt><dd>全天</dd></dl>' in page
    assert '<p class="muted">节假日照常开放（全天）</p>' in page
    assert '<a class="btn btn-ghost btn-block" href="tel:051265001234">联系电话 051265001234</a>' in page
    assert "<p>夏季供应绿豆汤</p>" in page
    assert "距离您" not in page  # no point given
    page = text(station_page(layout.mudu))
    assert "<p><strong>现在不在开放时间</strong></p>" in page
    assert "<dt>周三</dt><dd>18:00-22:00</dd>" in page
    assert '<p class="muted">法定节假日：10:00-16:00</p>' in page
    assert '<ul class="chips"><li>饮水</li><li>热饭</li></ul>' in page


def test_a_paused_station_says_so_and_a_withdrawn_one_is_gone(layout):
    response = station_page(layout.paused)
    assert response.status_code == 200
    page = text(response)
    assert '<p class="alert" role="alert">该站点暂停开放。</p>' in page
    assert "后可以评价站点" not in page and 'name="stars"' not in page
    assert '<p class="muted">未登记设施。</p>' in page
    closed = station_page(layout.closed)
    missing = Client().get(reverse("portal:station_detail", args=[uuid.uuid4()]))
    garbled = Client().get(reverse("portal:station_detail", args=["not-a-station"]))
    assert closed.status_code == missing.status_code == garbled.status_code == 404
    assert closed.content == missing.content == garbled.content
    assert "一二三驿站" not in text(closed)


@pytest.mark.parametrize(
    "query",
    [{"lat": "nan", "lng": "120.6"}, {"lat": "999", "lng": "120.6"}, {"lat": "120.6", "lng": "31.3"}],
    ids=["nan", "out-of-range", "swapped"],
)
def test_a_station_page_shows_no_distance_from_a_point_that_is_not_one(layout, query):
    response = station_page(layout.shuangta, **query)
    assert response.status_code == 200
    assert "距离您" not in text(response)


# ---------------------------------------------------------------- ratings


def rate(client: Client, station: Station, **data):
    return client.post(reverse("portal:station_rate", args=[station.id]), data)


def test_rating_needs_a_signed_in_member(layout, member):
    before = station_state()
    url = reverse("portal:station_rate", args=[layout.shuangta.id])
    response = rate(Client(), layout.shuangta, stars="5")
    # Signed out (or the session ran out while the page was open): sign in, then back to the station's page.
    assert (response.status_code, response["Location"]) == (
        302,
        f"/login/?next=%2Fstations%2F{layout.shuangta.id}%2F",
    )
    assert Client().get(url).status_code == 405
    # Signed in but not yet bound to a member record: the rating is refused as a missing page.
    assert station_state() == before
    client = Client()
    portal_sign_in("13900001111", client)
    before = station_state()
    response = rate(client, layout.shuangta, stars="5")
    assert response.status_code == 404
    assert station_state() == before


def test_a_member_rates_and_rating_again_replaces_the_stars(layout, member):
    client = portal_member(member)
    form_page = text(client.get(reverse("portal:station_detail", args=[layout.shuangta.id])))
    assert f'<form method="post" action="/stations/{layout.shuangta.id}/rate/">' in form_page
    response = rate(client, layout.shuangta, stars="4", comment="水很凉")
    assert (response.status_code, response["Location"]) == (302, f"/stations/{layout.shuangta.id}/?rated=1")
    page = text(client.get(response["Location"]))
    assert '<p class="ok" role="status">感谢您的评价！</p>' in page
    assert "<p>4.0 星（1 人评价）</p>" in page
    response = rate(client, layout.shuangta, stars="2")
    assert response.status_code == 302
    assert "<p>2.0 星（1 人评价）</p>" in text(client.get(response["Location"]))
    assert list(StationRating.objects.values_list("station_id", "person_id", "stars", "comment")) == [
        (layout.shuangta.id, member.person.id, 2, "")
    ]
    station = Station.objects.get(id=layout.shuangta.id)
    assert (station.rating_count, station.rating_total, station.rating) == (1, 2, 2.0)
    # Each rating is audited as the member who gave it (their masked phone), not as a cadre or the system.
    rated = AuditEvent.objects.filter(action="station.rate").order_by("at", "id")
    assert [(e.actor_label.startswith("会员"), e.object_id, e.details) for e in rated] == [
        (True, str(station.id), {"stars": 4}),
        (True, str(station.id), {"stars": 2}),
    ]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"stars": "0"}, "stars", STARS_REFUSED),
        ({"stars": "6"}, "stars", STARS_REFUSED),
        ({"stars": "四"}, "stars", STARS_REFUSED),
        ({"stars": "4.5"}, "stars", STARS_REFUSED),
        ({}, "stars", STARS_REFUSED),
        ({"stars": "5", "comment": "好" * 201}, "comment", "评价不能超过 200 字"),
    ],
)
def test_a_rating_outside_one_to_five_stars_is_refused(layout, member, data, field, message):
    client = portal_member(member)
    before = station_state()
    response = rate(client, layout.shuangta, **data)
    assert response.status_code == 200
    page = text(response)
    assert f'<p class="err" role="alert">{message}</p>' in page
    assert station_state() == before
    # What was chosen and typed is still there: the stars picked (when one of the five) and the comment.
    checked = re.findall(
        r'<input type="radio" id="station-rating-(\d)" name="stars" value="\d" required( checked)?>', page
    )
    stars = data.get("stars", "")
    assert [n for n, tick in checked if tick] == ([stars] if stars in {"1", "2", "3", "4", "5"} else [])
    assert f'name="comment" maxlength="200" value="{data.get("comment", "")}"' in page


def test_the_station_rating_is_five_stars(layout, member):
    page = text(portal_member(member).get(reverse("portal:station_detail", args=[layout.shuangta.id])))
    stars = re.findall(r'<label for="station-rating-(\d)" title="(\d星)"><span aria-hidden="true">★</span>', page)
    assert stars == [(str(n), f"{n}星") for n in range(1, 6)]


def test_a_paused_or_withdrawn_station_cannot_be_rated(layout, member):
    client = portal_member(member)
    before = station_state()
    response = rate(client, layout.paused, stars="5")
    assert response.status_code == 200
    assert '<p class="alert" role="alert">该站点暂停开放。</p>' in text(response)
    assert rate(client, layout.closed, stars="5").status_code == 404
    assert station_state() == before


def test_after_signing_in_to_rate_the_member_is_back_on_the_station_page(layout, member, monkeypatch):
    bind_through_services(member)
    later = NOW + timedelta(minutes=5)  # a new sign-in code may be asked for a minute after the last one
    monkeypatch.setattr(timezone, "now", lambda: later)
    client = Client()
    response = rate(client, layout.shuangta, stars="5")
    signed_in = portal_sign_in(member.phone, client, url=response["Location"])
    final = client.get(signed_in["Location"], follow=True)
    assert final.status_code == 200
    assert final.request["PATH_INFO"] == reverse("portal:station_detail", args=[layout.shuangta.id])


# ================================================================ 7. the API


def test_the_nearest_stations_by_token(layout):
    response = bearer(GS).get("/api/v1/stations/nearest", P)
    assert response.status_code == 200

    def item(station, distance, walk, ride, open_now, facilities):
        return {
            "id": str(station.id),
            "name": station.name,
            "kind": station.kind,
            "kind_label": station.get_kind_display(),
            "address": station.address,
            "lat": station.lat,
            "lng": station.lng,
            "facilities": facilities,
            "distance_m": distance,
            "walk_minutes": walk,
            "ride_minutes": ride,
            "open_now": open_now,
            "rating": None,
        }

    assert response.json() == [
        item(layout.shuangta, 300, 5, 2, True, ["water", "charging"]),
        item(layout.zhuhui, 1001, 16, 6, True, ["water", "toilet", "nursing"]),
        item(layout.mudu, 5560, 87, 29, False, ["water", "meals"]),
    ]
    # Stations are public places: a token of 吴中 finds 姑苏's stations too.
    assert bearer(WZ).get("/api/v1/stations/nearest", P).json() == response.json()
    filtered = bearer(GS).get("/api/v1/stations/nearest", {**P, "open_now": "true", "limit": "1"})
    assert [s["name"] for s in filtered.json()] == ["双塔驿站"]
    kind = bearer(GS).get("/api/v1/stations/nearest", {**P, "kind": "outdoor", "facility": "meals"})
    assert [s["name"] for s in kind.json()] == ["木渎驿站"]


def test_the_nearest_stations_refuse_a_missing_or_impossible_point(layout):
    client = bearer(GS)
    response = client.get("/api/v1/stations/nearest", {"lng": "120.6"})
    assert (response.status_code, response.json()) == (
        422,
        {"code": "invalid_request", "message": "请求参数不正确", "errors": {"lat": "参数缺失或格式不正确"}},
    )
    response = client.get("/api/v1/stations/nearest", {"lat": "120.6", "lng": "31.3"})
    assert (response.status_code, response.json()) == (
        422,
        {"code": "validation_failed", "message": SWAPPED, "errors": {"坐标": SWAPPED}},
    )
    response = client.get("/api/v1/stations/nearest", {**P, "limit": "51"})
    assert (response.status_code, response.json()["errors"]) == (422, {"limit": "不能大于 50"})
    response = client.get("/api/v1/stations/nearest", {**P, "kind": "nonsense"})
    assert (response.status_code, response.json()["errors"]) == (422, {"kind": "没有这种站点类型"})


def test_the_nearest_stations_need_a_token_or_a_role_with_stations(layout, login):
    response = Client().get("/api/v1/stations/nearest", P)
    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")
    response = login("sysadmin").get("/api/v1/stations/nearest", P)
    assert (response.status_code, response.json()) == (403, PERMISSION_DENIED)
    assert len(login("grassroots_cadre").get("/api/v1/stations/nearest", P).json()) == 3


def test_the_circle_of_an_org_in_the_tokens_scope(demand, tree):
    response = bearer(GS).get(f"/api/v1/stations/orgs/{tree[T01].id}/coverage", {"suggestions": "2"})
    assert response.status_code == 200
    assert response.json() == {
        "org_id": str(tree[T01].id),
        "source": "points",
        "mode": "walk",
        "minutes": 15,
        "reach_m": 962,
        "stations": 3,
        "points": 5,
        "points_covered": 2,
        "demand": 110,
        "demand_covered": 60,
        "share": "54.5",
        "uncovered": [
            {"name": "环卫所", "lat": 31.32, "lng": 120.6, "workers": 25, "nearest_m": 1223},
            {"name": "工地", "lat": 31.321, "lng": 120.601, "workers": 15, "nearest_m": 1338},
            {"name": "快递点", "lat": 31.35, "lng": 120.65, "workers": 10, "nearest_m": 6581},
        ],
        "suggestions": [
            {
                "lat": 31.320832,
                "lng": 120.599528,
                "place": "姑苏区双塔街道",
                "place_basis": "依据：最近的站点“竹辉妈妈驿站”（相距 1.3 公里）",
                "adds": 40,
                "adds_points": 2,
                "share_after": "90.9",
            },
            {
                "lat": 31.351303,
                "lng": 120.649416,
                "place": "相城区",
                "place_basis": "2 公里内没有已登记所属街道（镇）的站点或企业，仅能确定区县",
                "adds": 10,
                "adds_points": 1,
                "share_after": "100.0",
            },
        ],
    }
    ride = bearer(GS).get(f"/api/v1/stations/orgs/{tree[T01].id}/coverage", {"mode": "ride", "suggestions": "0"})
    assert {k: ride.json()[k] for k in ("reach_m", "points_covered", "demand_covered", "share", "suggestions")} == {
        "reach_m": 2885,
        "points_covered": 4,
        "demand_covered": 100,
        "share": "90.9",
        "suggestions": [],
    }
    wz = bearer(WZ).get(f"/api/v1/stations/orgs/{tree[WZT01].id}/coverage").json()
    assert (wz["points"], wz["demand"], wz["demand_covered"], wz["share"]) == (1, 99, 0, "0.0")
    bad = bearer(GS).get(f"/api/v1/stations/orgs/{tree[T01].id}/coverage", {"source": "nonsense"})
    assert (bad.status_code, bad.json()["errors"]) == (422, {"source": "需求来源只能是导入的需求点、企业或网格"})


@pytest.mark.parametrize("token, code", [(WZ, T01), (WZ, GS), (GS, WZT01), (GS, SZ), (E12, E123)])
def test_the_circle_of_an_org_outside_the_tokens_scope_is_the_missing_one(demand, tree, token, code):
    client = bearer(token)
    hidden = client.get(f"/api/v1/stations/orgs/{tree[code].id}/coverage")
    absent = client.get(f"/api/v1/stations/orgs/{uuid.uuid4()}/coverage")
    assert (hidden.status_code, hidden.json()) == (absent.status_code, absent.json()) == (404, NOT_FOUND)
    assert hidden.content == absent.content


def test_no_coordinate_jargon_reaches_a_worker(layout):
    """Workers read Chinese, not datum names: no WGS84 (nor GCJ-02, CGCS2000) on the map, the list, a station's page
    or in the scripts that write the map's hints."""
    pages = [
        Client().get(reverse("portal:station_map")),
        Client().get(reverse("portal:station_map"), P),
        Client().get(reverse("portal:station_nearest"), P),
        station_page(layout.zhuhui, **P),
        station_page(layout.shuangta),
    ]
    scripts = [
        Path(settings.BASE_DIR) / "gonghui" / "portal" / "static" / "portal" / "station_map.js",
        Path(settings.BASE_DIR) / "gonghui" / "stations" / "static" / "stations" / "districts.js",
    ]
    texts = [text(page) for page in pages] + [path.read_text(encoding="utf-8") for path in scripts]
    assert all(page.status_code == 200 for page in pages)
    for content in texts:
        for jargon in ("WGS84", "WGS-84", "GCJ", "CGCS", "坐标系"):
            assert jargon not in content
