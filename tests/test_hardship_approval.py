"""上级审批 of hardship aid, 发放签收, 批量受理 and the printable 困难职工档案卡 (gonghui/casework/approval.py,
batch.py, hardship.py and their back-office pages).

The tree and the accounts come from tests/conftest.py: union "12" (SZ-GS-T01-12) sits under 双塔街道 (SZ-GS-T01,
town_cadre), under 姑苏区 (SZ-GS, district_cadre), under the city (SZ, city_cadre). A hardship case of union "12"
is handled by grassroots_cadre and approved by 双塔街道 (or any union above it); 沧浪街道 (SZ-GS-T02) is a sibling
of 双塔街道, and its cadre answers 404 like a missing page. The default standard (migration 0003): 深度困难 is filed
only with approval; a single grant above 2000 元 (相对困难, 深度困难) or 3000 元 (意外致困) needs it.

"Today" is the clock of tests/test_casework.py (Monday 2025-11-03, Beijing time); nothing depends on the hour."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.models import User
from gonghui.audit.models import AuditEvent
from gonghui.casework.approval import (
    aid_rule,
    aid_rules_update,
    approvals_escalate_overdue,
    approver_for,
    hardship_approval_approve,
    hardship_approval_refuse,
)
from gonghui.casework.batch import NOT_FOUND, cases_accept_batch
from gonghui.casework.hardship import hardship_aid_grant, hardship_aid_pay, hardship_file_establish
from gonghui.casework.models import (
    CaseEvent,
    CaseStatus,
    HardshipAid,
    HardshipAidRule,
    HardshipApproval,
    HardshipFile,
)
from gonghui.casework.selectors import approval_get, approvals_to_decide, case_figures
from gonghui.casework.services import case_accept, cases_escalate_overdue
from gonghui.common.actor import system_actor
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.roles import Role
from tests.conftest import PASSWORD
from tests.members.factories import Member, fresh
from tests.casework.factories import (
    E12,
    GS,
    T01,
    Clock,
    advance,
    apply,
    casework_state,
    enter,
    last_audit,
)

pytestmark = pytest.mark.django_db

T02 = "SZ-GS-T02"
MONDAY = date(2025, 11, 3)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Monday 2025-11-03, 10:00 Beijing time, as in tests/test_casework.py."""
    frozen = Clock()
    monkeypatch.setattr(timezone, "now", frozen.now)
    return frozen


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def member(tree, actors):
    """张三, member of union "12" (SZ-GS-T01-12), bound to a portal account."""
    return Member(actors["grassroots_cadre"], tree[E12], name="张三", seq=301, phone="13600000001")


def grant(amount: str, tier: str = "relative", form: str = "money") -> dict:
    return {"granted": True, "tier": tier, "aid_form": form, "amount": amount, "aid_description": "困难帮扶金"}


def state() -> dict:
    """casework_state, plus what approvals, grants' approval and payment, and the standard hold."""
    return {
        **casework_state(),
        "approvals": list(
            HardshipApproval.objects.order_by("id").values_list(
                "id", "status", "decided_at", "decided_by", "decision_note", "escalated_at", "file_id"
            )
        ),
        "aid_state": list(
            HardshipAid.objects.order_by("id").values_list(
                "id", "approval", "paid_on", "paid_amount", "paid_method", "receiver", "signer", "receipt_no"
            )
        ),
        "rules": list(
            HardshipAidRule.objects.order_by("tier").values_list("tier", "file_needs_approval", "grant_limit")
        ),
    }


class unchanged:
    """`with unchanged(), pytest.raises(...):` - the refused call wrote nothing at all (audit trail included)."""

    def __enter__(self):
        self.before = state()

    def __exit__(self, *exc):
        assert state() == self.before
        return False


