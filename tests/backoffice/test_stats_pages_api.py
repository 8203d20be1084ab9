"""The two statistics API endpoints by session and by bearer token, rounding, and periods that have not started
(the clock is fixed at 2026-05-20 12:00)."""

import uuid
from datetime import date

import pytest
from django.test import Client

from gonghui.audit.models import AuditEvent
from tests.backoffice.stats_pages_factories import (
    E12,
    E123,
    GS,
    GUSU_2025_MEMBERS,
    GUSU_2026,
    NOT_FOUND,
    SZ,
    T01,
    T02,
    WZ,
    api_annual,
    api_dashboard,
    bearer,
    build_data,
    card,
    dashboard,
    fix_clock,
    section,
    text,
)
from tests.members.factories import enrol, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    fix_clock(monkeypatch)


@pytest.fixture
def data(tree, system):
    return build_data(tree, system)


# ---------------------------------------------------------------- the API

GUSU_HEADLINE_2026 = {
    "members": 7,
    "members_before": 4,
    "members_change": "75.0",
    "joined": 4,
    "joined_before": 2,
    "joined_change": "100.0",
    "net_change": 3,
    "net_change_before": 2,
    "transferred_in": 1,
    "transferred_out": 1,
    "left": 1,
    "new_employment": 3,
    "new_employment_before": 0,
    "new_employment_change": None,
    "female": 3,
    "migrant": 2,
}
CHECKED_AT = "2026-05-20T04:00:00+00:00"


def rates(coverage, registered, declared, unions, accuracy, passing, f25, e25c, e25, f100, e100c, e100) -> dict:
    return {
        "coverage": coverage,
        "registered_in_declared": registered,
        "declared_total": declared,
        "declared_unions": unions,
        "stale_unions": 0,
        "coverage_flag": "",
        "accuracy": accuracy,
        "passing": passing,
        "checked_at": CHECKED_AT,
        "founding_25": f25,
        "employers_25_covered": e25c,
        "employers_25": e25,
        "founding_100": f100,
        "employers_100_covered": e100c,
        "employers_100": e100,
    }


GUSU_RATES = rates("63.6", 7, 11, 3, "85.7", 6, "60.0", 3, 5, "50.0", 1, 2)
T01_RATES = rates("55.6", 5, 9, 2, "100.0", 5, "66.7", 2, 3, "50.0", 1, 2)
T02_RATES = rates("100.0", 2, 2, 1, "50.0", 1, "50.0", 1, 2, None, 0, 0)
WZ_RATES = rates(None, 0, 0, 0, "50.0", 1, "100.0", 1, 1, "100.0", 1, 1)


def child(tree, code, members_, joined, net, new_employment, rates_) -> dict:
    org = tree[code]
    return {
        "id": str(org.id),
        "code": code,
        "name": org.name,
        "members": members_,
        "joined": joined,
        "net_change": net,
        "new_employment": new_employment,
        "rates": rates_,
    }


@pytest.mark.parametrize("how", ["session", "token"])
def test_the_dashboard_endpoint(data, login, tree, how):
    client = login("district_cadre") if how == "session" else bearer(GS)

    response = api_dashboard(client, tree[GS], sort="coverage")

    assert response.status_code == 200
    body = response.json()
    assert (body["org_id"], body["org_code"], body["org_name"]) == (str(tree[GS].id), GS, "姑苏区总工会")
    assert body["period"] == {
        "kind": "year",
        "label": "2026年",
        "start": "2026-01-01",
        "end": "2026-12-31",
        "reached": "2026-05-31",
        "compared_start": "2025-01-01",
        "compared_end": "2025-05-31",
    }
    assert body["headline"] == GUSU_HEADLINE_2026
    assert body["rates"] == GUSU_RATES
    assert body["sorted_by"] == "coverage"
    assert body["children"] == [
        child(tree, T02, 2, 1, 1, 1, T02_RATES),
        child(tree, T01, 5, 3, 2, 2, T01_RATES),
    ]
    assert body["children_total"] == 2
    assert body["trend"] == [
        {"month": "2026-01", "members": 5, "joined": 1, "transferred_in": 0, "transferred_out": 0, "left": 0},
        {"month": "2026-02", "members": 6, "joined": 1, "transferred_in": 0, "transferred_out": 0, "left": 0},
        {"month": "2026-03", "members": 5, "joined": 0, "transferred_in": 0, "transferred_out": 0, "left": 1},
        {"month": "2026-04", "members": 6, "joined": 1, "transferred_in": 0, "transferred_out": 0, "left": 0},
        {"month": "2026-05", "members": 7, "joined": 1, "transferred_in": 1, "transferred_out": 1, "left": 0},
    ]
    assert body["breakdowns"][0] == {"title": "性别", "rows": [["男", 4], ["女", 3], ["未填写", 0]]}
    assert AuditEvent.objects.filter(action="stats.export").count() == 0


