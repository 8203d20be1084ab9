"""Notices (消息) of service cases: each step of a case tells the applicant."""

from datetime import date, timedelta

import pytest

from gonghui.casework.approval import hardship_approval_approve, hardship_approval_refuse
from gonghui.casework.models import CaseStatus, HardshipApproval, ServiceCase
from gonghui.casework.services import (
    Consent,
    case_accept,
    case_close,
    case_enter,
    case_reject,
    case_start,
    case_withdraw,
    cases_escalate_overdue,
    member_case_apply,
    member_case_withdraw,
)
from gonghui.common.actor import system_actor
from gonghui.members.models import Notice
from tests.members.factories import IP, fresh, resident_id
from tests.members.notice_factories import E12_NAME, SMS

pytestmark = pytest.mark.django_db


# ================================================================ service cases

HARDSHIP = {
    "summary": "爱人患病住院，家庭生活困难",
    "causes": ["illness"],
    "household_size": "3",
    "household_income": "36000",
    "amount_requested": "2000",
}
LEGAL = {"summary": "公司拖欠三个月工资", "category": "wages", "counterparty": "十二号有限公司"}
STUDENT = {
    "summary": "女儿考入苏州大学，申请金秋助学",
    "student_name": "张小红",
    "relation": "子女",
    "school": "苏州大学",
    "grade": "大一",
    "student_doc_number": resident_id(date(2007, 3, 1), 1),
}


def case_notices(case: ServiceCase) -> list[tuple]:
    rows = Notice.objects.filter(subject_id=case.id).order_by("created_at", "id")
    return list(rows.values_list("person_id", "kind", "title", "body"))


def test_each_step_of_a_case_tells_the_applicant(actors, sms, member, other_member):
    cadre = actors["grassroots_cadre"]
    case = member_case_apply(
        account=member.account, kind="hardship", data=HARDSHIP, consent=Consent(health=True, financial=True), ip=IP
    )
    assert Notice.objects.count() == 0  # the member's own application is no news to them

    with sms() as outbox:
        accepted = case_accept(actor=cadre, case=case)
        started = case_start(actor=cadre, case=accepted)
        closed = case_close(actor=cadre, case=started, result="经核实，不符合帮扶条件。", outcome={"granted": False})

    person = member.person.id
    assert case_notices(case) == [
        (
            person,
            "case_accepted",
            "困难帮扶申请已受理",
            f"您的困难帮扶申请（受理编号 {case.number}）已由“{E12_NAME}”受理，"
            f"将于 {accepted.due_on:%Y-%m-%d} 前开始办理。",
        ),
        (
            person,
            "case_started",
            "困难帮扶申请办理中",
            f"“{E12_NAME}”已开始办理您的困难帮扶申请（受理编号 {case.number}），办理期限 {started.due_on:%Y-%m-%d}。",
        ),
        (
            person,
            "case_closed",
            "困难帮扶申请已办结",
            f"您的困难帮扶申请（受理编号 {case.number}）已办结。"
            "办理结果：经核实，不符合帮扶条件。欢迎对本次服务进行评价。",
        ),
    ]
    assert outbox == [
        (member.phone, SMS.format("困难帮扶申请已受理")),
        (member.phone, SMS.format("困难帮扶申请办理中")),
        (member.phone, SMS.format("困难帮扶申请已办结")),
    ]
    assert closed.status == CaseStatus.CLOSED
    assert Notice.objects.exclude(person_id=person).count() == 0


def test_a_case_granted_money_says_the_amount(actors, sms, member):
    cadre = actors["grassroots_cadre"]
    case = case_enter(
        actor=cadre, membership=member.membership, kind="student", data=STUDENT, consent=Consent(True, True)
    )
    case = case_start(actor=cadre, case=case_accept(actor=cadre, case=case))
    Notice.objects.all().delete()

    with sms() as outbox:
        closed = case_close(
            actor=cadre, case=case, result="发放金秋助学金。", outcome={"granted": True, "amount": "1000"}
        )

    assert closed.status == CaseStatus.CLOSED
    assert case_notices(case) == [
        (
            member.person.id,
            "case_closed",
            "金秋助学申请已办结",
            f"您的金秋助学申请（受理编号 {case.number}）已办结。办理结果：发放金秋助学金，发放 1000.00 元。"
            "欢迎对本次服务进行评价。",
        )
    ]
    assert outbox == [(member.phone, SMS.format("金秋助学申请已办结"))]


GRANT_800 = {"granted": True, "tier": "deep", "aid_form": "money", "amount": "800", "aid_description": "困难帮扶金"}


