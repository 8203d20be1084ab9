"""The service centre (职工服务, gonghui/casework): the status machine of a service case."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from gonghui.audit.models import AuditEvent
from gonghui.casework.models import CaseEvent, CaseSerial, CaseStatus, ServiceCase
from gonghui.casework.selectors import own_case_get
from gonghui.casework.services import (
    CaseMovedOn,
    case_accept,
    case_close,
    case_reject,
    case_start,
    case_withdraw,
    member_case_apply,
    member_case_rate,
    member_case_withdraw,
)
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.members.services import membership_reserve
from tests.casework.factories import (
    ALL_CONSENT,
    E12,
    FORMS,
    GRANT_MONEY,
    advance,
    apply,
    enter,
    last_audit,
    nothing_changes,
    student_id,
    timeline,
)
from tests.members.factories import IP, fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "media")]


def audit_actions(case: ServiceCase) -> list[str]:
    found = AuditEvent.objects.filter(object_type="service_case", object_id=str(case.id)).order_by("at")
    return list(found.values_list("action", flat=True))


# ================================================================ 1. the status machine


class TestStatusMachine:
    def test_a_hardship_case_runs_the_whole_loop_with_deadlines_timeline_and_audit(self, member, actors, clock):
        cadre = actors["grassroots_cadre"]

        case = apply(member, "hardship")
        assert case.number == "FW2025000001"
        assert case.status == CaseStatus.SUBMITTED
        assert case.kind == "hardship"
        assert case.source == "online"
        assert case.account_id == member.account.id
        assert case.person_id == member.person.id
        assert case.home_org.code == E12 and case.org.code == E12
        assert case.submitted_by == "会员136****0001"
        assert case.amount_requested == Decimal("2000.00")
        assert case.details == {"causes": ["illness"], "household_size": 3, "household_income": "36000.00"}
        assert (case.step_started_on, case.due_on) == (date(2025, 11, 3), date(2025, 11, 10))

        clock.set(date(2025, 11, 4))
        case = case_accept(actor=cadre, case=case)
        assert case.status == CaseStatus.ACCEPTED
        assert (case.step_started_on, case.due_on) == (date(2025, 11, 4), date(2025, 11, 7))
        assert timezone.localdate(case.accepted_at) == date(2025, 11, 4)
        assert case.handled_by == "grassroots_cadre"

        clock.set(date(2025, 11, 5))
        case = case_start(actor=cadre, case=case, note="入户核实")
        assert case.status == CaseStatus.IN_PROGRESS
        assert (case.step_started_on, case.due_on) == (date(2025, 11, 5), date(2025, 11, 26))
        assert timezone.localdate(case.started_at) == date(2025, 11, 5)

        clock.set(date(2025, 11, 6))
        case = case_close(actor=cadre, case=case, result="经核实发放帮扶金", outcome=GRANT_MONEY)
        case = fresh(case)
        assert case.status == CaseStatus.CLOSED
        assert case.amount_granted == Decimal("2000.00")
        assert case.result == "经核实发放帮扶金"
        assert timezone.localdate(case.closed_at) == date(2025, 11, 6)
        assert case.was_overdue is False

        case = member_case_rate(account=member.account, case_id=case.id, rating=5, comment="办得很快", ip=IP)
        case = fresh(case)
        assert (case.rating, case.rating_comment) == (5, "办得很快")
        assert case.rated_at is not None

        events = list(CaseEvent.objects.filter(case=case).values_list("action", "label", "by", "note"))
        assert events == [
            ("submit", "已提交申请", "会员136****0001", "困难帮扶"),
            ("accept", "已受理", "grassroots_cadre", "请在 2025-11-07 前开始办理"),
            ("start", "办理中", "grassroots_cadre", "入户核实"),
            ("close", "已办结", "grassroots_cadre", "经核实发放帮扶金，发放 2000.00 元"),
            ("rate", "已评价", "会员136****0001", "5 星：办得很快"),
        ]
        assert audit_actions(case) == ["case.submit", "case.accept", "case.start", "case.close", "case.rate"]
        submit = last_audit("case.submit")
        assert submit.details == {"kind": "hardship", "source": "online", "handling_org": E12}
        assert submit.object_label == f"{case.number} 张*"
        assert submit.ip == IP
        assert last_audit("case.close").details == {"kind": "hardship", "amount_granted": "2000.00"}
        assert last_audit("case.rate").details == {"kind": "hardship", "rating": 5}

    def test_case_numbers_count_up_within_a_year_and_start_again_in_the_next(self, member, other_member, clock):
        assert apply(member, "hardship").number == "FW2025000001"
        assert apply(member, "legal").number == "FW2025000002"
        clock.set(date(2026, 1, 5))
        assert apply(other_member, "legal").number == "FW2026000001"
        assert list(CaseSerial.objects.order_by("year").values_list("year", "last")) == [(2025, 2), (2026, 1)]

    def test_the_handling_union_rejects_with_a_reason(self, member, actors):
        case = apply(member, "hardship")

        case = case_reject(actor=actors["grassroots_cadre"], case=case, reason="  家庭收入高于帮扶标准  ")

        case = fresh(case)
        assert case.status == CaseStatus.REJECTED
        assert case.rejection_reason == "家庭收入高于帮扶标准"
        assert case.closed_at is not None and case.handled_by == "grassroots_cadre"
        assert case.due_on == date(2025, 11, 10)  # a closed step keeps its last deadline
        assert timeline(case) == ["submit", "reject"]
        assert CaseEvent.objects.get(case=case, action="reject").note == "家庭收入高于帮扶标准"
        assert audit_actions(case) == ["case.submit", "case.reject"]
        assert last_audit("case.reject").details == {"kind": "hardship", "reason": "家庭收入高于帮扶标准"}

    def test_a_rejection_needs_a_reason(self, member, actors):
        case = apply(member, "hardship")
        for reason, message in [
            ("", "请填写不予受理的理由"),
            ("   ", "请填写不予受理的理由"),
            ("理" * 501, "不予受理的理由不能超过500个字"),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                case_reject(actor=actors["grassroots_cadre"], case=case, reason=reason)
            assert refused.value.errors == {"reason": message}

    @pytest.mark.parametrize("stage", [CaseStatus.SUBMITTED, CaseStatus.ACCEPTED])
    def test_the_member_withdraws_before_handling_starts(self, member, actors, stage):
        case = apply(member, "hardship")
        if stage == CaseStatus.ACCEPTED:
            case = advance(case, actors, stage)

        withdrawn = member_case_withdraw(account=member.account, case_id=str(case.id), ip=IP)

        withdrawn = fresh(withdrawn)
        assert withdrawn.status == CaseStatus.WITHDRAWN
        assert withdrawn.closed_at is not None
        assert timeline(withdrawn)[-1] == "withdraw"
        event = CaseEvent.objects.get(case=case, action="withdraw")
        assert (event.by, event.note) == ("会员136****0001", "申请人撤回")
        assert audit_actions(case)[-1] == "case.withdraw"
        assert last_audit("case.withdraw").actor_kind == "member"
        # Withdrawn, the member may apply for the same service again.
        assert apply(member, "hardship").status == CaseStatus.SUBMITTED

    @pytest.mark.parametrize("stage", [CaseStatus.SUBMITTED, CaseStatus.ACCEPTED])
    def test_a_cadre_records_a_withdrawal_with_what_the_member_said(self, member, actors, stage):
        case = apply(member, "hardship")
        if stage == CaseStatus.ACCEPTED:
            case = advance(case, actors, stage)

        case = case_withdraw(actor=actors["grassroots_cadre"], case=case, reason="本人来电：问题已自行解决")

        assert fresh(case).status == CaseStatus.WITHDRAWN
        event = CaseEvent.objects.get(case=case, action="withdraw")
        assert (event.by, event.note) == ("grassroots_cadre", "本人来电：问题已自行解决")
        assert last_audit("case.withdraw").actor_label == "grassroots_cadre"

    def test_a_cadre_withdrawal_needs_what_the_member_said(self, member, actors):
        case = apply(member, "hardship")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_withdraw(actor=actors["grassroots_cadre"], case=case, reason=" ")
        assert refused.value.errors == {"reason": "请填写撤回说明"}

    @pytest.mark.parametrize(
        ("stage", "refused_steps"),
        [
            (
                "submitted",
                {
                    "start": "该申请当前为“待受理”，不能进行此操作",
                    "close": "该申请当前为“待受理”，不能进行此操作",
                    "rate": "办结后才能评价",
                },
            ),
            (
                "accepted",
                {
                    "accept": "该申请当前为“已受理”，不能进行此操作",
                    "reject": "该申请当前为“已受理”，不能进行此操作",
                    "close": "该申请当前为“已受理”，不能进行此操作",
                    "rate": "办结后才能评价",
                },
            ),
            (
                "in_progress",
                {
                    "accept": "该申请当前为“办理中”，不能进行此操作",
                    "reject": "该申请当前为“办理中”，不能进行此操作",
                    "start": "该申请当前为“办理中”，不能进行此操作",
                    "member_withdraw": "该申请当前为“办理中”，已开始办理的申请不能撤回",
                    "cadre_withdraw": "该申请当前为“办理中”，不能进行此操作",
                    "rate": "办结后才能评价",
                },
            ),
            (
                "closed",
                {
                    "accept": "该申请当前为“已办结”，不能进行此操作",
                    "start": "该申请当前为“已办结”，不能进行此操作",
                    "close": "该申请当前为“已办结”，不能进行此操作",
                    "member_withdraw": "该申请当前为“已办结”，已开始办理的申请不能撤回",
                    "cadre_withdraw": "该申请当前为“已办结”，不能进行此操作",
                },
            ),
            (
                "rejected",
                {
                    "accept": "该申请当前为“不予受理”，不能进行此操作",
                    "reject": "该申请当前为“不予受理”，不能进行此操作",
                    "member_withdraw": "该申请当前为“不予受理”，已开始办理的申请不能撤回",
                    "cadre_withdraw": "该申请当前为“不予受理”，不能进行此操作",
                    "rate": "办结后才能评价",
                },
            ),
            (
                "withdrawn",
                {
                    "accept": "该申请当前为“已撤回”，不能进行此操作",
                    "reject": "该申请当前为“已撤回”，不能进行此操作",
                    "start": "该申请当前为“已撤回”，不能进行此操作",
                    "member_withdraw": "该申请当前为“已撤回”，已开始办理的申请不能撤回",
                    "rate": "办结后才能评价",
                },
            ),
            ("rated", {"rate": "您已评价过这件申请", "close": "该申请当前为“已办结”，不能进行此操作"}),
        ],
    )
    def test_a_step_that_does_not_follow_from_the_status_is_refused(self, member, actors, stage, refused_steps):
        cadre = actors["grassroots_cadre"]
        case = apply(member, "hardship")
        if stage in ("accepted", "in_progress", "closed", "rated"):
            case = advance(case, actors, "closed" if stage == "rated" else stage)
        if stage == "rated":
            member_case_rate(account=member.account, case_id=case.id, rating=4)
        if stage == "rejected":
            case_reject(actor=cadre, case=case, reason="不符合条件")
        if stage == "withdrawn":
            member_case_withdraw(account=member.account, case_id=case.id)
        stale = ServiceCase.objects.get(pk=case.pk)
        calls = {
            "accept": lambda: case_accept(actor=cadre, case=stale),
            "reject": lambda: case_reject(actor=cadre, case=stale, reason="不符合条件"),
            "start": lambda: case_start(actor=cadre, case=stale),
            "close": lambda: case_close(actor=cadre, case=stale, result="办结", outcome=GRANT_MONEY),
            "cadre_withdraw": lambda: case_withdraw(actor=cadre, case=stale, reason="本人要求"),
            "member_withdraw": lambda: member_case_withdraw(account=member.account, case_id=stale.id, ip=IP),
            "rate": lambda: member_case_rate(account=member.account, case_id=stale.id, rating=3, ip=IP),
        }

        for action, message in refused_steps.items():
            with nothing_changes(), pytest.raises(CaseMovedOn) as refused:
                calls[action]()
            assert (action, refused.value.message, refused.value.status) == (action, message, 409)

    def test_a_cadre_acting_on_a_case_another_cadre_already_moved_is_told_it_moved_on(self, member, actors):
        case = apply(member, "hardship")
        loaded_by_town = ServiceCase.objects.get(pk=case.pk)
        case_accept(actor=actors["grassroots_cadre"], case=case)

        with nothing_changes(), pytest.raises(CaseMovedOn, match="已受理"):
            case_reject(actor=actors["town_cadre"], case=loaded_by_town, reason="重复申请")

        assert fresh(case).status == CaseStatus.ACCEPTED

    def test_closing_needs_a_result(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "in_progress")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_close(actor=actors["grassroots_cadre"], case=case, result="  ", outcome=GRANT_MONEY)
        assert refused.value.errors == {"reason": "请填写办理结果"}

    def test_a_rating_outside_one_to_five_stars_is_refused(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "closed")
        for rating in (0, 6, -1, "abc", "", None, "4.5", "五"):
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                member_case_rate(account=member.account, case_id=case.id, rating=rating, ip=IP)
            assert refused.value.errors == {"rating": "请选择 1 到 5 星的评价"}, rating

    def test_a_rating_given_as_text_and_its_comment_length(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "closed")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            member_case_rate(account=member.account, case_id=case.id, rating="4", comment="好" * 501)
        assert refused.value.errors == {"comment": "评价意见不能超过500个字"}

        rated = fresh(member_case_rate(account=member.account, case_id=case.id, rating=" 1 ", comment=""))
        assert (rated.rating, rated.rating_comment) == (1, "")
        assert CaseEvent.objects.get(case=case, action="rate").note == "1 星"

    def test_a_cadre_enters_an_application_for_a_member_with_the_written_consent(self, member, actors):
        case = enter(actors["grassroots_cadre"], member.membership, "hardship", causes=["unemployment"])

        assert case.source == "cadre"
        assert case.account_id is None
        assert case.submitted_by == "grassroots_cadre"
        assert case.consent_by == "grassroots_cadre核对书面同意书"
        assert case.consent_financial_at is not None and case.consent_health_at is None
        assert timeline(case) == ["submit"]
        assert last_audit("case.submit").details == {"kind": "hardship", "source": "cadre", "handling_org": E12}
        # The member sees it among their own and may withdraw it.
        assert own_case_get(account=member.account, case_id=case.id) == case
        assert member_case_withdraw(account=member.account, case_id=case.id).status == CaseStatus.WITHDRAWN

    def test_a_second_open_application_for_the_same_service_is_refused(self, member, actors):
        apply(member, "hardship")
        with nothing_changes(), pytest.raises(DomainError) as refused:
            apply(member, "hardship", amount_requested="800")
        assert refused.value.code == "duplicate"
        assert refused.value.message == "已有一份正在办理的困难帮扶申请，请等待办结或先撤回"
        # Another service is another matter.
        assert apply(member, "legal").status == CaseStatus.SUBMITTED

    def test_only_active_members_apply(self, member, actors):
        membership_reserve(actor=actors["grassroots_cadre"], membership=member.membership, reason="下岗待业")
        with nothing_changes(), pytest.raises(DomainError) as refused:
            apply(member, "legal")
        assert refused.value.code == "not_member"
        with nothing_changes(), pytest.raises(DomainError) as refused:
            enter(actors["grassroots_cadre"], fresh(member.membership), "legal")
        assert refused.value.code == "not_member"

    def test_a_member_applies_at_most_ten_times_in_a_day(self, member):
        for seq in range(1, 11):
            apply(member, "student", student_doc_number=student_id(seq), student_name=f"张{seq}")
        with nothing_changes(), pytest.raises(DomainError) as refused:
            apply(member, "student", student_doc_number=student_id(11))
        assert refused.value.code == "rate_limited"
        assert refused.value.message == "24小时内提交的申请过多，请明天再试"

    def test_an_invalid_hardship_form_is_refused_naming_the_field(self, member):
        for fields, errors in [
            ({"summary": " "}, {"summary": "请填写申请事由"}),
            ({"causes": []}, {"causes": "请选择至少一项致困原因"}),
            ({"causes": ["laziness"]}, {"causes": "致困原因不在可选范围内"}),
            ({"household_size": "0"}, {"household_size": "家庭人口应在 1 到 20 之间"}),
            ({"household_income": "三万"}, {"household_income": "家庭年收入应为金额，如 1200 或 1200.50"}),
            ({"amount_requested": "-1"}, {"amount_requested": "申请金额不能为负数"}),
            ({"amount_requested": "100.001"}, {"amount_requested": "申请金额最多保留两位小数（精确到分）"}),
            ({"amount_requested": "1000000.01"}, {"amount_requested": "申请金额不能超过 1,000,000 元"}),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, "hardship", **fields)
            assert refused.value.errors == errors
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            member_case_apply(account=member.account, kind="loan", data=FORMS["hardship"], consent=ALL_CONSENT)
        assert refused.value.errors == {"kind": "请选择服务类型"}

    def test_an_absurdly_large_amount_is_refused_with_a_message(self, member):
        for amount in ("1e30", "9" * 29):
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, "hardship", amount_requested=amount)
            assert refused.value.errors == {"amount_requested": "申请金额不能超过 1,000,000 元"}
