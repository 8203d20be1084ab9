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

import io
import re
import uuid
from datetime import UTC, date, datetime
from urllib.parse import quote

import docx
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from gonghui.audit.models import AuditEvent
from gonghui.backoffice.views import stats as stats_views
from gonghui.error_pages import FORBIDDEN
from gonghui.members import services as members
from gonghui.members.figures import failing_refresh
from gonghui.orgs.services import employer_create
from tests.conftest import valid_uscc
from tests.members.factories import enrol, resident_id

NOW = datetime(2026, 5, 20, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
SZ, GS, T01, T02, WZ = "SZ", "SZ-GS", "SZ-GS-T01", "SZ-GS-T02", "SZ-WZ"
C1, E12, E123, T2E1, WZE1 = "SZ-GS-T01-C1", "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T02-E1", "SZ-WZ-T01-E1"
MISSING_CODE = "SZ-NOPE-99"
FORBIDDEN_MARK = f"<h1>{FORBIDDEN[0]}</h1>".encode()  # the project's 403 page
NOT_FOUND = {"code": "not_found", "message": "对象不存在或无权访问"}
PERMISSION_DENIED = {"code": "permission_denied", "message": "当前角色无权执行此操作"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REPORTS = ("members", "founding", "annual_xlsx", "annual_docx")
ADMINISTRATORS = ("auditor", "sysadmin", "secadmin")
MADE = "制表：district_cadre\u3000导出时间：2026年05月20日 12:00"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Every timezone.now() / localdate() / localtime() of the code under test reads the fixed time."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def data(tree, system):
    def person(code, name, birth, seq, joined, *, form="standard", hukou="non_agricultural", phone=None):
        return enrol(
            system,
            tree[code],
            name=name,
            number=resident_id(birth, seq),
            joined_on=joined,
            employment_form=form,
            hukou_type=hukou,
            phone=phone or f"1391234{seq:04d}",
        )

    shared_phone = "13912349999"
    m = {
        "A": person(E12, "周雪梅", date(1995, 3, 8), 2, date(2025, 3, 10), hukou="agricultural"),
        "B": person(E12, "吴建国", date(2000, 7, 1), 1, date(2026, 2, 15), form="courier"),
        "C": person(E12, "郑丽华", date(1988, 10, 10), 4, date(2026, 4, 2), form="food_delivery", hukou="agricultural"),
        "D": person(E12, "王志强", date(1975, 1, 20), 3, date(2024, 6, 1)),
        "E": person(E123, "冯海涛", date(1985, 6, 6), 5, date(2025, 11, 20)),
        "F": person(E123, "陈静怡", date(1992, 2, 2), 6, date(2026, 1, 10)),
        "G": person(T2E1, "褚明辉", date(1998, 9, 9), 7, date(2026, 5, 6), form="ride_hailing", phone=shared_phone),
        "H": person(T2E1, "卫秀英", date(1965, 4, 4), 8, date(2025, 5, 1)),
        "K": person(T2E1, "蒋国庆", date(1970, 10, 1), 9, date(2023, 3, 1)),
        "I": person(WZE1, "沈小龙", date(1990, 5, 17), 11, date(2026, 3, 1), phone=shared_phone),
        "J": person(WZE1, "韩美玲", date(1980, 12, 12), 12, date(2025, 2, 1)),
    }
    members.membership_leave(actor=system, membership=m["F"], reason="离职", on=date(2026, 3, 5))
    members.membership_cancel(actor=system, membership=m["K"], reason="录入错误", on=date(2025, 8, 1))
    members.membership_reserve(actor=system, membership=m["E"], reason="长期病假")
    transfer = members.transfer_request(actor=system, membership=m["D"], to_org=tree[E123], reason="工作调动")
    members.transfer_release(actor=system, transfer=transfer)
    members.transfer_accept(actor=system, transfer=transfer)
    members.declared_total_record(actor=system, org=tree[E12], total=5)
    members.declared_total_record(actor=system, org=tree[E123], total=4)
    members.declared_total_record(actor=system, org=tree[T2E1], total=2)
    employers = [
        (T01, 80, E12),
        (T01, 150, None),
        (T01, 120, E123),
        (T01, 10, None),
        (T02, 30, T2E1),
        (T02, 40, None),
        ("SZ-WZ-T01", 300, WZE1),
    ]
    for i, (town, staff, union) in enumerate(employers, 1):
        employer_create(
            actor=system,
            name=f"{'甲乙丙丁戊己庚'[i - 1]}号有限公司",
            uscc=valid_uscc(f"91320508MA1W00{i:02d}A"),
            employee_count=staff,
            industry="C",
            town_org=tree[town],
            covering_union=tree[union] if union else None,
        )
    failing_refresh()
    return m


# ---------------------------------------------------------------- helpers


def text(response) -> str:
    return response.content.decode()


def dashboard(client: Client, **query):
    return client.get(reverse("admin:stats_dashboard"), query)


def report(client: Client, name: str, **query):
    return client.get(reverse("admin:stats_report", args=[name]), query)


def card(label: str, value: str, note: str) -> str:
    """One headline figure exactly as the page renders it."""
    return (
        f'<div class="gh-stat"><div class="gh-stat-label">{label}</div>'
        f'<div class="gh-stat-value">{value}</div><div class="gh-muted">{note}</div></div>'
    )


def section(page: str, heading: str) -> str:
    """The <section> whose heading is `heading`."""
    start = page.index(f">{heading}</h3>")
    return page[start : page.index("</section>", start)]


def ranking(page: str) -> list[tuple[str, str, list[str]]]:
    """(link, name, [figures]) of each row of the ranking table, in the order shown."""
    rows = re.findall(
        r'<tr><td><a class="gh-link" href="([^"]*)">([^<]*)</a>(.*?)</tr>', section(page, "下级组织排名"), re.S
    )
    return [(href, name, re.findall(r'<td class="gh-num">([^<]*)</td>', rest)) for href, name, rest in rows]


def sheet_rows(response) -> list[list]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert len(book.sheet_names) == 1
    return book.get_sheet_by_index(0).to_python()


def exports() -> list[tuple]:
    return [
        (e.actor_label, e.object_type, e.object_id, e.object_label, e.object_org_path, e.details)
        for e in AuditEvent.objects.filter(action="stats.export").order_by("at", "id")
    ]


def bearer(code: str) -> Client:
    out = io.StringIO()
    call_command("create_api_token", "--name", f"大屏{code}", "--org", code, stdout=out, stderr=io.StringIO())
    return Client(headers={"Authorization": f"Bearer {out.getvalue().strip()}"})


def api_dashboard(client: Client, org, **query):
    return client.get(f"/api/v1/stats/orgs/{org.id}/dashboard", query)


def api_annual(client: Client, org, **query):
    return client.get(f"/api/v1/stats/orgs/{org.id}/annual", query)


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


# ---------------------------------------------------------------- the exports

MEMBER_HEADINGS = [
    "单位",
    "期末会员数（人）",
    "上年同期（人）",
    "新入会（人）",
    "接转转入（人）",
    "接转转出（人）",
    "退会及注销（人）",
    "净增（人）",
    "女职工会员（人）",
    "农民工会员（人）",
    "新就业形态会员（人）",
]
MEMBER_NOTES = [
    "说明：会员数含正式会员和保留会籍；期末会员数为统计期末（本期未结束时为统计日期）的人数。",
    "合计为本单位及全部下级组织之和（含直属本单位的会员），各行之和可能小于合计。",
]


def padded(first: str, width: int) -> list[str]:
    return [first] + [""] * (width - 1)


def test_the_member_table_of_the_district_for_the_running_year(data, login, tree):
    response = report(login("district_cadre"), "members")

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    filename = "姑苏区总工会会员统计表（2026年）.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    rows = sheet_rows(response)
    assert rows[0] == padded("姑苏区总工会会员统计表", 11)
    # A running period is dated the day of the export, not the end of the current month.
    assert rows[1] == ["填报单位：姑苏区总工会", *[""] * 5, "统计期间：2026年\u3000统计日期：2026年05月20日", *[""] * 4]
    assert rows[2] == MEMBER_HEADINGS
    assert rows[3:6] == [
        ["双塔街道总工会", 5, 2, 3, 1, 1, 1, 2, 2, 2, 2],
        ["沧浪街道总工会", 2, 2, 1, 0, 0, 0, 1, 1, 0, 1],
        ["合计", 7, 4, 4, 1, 1, 1, 3, 3, 2, 3],
    ]
    assert rows[6:] == [padded("", 11), *(padded(note, 11) for note in MEMBER_NOTES), padded(MADE, 11)]
    assert exports() == [
        (
            "district_cadre",
            "organisation",
            str(tree[GS].id),
            "姑苏区总工会",
            tree[GS].path,
            {"report": "members", "title": "会员统计表", "period": "2026年"},
        )
    ]


def test_the_member_table_of_the_city_for_a_past_quarter(data, login, tree):
    response = report(login("city_cadre"), "members", org=SZ, period="quarter", year="2026", quarter="1")

    assert response.status_code == 200
    filename = "苏州市总工会会员统计表（2026年第1季度）.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    rows = sheet_rows(response)
    assert rows[0][0] == "苏州市总工会会员统计表"
    assert rows[1][0] == "填报单位：苏州市总工会"
    assert rows[1][6] == "统计期间：2026年第1季度\u3000统计日期：2026年03月31日"
    assert rows[2] == MEMBER_HEADINGS
    # At the end of March 2026 beside the end of March 2025; women, 农民工 and new employment then, not now.
    assert rows[3:6] == [
        ["姑苏区总工会", 5, 3, 2, 0, 0, 1, 1, 2, 1, 1],
        ["吴中区总工会", 2, 1, 1, 0, 0, 0, 1, 1, 0, 0],
        ["合计", 7, 4, 3, 0, 0, 1, 2, 3, 1, 1],
    ]
    assert exports() == [
        (
            "city_cadre",
            "organisation",
            str(tree[SZ].id),
            "苏州市总工会",
            tree[SZ].path,
            {"report": "members", "title": "会员统计表", "period": "2026年第1季度"},
        )
    ]


def test_the_member_table_of_the_town_lists_every_union_below(data, login):
    rows = sheet_rows(report(login("town_cadre"), "members", period="custom", start="2026-01", end="2026-05"))

    assert rows[1][6] == "统计期间：2026年1月至2026年5月\u3000统计日期：2026年05月20日"
    assert rows[3:7] == [
        ["竹辉社区工会", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ["十二号公司工会委员会", 3, 2, 2, 0, 1, 0, 1, 2, 2, 2],
        ["一二三公司工会委员会", 2, 0, 1, 1, 0, 1, 1, 0, 0, 0],
        ["合计", 5, 2, 3, 1, 1, 1, 2, 2, 2, 2],
    ]


FOUNDING_HEADINGS = [
    "单位",
    "基层工会（个）",
    "企业/单位（家）",
    "已建会（家）",
    "25人以上企业（家）",
    "其中已建会（家）",
    "建会率（%）",
    "100人以上企业（家）",
    "其中已建会（家）",
    "建会率（%）",
]


def test_the_founding_table_of_the_district(data, login, tree):
    response = report(login("district_cadre"), "founding")

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    filename = "姑苏区总工会建会情况表（2026年05月20日）.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    rows = sheet_rows(response)
    assert rows[0] == padded("姑苏区总工会建会情况表", 10)
    assert rows[1] == ["填报单位：姑苏区总工会", *[""] * 4, "统计日期：2026年05月20日", *[""] * 4]
    assert rows[2] == FOUNDING_HEADINGS
    assert rows[3:6] == [
        ["双塔街道总工会", 2, 4, 2, 3, 2, 66.7, 2, 1, 50.0],
        ["沧浪街道总工会", 1, 2, 1, 2, 1, 50.0, 0, 0, ""],
        ["合计", 3, 6, 3, 5, 3, 60.0, 2, 1, 50.0],
    ]
    assert rows[6:] == [
        padded("", 10),
        padded("说明：建会率 = 已建会企业数 ÷ 企业总数 × 100%，按职工人数 25 人以上、100 人以上分别计算；", 10),
        padded("企业按所在镇(街道)/园区统计，已建会指有工会覆盖（独立建会或纳入联合基层工会）。", 10),
        padded("合计为本单位全部辖区之和；已撤销、已合并组织不单列，其辖区内登记的企业仍计入合计。", 10),
        padded(MADE, 10),
    ]
    assert exports() == [
        (
            "district_cadre",
            "organisation",
            str(tree[GS].id),
            "姑苏区总工会",
            tree[GS].path,
            {"report": "founding", "title": "建会情况表", "period": "2026-05-20"},
        )
    ]


def test_the_founding_table_of_the_city(data, login):
    rows = sheet_rows(report(login("city_cadre"), "founding"))

    assert rows[0][0] == "苏州市总工会建会情况表"
    assert rows[3:6] == [
        ["姑苏区总工会", 3, 6, 3, 5, 3, 60.0, 2, 1, 50.0],
        ["吴中区总工会", 1, 1, 1, 1, 1, 100.0, 1, 1, 100.0],
        ["合计", 4, 7, 4, 6, 4, 66.7, 3, 2, 66.7],
    ]


SUMMARY_HEADINGS = ["类别", "指标", "数值", "单位", "表述参考", "说明"]
# (section, name, value, unit, sentence, note) of the district's running year 2026 (to the end of May).
GUSU_2026 = [
    ("会员发展", "会员总数", 7, "人", "截至5月20日共有会员 7 人，比上年同期增加 3 人", ""),
    ("会员发展", "新增会员", 4, "人", "今年以来新增会员 4 人", ""),
    ("会员发展", "会员接转", 1, "人", "办理会员接转转入 1 人、转出 1 人", ""),
    ("会员发展", "退会及注销", 1, "人", "退会 1 人，注销会籍 0 人", ""),
    ("会员发展", "女职工会员", 3, "人", "女职工会员 3 人，占会员总数的 42.9%", ""),
    ("会员发展", "农民工会员", 2, "人", "农民工会员 2 人，占会员总数的 28.6%", ""),
    ("会员发展", "新就业形态劳动者会员", 3, "人", "新就业形态劳动者会员 3 人", ""),
    ("组织建设", "基层工会", 3, "个", "共有基层工会组织 3 个", "当前数"),
    ("组织建设", "25人以上企业建会率", 60.0, "%", "25人以上企业建会率达 60.0%（已建会 3 家，共 5 家）", "当前数"),
    ("组织建设", "100人以上企业建会率", 50.0, "%", "百人以上企业建会率达 50.0%（已建会 1 家，共 2 家）", "当前数"),
    ("会员实名制", "入库率", 63.6, "%", "会员实名制入库率 63.6%", "当前数"),
    ("会员实名制", "准确率", 85.7, "%", "会员信息准确率 85.7%", "当前数，按最近一次数据质量核查"),
    ("职工服务", "困难帮扶", 0, "人", "帮扶困难职工 0 人，发放帮扶资金 0.00 元", ""),
    ("职工服务", "困难职工档案", 0, "户", "在档困难职工 0 户", "当前数"),
    ("职工服务", "法律援助", 0, "件", "收到法律援助申请 0 件，为职工挽回经济损失 0.00 元", ""),
    ("职工服务", "职工互助保障", 0, "人次", "职工互助保障参保 0 人次，为 0 人赔付互助金 0.00 元", ""),
    ("职工服务", "金秋助学", 0, "人", "金秋助学资助困难职工子女 0 人，发放助学金 0.00 元", ""),
    ("职工服务", "走访慰问", 0, "人次", "走访慰问职工 0 人次，发放慰问金 0.00 元", ""),
]
# The first rows of the complete year 2025: at 31 December 2025 (A, D, E, H) beside 31 December 2024 (D, K).
GUSU_2025_MEMBERS = [
    ("会员发展", "会员总数", 4, "人", "截至年底共有会员 4 人，比上年同期增加 2 人", ""),
    ("会员发展", "新增会员", 3, "人", "全年新增会员 3 人", ""),
    ("会员发展", "会员接转", 0, "人", "办理会员接转转入 0 人、转出 0 人", ""),
    ("会员发展", "退会及注销", 1, "人", "退会 0 人，注销会籍 1 人", ""),
    ("会员发展", "女职工会员", 2, "人", "女职工会员 2 人，占会员总数的 50.0%", ""),
    ("会员发展", "农民工会员", 1, "人", "农民工会员 1 人，占会员总数的 25.0%", ""),
    ("会员发展", "新就业形态劳动者会员", 0, "人", "新就业形态劳动者会员 0 人", ""),
]


def test_the_annual_summary_as_a_workbook(data, login, tree):
    response = report(login("district_cadre"), "annual_xlsx", year="2026")

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    filename = "姑苏区总工会2026年度工作统计.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    rows = sheet_rows(response)
    assert rows[0] == padded("姑苏区总工会2026年度工作统计", 6)
    assert rows[1] == [
        "填报单位：姑苏区总工会",
        "",
        "",
        "统计年度：2026年\u3000统计日期：2026年05月20日（年度未结束）",
        "",
        "",
    ]
    assert rows[2] == SUMMARY_HEADINGS
    assert rows[3:21] == [[s, n, v, u, sentence + "。", note] for s, n, v, u, sentence, note in GUSU_2026]
    assert rows[21:] == [
        padded("", 6),
        padded("说明：注明“当前数”的指标为导出时的数值；其余为统计年度内或年底的数值。各指标口径见统计口径说明。", 6),
        padded(MADE, 6),
    ]
    assert exports() == [
        (
            "district_cadre",
            "organisation",
            str(tree[GS].id),
            "姑苏区总工会",
            tree[GS].path,
            {"report": "annual_xlsx", "title": "年度工作统计（Excel）", "period": "2026年"},
        )
    ]


def test_the_annual_summary_of_a_complete_year(data, login):
    rows = sheet_rows(report(login("district_cadre"), "annual_xlsx", year="2025"))

    assert rows[0][0] == "姑苏区总工会2025年度工作统计"
    assert rows[1][3] == "统计年度：2025年\u3000统计日期：2025年12月31日"
    assert rows[3:10] == [[s, n, v, u, sentence + "。", note] for s, n, v, u, sentence, note in GUSU_2025_MEMBERS]


@pytest.mark.parametrize("year", ["2027", "1999", "abc"])
def test_a_year_that_cannot_be_summarised_falls_back_to_the_current_one(data, login, year):
    response = report(login("district_cadre"), "annual_xlsx", year=year)

    assert response.status_code == 200
    rows = sheet_rows(response)
    assert rows[0][0] == "姑苏区总工会2026年度工作统计"
    assert rows[3][4] == "截至5月20日共有会员 7 人，比上年同期增加 3 人。"
    assert [e[5]["period"] for e in exports()] == ["2026年"]


def test_the_annual_summary_as_a_word_document(data, login, tree):
    response = report(login("district_cadre"), "annual_docx")

    assert response.status_code == 200
    assert response["Content-Type"] == DOCX
    filename = "姑苏区总工会2026年度工作统计.docx"
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    document = docx.Document(io.BytesIO(response.content))

    def sentences(section):
        return "；".join(item[4] for item in GUSU_2026 if item[0] == section) + "。"

    assert [(p.style.name, p.text) for p in document.paragraphs] == [
        ("Heading 1", "姑苏区总工会2026年度工作统计"),
        ("Normal", "填报单位：姑苏区总工会\u3000统计年度：2026年\u3000统计日期：2026年05月20日（年度未结束）"),
        ("Heading 2", "会员发展"),
        ("Normal", sentences("会员发展")),
        ("Heading 2", "组织建设"),
        ("Normal", sentences("组织建设")),
        ("Heading 2", "会员实名制"),
        ("Normal", sentences("会员实名制")),
        ("Heading 2", "职工服务"),
        ("Normal", sentences("职工服务")),
        ("Heading 2", "统计数据"),
        ("Normal", MADE),
    ]
    assert document.paragraphs[3].text == (
        "截至5月20日共有会员 7 人，比上年同期增加 3 人；今年以来新增会员 4 人；"
        "办理会员接转转入 1 人、转出 1 人；退会 1 人，注销会籍 0 人；女职工会员 3 人，占会员总数的 42.9%；"
        "农民工会员 2 人，占会员总数的 28.6%；新就业形态劳动者会员 3 人。"
    )
    assert len(document.tables) == 1
    table = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert table[0] == ["类别", "指标", "数值", "单位", "说明"]
    assert table[1:] == [[s, n, str(v), u, note] for s, n, v, u, _sentence, note in GUSU_2026]
    assert exports() == [
        (
            "district_cadre",
            "organisation",
            str(tree[GS].id),
            "姑苏区总工会",
            tree[GS].path,
            {"report": "annual_docx", "title": "年度工作统计（Word）", "period": "2026年"},
        )
    ]


def test_each_download_is_one_export_event(data, login, tree):
    client = login("town_cadre")
    for name in REPORTS:
        assert report(client, name, org=E12).status_code == 200
    assert report(client, "members").status_code == 200

    assert [(e[0], e[2], e[5]["report"]) for e in exports()] == [
        ("town_cadre", str(tree[E12].id), "members"),
        ("town_cadre", str(tree[E12].id), "founding"),
        ("town_cadre", str(tree[E12].id), "annual_xlsx"),
        ("town_cadre", str(tree[E12].id), "annual_docx"),
        ("town_cadre", str(tree[T01].id), "members"),
    ]
    assert AuditEvent.objects.filter(action="stats.export").count() == 5


@pytest.mark.parametrize("name", ["unknown", "member", "annual", "MEMBERS", "annual_pdf"])
def test_an_unknown_report_is_missing(data, login, name):
    client = login("district_cadre")
    response = report(client, name)
    assert response.status_code == 404
    assert response.content == dashboard(client, org=MISSING_CODE).content
    assert AuditEvent.objects.filter(action="stats.export").count() == 0


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
