"""The statistics through the test client: the 驾驶舱 page (headline figures beside the same period a year earlier,
the period selector, the ranking of the organisations below with its drill-down links), the four exports read back
from the files, and the two statistics API endpoints by session and by bearer token.

The clock is fixed at 2026-05-20 12:00 (Asia/Shanghai), so "this year" is 2026, running until the end of May, and
"the same period last year" is January to May 2025. The data set (built through the registry services, so the kept
figures are exactly what the services keep):

    union        member  born        joined      sex  form           hukou  what happens
    SZ-GS-T01-12  A      1995-03-08  2025-03-10  F    standard       agri
                  B      2000-07-01  2026-02-15  M    courier        -
                  C      1988-10-10  2026-04-02  F    food_delivery  agri
                  D      1975-01-20  2024-06-01  M    standard       -      transferred to SZ-GS-T01-123 on 2026-05-20
    SZ-GS-T01-123 E      1985-06-06  2025-11-20  M    standard       -      保留会籍 (still a member)
                  F      1992-02-02  2026-01-10  F    standard       -      left on 2026-03-05
    SZ-GS-T02-E1  G      1998-09-09  2026-05-06  M    ride_hailing   -      shares I's mobile (fails the quality check)
                  H      1965-04-04  2025-05-01  F    standard       -
                  K      1970-10-01  2023-03-01  M    standard       -      cancelled on 2025-08-01
    SZ-WZ-T01-E1  I      1990-05-17  2026-03-01  M    standard       -      shares G's mobile
                  J      1980-12-12  2025-02-01  F    standard       -

Declared member totals: SZ-GS-T01-12 5, SZ-GS-T01-123 4, SZ-GS-T02-E1 2. Employers (staff, covered by):
SZ-GS-T01 80 (union 12), 150 (none), 120 (union 123), 10 (none); SZ-GS-T02 30 (its union), 40 (none);
SZ-WZ-T01 300 (its union). The daily quality re-check has run.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from gonghui.audit.models import AuditEvent
from gonghui.backoffice.views import stats as stats_views
from tests.backoffice.stats_pages_factories import (
    ADMINISTRATORS,
    C1,
    E12,
    E123,
    FORBIDDEN_MARK,
    GS,
    MISSING_CODE,
    PERMISSION_DENIED,
    REPORTS,
    SZ,
    T01,
    T02,
    WZ,
    build_data,
    card,
    dashboard,
    fix_clock,
    ranking,
    report,
    section,
    text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    fix_clock(monkeypatch)


@pytest.fixture
def data(tree, system):
    return build_data(tree, system)


# ---------------------------------------------------------------- the dashboard page


def test_the_district_dashboard_shows_the_running_year_beside_last_year(data, login):
    response = dashboard(login("district_cadre"))

    assert response.status_code == 200
    page = text(response)
    assert '<h2 class="gh-h2">姑苏区总工会 · 驾驶舱 · 2026年</h2>' in page
    assert "统计至 2026年5月20日（期间未结束）；对比上年同期 2025年01月至2025年05月。" in page
    assert '<nav class="gh-crumbs" aria-label="组织层级"><strong>姑苏区总工会</strong></nav>' in page
    cards = [
        card("会员总数", "7 人", "比上年同期增加 3 人（+75.0%）"),
        card("期间新入会", "4 人", "比上年同期增加 2 人（+100.0%）"),
        card("期间净增", "+3 人", "转入 1，转出 1，退会及注销 1"),
        card("新就业形态会员", "3 人", "比上年同期增加 3 人"),
        card("入库率", "63.6%", "入库 7 / 实有 11 人（3 个工会填报）"),
        card("准确率", "85.7%", "通过核查 6 人；核查于 2026-05-20 12:00"),
        card("建会率（25人以上）", "60.0%", "已建会 3 / 5 家"),
        card("建会率（100人以上）", "50.0%", "已建会 1 / 2 家"),
        card("女职工会员", "3 人", "农民工会员 2 人"),
        card("正式会员（当前）", "6 人", "保留会籍 1 人"),
    ]
    assert '<section class="gh-grid" aria-label="主要指标">\n  ' + "".join(cards) + "\n</section>" in page
    trend = section(page, "月度趋势")
    months = re.findall(r"<tr><td>(2026年\d+月)</td>((?:<td class=\"gh-num\">\d+</td>)+)</tr>", trend)
    assert [(m, re.findall(r">(\d+)<", cells)) for m, cells in months] == [
        ("2026年1月", ["5", "1", "0", "0", "0"]),
        ("2026年2月", ["6", "1", "0", "0", "0"]),
        ("2026年3月", ["5", "0", "0", "0", "1"]),
        ("2026年4月", ["6", "1", "0", "0", "0"]),
        ("2026年5月", ["7", "1", "1", "1", "0"]),
    ]
    shares = re.findall(
        r'<tr><td>([^<]+)</td><td class="gh-num">(\d+) 人</td><td class="gh-num">([^<]+)</td></tr>',
        section(page, "会员构成（截至今日）"),
    )
    assert shares == [
        ("男", "4", "57.1%"),
        ("女", "3", "42.9%"),
        ("未填写", "0", "0.0%"),
        ("35岁及以下", "3", "42.9%"),
        ("36至45岁", "2", "28.6%"),
        ("46至55岁", "1", "14.3%"),
        ("56岁及以上", "1", "14.3%"),
        ("未知", "0", "0.0%"),
        ("标准劳动关系", "4", "57.1%"),
        ("快递员", "1", "14.3%"),
        ("外卖配送员", "1", "14.3%"),
        ("网约车驾驶员", "1", "14.3%"),
        ("货车司机", "0", "0.0%"),
        ("其他灵活就业", "0", "0.0%"),
        ("未填写", "0", "0.0%"),
    ]
    # The export links carry the organisation and the period shown.
    assert 'href="/admin/stats/reports/members/?org=SZ-GS&period=year&amp;year=2026"' in page
    assert 'href="/admin/stats/reports/founding/?org=SZ-GS"' in page
    assert 'href="/admin/stats/reports/annual_xlsx/?org=SZ-GS&year=2026"' in page
    assert 'href="/admin/stats/reports/annual_docx/?org=SZ-GS&year=2026"' in page
    # Looking at the figures is not an export.
    assert AuditEvent.objects.filter(action="stats.export").count() == 0


@pytest.mark.parametrize(
    ("username", "title", "members_card", "joined_card", "net_card"),
    [
        (
            "city_cadre",
            "苏州市总工会",
            ("9 人", "比上年同期增加 4 人（+80.0%）"),
            ("5 人", "比上年同期增加 2 人（+66.7%）"),
            ("+4 人", "转入 1，转出 1，退会及注销 1"),
        ),
        (
            "district_cadre",
            "姑苏区总工会",
            ("7 人", "比上年同期增加 3 人（+75.0%）"),
            ("4 人", "比上年同期增加 2 人（+100.0%）"),
            ("+3 人", "转入 1，转出 1，退会及注销 1"),
        ),
        (
            "town_cadre",
            "双塔街道总工会",
            ("5 人", "比上年同期增加 3 人（+150.0%）"),
            ("3 人", "比上年同期增加 2 人（+200.0%）"),
            ("+2 人", "转入 1，转出 1，退会及注销 1"),
        ),
        (
            "grassroots_cadre",
            "十二号公司工会委员会",
            ("3 人", "比上年同期增加 1 人（+50.0%）"),
            ("2 人", "比上年同期增加 1 人（+100.0%）"),
            ("+1 人", "转入 0，转出 1，退会及注销 0"),
        ),
        (
            "other_district_cadre",
            "吴中区总工会",
            ("2 人", "比上年同期增加 1 人（+100.0%）"),
            ("1 人", "与上年同期持平"),
            ("+1 人", "转入 0，转出 0，退会及注销 0"),
        ),
    ],
)
def test_each_cadre_opens_on_the_figures_of_their_own_organisation(
    data, login, username, title, members_card, joined_card, net_card
):
    response = dashboard(login(username))

    assert response.status_code == 200
    page = text(response)
    assert f'<h2 class="gh-h2">{title} · 驾驶舱 · 2026年</h2>' in page
    assert card("会员总数", *members_card) in page
    assert card("期间新入会", *joined_card) in page
    assert card("期间净增", *net_card) in page


def test_the_grassroots_union_has_no_ranking_and_no_founding_rate(data, login):
    page = text(dashboard(login("grassroots_cadre")))

    assert ranking(page) == []
    assert '<p class="gh-muted">没有下级组织。</p>' in section(page, "下级组织排名")
    assert card("入库率", "60.0%", "入库 3 / 实有 5 人（1 个工会填报）") in page
    assert card("准确率", "100.0%", "通过核查 3 人；核查于 2026-05-20 12:00") in page
    assert card("建会率（25人以上）", "—", "已建会 0 / 0 家") in page
    assert card("女职工会员", "2 人", "农民工会员 2 人") in page


# Each organisation in the ranking: members, joined, net change, new employment, 入库率, 准确率, 建会率 25 and 100.
ROWS = {
    GS: ("姑苏区总工会", ["7", "4", "3", "3", "63.6%", "85.7%", "60.0%", "50.0%"]),
    WZ: ("吴中区总工会", ["2", "1", "1", "0", "—", "50.0%", "100.0%", "100.0%"]),
    T01: ("双塔街道总工会", ["5", "3", "2", "2", "55.6%", "100.0%", "66.7%", "50.0%"]),
    T02: ("沧浪街道总工会", ["2", "1", "1", "1", "100.0%", "50.0%", "50.0%", "—"]),
    C1: ("竹辉社区工会", ["0", "0", "0", "0", "—", "—", "—", "—"]),
    E12: ("十二号公司工会委员会", ["3", "2", "1", "2", "60.0%", "100.0%", "—", "—"]),
    E123: ("一二三公司工会委员会", ["2", "1", "1", "0", "50.0%", "100.0%", "—", "—"]),
}

SORT_LABELS = {
    "members": "会员数",
    "joined": "新入会",
    "net_change": "净增",
    "new_employment": "新就业形态会员",
    "coverage": "入库率",
    "accuracy": "准确率",
    "founding_25": "建会率(25人以上)",
    "founding_100": "建会率(100人以上)",
}


@pytest.mark.parametrize(
    ("username", "sort", "order"),
    [
        ("city_cadre", None, [GS, WZ]),
        ("city_cadre", "members", [GS, WZ]),
        ("city_cadre", "new_employment", [GS, WZ]),
        ("city_cadre", "founding_25", [WZ, GS]),
        ("city_cadre", "founding_100", [WZ, GS]),
        ("city_cadre", "coverage", [GS, WZ]),
        ("district_cadre", "members", [T01, T02]),
        ("district_cadre", "coverage", [T02, T01]),
        ("district_cadre", "accuracy", [T01, T02]),
        ("district_cadre", "founding_25", [T01, T02]),
        ("district_cadre", "no-such-key", [T01, T02]),
        ("town_cadre", "members", [E12, E123, C1]),
        ("town_cadre", "joined", [E12, E123, C1]),
        # A tie (net change +1 each) keeps the tree order.
        ("town_cadre", "net_change", [E12, E123, C1]),
        # C1 and union 123 tie at no new-employment member: C1 comes first in the tree.
        ("town_cadre", "new_employment", [E12, C1, E123]),
        # No rate at all (C1 declared no total) comes last.
        ("town_cadre", "coverage", [E12, E123, C1]),
    ],
)
def test_the_ranking_orders_the_organisations_below_by_the_chosen_figure(data, login, username, sort, order):
    query = {"sort": sort} if sort else {}
    page = text(dashboard(login(username), **query))

    shown = sort if sort in SORT_LABELS else "members"
    assert ranking(page) == [
        (f"?org={code}&period=year&amp;year=2026&sort={shown}", ROWS[code][0], ROWS[code][1]) for code in order
    ]
    assert f'<span aria-sort="descending">{SORT_LABELS[shown]} ▼</span>' in page


def test_a_long_ranking_shows_its_first_rows_and_links_to_all_of_them(data, login, monkeypatch):
    monkeypatch.setattr(stats_views, "CHILDREN_SHOWN", 2)
    client = login("town_cadre")

    page = text(dashboard(client, sort="joined"))

    assert [name for _, name, _ in ranking(page)] == [ROWS[E12][0], ROWS[E123][0]]
    assert (
        '<p class="gh-muted">共 3 个下级组织，按“新入会”显示前 2 个。<a class="gh-link" '
        'href="?org=SZ-GS-T01&period=year&amp;year=2026&sort=joined&top=all">显示全部</a></p>'
    ) in page

    everything = text(dashboard(client, sort="joined", top="all"))

    assert [name for _, name, _ in ranking(everything)] == [ROWS[E12][0], ROWS[E123][0], ROWS[C1][0]]
    assert '<p class="gh-muted">共 3 个下级组织，已全部显示。</p>' in everything
    assert "显示全部</a>" not in everything
    # Re-sorting keeps the whole list.
    assert 'href="?org=SZ-GS-T01&period=year&amp;year=2026&sort=members&top=all">会员数</a>' in everything


def test_a_drill_down_link_opens_the_dashboard_of_the_organisation_below(data, login):
    client = login("district_cadre")
    page = text(dashboard(client, period="quarter", year="2026", quarter="1", sort="coverage"))
    link = ranking(page)[1][0]
    assert link == "?org=SZ-GS-T01&period=quarter&amp;year=2026&amp;quarter=1&sort=coverage"

    below = client.get(reverse("admin:stats_dashboard") + link.replace("&amp;", "&"))

    assert below.status_code == 200
    page = text(below)
    assert '<h2 class="gh-h2">双塔街道总工会 · 驾驶舱 · 2026年第1季度</h2>' in page
    crumbs = (
        '<nav class="gh-crumbs" aria-label="组织层级"><a class="gh-link" href="?org=SZ-GS&period=quarter&amp;year=2026'
        '&amp;quarter=1">姑苏区总工会</a> › <strong>双塔街道总工会</strong></nav>'
    )
    assert crumbs in page
    # At the end of March 2026: A, B, D in union 12 and E in union 123; at the end of March 2025: A and D.
    assert card("会员总数", "4 人", "比上年同期增加 2 人（+100.0%）") in page
    assert card("期间新入会", "2 人", "比上年同期增加 1 人（+100.0%）") in page
    assert card("期间净增", "+1 人", "转入 0，转出 0，退会及注销 1") in page
    assert '<span aria-sort="descending">入库率 ▼</span>' in page
    assert [name for _link, name, _figures in ranking(page)] == [
        "十二号公司工会委员会",
        "一二三公司工会委员会",
        "竹辉社区工会",
    ]


@pytest.mark.parametrize(
    ("query", "label", "reached", "members_card", "joined_card", "net_card"),
    [
        (
            {"period": "year", "year": "2025"},
            "2025年",
            "统计至 2025年12月31日；对比上年同期 2024年01月至2024年12月。",
            ("4 人", "比上年同期增加 2 人（+100.0%）"),
            ("3 人", "比上年同期增加 2 人（+200.0%）"),
            ("+2 人", "转入 0，转出 0，退会及注销 1"),
        ),
        (
            {"period": "quarter", "year": "2026", "quarter": "1"},
            "2026年第1季度",
            "统计至 2026年3月31日；对比上年同期 2025年01月至2025年03月。",
            ("5 人", "比上年同期增加 2 人（+66.7%）"),
            ("2 人", "比上年同期增加 1 人（+100.0%）"),
            ("+1 人", "转入 0，转出 0，退会及注销 1"),
        ),
        (
            {"period": "quarter", "year": "2026", "quarter": "2"},
            "2026年第2季度",
            "统计至 2026年5月20日（期间未结束）；对比上年同期 2025年04月至2025年05月。",
            ("7 人", "比上年同期增加 3 人（+75.0%）"),
            ("2 人", "比上年同期增加 1 人（+100.0%）"),
            ("+2 人", "转入 1，转出 1，退会及注销 0"),
        ),
        (
            {"period": "month", "year": "2026", "month": "5"},
            "2026年5月",
            "统计至 2026年5月20日（期间未结束）；对比上年同期 2025年05月至2025年05月。",
            ("7 人", "比上年同期增加 3 人（+75.0%）"),
            ("1 人", "与上年同期持平"),
            ("+1 人", "转入 1，转出 1，退会及注销 0"),
        ),
        (
            {"period": "month", "year": "2026", "month": "3"},
            "2026年3月",
            "统计至 2026年3月31日；对比上年同期 2025年03月至2025年03月。",
            ("5 人", "比上年同期增加 2 人（+66.7%）"),
            ("0 人", "比上年同期减少 1 人（-100.0%）"),
            ("-1 人", "转入 0，转出 0，退会及注销 1"),
        ),
        (
            {"period": "custom", "start": "2025-10", "end": "2026-02"},
            "2025年10月至2026年2月",
            "统计至 2026年2月28日；对比上年同期 2024年10月至2025年02月。",
            ("6 人", "比上年同期增加 4 人（+200.0%）"),
            ("3 人", "比上年同期增加 3 人"),
            ("+3 人", "转入 0，转出 0，退会及注销 0"),
        ),
        (
            # Anything that cannot be read falls back to the current year.
            {"period": "custom", "start": "2026-04", "end": "2026-01"},
            "2026年",
            "统计至 2026年5月20日（期间未结束）；对比上年同期 2025年01月至2025年05月。",
            ("7 人", "比上年同期增加 3 人（+75.0%）"),
            ("4 人", "比上年同期增加 2 人（+100.0%）"),
            ("+3 人", "转入 1，转出 1，退会及注销 1"),
        ),
        (
            {"period": "decade", "year": "1999"},
            "2026年",
            "统计至 2026年5月20日（期间未结束）；对比上年同期 2025年01月至2025年05月。",
            ("7 人", "比上年同期增加 3 人（+75.0%）"),
            ("4 人", "比上年同期增加 2 人（+100.0%）"),
            ("+3 人", "转入 1，转出 1，退会及注销 1"),
        ),
    ],
    ids=["year-2025", "q1", "q2-running", "may-running", "march", "custom", "custom-reversed", "unreadable"],
)
def test_the_period_selector(data, login, query, label, reached, members_card, joined_card, net_card):
    response = dashboard(login("district_cadre"), **query)

    assert response.status_code == 200
    page = text(response)
    assert f'<h2 class="gh-h2">姑苏区总工会 · 驾驶舱 · {label}</h2>' in page
    assert reached in page
    assert card("会员总数", *members_card) in page
    assert card("期间新入会", *joined_card) in page
    assert card("期间净增", *net_card) in page


def test_the_period_form_and_links_keep_the_chosen_period(data, login):
    page = text(dashboard(login("district_cadre"), period="quarter", year="2025", quarter="3"))

    assert '<h2 class="gh-h2">姑苏区总工会 · 驾驶舱 · 2025年第3季度</h2>' in page
    assert '<option value="quarter" selected>季度</option>' in page
    assert '<option value="2025" selected>2025</option>' in page
    assert '<option value="3" selected>第3季度</option>' in page
    assert '<input class="gh-input" type="month" name="start" value="2025-07">' in page
    assert '<input class="gh-input" type="month" name="end" value="2025-09">' in page
    assert 'href="/admin/stats/reports/members/?org=SZ-GS&period=quarter&amp;year=2025&amp;quarter=3"' in page
    assert 'href="/admin/stats/reports/annual_xlsx/?org=SZ-GS&year=2025"' in page
    # Q3 2025: K was cancelled in August; nobody joined. At the end of September 2025: A, D, H; a year earlier: D, K.
    assert card("会员总数", "3 人", "比上年同期增加 1 人（+50.0%）") in page
    assert card("期间新入会", "0 人", "与上年同期持平") in page
    assert card("期间净增", "-1 人", "转入 0，转出 0，退会及注销 1") in page
    months = re.findall(r"<tr><td>(2025年\d+月)</td><td class=\"gh-num\">(\d+)</td>", section(page, "月度趋势"))
    assert months == [("2025年7月", "4"), ("2025年8月", "3"), ("2025年9月", "3")]


ROLE_ORG = {"other_district_cadre": WZ, "grassroots_cadre": E12}


@pytest.mark.parametrize(
    ("username", "codes"),
    [("other_district_cadre", [GS, T01, E12, SZ]), ("grassroots_cadre", [E123, T01, GS, WZ])],
)
def test_an_organisation_out_of_scope_is_exactly_the_missing_page_and_exports_nothing(data, login, username, codes):
    client = login(username)
    events = AuditEvent.objects.count()
    absent = dashboard(client, org=MISSING_CODE)
    assert absent.status_code == 404
    for code in codes:
        hidden = dashboard(client, org=code, period="year", year="2026")
        assert hidden.status_code == 404, code
        assert hidden.content == absent.content, code
        for name in REPORTS:
            hidden_export = report(client, name, org=code)
            absent_export = report(client, name, org=MISSING_CODE)
            assert hidden_export.status_code == absent_export.status_code == 404, (code, name)
            assert hidden_export.content == absent_export.content == absent.content, (code, name)
    # A lower-case code of one's own organisation is still found.
    assert dashboard(client, org=ROLE_ORG[username].lower()).status_code == 200
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("username", ADMINISTRATORS)
def test_the_three_administrators_get_no_statistics(data, login, tree, username):
    client = login(username)
    events = AuditEvent.objects.count()
    responses = [dashboard(client), dashboard(client, org=GS), dashboard(client, org=MISSING_CODE)]
    for name in REPORTS:
        responses += [report(client, name), report(client, name, org=GS), report(client, name, org=MISSING_CODE)]
    for response in responses:
        assert response.status_code == 403
        assert FORBIDDEN_MARK in response.content
        for secret in ("姑苏区总工会", "会员总数", "驾驶舱"):
            assert secret.encode() not in response.content
    assert len({r.content for r in responses}) == 1
    for path in (f"/api/v1/stats/orgs/{tree[GS].id}/dashboard", f"/api/v1/stats/orgs/{tree[GS].id}/annual"):
        api = client.get(path)
        assert (api.status_code, api.json()) == (403, PERMISSION_DENIED)
    assert AuditEvent.objects.count() == events


def test_signed_out_visitors_are_sent_to_sign_in(data):
    response = Client().get(reverse("admin:stats_dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")
    assert Client().get(reverse("admin:stats_report", args=["members"])).status_code == 302
    assert AuditEvent.objects.filter(action="stats.export").count() == 0
