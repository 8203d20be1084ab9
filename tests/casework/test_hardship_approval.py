"""上级审批 of hardship aid (gonghui/casework/approval.py): the standard (thresholds, 深度困难), approving and
refusing a grant, the approval of a file and of a grant on it.

The tree and the accounts come from tests/conftest.py: union "12" (SZ-GS-T01-12) sits under 双塔街道
(SZ-GS-T01, town_cadre), under 姑苏区 (SZ-GS, district_cadre), under the city (SZ, city_cadre). A
hardship case of union "12" is handled by grassroots_cadre and approved by 双塔街道 (or any union above
it); 沧浪街道 (SZ-GS-T02) is a sibling of 双塔街道, and its cadre answers 404 like a missing page. The
default standard (migration 0003): 深度困难 is filed only with approval; a single grant above 2000 元
(相对困难, 深度困难) or 3000 元 (意外致困) needs it.

"Today" is the `clock` fixture of tests/casework/conftest.py (Monday 2025-11-03, Beijing time);
nothing depends on the hour."""

from datetime import date
from decimal import Decimal

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.casework.approval import (
    aid_rule,
    aid_rules_update,
    approvals_escalate_overdue,
    approver_for,
    hardship_approval_approve,
    hardship_approval_refuse,
)
from gonghui.casework.fields import AidRuleFields
from gonghui.casework.hardship import hardship_aid_grant, hardship_aid_pay, hardship_file_establish
from gonghui.casework.models import CaseEvent, CaseStatus, HardshipAid, HardshipAidRule, HardshipApproval, HardshipFile
from gonghui.casework.selectors import approval_get, approvals_to_decide, case_figures
from gonghui.casework.services import cases_escalate_overdue
from gonghui.common.actor import system_actor
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from tests.casework.approval_factories import FILE_DATA, MONDAY, grant, pay_form, state, unchanged, waiting
from tests.casework.factories import E12, GS, T01, advance, apply, enter, last_audit
from tests.members.factories import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "media")]


# ================================================================ the standard: at, below, above; 深度困难