@pytest.fixture
def sibling(tree):
    """A cadre of 沧浪街道 (SZ-GS-T02), the sibling of 双塔街道."""
    user = User(username="t02_cadre", full_name="t02_cadre", org=tree[T02], role=Role.UPPER_CADRE, is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    return actor_for_user(user, ip="127.0.0.1")


def waiting(member, actors, amount: str, tier: str = "relative"):
    """A hardship case of union "12" closed by its cadre with a grant that needs approval: (case, approval)."""
    case = advance(apply(member, "hardship"), actors, "closed", outcome=grant(amount, tier))
    assert case.status == CaseStatus.PENDING_APPROVAL
    return case, HardshipApproval.objects.get(case=case)


def pay_form(amount: str = "3000.00", **fields) -> dict:
    return {
        "paid_method": "bank",
        "paid_amount": amount,
        "paid_on": "2025-11-03",
        "receiver": "张三",
        "signer": "张三",
        "receipt_no": "SZ-12-2025-0007",
        **fields,
    }


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
            data={"tier": "deep", "causes": ["illness"], "household_size": "3", "household_income": "30000"},
        )
        assert file.status == "pending"  # the district files for union "12": still 双塔街道's approval
        hardship_approval_approve(actor=actors["town_cadre"], approval=HardshipApproval.objects.get(file=file))
        case = advance(apply(member, "hardship"), actors, "closed", outcome=grant("800", tier=""))
        assert case.status == CaseStatus.CLOSED
        assert HardshipAid.objects.get(case=case).approval == ""

    def test_the_city_changes_the_standard_and_the_next_grant_follows_it(self, member, actors):
        aid_rules_update(
            actor=actors["city_cadre"],
            data={
                "deep-file_needs_approval": "on",
                "deep-grant_limit": "2000",
                "relative-grant_limit": "1000",
                "accidental-grant_limit": "3000",
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
        data = {"deep-grant_limit": "1", "relative-grant_limit": "1", "accidental-grant_limit": "1"}
        with unchanged(), pytest.raises(PermissionDenied):
            aid_rules_update(actor=actors[who], data=data)
        aid_rules_update(actor=actors["city_cadre"], data=data)
        assert aid_rule("deep").file_needs_approval is False  # unticked
        assert aid_rule("deep").grant_limit == Decimal("1.00")

    def test_a_bad_limit_sets_nothing(self, actors):
        data = {"deep-grant_limit": "2000", "relative-grant_limit": "-5", "accidental-grant_limit": "3000"}
        with unchanged(), pytest.raises(ValidationFailed) as refused:
            aid_rules_update(actor=actors["city_cadre"], data=data)
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


# ================================================================ a file and a grant outside an application


FILE_DATA = {"tier": "deep", "causes": ["illness"], "household_size": "3", "household_income": "30000"}


class TestFileAndGrantApproval:
    def test_a_deep_file_waits_then_is_active_on_approval(self, member, actors):
        file = hardship_file_establish(actor=actors["grassroots_cadre"], membership=member.membership, data=FILE_DATA)
        approval = HardshipApproval.objects.get()
        assert (file.status, approval.subject, approval.file_id, approval.approver.code) == (
            "pending",
            "file",
            file.id,
            T01,
        )
        with unchanged(), pytest.raises(DomainError, match="该档案正待上级工会审批，批准后才能发放帮扶"):
            hardship_aid_grant(
                actor=actors["grassroots_cadre"], file=file, data={"form": "money", "amount": "100", "description": "x"}
            )
        with pytest.raises(DomainError, match="该职工已有在档的困难职工档案"):
            hardship_file_establish(
                actor=actors["grassroots_cadre"], membership=member.membership, data={**FILE_DATA, "tier": "relative"}
            )
        hardship_approval_approve(actor=actors["district_cadre"], approval=approval)
        assert fresh(file).status == "active"
        assert last_audit("hardship.approval_approve").details == {"subject": "file", "approver": T01, "note": ""}

    def test_a_refused_file_is_closed_and_a_new_one_may_be_filed(self, member, actors):
        file = hardship_file_establish(actor=actors["grassroots_cadre"], membership=member.membership, data=FILE_DATA)
        hardship_approval_refuse(actor=actors["town_cadre"], approval=HardshipApproval.objects.get(), reason="收入超标")
        assert fresh(file).status == "refused"
        again = hardship_file_establish(
            actor=actors["grassroots_cadre"], membership=member.membership, data={**FILE_DATA, "tier": "relative"}
        )
        assert (again.status, again.returned) == ("active", False)

    def test_a_grant_above_the_limit_waits_and_counts_only_once_approved(self, member, actors):
        file = hardship_file_establish(
            actor=actors["grassroots_cadre"], membership=member.membership, data={**FILE_DATA, "tier": "relative"}
        )
        aid = hardship_aid_grant(
            actor=actors["grassroots_cadre"],
            file=file,
            data={"form": "money", "amount": "2600", "description": "重病一次性救助"},
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
            hardship_aid_pay(actor=actors["grassroots_cadre"], aid=aid, data=pay_form("2600"))
        hardship_approval_approve(actor=actors["town_cadre"], approval=approval)
        assert fresh(aid).approval == "approved"
        assert hardship_money() == Decimal("2600.00")
        hardship_aid_pay(actor=actors["grassroots_cadre"], aid=aid, data=pay_form("2600"))
        assert fresh(aid).paid_amount == Decimal("2600.00")

    def test_a_refused_grant_is_never_paid(self, member, actors):
        file = hardship_file_establish(
            actor=actors["grassroots_cadre"], membership=member.membership, data={**FILE_DATA, "tier": "relative"}
        )
        aid = hardship_aid_grant(
            actor=actors["grassroots_cadre"], file=file, data={"form": "money", "amount": "2600", "description": "救助"}
        )
        hardship_approval_refuse(actor=actors["town_cadre"], approval=HardshipApproval.objects.get(), reason="重复申请")
        assert fresh(aid).approval == "refused"
        with unchanged(), pytest.raises(DomainError, match="该笔帮扶未获上级工会批准，不能发放"):
            hardship_aid_pay(actor=actors["grassroots_cadre"], aid=aid, data=pay_form("2600"))

    def test_an_overdue_file_approval_is_escalated_once(self, member, actors, clock):
        hardship_file_establish(actor=actors["grassroots_cadre"], membership=member.membership, data=FILE_DATA)
        clock.set(date(2025, 11, 11))
        assert approvals_escalate_overdue(actor=system_actor("tests")) == 1
        assert approvals_escalate_overdue(actor=system_actor("tests")) == 0
        approval = HardshipApproval.objects.get()
        assert approval.escalated_to.code == GS
        assert last_audit("hardship.approval_escalate").details == {"subject": "file", "approver": T01, "to": GS}
        with pytest.raises(PermissionDenied):
            approvals_escalate_overdue(actor=actors["city_cadre"])


# ================================================================ 发放签收


class TestPayment:
    def test_paid_once_exactly_the_amount_granted(self, member, actors):
        case, approval = waiting(member, actors, "3000")
        hardship_approval_approve(actor=actors["town_cadre"], approval=approval)
        aid = HardshipAid.objects.get(case=case)
        cadre = actors["grassroots_cadre"]

        with unchanged(), pytest.raises(ValidationFailed) as wrong:
            hardship_aid_pay(actor=cadre, aid=aid, data=pay_form("2999.99"))
        assert wrong.value.errors == {"paid_amount": "实发金额应与核定的帮扶金额 3000.00 元一致"}
        with unchanged(), pytest.raises(ValidationFailed) as future:
            hardship_aid_pay(actor=cadre, aid=aid, data=pay_form(paid_on="2025-11-04"))
        assert future.value.errors == {"paid_on": "发放日期不能晚于今天"}
        with unchanged(), pytest.raises(ValidationFailed):
            hardship_aid_pay(actor=cadre, aid=aid, data=pay_form(receipt_no=""))
        with unchanged(), pytest.raises(NotFound):
            hardship_aid_pay(actor=actors["other_district_cadre"], aid=aid, data=pay_form())

        paid = hardship_aid_pay(actor=cadre, aid=aid, data=pay_form(paid_method="cash", receiver="李芳", signer="李芳"))
        paid = fresh(paid)
        assert (
            paid.paid_on,
            paid.paid_method,
            paid.paid_amount,
            paid.receiver,
            paid.signer,
            paid.receipt_no,
            paid.paid_recorded_by,
        ) == (date(2025, 11, 3), "cash", Decimal("3000.00"), "李芳", "李芳", "SZ-12-2025-0007", "grassroots_cadre")
        assert last_audit("hardship.pay").details == {
            "aid": str(aid.id),
            "amount": "3000.00",
            "method": "cash",
            "receipt_no": "SZ-12-2025-0007",
        }
        with (
            unchanged(),
            pytest.raises(
                DomainError, match="该笔帮扶已于 2025-11-03 发放签收（收据编号 SZ-12-2025-0007），不能重复发放"
            ),
        ):
            hardship_aid_pay(actor=cadre, aid=aid, data=pay_form(receipt_no="SZ-12-2025-0008"))

    def test_goods_have_no_payment(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "closed", outcome=grant("500", form="goods"))
        aid = HardshipAid.objects.get(case=case)
        with unchanged(), pytest.raises(DomainError, match="只有资金帮扶需要登记发放签收"):
            hardship_aid_pay(actor=actors["grassroots_cadre"], aid=aid, data=pay_form("500"))

    def test_the_database_refuses_a_payment_other_than_the_amount_or_of_an_unapproved_grant(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "closed", outcome=grant("1000"))
        aid = HardshipAid.objects.get(case=case)
        receipt = {
            "paid_on": MONDAY,
            "paid_method": "cash",
            "receiver": "张三",
            "signer": "张三",
            "receipt_no": "R1",
            "paid_recorded_at": fresh(case).closed_at,
        }
        with pytest.raises(IntegrityError), transaction.atomic():
            HardshipAid.objects.filter(pk=aid.pk).update(paid_amount=Decimal("999.00"), **receipt)
        with pytest.raises(IntegrityError), transaction.atomic():
            HardshipAid.objects.filter(pk=aid.pk).update(paid_amount=Decimal("1000.00"), approval="pending", **receipt)
        with pytest.raises(IntegrityError), transaction.atomic():
            HardshipAid.objects.filter(pk=aid.pk).update(paid_amount=Decimal("1000.00"), **{**receipt, "signer": ""})
        HardshipAid.objects.filter(pk=aid.pk).update(paid_amount=Decimal("1000.00"), **receipt)

    def test_the_database_refuses_a_refusal_without_a_reason(self, member, actors):
        _, approval = waiting(member, actors, "3000")
        with pytest.raises(IntegrityError), transaction.atomic():
            HardshipApproval.objects.filter(pk=approval.pk).update(status="refused", decided_at=approval.requested_at)


# ================================================================ 批量受理


class TestBatchAccept:
    def test_each_case_is_accepted_or_refused_on_its_own_with_its_reason(self, member, tree, actors, sibling, system):
        from tests.members.factories import enrol

        first = apply(member, "hardship")
        legal = enter(actors["grassroots_cadre"], member.membership, "legal")  # handled by the district
        other = enrol(system, tree["SZ-GS-T02-E1"], name="钱七", seq=88)
        elsewhere = enter(actors["district_cadre"], other, "hardship")  # union of 沧浪街道: not visible here
        done = enter(actors["grassroots_cadre"], enrol(system, tree[E12], name="孙八", seq=89), "hardship")
        case_accept(actor=actors["grassroots_cadre"], case=done)
        before_denied = AuditEvent.objects.filter(result="denied").count()

        report = cases_accept_batch(
            actor=actors["grassroots_cadre"],
            case_ids=[str(first.id), str(legal.id), str(elsewhere.id), str(done.id), "nonsense", str(first.id)],
            note="批量受理",
        )
        assert [(item.number, item.accepted, item.reason) for item in report] == [
            (first.number, True, ""),
            (legal.number, False, "该申请由姑苏区总工会承办，本级不能受理"),
            ("", False, NOT_FOUND),
            (done.number, False, "该申请当前为“已受理”，不能进行此操作"),
            ("", False, NOT_FOUND),
        ]
        assert [item.name for item in report] == ["张*", "张*", "", "孙*", ""]
        assert (fresh(first).status, fresh(legal).status, fresh(elsewhere).status) == (
            "accepted",
            "submitted",
            "submitted",
        )
        assert CaseEvent.objects.filter(case=first, action="accept").get().note == "批量受理"
        accepted = AuditEvent.objects.filter(action="case.accept", object_id=str(first.id))
        assert list(accepted.values_list("result", flat=True)) == ["success"]
        denied = AuditEvent.objects.filter(result="denied").order_by("at")
        assert denied.count() - before_denied == 2
        assert list(denied.values_list("object_id", "details"))[-2:] == [
            (str(legal.id), {"kind": "legal", "batch": True, "reason": "该申请由姑苏区总工会承办，本级不能受理"}),
            (str(done.id), {"kind": "hardship", "batch": True, "reason": "该申请当前为“已受理”，不能进行此操作"}),
        ]

    def test_an_empty_selection_or_a_reader_changes_nothing(self, member, actors):
        case = apply(member, "hardship")
        with unchanged(), pytest.raises(ValidationFailed):
            cases_accept_batch(actor=actors["grassroots_cadre"], case_ids=[])
        with unchanged(), pytest.raises(PermissionDenied):
            cases_accept_batch(actor=actors["auditor"], case_ids=[str(case.id)])

    def test_select_confirm_post_report_in_the_case_list(self, member, actors, login):
        first = apply(member, "hardship")
        second = enter(actors["grassroots_cadre"], member.membership, "legal")
        client = login("grassroots_cadre")
        changelist = reverse("admin:casework_servicecase_changelist")
        selected = {"action": "accept_selected", "_selected_action": [str(first.id), str(second.id)]}
        page = client.post(changelist, selected)
        assert page.status_code == 200
        text = page.content.decode()
        assert "已选 2 件，其中 1 件为本级可受理的“待受理”申请" in text
        assert fresh(first).status == "submitted"  # nothing accepted before the confirmation
        report = client.post(changelist, {**selected, "confirm": "yes", "note": ""})
        text = report.content.decode()
        assert "已受理 1 件，未受理 1 件。" in text
        assert "该申请由姑苏区总工会承办，本级不能受理" in text
        assert fresh(first).status == "accepted" and fresh(second).status == "submitted"


# ================================================================ pages


class TestPages:
    def test_approve_through_the_page_and_pay_through_the_form(self, member, actors, login):
        case, approval = waiting(member, actors, "3000")
        town = login("town_cadre")
        listing = town.get(reverse("admin:hardship_approvals"))
        assert str(approval.id) in listing.content.decode()
        detail = reverse("admin:hardship_approval_detail", args=[approval.id])
        page = town.get(detail).content.decode()
        assert "单笔帮扶 3000.00 元，超过相对困难审批限额 2000.00 元" in page and "批准" in page
        assert town.post(detail, {"action": "approve", "note": "同意"}).status_code == 302
        assert fresh(case).status == "closed"

        aid = HardshipAid.objects.get(case=case)
        grassroots = login("grassroots_cadre")
        pay = reverse("admin:hardship_aid_pay", args=[aid.id])
        wrong = grassroots.post(pay, pay_form("300"))
        assert "实发金额应与核定的帮扶金额 3000.00 元一致" in wrong.content.decode()
        assert grassroots.post(pay, pay_form()).status_code == 302
        assert fresh(aid).receipt_no == "SZ-12-2025-0007"

    def test_a_sibling_gets_404_on_every_page(self, member, actors, login, sibling):
        case, approval = waiting(member, actors, "3000")
        hardship_approval_approve(actor=actors["town_cadre"], approval=approval)
        aid = HardshipAid.objects.get(case=case)
        from django.test import Client

        client = Client()
        client.force_login(User.objects.get(username="t02_cadre"))
        before = state()
        for url in (
            reverse("admin:hardship_approval_detail", args=[approval.id]),
            reverse("admin:hardship_aid_pay", args=[aid.id]),
            reverse("admin:hardship_file_card", args=[aid.file_id]),
        ):
            assert client.get(url).status_code == 404
        assert client.post(reverse("admin:hardship_aid_pay", args=[aid.id]), pay_form()).status_code == 404
        assert state() == before

    def test_the_standard_page_reads_for_every_cadre_and_saves_for_the_city(self, actors, login):
        url = reverse("admin:hardship_aid_rules")
        town = login("town_cadre")
        page = town.get(url).content.decode()
        assert "<td>深度困难</td>" in page and 'name="deep-grant_limit"' not in page
        assert town.post(url, {"deep-grant_limit": "1"}).status_code == 404
        city = login("city_cadre")
        form = {"deep-file_needs_approval": "on", "deep-grant_limit": "2500", "relative-grant_limit": "2000"}
        assert city.post(url, {**form, "accidental-grant_limit": "3000"}).status_code == 302
        assert aid_rule("deep").grant_limit == Decimal("2500.00")

    def test_the_printable_file_card(self, member, actors, login):
        case, approval = waiting(member, actors, "3000", tier="deep")
        hardship_approval_approve(actor=actors["town_cadre"], approval=approval, note="同意建档")
        file = HardshipFile.objects.get()
        hardship_aid_pay(actor=actors["grassroots_cadre"], aid=HardshipAid.objects.get(), data=pay_form())
        client = login("grassroots_cadre")
        detail = client.get(reverse("admin:hardship_file_detail", args=[file.id])).content.decode()
        card_url = reverse("admin:hardship_file_card", args=[file.id])
        assert card_url in detail
        page = client.get(card_url)
        assert page.status_code == 200
        text = page.content.decode()
        assert "<h1>困难职工档案卡</h1>" in text
        assert "data-gh-print>打印</button>" in text
        assert "backoffice/print.css" in text and "casework/file_card.css" in text
        assert member.person.doc_masked in text and member.number not in text
        assert '<td data-field="tier">深度困难</td>' in text
        assert '<td data-field="income_per_head">1000.00 元</td>' in text
        assert "2025-11-03 银行转账 · 签收人 张三 · 收据 SZ-12-2025-0007" in text
        assert '<td class="gh-card-num" data-field="aid_total">3000.00</td>' in text
        assert "职工（签名）" in text and "审批人（签名）" in text
        assert "style=" not in text and "<script>" not in text
        assert last_audit("hardship.print").object_id == str(file.id)


class TestCaseListExport:
    def test_the_case_list_exports_what_it_shows_scoped_and_audited(self, member, actors, login, tree, system):
        import io

        from python_calamine import CalamineWorkbook

        from tests.members.factories import enrol

        mine = apply(member, "hardship")
        legal = enter(actors["grassroots_cadre"], member.membership, "legal")
        far = enter(actors["other_district_cadre"], enrol(system, tree["SZ-WZ-T01-E1"], name="钱远", seq=16), "legal")
        url = reverse("admin:casework_servicecase_export_list") + "?kind__exact=hardship"
        client = login("grassroots_cadre")
        assert client.get(url).status_code == 200  # the confirmation page; a GET writes nothing
        assert not AuditEvent.objects.filter(action="list.export").exists()
        response = client.post(url)
        rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
        numbers = {cell for row in rows for cell in row}
        assert mine.number in numbers and legal.number not in numbers and far.number not in numbers
        event = AuditEvent.objects.get(action="list.export")
        assert (event.details["rows"], event.details["list"], event.details["filters"]) == (
            1,
            "服务申请",
            {"kind__exact": "hardship"},
        )


def test_an_annual_check_cannot_move_a_household_into_the_deep_level(member, actors):
    from gonghui.casework.hardship import hardship_file_verify

    file = hardship_file_establish(
        actor=actors["grassroots_cadre"], membership=member.membership, data={**FILE_DATA, "tier": "relative"}
    )
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        hardship_file_verify(actor=actors["grassroots_cadre"], file=file, data=FILE_DATA)
    assert refused.value.errors == {"tier": "认定为深度困难须经上级工会审批：请通过困难帮扶申请办结报批"}
    hardship_file_verify(actor=actors["grassroots_cadre"], file=file, data={**FILE_DATA, "tier": "accidental"})
    assert fresh(file).tier == "accidental"


def test_the_approving_unions_workbench_counts_what_waits_for_it(member, actors, login):
    from tests.backoffice.factories import page_of, stat

    file = hardship_file_establish(
        actor=actors["grassroots_cadre"], membership=member.membership, data={**FILE_DATA, "tier": "relative"}
    )
    hardship_aid_grant(
        actor=actors["grassroots_cadre"], file=file, data={"form": "money", "amount": "2600", "description": "重病救助"}
    )
    label = "待本级审批（困难帮扶）"
    assert stat(page_of(login, "town_cadre"), label) == "1"
    assert stat(page_of(login, "grassroots_cadre"), label) == "0"  # she asked; her parent decides
    town = page_of(login, "town_cadre")
    assert f'href="{reverse("admin:hardship_approvals")}">下级工会报请审批</a>' in town


@pytest.mark.parametrize(
    ("username", "listed"),
    [("sysadmin", False), ("city_cadre", True), ("grassroots_cadre", True), ("auditor", False)],
)
def test_the_menu_offers_the_standard_to_whoever_may_read_it(tree, login, username, listed):
    page = login(username).get(reverse("admin:index")).content.decode()
    assert (f'href="{reverse("admin:hardship_aid_rules")}"' in page) is listed
