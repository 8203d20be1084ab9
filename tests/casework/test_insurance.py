"""The service centre: 互助保障 plans, enrolments and the payout of a claim by the plan's rules."""

from datetime import date
from decimal import Decimal

import pytest

from gonghui.casework.insurance import (
    payout_for,
    plan_create,
    plan_enrol_member,
    plan_enrol_union,
    plan_enrolment_set_open,
)
from gonghui.casework.models import CaseEvent, InsuranceClaim, InsuranceEnrolment, InsurancePayout, InsurancePlan
from gonghui.casework.services import case_close
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.members.services import membership_leave, membership_reserve
from tests.casework.factories import E12, E123, GS, PLAN, T01, T02E1, WZE1, advance, apply, last_audit, nothing_changes
from tests.members.factories import enrol, fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "media")]


def rules(**overrides) -> InsurancePlan:
    values = {
        "daily_allowance": Decimal("100"),
        "max_days": 10,
        "deductible": Decimal("500"),
        "reimbursement_ratio": Decimal("0.5"),
        "claim_cap": Decimal("3000"),
        "annual_cap": Decimal("5000"),
    }
    return InsurancePlan(**{**values, **overrides})


class TestInsurance:
    @pytest.mark.parametrize(
        ("days", "eligible", "paid", "expected"),
        [
            (5, "1500", "0", "1000.00"),  # 5 × 100 + (1500 − 500) × 0.5
            (15, "1500", "0", "1500.00"),  # allowance capped at 10 days
            (3, "400", "0", "300.00"),  # costs under the deductible earn nothing
            (3, "500", "0", "300.00"),
            (3, "10500", "0", "3300.00"),  # 5000 reimbursement capped at 3000 a claim
            (3, "10500", "4000", "1000.00"),  # what is left of the annual cap
            (3, "10500", "5000", "0.00"),
            (3, "10500", "6000", "0.00"),  # never negative
            (1, "0", "0", "100.00"),
        ],
    )
    def test_payout_for_follows_the_plan_rules(self, days, eligible, paid, expected):
        payout = payout_for(rules(), hospital_days=days, eligible_cost=Decimal(eligible), paid_this_year=Decimal(paid))
        assert payout == Decimal(expected)
        assert str(payout) == expected

    def test_payout_for_rounds_half_up_to_the_fen(self):
        plan = rules(daily_allowance=Decimal("0"), reimbursement_ratio=Decimal("0.333"))
        # (600.50 − 500) × 0.333 = 33.4665 → 33.47
        payout = payout_for(plan, hospital_days=1, eligible_cost=Decimal("600.50"), paid_this_year=Decimal("0"))
        assert payout == Decimal("33.47")

    def test_plan_create_reads_the_ratio_as_a_percentage(self, tree, actors):
        plan = fresh(plan_create(actor=actors["town_cadre"], org=tree[T01], **dict(PLAN)))
        assert plan.reimbursement_ratio == Decimal("0.500")
        assert (plan.premium, plan.claim_cap, plan.annual_cap) == (
            Decimal("30.00"),
            Decimal("3000.00"),
            Decimal("5000.00"),
        )
        assert (plan.starts_on, plan.ends_on, plan.year, plan.max_days) == (
            date(2025, 1, 1),
            date(2025, 12, 31),
            2025,
            10,
        )
        assert last_audit("insurance.plan_create").object_org_path == tree[T01].path
        for name, given, stored in [("甲", "62.5", "0.625"), ("乙", "100", "1.000"), ("丙", "0", "0.000")]:
            data = {**PLAN, "name": name, "reimbursement_ratio": given}
            other = plan_create(actor=actors["district_cadre"], org=tree[GS], **data)
            assert fresh(other).reimbursement_ratio == Decimal(stored)

    def test_plan_create_refuses(self, tree, actors):
        for username, org, data, error, detail in [
            (
                "district_cadre",
                E12,
                {},
                ValidationFailed,
                {"org": "互助保障计划由上级工会设立，基层工会为会员办理参保"},
            ),
            ("grassroots_cadre", E12, {}, PermissionDenied, None),
            ("other_district_cadre", T01, {}, NotFound, None),
            ("town_cadre", GS, {}, NotFound, None),
            (
                "town_cadre",
                T01,
                {"reimbursement_ratio": "100.1"},
                ValidationFailed,
                {"reimbursement_ratio": "医疗费补助比例应在 0 到 100（%）之间"},
            ),
            (
                "town_cadre",
                T01,
                {"reimbursement_ratio": "62.55"},
                ValidationFailed,
                {"reimbursement_ratio": "医疗费补助比例最多保留一位小数，如 62.5"},
            ),
            (
                "town_cadre",
                T01,
                {"ends_on": "2024-12-31"},
                ValidationFailed,
                {"ends_on": "保障期结束日期不能早于开始日期"},
            ),
            ("town_cadre", T01, {"premium": "0"}, ValidationFailed, {"premium": "每人互助金应大于零"}),
            (
                "town_cadre",
                T01,
                {"max_days": "366"},
                ValidationFailed,
                {"max_days": "每次最多补助天数应在 0 到 365 之间"},
            ),
        ]:
            with nothing_changes(), pytest.raises(error) as refused:
                plan_create(actor=actors[username], org=tree[org], **{**PLAN, **data})
            if detail is not None:
                assert refused.value.errors == detail

    def test_a_plan_name_is_unique_per_union_and_year(self, plan, tree, actors):
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            plan_create(actor=actors["town_cadre"], org=tree[T01], **dict(PLAN))
        assert refused.value.errors == {"name": "2025年已有同名计划"}

    def test_plan_enrol_union_enrols_each_active_member_once(self, plan, tree, actors, member):
        cadre = actors["grassroots_cadre"]
        enrol(cadre, tree[E12], name="赵六", seq=311)
        reserved = enrol(cadre, tree[E12], name="钱七", seq=312)
        membership_reserve(actor=cadre, membership=reserved, reason="长期病假")
        left = enrol(cadre, tree[E12], name="孙八", seq=313)
        membership_leave(actor=cadre, membership=left, reason="调离本单位")
        enrol(actors["town_cadre"], tree[E123], name="周九", seq=314)  # another union

        first = plan_enrol_union(actor=cadre, plan=plan, union=tree[E12], on=date(2025, 11, 3))
        assert first == {"enrolled": 2, "total_in_union": 2, "premium": "60.00"}
        enrolled = InsuranceEnrolment.objects.filter(plan=plan)
        assert sorted(e.person.name for e in enrolled) == ["张三", "赵六"]
        assert {(e.org.code, e.premium, e.enrolled_on, e.enrolled_by) for e in enrolled} == {
            (E12, Decimal("30.00"), date(2025, 11, 3), "grassroots_cadre")
        }
        assert last_audit("insurance.enrol").details == first

        second = plan_enrol_union(actor=cadre, plan=plan, union=tree[E12])
        assert second == {"enrolled": 0, "total_in_union": 2, "premium": "0.00"}
        enrol(cadre, tree[E12], name="吴十", seq=315)
        assert plan_enrol_union(actor=cadre, plan=plan, union=tree[E12])["enrolled"] == 1
        assert InsuranceEnrolment.objects.filter(plan=plan).count() == 3

    def test_plan_enrol_union_refuses(self, plan, tree, actors, member):
        outside = "不在“双塔街道总工会”的计划范围内"
        for username, union, error, detail in [
            ("town_cadre", T01, ValidationFailed, {"org": "请选择基层工会为其会员办理参保"}),
            ("district_cadre", T02E1, ValidationFailed, {"org": "“沧浪精工有限公司工会委员会”" + outside}),
            ("other_district_cadre", WZE1, ValidationFailed, {"org": "“木渎光电有限公司工会委员会”" + outside}),
            ("grassroots_cadre", E123, NotFound, None),
            ("auditor", E12, PermissionDenied, None),
        ]:
            with nothing_changes(), pytest.raises(error) as refused:
                plan_enrol_union(actor=actors[username], plan=plan, union=tree[union])
            if detail is not None:
                assert refused.value.errors == detail

    def test_enrolment_is_stopped_and_resumed_by_the_plans_federation(self, plan, tree, actors, member):
        closed = plan_enrolment_set_open(actor=actors["town_cadre"], plan=plan, is_open=False)
        assert fresh(closed).enrolment_open is False
        assert last_audit("insurance.plan_enrolment_close").object_id == str(plan.id)
        with nothing_changes(), pytest.raises(DomainError, match="^2025年职工住院互助保障已停止参保登记$"):
            plan_enrol_union(actor=actors["grassroots_cadre"], plan=fresh(plan), union=tree[E12])
        with nothing_changes(), pytest.raises(PermissionDenied):
            plan_enrolment_set_open(actor=actors["grassroots_cadre"], plan=plan, is_open=True)
        with nothing_changes(), pytest.raises(NotFound):
            plan_enrolment_set_open(actor=actors["other_district_cadre"], plan=plan, is_open=True)
        plan_enrolment_set_open(actor=actors["district_cadre"], plan=plan, is_open=True)
        assert plan_enrol_union(actor=actors["grassroots_cadre"], plan=fresh(plan), union=tree[E12])["enrolled"] == 1

    def test_a_member_is_enrolled_once(self, plan, enrolment, member, actors):
        with nothing_changes(), pytest.raises(DomainError, match="该会员已参加2025年职工住院互助保障"):
            plan_enrol_member(actor=actors["grassroots_cadre"], plan=plan, membership=member.membership)

    def test_two_claims_share_the_annual_cap_and_are_paid_when_closed(self, member, enrolment, actors):
        # 20 days (capped at 10 → 1000) + min((10500 − 500) × 0.5, 3000) = 4000.
        first = apply(
            member,
            "insurance",
            enrolment=str(enrolment.id),
            admitted_on="2025-10-01",
            discharged_on="2025-10-21",
            total_cost="12000",
            eligible_cost="10500",
        )
        claim = InsuranceClaim.objects.get(case=first)
        assert (claim.hospital_days, claim.eligible_cost, claim.payout) == (20, Decimal("10500.00"), None)
        first = advance(first, actors, "closed", outcome={"payable": "1", "reference": "ZF-2025-001"})
        assert fresh(first).amount_granted == Decimal("4000.00")
        assert InsuranceClaim.objects.get(case=first).payout == Decimal("4000.00")
        paid = InsurancePayout.objects.get(claim__case=first)
        assert (paid.amount, paid.paid_on, paid.reference, paid.paid_by) == (
            Decimal("4000.00"),
            date(2025, 11, 3),
            "ZF-2025-001",
            "town_cadre",
        )
        assert CaseEvent.objects.get(case=first, action="close").note == "已按规定办结，发放 4000.00 元"

        # 3 days → 300 + (2500 − 500) × 0.5 = 1300, but only 1000 is left of the 5000 cap.
        second = apply(
            member,
            "insurance",
            enrolment=str(enrolment.id),
            admitted_on="2025-10-25",
            discharged_on="2025-10-28",
            total_cost="3000",
            eligible_cost="2500",
        )
        second = advance(second, actors, "closed", outcome={"payable": True, "reference": "ZF-2025-002"})
        assert fresh(second).amount_granted == Decimal("1000.00")
        assert InsurancePayout.objects.get(claim__case=second).amount == Decimal("1000.00")
        assert InsurancePayout.objects.count() == 2

    def test_a_claim_closed_as_not_payable_pays_nothing(self, member, enrolment, actors):
        case = apply(member, "insurance", enrolment=str(enrolment.id))
        case = advance(case, actors, "closed", outcome={"payable": False})
        assert fresh(case).amount_granted == Decimal("0.00")
        assert InsuranceClaim.objects.get(case=case).payout == Decimal("0.00")  # the page shows what was decided
        assert not InsurancePayout.objects.exists()
        assert CaseEvent.objects.get(case=case, action="close").note == "已按规定办结"

    def test_a_payable_claim_needs_the_payment_reference_and_writes_nothing_without_it(self, member, enrolment, actors):
        case = advance(apply(member, "insurance", enrolment=str(enrolment.id)), actors, "in_progress")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_close(actor=actors["town_cadre"], case=case, result="核定赔付", outcome={"payable": True})
        assert refused.value.errors == {"reference": "请填写支付凭证号"}
        assert InsuranceClaim.objects.get(case=case).payout is None

    def test_a_claim_outside_the_plan_or_with_impossible_dates_is_refused(self, member, enrolment):
        for fields, errors in [
            (
                {"admitted_on": "2024-12-30", "discharged_on": "2025-01-05"},
                {"admitted_on": "入院日期不在保障期内（2025-01-01 至 2025-12-31）"},
            ),
            ({"discharged_on": "2025-11-04"}, {"discharged_on": "出院后再申请补助：出院日期不能晚于今天"}),
            ({"discharged_on": "2025-09-30"}, {"discharged_on": "出院日期不能早于入院日期"}),
            ({"eligible_cost": "12000.01"}, {"eligible_cost": "政策范围内自付费用不能超过医疗总费用"}),
            ({"admitted_on": "2025/10/01"}, {"admitted_on": "入院日期格式应为 YYYY-MM-DD"}),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, "insurance", enrolment=str(enrolment.id), **fields)
            assert refused.value.errors == errors

    def test_a_claim_on_someone_elses_enrolment_is_refused(self, plan, member, other_member, actors, tree):
        plan_enrol_union(actor=actors["town_cadre"], plan=plan, union=tree[E123])
        theirs = InsuranceEnrolment.objects.get(person=other_member.person)
        for value in (str(theirs.id), "not-an-id", ""):
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, "insurance", enrolment=value)
            assert list(refused.value.errors) == ["enrolment"]