class TestThresholds:
    @pytest.mark.parametrize(
        ("tier", "amount", "waits"),
        [
            ("relative", "1999.99", False),
            ("relative", "2000", False),  # exactly at the limit: the union decides alone
            ("relative", "2000.01", True),
            ("accidental", "3000", False),
            ("accidental", "3000.01", True),
        ],
    )
    def test_a_grant_needs_approval_only_above_its_tiers_limit(self, member, actors, tier, amount, waits):
        case = advance(apply(member, "hardship"), actors, "closed", outcome=grant(amount, tier))
        if not waits:
            assert case.status == CaseStatus.CLOSED
            assert case.amount_granted == Decimal(amount)
            assert not HardshipApproval.objects.exists()
            assert HardshipAid.objects.get().approval == ""
            return
        assert case.status == CaseStatus.PENDING_APPROVAL
        assert case.amount_granted is None
        assert not HardshipFile.objects.exists() and not HardshipAid.objects.exists()
        approval = HardshipApproval.objects.get()
        limit = {"relative": "2000.00", "accidental": "3000.00"}[tier]
        label = {"relative": "相对困难", "accidental": "意外致困"}[tier]
        assert approval.reasons == [f"单笔帮扶 {Decimal(amount):.2f} 元，超过{label}审批限额 {limit} 元"]
        assert (approval.subject, approval.org.code, approval.approver.code, approval.status) == (
            "case",
            E12,
            T01,
            "pending",
        )

    def test_filing_at_the_deep_level_needs_approval_whatever_the_amount(self, member, actors):
        case, approval = waiting(member, actors, "100", tier="deep")
        assert approval.reasons == ["深度困难建档须经上级工会审批"]
        assert (approval.tier, approval.form, approval.amount) == ("deep", "money", Decimal("100.00"))
        # 5 working days to decide: Monday 2025-11-03 → Monday 2025-11-10.
        assert (case.step_started_on, case.due_on, approval.due_on) == (MONDAY, date(2025, 11, 10), date(2025, 11, 10))

    def test_deep_and_above_the_limit_gives_both_reasons(self, member, actors):
        _, approval = waiting(member, actors, "2500", tier="deep")
        assert approval.reasons == [
            "深度困难建档须经上级工会审批",
            "单笔帮扶 2500.00 元，超过深度困难审批限额 2000.00 元",
        ]

    def test_a_household_already_filed_at_the_deep_level_gets_small_grants_without_approval(self, member, actors, tree):
        file = hardship_file_establish(
            actor=actors["district_cadre"],
            membership=member.membership,
            **{"tier": "deep", "causes": ["illness"], "household_size": "3", "household_income": "30000"},
        )
        assert file.status == "pending"  # the district files for union "12": still 双塔街道's approval
        hardship_approval_approve(actor=actors["town_cadre"], approval=HardshipApproval.objects.get(file=file))
        case = advance(apply(member, "hardship"), actors, "closed", outcome=grant("800", tier=""))
        assert case.status == CaseStatus.CLOSED
        assert HardshipAid.objects.get(case=case).approval == ""

    def test_the_city_changes_the_standard_and_the_next_grant_follows_it(self, member, actors):
        aid_rules_update(
            actor=actors["city_cadre"],
            rules={
                "deep": {"file_needs_approval": "on", "grant_limit": "2000"},
                "relative": {"grant_limit": "1000"},
                "accidental": {"grant_limit": "3000"},
            },
        )
        assert aid_rule("relative").grant_limit == Decimal("1000.00")
        changes = last_audit("hardship.rules_update")
        assert changes.details == {
            "relative": {"file_needs_approval": [False, False], "grant_limit": ["2000.00", "1000.00"]}
        }
        assert (changes.actor_label, changes.object_label) == ("city_cadre", "困难帮扶审批标准")
        _, approval = waiting(member, actors, "1500")
        assert approval.reasons == ["单笔帮扶 1500.00 元，超过相对困难审批限额 1000.00 元"]

    def test_a_tier_without_a_row_uses_the_shipped_default(self):
        HardshipAidRule.objects.all().delete()
        assert (aid_rule("deep").file_needs_approval, aid_rule("deep").grant_limit) == (True, Decimal("2000.00"))
        assert aid_rule("accidental").grant_limit == Decimal("3000.00")

    def test_the_migration_loaded_the_defaults(self):
        assert state()["rules"] == [
            ("accidental", False, Decimal("3000.00")),
            ("deep", True, Decimal("2000.00")),
            ("relative", False, Decimal("2000.00")),
        ]

    @pytest.mark.parametrize("who", ["district_cadre", "town_cadre", "grassroots_cadre", "auditor", "sysadmin"])
    def test_only_the_city_federation_sets_the_standard(self, actors, who):
        data: dict[str, AidRuleFields] = {tier: {"grant_limit": "1"} for tier in ("deep", "relative", "accidental")}
        with unchanged(), pytest.raises(PermissionDenied):
            aid_rules_update(actor=actors[who], rules=data)
        aid_rules_update(actor=actors["city_cadre"], rules=data)
        assert aid_rule("deep").file_needs_approval is False  # unticked
        assert aid_rule("deep").grant_limit == Decimal("1.00")

    def test_a_bad_limit_sets_nothing(self, actors):
        data: dict[str, AidRuleFields] = {
            "deep": {"grant_limit": "2000"},
            "relative": {"grant_limit": "-5"},
            "accidental": {"grant_limit": "3000"},
        }
        with unchanged(), pytest.raises(ValidationFailed) as refused:
            aid_rules_update(actor=actors["city_cadre"], rules=data)
        assert refused.value.errors == {"relative-grant_limit": "相对困难单笔帮扶审批限额不能为负数"}

    def test_a_county_handled_case_goes_to_the_city_and_the_city_decides_alone(self, member, actors, tree):
        case = apply(member, "hardship", amount_requested="6000")  # ≥ 5000 元: handled by the district
        case = advance(case, actors, "closed", outcome=grant("6000"))
        approval = HardshipApproval.objects.get(case=case)
        assert (case.org.code, approval.org.code, approval.approver.code) == (GS, GS, "SZ")
        with unchanged(), pytest.raises(NotFound):
            hardship_approval_approve(actor=actors["town_cadre"], approval=approval)
        hardship_approval_approve(actor=actors["city_cadre"], approval=approval)
        assert fresh(case).status == CaseStatus.CLOSED
        assert approver_for(tree["SZ"]) is None


