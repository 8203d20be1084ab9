"""Service stations through the API: the nearest stations and the circle of an organisation, by token."""

import io
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.stations.page_factories import E12, E123, GS, SWAPPED, SZ, T01, WZ, WZT01, P, station_page, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


NOT_FOUND = {"code": "not_found", "message": "对象不存在或无权访问"}


PERMISSION_DENIED = {"code": "permission_denied", "message": "当前角色无权执行此操作"}


def bearer(code: str) -> Client:
    out = io.StringIO()
    call_command("create_api_token", "--name", f"站点{code}", "--org", code, stdout=out, stderr=io.StringIO())
    return Client(headers={"Authorization": f"Bearer {out.getvalue().strip()}"})


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
