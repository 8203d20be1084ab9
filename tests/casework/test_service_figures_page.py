"""The service figures page and its xlsx export, and the period it reads."""

import io
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote, unquote

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from gonghui.audit.models import AuditEvent
from gonghui.casework.care import campaign_create, care_visits_record
from gonghui.casework.models import (
    CaseKind,
    ServiceCase,
)
from gonghui.casework.services import (
    case_close,
    member_case_rate,
)
from gonghui.stats.periods import period_from
from tests.casework.page_factories import (
    E12,
    GS,
    WZ,
    _media,
    advance,
    audit_count,
    bound_account,
    campaign_data,
    enrolment,
    enter,
    hardship_data,
    insurance_data,
    legal_data,
    people,
    plan,
    student_data,
    text,
    today,
)

__all__ = ["_media", "people", "enrolment", "plan"]  # fixtures, imported for the tests of this module


# ---------------------------------------------------------------- 5. figures and their export


@pytest.fixture
def figures_data(tree, actors, people, enrolment):
    """A small known year in 姑苏, and one case in 吴中 that must not be counted there."""
    district, grassroots, wz = actors["district_cadre"], actors["grassroots_cadre"], actors["other_district_cadre"]
    m12, m123, mt2, mwz = people["m12"], people["m123"], people["mt2"], people["mwz"]
    hardship = enter(grassroots, m12, CaseKind.HARDSHIP, hardship_data())
    advance(
        grassroots,
        hardship,
        "closed",
        granted="on",
        tier="relative",
        aid_form="money",
        amount="1500",
        aid_description="生活救助金",
    )
    legal = enter(district, m123, CaseKind.LEGAL, legal_data())
    advance(district, legal, "closed", outcome="mediated", amount_recovered="8000")
    open_legal = enter(district, mt2, CaseKind.LEGAL, legal_data())
    ServiceCase.objects.filter(id=open_legal.id).update(due_on=today() - timedelta(days=1))
    claim = advance(district, enter(grassroots, m12, CaseKind.INSURANCE, insurance_data(enrolment)), "in_progress")
    case_close(actor=district, case=claim, result="核定补助", outcome={"payable": "on", "reference": "ZF-1"})
    student = advance(grassroots, enter(grassroots, m12, CaseKind.STUDENT, student_data()), "in_progress")
    case_close(actor=grassroots, case=student, result="资助", outcome={"granted": "on", "amount": "3000"})
    member_case_rate(account=bound_account(m12), case_id=hardship.id, rating=4)
    member_case_rate(account=bound_account(m123), case_id=legal.id, rating=5, comment="很满意")
    campaign = campaign_create(actor=district, org=tree[GS], **campaign_data())
    care_visits_record(
        actor=grassroots,
        campaign=campaign,
        org=tree[E12],
        rows=[
            {"card_number": m12.card, "money": "200", "visited_on": today().isoformat()},
            {
                "group_name": "建筑工地",
                "headcount": "30",
                "goods": "清凉饮料",
                "goods_value": "900",
                "visited_on": today().isoformat(),
            },
        ],
    )
    wz_case = enter(wz, mwz, CaseKind.HARDSHIP, hardship_data())
    advance(
        wz,
        wz_case,
        "closed",
        granted="on",
        tier="relative",
        aid_form="money",
        amount="999",
        aid_description="生活救助金",
    )


HEADINGS = [
    "服务类型",
    "申请/慰问（件）",
    "受助人数",
    "发放金额（元）",
    "物资折价（元）",
    "办结（件）",
    "平均办理天数",
    "超期件数",
    "超期率",
    "评价件数",
    "平均评价（星）",
    "挽回经济损失（元）",
]
# The year in 姑苏: cases, people, money, goods, closed, days, overdue, share, rated, rating, recovered.
GUSU_ROWS = [
    ["困难帮扶", 1, 1, 1500, 0, 1, 0, 0, 0, 1, 4, ""],
    ["法律援助", 2, 1, 0, 0, 1, 0, 1, 0.5, 1, 5, 8000],
    ["互助保障", 1, 1, 2750, 0, 1, 0, 0, 0, 0, "", ""],
    ["金秋助学", 1, 1, 3000, 0, 1, 0, 0, 0, 0, "", ""],
    ["慰问", 2, 31, 200, 900, "", "", "", "", "", "", ""],
    ["合计", 7, "", 7450, 900, 4, "", "", "", "", "", ""],
]