# ================================================================ approval: scope, approve, refuse


class TestApproval:
    def test_the_parent_union_approves_and_the_case_closes_with_the_proposed_aid(self, member, actors, clock):
        case, approval = waiting(member, actors, "3000")
        assert list(approvals_to_decide(actor=actors["town_cadre"])) == [approval]
        assert list(approvals_to_decide(actor=actors["city_cadre"])) == [approval]  # an ancestor sees it too
        assert list(approvals_to_decide(actor=actors["grassroots_cadre"])) == []
        clock.set(date(2025, 11, 5))
        hardship_approval_approve(actor=actors["town_cadre"], approval=approval, note="同意")

        case, approval = fresh(case), fresh(approval)
        assert (case.status, case.amount_granted, case.result) == (
            CaseStatus.CLOSED,
            Decimal("3000.00"),
            "已按规定办结",
        )
        assert (approval.status, approval.decided_by, approval.decision_note) == ("approved", "town_cadre", "同意")
        file = HardshipFile.objects.get(person=member.person)
        assert (file.status, file.tier, file.org.code, approval.file_id) == ("active", "relative", E12, file.id)
        aid = HardshipAid.objects.get()
        assert (aid.amount, aid.approval, aid.granted_by, aid.granted_on, aid.paid_on) == (
            Decimal("3000.00"),
            "approved",
            "grassroots_cadre",
            date(2025, 11, 5),
            None,
        )
        events = list(CaseEvent.objects.filter(case=case).values_list("action", "label", "by", "note"))
        assert events[-3:] == [
            (
                "approval_request",
                "报上级审批",
                "grassroots_cadre",
                "单笔帮扶 3000.00 元，超过相对困难审批限额 2000.00 元，报双塔街道总工会审批",
            ),
            ("approve", "上级已批准", "town_cadre", "同意"),
            ("close", "已办结", "town_cadre", "已按规定办结，发放 3000.00 元"),
        ]
        case_audit = AuditEvent.objects.filter(object_id=str(case.id)).order_by("at")
        assert list(case_audit.values_list("action", flat=True)) == [
            "case.submit",
            "case.accept",
            "case.start",
            "case.approval_request",
            "case.approval_approve",
            "case.close",
        ]
        assert list(case_audit.values_list("actor_label", flat=True))[1:] == [
            "grassroots_cadre",
            "grassroots_cadre",
            "grassroots_cadre",
            "town_cadre",
            "town_cadre",
        ]
        approval_audit = AuditEvent.objects.filter(object_id=str(approval.id)).order_by("at")
        assert list(approval_audit.values_list("action", "actor_label", "details")) == [
            (
                "hardship.approval_request",
                "grassroots_cadre",
                {
                    "subject": "case",
                    "approver": T01,
                    "reasons": ["单笔帮扶 3000.00 元，超过相对困难审批限额 2000.00 元"],
                    "amount": "3000.00",
                },
            ),
            ("hardship.approval_approve", "town_cadre", {"subject": "case", "approver": T01, "note": "同意"}),
        ]
        assert last_audit("hardship.aid").details == {"form": "money", "amount": "3000.00", "in_transition": False}

    def test_a_sibling_unions_cadre_gets_not_found_and_nothing_changes(self, member, actors, sibling):
        _, approval = waiting(member, actors, "3000")
        with unchanged(), pytest.raises(NotFound):
            approval_get(actor=sibling, approval_id=approval.id)
        with unchanged(), pytest.raises(NotFound):
            hardship_approval_approve(actor=sibling, approval=approval)
        with unchanged(), pytest.raises(NotFound):
            hardship_approval_refuse(actor=sibling, approval=approval, reason="不同意")
        with unchanged(), pytest.raises(NotFound):
            hardship_approval_approve(actor=actors["other_district_cadre"], approval=approval)

    def test_the_requesting_union_follows_its_request_but_cannot_decide_it(self, member, actors):
        _, approval = waiting(member, actors, "3000")
        assert approval_get(actor=actors["grassroots_cadre"], approval_id=approval.id) == approval
        with unchanged(), pytest.raises(NotFound):
            hardship_approval_approve(actor=actors["grassroots_cadre"], approval=approval)

    def test_nobody_approves_their_own_request(self, tree, actors, system):
        from tests.members.factories import enrol

        membership = enrol(system, tree["SZ-GS-T01-123"], name="李四", seq=77)
        case = enter(actors["town_cadre"], membership, "hardship")  # union "123" has no cadre: 双塔街道 handles it
        case = advance(case, actors, "closed", outcome=grant("2500"))
        approval = HardshipApproval.objects.get(case=case)
        assert approval.approver.code == T01  # the town cadre handled it and would approve it
        with unchanged(), pytest.raises(PermissionDenied, match="不能审批本人报送的事项"):
            hardship_approval_approve(actor=actors["town_cadre"], approval=approval)
        hardship_approval_approve(actor=actors["district_cadre"], approval=approval)
        assert fresh(case).status == CaseStatus.CLOSED

    def test_refusal_sends_the_case_back_to_be_handled_with_a_new_deadline(self, member, actors, clock):
        case, approval = waiting(member, actors, "3000")
        with unchanged(), pytest.raises(ValidationFailed):
            hardship_approval_refuse(actor=actors["town_cadre"], approval=approval, reason="  ")
        clock.set(date(2025, 11, 4))
        hardship_approval_refuse(
            actor=actors["town_cadre"], approval=approval, reason="超出本年度帮扶预算，请按标准发放"
        )
        case, approval = fresh(case), fresh(approval)
        assert (approval.status, approval.decision_note) == ("refused", "超出本年度帮扶预算，请按标准发放")
        # Back in 办理中 with 15 working days again: Tuesday 2025-11-04 → Tuesday 2025-11-25.
        assert (case.status, case.step_started_on, case.due_on) == (
            "in_progress",
            date(2025, 11, 4),
            date(2025, 11, 25),
        )
        assert not HardshipFile.objects.exists() and not HardshipAid.objects.exists()
        assert CaseEvent.objects.filter(case=case).order_by("-at", "-id").values_list("action", "label", "note")[0] == (
            "approval_refuse",
            "上级不予批准",
            "超出本年度帮扶预算，请按标准发放",
        )
        assert last_audit("hardship.approval_refuse").details == {
            "subject": "case",
            "approver": T01,
            "reason": "超出本年度帮扶预算，请按标准发放",
        }
        assert last_audit("case.approval_refuse").object_id == str(case.id)
        # A decided request is not decided again.
        with unchanged(), pytest.raises(DomainError, match="该审批已不予批准，不能再审批"):
            hardship_approval_approve(actor=actors["town_cadre"], approval=approval)
        # The handler closes it within the standard: no approval this time.
        case = advance(case, actors, "closed", outcome=grant("2000"))
        assert (case.status, case.amount_granted) == ("closed", Decimal("2000.00"))
        assert HardshipApproval.objects.count() == 1

    def test_a_case_waiting_for_approval_cannot_be_closed_or_withdrawn_again(self, member, actors):
        from gonghui.casework.services import case_close, case_withdraw

        case, _ = waiting(member, actors, "3000")
        with unchanged(), pytest.raises(DomainError, match="该申请当前为“待上级审批”"):
            case_close(actor=actors["grassroots_cadre"], case=case, result="再办结", outcome=grant("100"))
        with unchanged(), pytest.raises(DomainError):
            case_withdraw(actor=actors["grassroots_cadre"], case=case, reason="申请人撤回")

    def test_an_overdue_approval_is_escalated_to_the_approving_unions_parent(self, member, actors, clock):
        case, _ = waiting(member, actors, "3000")
        clock.set(date(2025, 11, 11))  # due 2025-11-10
        assert cases_escalate_overdue(actor=system_actor("tests")) == 1
        case = fresh(case)
        assert (case.escalated_to.code, case.was_overdue) == (GS, True)
        assert (
            CaseEvent.objects.filter(case=case, action="escalate").get().note
            == "已超过待上级审批期限，上报姑苏区总工会督办"
        )