def _waiting_for_approval(actors, sms, member) -> ServiceCase:
    """A hardship case whose proposed aid the parent union must approve (the city's standard), its notice checked."""
    cadre = actors["grassroots_cadre"]
    consent = Consent(health=True, financial=True)
    case = case_enter(actor=cadre, membership=member.membership, kind="hardship", data=HARDSHIP, consent=consent)
    case = case_start(actor=cadre, case=case_accept(actor=cadre, case=case))
    Notice.objects.all().delete()
    with sms() as outbox:
        waiting = case_close(actor=cadre, case=case, result="发放困难帮扶金", outcome=GRANT_800)
    assert waiting.status == CaseStatus.PENDING_APPROVAL
    assert case_notices(case) == [
        (
            member.person.id,
            "case_progress",
            "困难帮扶申请进展：待上级审批",
            f"您的困难帮扶申请（受理编号 {case.number}）当前为“待上级审批”，办理期限 {waiting.due_on:%Y-%m-%d}。",
        )
    ]
    assert outbox == [(member.phone, SMS.format("困难帮扶申请进展：待上级审批"))]
    Notice.objects.all().delete()
    return waiting


def test_a_case_waiting_for_approval_is_told_and_so_is_its_approval(actors, sms, member):
    case = _waiting_for_approval(actors, sms, member)

    with sms() as outbox:
        hardship_approval_approve(actor=actors["town_cadre"], approval=HardshipApproval.objects.get(case=case))

    assert fresh(case).status == CaseStatus.CLOSED
    assert case_notices(case) == [
        (
            member.person.id,
            "case_closed",
            "困难帮扶申请已办结",
            f"您的困难帮扶申请（受理编号 {case.number}）已办结。办理结果：发放困难帮扶金，发放 800.00 元。"
            "欢迎对本次服务进行评价。",
        )
    ]
    assert outbox == [(member.phone, SMS.format("困难帮扶申请已办结"))]


def test_a_refused_approval_tells_the_applicant_the_case_is_handled_again(actors, sms, member):
    case = _waiting_for_approval(actors, sms, member)

    with sms() as outbox:
        hardship_approval_refuse(
            actor=actors["town_cadre"], approval=HardshipApproval.objects.get(case=case), reason="超出帮扶标准"
        )

    back = fresh(case)
    assert back.status == CaseStatus.IN_PROGRESS
    assert case_notices(case) == [
        (
            member.person.id,
            "case_progress",
            "困难帮扶申请进展：办理中",
            f"您的困难帮扶申请（受理编号 {case.number}）当前为“办理中”，办理期限 {back.due_on:%Y-%m-%d}。",
        )
    ]
    assert outbox == [(member.phone, SMS.format("困难帮扶申请进展：办理中"))]


def test_a_case_not_accepted_gives_the_reason(actors, sms, member):
    case = case_enter(
        actor=actors["grassroots_cadre"], membership=member.membership, kind="legal", data=LEGAL, consent=Consent()
    )
    handler = actors["district_cadre"]  # legal aid is handled by the county-level federation

    with sms() as outbox:
        case_reject(actor=handler, case=case, reason="不属于法律援助范围")

    assert case_notices(case) == [
        (
            member.person.id,
            "case_rejected",
            "法律援助申请不予受理",
            f"您的法律援助申请（受理编号 {case.number}）“姑苏区总工会”不予受理。理由：不属于法律援助范围",
        )
    ]
    assert outbox == [(member.phone, SMS.format("法律援助申请不予受理"))]


def test_a_withdrawal_is_told_when_the_union_records_it_and_not_when_the_member_does_it(actors, sms, member):
    cadre = actors["grassroots_cadre"]
    consent = Consent(health=True, financial=True)
    by_union = case_enter(actor=cadre, membership=member.membership, kind="hardship", data=HARDSHIP, consent=consent)

    with sms() as outbox:
        case_withdraw(actor=cadre, case=by_union, reason="申请人电话告知不再申请")
    assert case_notices(by_union) == [
        (
            member.person.id,
            "case_withdrawn",
            "困难帮扶申请已撤回",
            f"您的困难帮扶申请（受理编号 {by_union.number}）已按您的要求撤回。说明：申请人电话告知不再申请",
        )
    ]
    assert outbox == [(member.phone, SMS.format("困难帮扶申请已撤回"))]

    own = member_case_apply(account=member.account, kind="hardship", data=HARDSHIP, consent=consent, ip=IP)
    with sms() as outbox:
        member_case_withdraw(account=member.account, case_id=own.id, ip=IP)
    assert case_notices(own) == []
    assert outbox == []


def test_an_overdue_case_is_told_once_per_deadline(actors, sms, member):
    case = case_enter(
        actor=actors["grassroots_cadre"],
        membership=member.membership,
        kind="hardship",
        data=HARDSHIP,
        consent=Consent(health=True, financial=True),
    )
    late = case.due_on + timedelta(days=1)
    system = system_actor("escalate_cases")

    with sms() as outbox:
        assert cases_escalate_overdue(actor=system, today=late) == 1
        ServiceCase.objects.filter(pk=case.pk).update(escalated_at=None)  # as if the mark were lost: told once still
        assert cases_escalate_overdue(actor=system, today=late) == 1

    assert case_notices(case) == [
        (
            member.person.id,
            "case_overdue",
            "困难帮扶申请已超期，已上报督办",
            f"您的困难帮扶申请（受理编号 {case.number}）已超过“待受理”环节的办理期限（{case.due_on:%Y-%m-%d}），"
            "已上报“双塔街道总工会”督办。",
        )
    ]
    assert outbox == [(member.phone, SMS.format("困难帮扶申请已超期，已上报督办"))]