def test_the_figures_page_counts_the_known_year(figures_data, login):
    response = login("district_cadre").get(reverse("admin:service_figures"))
    assert response.status_code == 200
    assert (response.context["org"].code, response.context["label"]) == (GS, f"{today().year}年")
    rows = [
        (r.label, r.cases, r.people, r.money, r.extra.get("goods_value"), r.closed, r.overdue, r.rated, r.avg_rating)
        for r in response.context["rows"]
    ]
    assert rows == [
        ("困难帮扶", 1, 1, Decimal("1500.00"), Decimal("0.00"), 1, 0, 1, 4.0),
        ("法律援助", 2, 1, Decimal("0.00"), None, 1, 1, 1, 5.0),
        ("互助保障", 1, 1, Decimal("2750.00"), None, 1, 0, 0, None),
        ("金秋助学", 1, 1, Decimal("3000.00"), None, 1, 0, 0, None),
        ("慰问", 2, 31, Decimal("200.00"), Decimal("900.00"), 0, 0, 0, None),
    ]
    extras = {r.kind: r.extra for r in response.context["rows"]}
    assert extras["hardship"]["open_files"] == 1
    assert extras["legal"]["amount_recovered"] == Decimal("8000.00")
    assert (extras["insurance"]["enrolled"], extras["insurance"]["premium"]) == (1, Decimal("60.00"))
    page = text(response)
    assert "1 件（50.0%）" in page and "4.00 星（1 件）" in page
    assert "法律援助挽回经济损失 8000.00 元。" in page and "互助保障参保 1 人次，互助金 60.00 元。" in page


def test_the_city_sees_both_districts_and_each_district_only_its_own(figures_data, login):
    city = login("city_cadre")
    hardship = {
        code: city.get(reverse("admin:service_figures"), {"org": code}).context["rows"][0] for code in ("SZ", GS, WZ)
    }
    assert {code: (r.cases, r.people, r.money) for code, r in hardship.items()} == {
        "SZ": (2, 2, Decimal("2499.00")),
        GS: (1, 1, Decimal("1500.00")),
        WZ: (1, 1, Decimal("999.00")),
    }
    wz = login("other_district_cadre").get(reverse("admin:service_figures")).context["rows"]
    assert [(r.label, r.cases, r.money) for r in wz] == [
        ("困难帮扶", 1, Decimal("999.00")),
        ("法律援助", 0, Decimal("0.00")),
        ("互助保障", 0, Decimal("0.00")),
        ("金秋助学", 0, Decimal("0.00")),
        ("慰问", 0, Decimal("0.00")),
    ]


