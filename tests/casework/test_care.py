"""The service centre: 送温暖 care campaigns and their visits."""

from datetime import date
from decimal import Decimal

import pytest

from gonghui.casework.care import campaign_create, campaign_totals, care_visits_record
from gonghui.casework.models import CareVisit
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from tests.casework.factories import (
    CAMPAIGN,
    E12,
    E123,
    GS,
    T01,
    WZE1,
    group_row,
    last_audit,
    nothing_changes,
    person_row,
)
from tests.members.factories import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "media")]


class TestCare:
    def test_a_campaign_is_set_up_by_an_upper_union(self, tree, actors):
        campaign = fresh(campaign_create(actor=actors["district_cadre"], org=tree[GS], **dict(CAMPAIGN)))
        assert (campaign.kind, campaign.budget, campaign.created_by) == ("warmth", Decimal("5000.00"), "district_cadre")
        assert (campaign.starts_on, campaign.ends_on) == (date(2025, 10, 1), date(2025, 12, 31))
        assert last_audit("care.campaign_create").details == {"budget": "5000.00"}

    def test_campaign_create_refuses(self, tree, actors):
        for username, org, data, error in [
            ("grassroots_cadre", E12, {}, PermissionDenied),
            ("auditor", "SZ", {}, PermissionDenied),
            ("other_district_cadre", GS, {}, NotFound),
            ("town_cadre", GS, {}, NotFound),
            ("district_cadre", GS, {"ends_on": "2025-09-30"}, ValidationFailed),
            ("district_cadre", GS, {"budget": "0"}, ValidationFailed),
            ("district_cadre", GS, {"kind": "party"}, ValidationFailed),
        ]:
            with nothing_changes(), pytest.raises(error):
                campaign_create(actor=actors[username], org=tree[org], **{**CAMPAIGN, **data})

    def test_visits_to_a_member_and_to_a_group_are_recorded_and_totalled(self, campaign, member, tree, actors):
        visits = care_visits_record(
            actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E12], rows=[person_row(member), group_row()]
        )

        assert len(visits) == 2
        by_person, by_group = CareVisit.objects.order_by("visited_on")
        assert (by_person.person_id, by_person.headcount, by_person.money) == (member.person.id, 1, Decimal("500.00"))
        assert (by_group.person, by_group.group_name, by_group.headcount) == (None, "环卫班组", 12)
        assert (by_group.goods, by_group.goods_value, by_group.org.code) == ("米、油", Decimal("300.00"), E12)
        assert campaign_totals(campaign) == {
            "visits": 2,
            "people": 13,
            "money": Decimal("1700.00"),
            "goods_value": Decimal("300.00"),
            "spent": Decimal("2000.00"),
            "remaining": Decimal("3000.00"),
        }
        assert last_audit("care.visits_record").details == {"visits": 2, "amount": "2000.00", "org": E12}

        # The rest of the budget, to the fen, may be spent; one fen more may not.
        with nothing_changes(), pytest.raises(DomainError) as refused:
            care_visits_record(
                actor=actors["town_cadre"], campaign=campaign, org=tree[T01], rows=[group_row(money="2700.01")]
            )
        assert refused.value.code == "over_budget"
        assert refused.value.message == "本批合计 3000.01 元，超出活动剩余预算 3000.00 元，请调整后再录入"
        # The town records for its whole subtree: 张三 of union "12" is found by his card number.
        rows = [group_row(money="2200"), person_row(member, money="500", day="2025-11-03")]
        care_visits_record(actor=actors["town_cadre"], campaign=campaign, org=tree[T01], rows=rows)
        assert campaign_totals(campaign) == {
            "visits": 4,
            "people": 26,
            "money": Decimal("4400.00"),
            "goods_value": Decimal("600.00"),
            "spent": Decimal("5000.00"),
            "remaining": Decimal("0.00"),
        }

    def test_one_bad_row_records_nothing_and_names_its_number(self, campaign, member, other_member, tree, actors):
        outsider = other_member.membership.card_number  # a member of union "123", outside union "12"
        group = {"group_name": "保安队", "visited_on": "2025-11-01"}
        for bad, message in [
            (
                {"card_number": outsider, "money": "100", "visited_on": "2025-11-01"},
                f"第2条：会员卡号 {outsider} 不是“十二号公司工会委员会”范围内的在册会员",
            ),
            ({**group, "headcount": ""}, "第2条：请填写慰问人数"),
            ({**group, "headcount": "3"}, "第2条：请填写慰问金或慰问品"),
            (
                {**group, "headcount": "3", "money": "10", "visited_on": "2026-01-01"},
                "第2条：慰问日期应在活动期间（2025-10-01 至 2025-12-31）",
            ),
            ({**group, "headcount": "3", "money": "10", "visited_on": "2025-11-04"}, "第2条：慰问日期不能晚于今天"),
            ({**group, "headcount": "3", "goods_value": "10"}, "第2条：填写了慰问品折价，请同时写明慰问品"),
            (
                {**group, "card_number": "X"},
                "第2条：每条记录填写会员卡号（慰问个人）或慰问群体名称（慰问群体），二者填一项",
            ),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                care_visits_record(
                    actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E12], rows=[person_row(member), bad]
                )
            assert refused.value.errors == {"rows": message}

    def test_the_row_number_counts_blank_lines_of_the_form(self, campaign, member, tree, actors):
        blank = {"card_number": "", "group_name": "", "money": "", "visited_on": ""}
        rows = [person_row(member), blank, group_row(headcount="")]
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            care_visits_record(actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E12], rows=rows)
        assert refused.value.errors == {"rows": "第3条：请填写慰问人数"}

    def test_visits_by_a_union_outside_the_campaign_or_the_actor_are_refused(self, campaign, tree, actors):
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            care_visits_record(
                actor=actors["other_district_cadre"], campaign=campaign, org=tree[WZE1], rows=[group_row()]
            )
        assert refused.value.errors == {"org": "“木渎光电有限公司工会委员会”不在“姑苏区总工会”组织的活动范围内"}
        with nothing_changes(), pytest.raises(NotFound):
            care_visits_record(actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E123], rows=[group_row()])
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            care_visits_record(
                actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E12], rows=[{"money": " "}]
            )
        assert refused.value.errors == {"rows": "请至少填写一条慰问记录"}
        with nothing_changes(), pytest.raises(PermissionDenied):
            care_visits_record(actor=actors["auditor"], campaign=campaign, org=tree[E12], rows=[group_row()])
