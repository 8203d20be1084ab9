"""The service centre: the service figures of an organisation's subtree for a period."""

from datetime import date
from decimal import Decimal

import pytest

from gonghui.casework.care import campaign_create, care_visits_record
from gonghui.casework.selectors import case_figures
from gonghui.casework.services import member_case_rate
from gonghui.common.errors import NotFound, PermissionDenied
from tests.casework.factories import (
    CAMPAIGN,
    E12,
    E123,
    GRANT_MONEY,
    GS,
    NOVEMBER,
    T01,
    T02E1,
    WZ,
    advance,
    apply,
    enter,
    group_row,
    nothing_changes,
    person_row,
)
from tests.members.factories import enrol

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "media")]


# ================================================================ 12. figures


@pytest.fixture
def figures_world(tree, actors, member, other_member, wz_member, enrolment, clock):
    """November 2025, counted on the 20th. Applied on the 3rd, closed on the 5th:
    - 张三 (union "12"): hardship granted 2000 元 (rated 4); legal aid at 姑苏区, mediated, 8000 元 recovered
      (rated 2); an insurance claim paid 4000 元 by the 双塔 plan;
    - 李四 (union "123"): hardship left unanswered, overdue since the 11th;
    - 陈一 (沧浪精工, another town of 姑苏区): student aid granted 3000 元;
    - 王五 (吴中区): hardship granted 1000 元;
    - 慰问 at union "12": 张三 (500 元) and a team of 12 (1200 元 and 300 元 of goods)."""
    hardship = apply(member, "hardship")
    stuck = apply(other_member, "hardship")
    legal = apply(member, "legal")
    claim = apply(
        member,
        "insurance",
        enrolment=str(enrolment.id),
        admitted_on="2025-10-01",
        discharged_on="2025-10-21",
        eligible_cost="10500",
    )
    chen = enrol(actors["district_cadre"], tree[T02E1], name="陈一", seq=331)
    student = enter(actors["district_cadre"], chen, "student")
    wz_case = apply(wz_member, "hardship", amount_requested="1000")
    campaign = campaign_create(actor=actors["district_cadre"], org=tree[GS], **dict(CAMPAIGN))
    care_visits_record(
        actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E12], rows=[person_row(member), group_row()]
    )
    clock.set(date(2025, 11, 5))
    advance(hardship, actors, "closed", outcome={**GRANT_MONEY, "tier": "relative"})
    member_case_rate(account=member.account, case_id=hardship.id, rating=4)
    advance(legal, actors, "closed", outcome={"outcome": "mediated", "amount_recovered": "8000"})
    member_case_rate(account=member.account, case_id=legal.id, rating=2)
    advance(claim, actors, "closed", outcome={"payable": True, "reference": "ZF-1"})
    advance(student, actors, "closed", outcome={"granted": True, "amount": "3000"})
    advance(wz_case, actors, "closed", outcome={**GRANT_MONEY, "amount": "1000"})
    clock.set(date(2025, 11, 20))
    return {"stuck": stuck}


def rows_by_kind(rows) -> dict:
    return {row.kind: row for row in rows}


class TestFigures:
    def test_a_town_cadre_counts_the_cases_of_its_members(self, tree, actors, figures_world):
        rows = case_figures(actor=actors["town_cadre"], org=tree[T01], **NOVEMBER)

        assert [row.kind for row in rows] == ["hardship", "legal", "insurance", "student", "care"]
        by = rows_by_kind(rows)
        hardship = by["hardship"]
        assert (hardship.label, hardship.cases, hardship.closed, hardship.people) == ("困难帮扶", 2, 1, 1)
        assert hardship.money == Decimal("2000.00") and str(hardship.money) == "2000.00"
        assert (hardship.overdue, hardship.overdue_share) == (1, 0.5)
        assert (hardship.avg_rating, hardship.rated) == (4.0, 1)
        assert hardship.avg_days == pytest.approx(2.0, abs=1e-3)
        assert hardship.extra == {"goods_value": Decimal("0.00"), "open_files": 1, "returned_files": 0}

        legal = by["legal"]
        assert (legal.cases, legal.closed, legal.people, legal.money) == (1, 1, 1, Decimal("0.00"))
        assert (legal.overdue, legal.overdue_share, legal.avg_rating) == (0, 0.0, 2.0)
        assert legal.extra == {"amount_recovered": Decimal("8000.00")}

        insurance = by["insurance"]
        assert (insurance.cases, insurance.people, insurance.money) == (1, 1, Decimal("4000.00"))
        assert str(insurance.money) == "4000.00"
        assert insurance.extra == {"enrolled": 1, "premium": Decimal("30.00")}

        student = by["student"]
        assert (student.cases, student.people, student.money) == (0, 0, Decimal("0.00"))
        assert (student.overdue_share, student.avg_rating, student.avg_days) == (None, None, None)

        care = by["care"]
        assert (care.label, care.cases, care.people, care.money) == ("慰问", 2, 13, Decimal("1700.00"))
        assert care.extra == {"goods_value": Decimal("300.00")}

    def test_the_district_adds_its_other_towns_and_the_city_adds_the_other_district(self, tree, actors, figures_world):
        district = rows_by_kind(case_figures(actor=actors["district_cadre"], org=tree[GS], **NOVEMBER))
        student = district["student"]
        assert (student.cases, student.people, student.money) == (1, 1, Decimal("3000.00"))
        assert (district["hardship"].cases, district["hardship"].money) == (2, Decimal("2000.00"))

        city = rows_by_kind(case_figures(actor=actors["city_cadre"], org=tree["SZ"], **NOVEMBER))
        assert (city["hardship"].cases, city["hardship"].people, city["hardship"].money) == (3, 2, Decimal("3000.00"))
        assert city["hardship"].overdue_share == pytest.approx(1 / 3)
        assert city["hardship"].extra["open_files"] == 2

        wuzhong = rows_by_kind(case_figures(actor=actors["other_district_cadre"], org=tree[WZ], **NOVEMBER))
        assert (wuzhong["hardship"].cases, wuzhong["hardship"].money) == (1, Decimal("1000.00"))
        assert (wuzhong["legal"].cases, wuzhong["student"].cases, wuzhong["care"].cases) == (0, 0, 0)

    def test_a_period_before_anything_happened_counts_nothing(self, tree, actors, figures_world):
        rows = case_figures(actor=actors["town_cadre"], org=tree[T01], start=date(2025, 10, 1), end=date(2025, 10, 31))
        assert [(row.cases, row.people, row.money) for row in rows] == [(0, 0, Decimal("0.00"))] * 5

    def test_figures_outside_the_actors_subtree_are_not_found(self, tree, actors):
        for username, org, error in [
            ("town_cadre", GS, NotFound),
            ("other_district_cadre", GS, NotFound),
            ("grassroots_cadre", E123, NotFound),
            ("auditor", "SZ", PermissionDenied),
            ("sysadmin", "SZ", PermissionDenied),
        ]:
            with nothing_changes(), pytest.raises(error):
                case_figures(actor=actors[username], org=tree[org], **NOVEMBER)