def test_the_dashboard_endpoint_returns_the_top_of_the_ranking_with_its_length(data, tree):
    client = bearer(GS)

    first = api_dashboard(client, tree[GS], sort="coverage", top=1).json()
    everything = api_dashboard(client, tree[GS], sort="coverage", top=0).json()

    assert (first["children"], first["children_total"]) == ([child(tree, T02, 2, 1, 1, 1, T02_RATES)], 2)
    assert ([c["code"] for c in everything["children"]], everything["children_total"]) == ([T02, T01], 2)
    refused = api_dashboard(client, tree[GS], top=-1)
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"top": "不能小于 0"}


def test_the_dashboard_endpoint_for_the_city_by_token(data, tree):
    client = bearer(SZ)

    body = api_dashboard(client, tree[SZ], period="quarter", year=2026, quarter=1, sort="founding_25").json()

    assert body["period"]["label"] == "2026年第1季度"
    assert (body["period"]["reached"], body["period"]["compared_start"], body["period"]["compared_end"]) == (
        "2026-03-31",
        "2025-01-01",
        "2025-03-31",
    )
    assert {k: body["headline"][k] for k in ("members", "members_before", "joined", "joined_before", "left")} == {
        "members": 7,
        "members_before": 4,
        "joined": 3,
        "joined_before": 2,
        "left": 1,
    }
    assert body["headline"]["members_change"] == "75.0"
    assert body["headline"]["joined_change"] == "50.0"
    # Q1 2026: 姑苏 had B and F join (F left), 吴中 had I join.
    assert body["children"] == [
        child(tree, WZ, 2, 1, 1, 0, WZ_RATES),
        child(tree, GS, 5, 2, 1, 1, GUSU_RATES),
    ]
    assert body["rates"] == rates("63.6", 7, 11, 3, "77.8", 7, "66.7", 4, 6, "66.7", 2, 3)


def test_the_annual_endpoint(data, login, tree):
    for client in (login("district_cadre"), bearer(GS)):
        response = api_annual(client, tree[GS])

        assert response.status_code == 200
        body = response.json()
        assert {k: v for k, v in body.items() if k != "items"} == {
            "org_id": str(tree[GS].id),
            "org_name": "姑苏区总工会",
            "year": 2026,
            "reached": "2026-05-20",
            "complete": False,
        }
        assert body["items"] == [
            {"section": s, "name": n, "value": str(v), "unit": u, "sentence": sentence, "note": note}
            for s, n, v, u, sentence, note in GUSU_2026
        ]

    last_year = api_annual(login("district_cadre"), tree[GS], year=2025).json()
    assert (last_year["year"], last_year["reached"], last_year["complete"]) == (2025, "2025-12-31", True)
    assert [(i["name"], i["value"], i["sentence"]) for i in last_year["items"][:7]] == [
        (n, str(v), sentence) for _s, n, v, _u, sentence, _note in GUSU_2025_MEMBERS
    ]
    assert AuditEvent.objects.filter(action="stats.export").count() == 0


def test_out_of_scope_in_the_api_is_exactly_like_a_missing_organisation(data, login, tree):
    missing = uuid.uuid4()
    for client in (bearer(WZ), login("other_district_cadre")):
        for endpoint in ("dashboard", "annual"):
            absent = client.get(f"/api/v1/stats/orgs/{missing}/{endpoint}")
            assert (absent.status_code, absent.json()) == (404, NOT_FOUND)
            for code in (GS, T01, E12, SZ):
                hidden = client.get(f"/api/v1/stats/orgs/{tree[code].id}/{endpoint}")
                assert hidden.status_code == 404, (code, endpoint)
                assert hidden.content == absent.content, (code, endpoint)
        own = api_dashboard(client, tree[WZ])
        assert own.status_code == 200
        assert own.json()["headline"]["members"] == 2
    # The district's token reaches below it but not its neighbour or the city.
    gusu = bearer(GS)
    assert api_dashboard(gusu, tree[E123]).json()["headline"]["members"] == 2
    assert api_dashboard(gusu, tree[WZ]).json() == NOT_FOUND
    assert api_annual(gusu, tree[SZ]).json() == NOT_FOUND


def test_the_api_needs_a_token_or_a_session(data, tree):
    for path in (f"/api/v1/stats/orgs/{tree[GS].id}/dashboard", f"/api/v1/stats/orgs/{tree[GS].id}/annual"):
        response = Client().get(path)
        assert response.status_code == 401