def test_the_xlsx_export_reads_back_with_its_title_unit_headings_and_numbers(figures_data, login):
    client = login("district_cadre")
    response = client.get(reverse("admin:service_figures"), {"format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    year = today().year
    filename = f"姑苏区总工会职工服务统计表（{year}年）.xlsx"

    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert book.sheet_names == ["职工服务统计"]
    sheet = book.get_sheet_by_name("职工服务统计").to_python()
    assert sheet[0][0] == "姑苏区总工会职工服务统计表"
    assert sheet[0][1:] == [""] * 11
    assert sheet[1][0] == "填报单位：姑苏区总工会"
    assert sheet[1][6] == f"统计期间：{year}年01月01日至{year}年12月31日"
    assert sheet[2] == HEADINGS
    assert sheet[3:9] == GUSU_ROWS
    assert sheet[9] == [""] * 12
    assert sheet[10][0].startswith("说明：1. 申请件数按提交日期统计")
    assert sheet[13][0].startswith("制表：district_cadre　　制表时间：")

    events = AuditEvent.objects.filter(action="case.figures_export")
    assert [(e.actor_label, e.object_type, e.object_label, e.details) for e in events] == [
        ("district_cadre", "organisation", "姑苏区总工会", {"start": f"{year}-01-01", "end": f"{year}-12-31"})
    ]
    client.get(reverse("admin:service_figures"))  # looking at the page is not an export
    assert audit_count("case.figures_export") == 1


def test_a_period_without_activity_exports_zeros(figures_data, login):
    last_year = today().year - 1
    response = login("district_cadre").get(
        reverse("admin:service_figures"), {"format": "xlsx", "period": "year", "year": str(last_year)}
    )
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_name("职工服务统计").to_python()
    assert sheet[1][6] == f"统计期间：{last_year}年01月01日至{last_year}年12月31日"
    assert [row[:6] for row in sheet[3:9]] == [
        ["困难帮扶", 0, 0, 0, 0, 0],
        ["法律援助", 0, 0, 0, 0, 0],
        ["互助保障", 0, 0, 0, 0, 0],
        ["金秋助学", 0, 0, 0, 0, 0],
        ["慰问", 0, 0, 0, 0, ""],
        ["合计", 0, "", 0, 0, 0],
    ]
    assert [row[8] for row in sheet[3:8]] == [""] * 5  # no cases: no overdue share


PERIODS = [
    ({"period": "year", "year": "2025"}, date(2025, 1, 1), date(2025, 12, 31), "2025年"),
    ({"period": "quarter", "year": "2025", "quarter": "1"}, date(2025, 1, 1), date(2025, 3, 31), "2025年第1季度"),
    ({"period": "quarter", "year": "2025", "quarter": "2"}, date(2025, 4, 1), date(2025, 6, 30), "2025年第2季度"),
    ({"period": "quarter", "year": "2025", "quarter": "4"}, date(2025, 10, 1), date(2025, 12, 31), "2025年第4季度"),
    ({"period": "quarter", "year": "2025", "quarter": "9"}, date(2025, 10, 1), date(2025, 12, 31), "2025年第4季度"),
    ({"period": "month", "year": "2024", "month": "2"}, date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
    ({"period": "month", "year": "2025", "month": "12"}, date(2025, 12, 1), date(2025, 12, 31), "2025年12月"),
    (
        {"period": "custom", "start": "2025-03", "end": "2025-04"},
        date(2025, 3, 1),
        date(2025, 4, 30),
        "2025年3月至2025年4月",
    ),
    (
        {"period": "custom", "year": "2024", "start": "2025-04-10", "end": "2025-03-05"},
        date(2024, 1, 1),
        date(2024, 12, 31),
        "2024年",
    ),
    ({"period": "custom", "year": "2024", "start": "昨天", "end": ""}, date(2024, 1, 1), date(2024, 12, 31), "2024年"),
]


@pytest.mark.parametrize(("query", "start", "end", "label"), PERIODS)
def test_the_period_picks_the_right_dates(tree, login, query, start, end, label):
    response = login("district_cadre").get(reverse("admin:service_figures"), query)
    assert response.status_code == 200
    assert (response.context["start"], response.context["end"], response.context["label"]) == (start, end, label)
    assert f"姑苏区总工会 · 职工服务统计 · {label}" in text(response)


def test_a_value_that_cannot_be_read_falls_back_to_the_current_one(tree, login):
    now = today()
    quarter = (now.month - 1) // 3 + 1
    client = login("district_cadre")
    cases = [
        ({"period": "quarter", "year": "2025", "quarter": "x"}, f"2025年第{quarter}季度"),
        ({"period": "month", "year": "2025", "month": "十二"}, f"2025年{now.month}月"),
        ({"period": "year", "year": "明年"}, f"{now.year}年"),
        ({"period": "year", "year": "99999"}, f"{now.year}年"),  # outside 2000–2100: the current year
        ({"period": "year", "year": "1999"}, f"{now.year}年"),
        ({"period": "month", "year": "2025", "month": "0"}, f"2025年{now.month}月"),
        ({"period": "weekly", "year": "2025"}, "2025年"),
    ]
    for query, label in cases:
        response = client.get(reverse("admin:service_figures"), query)
        assert response.status_code == 200, query
        assert response.context["label"] == label, query


@pytest.mark.parametrize(
    ("query", "start", "end", "label"),
    [
        # A custom period is whole months, as in the statistics: the days named are read as their months.
        (
            {"period": "custom", "start": "2025-03-05", "end": "2025-04-10"},
            date(2025, 3, 1),
            date(2025, 4, 30),
            "2025年3月至2025年4月",
        ),
        # A value outside its range is not read (the current one stands), rather than pulled to the nearest bound.
        ({"period": "year", "year": "1999"}, None, None, None),
        ({"period": "month", "year": "2025", "month": "0"}, None, None, None),
    ],
)
def test_the_figures_read_a_period_as_the_statistics_do(tree, login, query, start, end, label):
    """The case figures and the statistics agree on every period (gonghui.stats.periods is the reference)."""
    now = today()
    expected = period_from(query, today=now)
    response = login("district_cadre").get(reverse("admin:service_figures"), query)
    context = (response.context["start"], response.context["end"], response.context["label"])
    assert context == (expected.start, expected.end, expected.label)
    if start is not None:
        assert context == (start, end, label)
    elif query["period"] == "year":
        assert context == (date(now.year, 1, 1), date(now.year, 12, 31), f"{now.year}年")
    else:
        assert context[2] == f"2025年{now.month}月"


def test_the_export_link_keeps_the_chosen_period(tree, login):
    query = {"org": GS, "period": "quarter", "year": "2025", "quarter": "3"}
    response = login("district_cadre").get(reverse("admin:service_figures"), query)
    assert response.context["export_query"] == "org=SZ-GS&period=quarter&year=2025&quarter=3&format=xlsx"
    assert 'href="?org=SZ-GS&amp;period=quarter&amp;year=2025&amp;quarter=3&amp;format=xlsx"' in text(response)
    assert audit_count("case.figures_export") == 0


def test_the_export_of_a_quarter_names_it_in_the_file(tree, login):
    response = login("district_cadre").get(
        reverse("admin:service_figures"), {"format": "xlsx", "period": "quarter", "year": "2025", "quarter": "3"}
    )

    assert unquote(response["Content-Disposition"]).endswith("姑苏区总工会职工服务统计表（2025年第3季度）.xlsx")
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_name("职工服务统计").to_python()
    assert sheet[1][6] == "统计期间：2025年07月01日至2025年09月30日"
    event = AuditEvent.objects.get(action="case.figures_export")
    assert event.details == {"start": "2025-07-01", "end": "2025-09-30"}


# ---------------------------------------------------------------- 6. hardship files, plans, campaigns, callbacks