class TestFileAndGrantApproval:
    def test_a_deep_file_waits_then_is_active_on_approval(self, member, actors):
        file = hardship_file_establish(actor=actors["grassroots_cadre"], membership=member.membership, **FILE_DATA)
        approval = HardshipApproval.objects.get()
        assert (file.status, approval.subject, approval.file_id, approval.approver.code) == (
            "pending",
            "file",
            file.id,
            T01,
        )
        with unchanged(), pytest.raises(DomainError, match="该档案正待上级工会审批，批准后才能发放帮扶"):
            hardship_aid_grant(
                actor=actors["grassroots_cadre"], file=file, **{"form": "money", "amount": "100", "description": "x"}
            )
        with pytest.raises(DomainError, match="该职工已有在档的困难职工档案"):
            hardship_file_establish(
                actor=actors["grassroots_cadre"], membership=member.membership, **{**FILE_DATA, "tier": "relative"}
            )
        hardship_approval_approve(actor=actors["district_cadre"], approval=approval)
        assert fresh(file).status == "active"
        assert last_audit("hardship.approval_approve").details == {"subject": "file", "approver": T01, "note": ""}

    def test_a_refused_file_is_closed_and_a_new_one_may_be_filed(self, member, actors):
        file = hardship_file_establish(actor=actors["grassroots_cadre"], membership=member.membership, **FILE_DATA)
        hardship_approval_refuse(actor=actors["town_cadre"], approval=HardshipApproval.objects.get(), reason="收入超标")
        assert fresh(file).status == "refused"
        again = hardship_file_establish(
            actor=actors["grassroots_cadre"], membership=member.membership, **{**FILE_DATA, "tier": "relative"}
        )
        assert (again.status, again.returned) == ("active", False)

    def test_a_grant_above_the_limit_waits_and_counts_only_once_approved(self, member, actors):
        file = hardship_file_establish(
            actor=actors["grassroots_cadre"], membership=member.membership, **{**FILE_DATA, "tier": "relative"}
        )
        aid = hardship_aid_grant(
            actor=actors["grassroots_cadre"],
            file=file,
            **{"form": "money", "amount": "2600", "description": "重病一次性救助"},
        )
        approval = HardshipApproval.objects.get()
        assert (aid.approval, approval.subject, approval.aid_id, approval.amount) == (
            "pending",
            "aid",
            aid.id,
            Decimal("2600.00"),
        )

        def hardship_money():
            rows = case_figures(actor=actors["town_cadre"], org=file.org, start=MONDAY, end=MONDAY)
            return rows[0].money

        assert hardship_money() == Decimal("0.00")
        with unchanged(), pytest.raises(DomainError, match="该笔帮扶正待上级工会审批，批准后才能发放"):
            hardship_aid_pay(actor=actors["grassroots_cadre"], aid=aid, **pay_form("2600"))
        hardship_approval_approve(actor=actors["town_cadre"], approval=approval)
        assert fresh(aid).approval == "approved"
        assert hardship_money() == Decimal("2600.00")
        hardship_aid_pay(actor=actors["grassroots_cadre"], aid=aid, **pay_form("2600"))
        assert fresh(aid).paid_amount == Decimal("2600.00")

    def test_a_refused_grant_is_never_paid(self, member, actors):
        file = hardship_file_establish(
            actor=actors["grassroots_cadre"], membership=member.membership, **{**FILE_DATA, "tier": "relative"}
        )
        aid = hardship_aid_grant(
            actor=actors["grassroots_cadre"], file=file, **{"form": "money", "amount": "2600", "description": "救助"}
        )
        hardship_approval_refuse(actor=actors["town_cadre"], approval=HardshipApproval.objects.get(), reason="重复申请")
        assert fresh(aid).approval == "refused"
        with unchanged(), pytest.raises(DomainError, match="该笔帮扶未获上级工会批准，不能发放"):
            hardship_aid_pay(actor=actors["grassroots_cadre"], aid=aid, **pay_form("2600"))

    def test_an_overdue_file_approval_is_escalated_once(self, member, actors, clock):
        hardship_file_establish(actor=actors["grassroots_cadre"], membership=member.membership, **FILE_DATA)
        clock.set(date(2025, 11, 11))
        assert approvals_escalate_overdue(actor=system_actor("tests")) == 1
        assert approvals_escalate_overdue(actor=system_actor("tests")) == 0
        approval = HardshipApproval.objects.get()
        assert approval.escalated_to.code == GS
        assert last_audit("hardship.approval_escalate").details == {"subject": "file", "approver": T01, "to": GS}
        with pytest.raises(PermissionDenied):
            approvals_escalate_overdue(actor=actors["city_cadre"])