@pytest.mark.parametrize(
    ("query", "label", "joined"),
    [
        ({"year": 1900}, "2026年", 4),
        ({"year": 2101}, "2026年", 4),
        ({"period": "quarter", "quarter": 9}, "2026年第2季度", 2),
        ({"period": "quarter", "year": 2026, "quarter": 0}, "2026年第2季度", 2),
        ({"period": "month", "year": 2026, "month": 13}, "2026年5月", 1),
        ({"period": "custom", "start": "2026-13", "end": "2026-02"}, "2026年", 4),
        ({"period": "custom", "start": "2026-03", "end": "2026-01"}, "2026年", 4),
        ({"period": "custom"}, "2026年", 4),
        ({"sort": "nonsense"}, "2026年", 4),
    ],
)
def test_period_values_the_api_cannot_use_fall_back_to_the_current_one(data, tree, query, label, joined):
    response = api_dashboard(bearer(GS), tree[GS], **query)

    assert response.status_code == 200
    body = response.json()
    assert (body["period"]["label"], body["headline"]["joined"], body["headline"]["members"]) == (label, joined, 7)
    assert body["sorted_by"] == "members"
    assert [c["code"] for c in body["children"]] == [T01, T02]


@pytest.mark.parametrize(("query", "field"), [({"period": "decade"}, "period"), ({"year": "abc"}, "year")])
def test_period_values_of_the_wrong_type_are_refused_by_the_typed_query(data, tree, query, field):
    # The API's query schema is typed (period is one of four words, year a number): a value of the wrong type is
    # refused like any other malformed parameter, unlike the back office, which falls back to the current year.
    response = api_dashboard(bearer(GS), tree[GS], **query)

    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_request",
        "message": "请求参数不正确",
        "errors": {field: "参数缺失或格式不正确"},
    }


# ---------------------------------------------------------------- rounding and periods that have not started


@pytest.fixture
def sixteen_then_seventeen(tree, system):
    """Union 12 has 16 members at the end of May 2025 and 17 now: a rise of exactly 6.25%."""
    for i in range(16):
        enrol(
            system,
            tree[E12],
            name="会员" + "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳"[i],
            number=resident_id(date(1980, 1, 1 + i), 2 * i + 1),
            joined_on=date(2025, 1, 10),
        )
    enrol(system, tree[E12], name="新会员", number=resident_id(date(1981, 1, 1), 1), joined_on=date(2026, 4, 1))


def test_a_change_of_six_and_a_quarter_percent_rounds_half_up_on_the_page_and_in_the_api(
    sixteen_then_seventeen, login, tree
):
    client = login("grassroots_cadre")

    body = api_dashboard(client, tree[E12]).json()
    assert (body["headline"]["members"], body["headline"]["members_before"]) == (17, 16)
    assert body["headline"]["members_change"] == "6.3"
    # Rounded like every other figure (四舍五入), not as a float's round-half-to-even "6.2".
    assert card("会员总数", "17 人", "比上年同期增加 1 人（+6.3%）") in text(dashboard(client))


def test_a_period_that_has_not_started_is_compared_with_a_window_that_runs_forwards(data, login, tree):
    # 2026 Q4 seen on 2026-05-20 (the dashboard's own form offers it): nothing is recorded after today, so its
    # figures are today's, compared with its first month a year earlier.
    client = login("district_cadre")

    body = api_dashboard(client, tree[GS], period="quarter", year=2026, quarter=4).json()

    assert body["period"] == {
        "kind": "quarter",
        "label": "2026年第4季度",
        "start": "2026-10-01",
        "end": "2026-12-31",
        "reached": "2026-10-31",
        "compared_start": "2025-10-01",
        "compared_end": "2025-10-31",
    }
    # At the end of October 2025: A, D and H.
    assert {k: body["headline"][k] for k in ("members", "members_before", "joined", "net_change", "left")} == {
        "members": 7,
        "members_before": 3,
        "joined": 0,
        "net_change": 0,
        "left": 0,
    }
    assert body["trend"] == []
    page = text(dashboard(client, period="quarter", year="2026", quarter="4"))
    assert "统计至 2026年5月20日（期间未结束）；对比上年同期 2025年10月至2025年10月。" in page
    assert card("会员总数", "7 人", "比上年同期增加 4 人（+133.3%）") in page
    assert card("期间新入会", "0 人", "与上年同期持平") in page
    assert '<p class="gh-muted">所选期间尚未开始。</p>' in section(page, "月度趋势")


def test_the_service_figures_endpoint_counts_by_period_and_refuses_out_of_scope(data, login, tree):
    from gonghui.casework.models import CaseKind

    client = login("district_cadre")
    response = client.get(
        f"/api/v1/stats/orgs/{tree[GS].id}/services", {"period": "quarter", "year": 2026, "quarter": 1}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["period"]["label"] == "2026年第1季度"
    assert (body["period"]["compared_start"], body["period"]["compared_end"]) == ("2025-01-01", "2025-03-31")
    assert [k["kind"] for k in body["kinds"]] == [*CaseKind.values, "care"]
    assert all(k["cases"] == 0 and k["money"] == "0.00" for k in body["kinds"])  # the data set has no cases
    outside = client.get(f"/api/v1/stats/orgs/{tree['SZ-WZ'].id}/services")
    missing = client.get("/api/v1/stats/orgs/01a1fe8d-0000-7000-8000-000000000000/services")
    assert outside.status_code == missing.status_code == 404
    assert outside.content == missing.content
