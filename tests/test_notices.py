"""The members' inbox (消息) and its SMS: every decision on a join application, a transfer or a service case, and every
passing deadline, puts exactly one message in the right person's inbox with its exact Chinese text and sends one SMS
(MemorySmsSender) after commit; a rolled-back change sends nothing; a failing gateway undoes nothing; a deadline
notice is sent once per deadline. The portal's 消息 pages list the member's own messages, mark them read and answer
404 for anyone else's."""

import logging
import re
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gonghui.audit.models import AuditEvent
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
from gonghui.common.errors import NotFound, PermissionDenied
from gonghui.common.sms import MemorySmsSender, SmsNotSent
from gonghui.members.models import (
    ApplicationStatus,
    JoinApplication,
    Notice,
    NoticeKind,
    NoticeSms,
    NoticeSubject,
    Person,
    TransferRequest,
    TransferStatus,
)
from gonghui.members.notices import (
    join_applications_overdue_notify,
    notice_read,
    notice_sms_deliver,
    notices_read_all,
    own_notice_get,
    own_notices,
    own_unread_count,
)
from gonghui.members.self_service import member_transfer_request, member_transfer_withdraw
from gonghui.members.services import (
    join_application_approve,
    join_application_convert_to_transfer,
    join_application_reject,
    join_application_submit,
    transfer_accept,
    transfer_refuse,
    transfer_release,
    transfer_request,
    transfer_request_incoming,
    transfer_withdraw,
    transfers_escalate_overdue,
)
from gonghui.portal.session import ACCOUNT_KEY, VERSION_KEY
from tests.members.factories import COMPLETE_PROFILE, enrol, resident_id
from tests.members.factories import IP, Member, fresh

pytestmark = pytest.mark.django_db

E12, E123 = "SZ-GS-T01-12", "SZ-GS-T01-123"
E12_NAME, E123_NAME = (
    "十二号公司工会委员会",
    "一二三公司工会委员会",
)  # as the shared tree (tests/conftest.py) names them
APPLICANT_PHONE = "13512340001"
SMS = "您有一条新的工会消息：{}。详情请登录数字工会平台查看。"


def inbox(person) -> list[tuple]:
    """A person's notices, oldest first, as (kind, title, body, subject type, subject id)."""
    rows = Notice.objects.filter(person=person).order_by("created_at", "id")
    return list(rows.values_list("kind", "title", "body", "subject_type", "subject_id"))


def all_notices() -> list[tuple]:
    return sorted(Notice.objects.values_list("person_id", "kind"))


@pytest.fixture
def member(tree, actors):
    """张三, member of union "12", signed in on the portal and bound; phone 13812341234 on file."""
    return Member(actors["grassroots_cadre"], tree[E12], name="张三", seq=101, phone="13812341234")


@pytest.fixture
def other_member(tree, actors):
    """李四, member of union "123", bound on the portal."""
    return Member(actors["town_cadre"], tree[E123], name="李四", seq=102, phone="13912345678")


@pytest.fixture
def sms(django_capture_on_commit_callbacks):
    """Run the commit callbacks of what happens inside (as a real commit would) and start with an empty outbox."""

    class Capture:
        def __enter__(self):
            MemorySmsSender.outbox.clear()
            self._capture = django_capture_on_commit_callbacks(execute=True)
            self._capture.__enter__()
            return MemorySmsSender.outbox

        def __exit__(self, *exc):
            return self._capture.__exit__(*exc)

    return Capture


def application_for(actors, tree, *, name="赵六", seq=201, phone=APPLICANT_PHONE) -> JoinApplication:
    """A join application a cadre of union "12" entered for a new worker."""
    return join_application_submit(
        actor=actors["grassroots_cadre"],
        org=tree[E12],
        doc_type="resident_id",
        doc_number=resident_id(date(1992, 1, 9), seq),
        phone=phone,
        name=name,
        **COMPLETE_PROFILE,
    )


# ================================================================ join applications


def test_an_approved_application_tells_the_applicant_once_by_message_and_sms(actors, tree, sms, other_member):
    application = application_for(actors, tree)

    with sms() as outbox:
        membership = join_application_approve(actor=actors["grassroots_cadre"], application=application)

    assert inbox(application.person) == [
        (
            "join_approved",
            "入会申请已通过",
            f"您申请加入“{E12_NAME}”的入会申请已通过，会员卡号 {membership.card_number}。"
            "欢迎入会！可在“会员卡”中查看电子会员卡。",
            "join_application",
            application.id,
        )
    ]
    assert outbox == [(APPLICANT_PHONE, "您有一条新的工会消息：入会申请已通过。详情请登录数字工会平台查看。")]
    assert Notice.objects.get().sms_status == NoticeSms.SENT
    assert Notice.objects.get().sms_at is not None
    assert inbox(other_member.person) == []
    assert Notice.objects.count() == 1


def test_a_refused_application_gives_the_reason_in_the_portal_only(actors, tree, sms):
    application = application_for(actors, tree)

    with sms() as outbox:
        join_application_reject(actor=actors["grassroots_cadre"], application=application, reason="不是本单位职工")

    assert inbox(application.person) == [
        (
            "join_rejected",
            "入会申请未通过",
            f"您申请加入“{E12_NAME}”的入会申请未通过。理由：不是本单位职工",
            "join_application",
            application.id,
        )
    ]
    assert outbox == [(APPLICANT_PHONE, SMS.format("入会申请未通过"))]
    assert "不是本单位职工" not in outbox[0][1]


def test_an_application_turned_into_a_transfer_is_one_message_that_leads_to_the_transfer(actors, tree, sms):
    held = enrol(actors["town_cadre"], tree[E123], name="钱七", seq=111, phone="13600000007")
    application = join_application_submit(
        actor=actors["grassroots_cadre"],
        org=tree[E12],
        doc_type="resident_id",
        doc_number=resident_id(date(1990, 5, 17), 111),
        name="钱七",
    )

    with sms() as outbox:
        transfer = join_application_convert_to_transfer(actor=actors["grassroots_cadre"], application=application)

    assert inbox(held.person) == [
        (
            "join_converted",
            "入会申请已改为会员接转",
            f"您已是其他工会会员，“{E12_NAME}”已将您的入会申请改为会员接转，原工会同意转出、新工会接收后即完成。",
            "transfer",
            transfer.id,
        )
    ]
    assert outbox == [("13600000007", SMS.format("入会申请已改为会员接转"))]


def test_a_rolled_back_approval_leaves_no_message_and_sends_nothing(actors, tree, sms):
    application = application_for(actors, tree)

    with sms() as outbox, pytest.raises(RuntimeError), transaction.atomic():
        join_application_approve(actor=actors["grassroots_cadre"], application=application)
        raise RuntimeError("a later step of the same transaction failed")

    assert Notice.objects.count() == 0
    assert outbox == []
    assert fresh(application).status == ApplicationStatus.PENDING


def test_a_refused_decision_sends_nothing(actors, tree, sms):
    application = application_for(actors, tree)

    with sms() as outbox, pytest.raises(PermissionDenied):
        join_application_approve(actor=actors["auditor"], application=application)

    assert Notice.objects.count() == 0
    assert outbox == []


class FailingSender:
    def send(self, *, phone: str, text: str) -> None:
        raise SmsNotSent("gateway answered HTTP 500")


class BrokenSender:
    def send(self, *, phone: str, text: str) -> None:
        raise ConnectionResetError("connection reset by peer")


@pytest.mark.parametrize("sender", ["FailingSender", "BrokenSender"])
def test_a_failing_gateway_undoes_nothing_and_the_message_stays(actors, tree, sms, settings, caplog, sender):
    application = application_for(actors, tree)
    settings.SMS_BACKEND = f"tests.test_notices.{sender}"

    with sms() as outbox, caplog.at_level(logging.WARNING, logger="gonghui.notices"):
        membership = join_application_approve(actor=actors["grassroots_cadre"], application=application)

    assert fresh(application).status == ApplicationStatus.APPROVED
    assert fresh(membership).status == "active"
    notice = Notice.objects.get()
    assert (notice.kind, notice.sms_status) == ("join_approved", NoticeSms.FAILED)
    assert outbox == []
    (record,) = [r for r in caplog.records if r.name == "gonghui.notices"]
    assert record.getMessage().startswith(f"SMS for notice {notice.id} to 135****0001 not sent: ")
    assert APPLICANT_PHONE not in caplog.text


def test_with_the_database_job_queue_the_sms_waits_for_the_worker(actors, tree, sms, settings):
    """As deployed: the SMS is a job row after commit (待发送), sent when the worker runs, and only once."""
    from django_tasks_db.models import DBTaskResult

    from tests.conftest import _reset_task_backends

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    _reset_task_backends()
    application = application_for(actors, tree)

    with sms() as outbox:
        join_application_approve(actor=actors["grassroots_cadre"], application=application)
    assert outbox == []
    assert Notice.objects.get().sms_status == NoticeSms.QUEUED
    notice = Notice.objects.get()
    (job,) = DBTaskResult.objects.all()
    assert (job.task_path, job.args_kwargs) == (
        "gonghui.members.notices.notice_sms_deliver",
        {"args": [str(notice.id)], "kwargs": {}},
    )

    # What the worker (manage.py db_worker) does with the row; run here, in the test's own transaction.
    job.task.call(*job.args_kwargs["args"], **job.args_kwargs["kwargs"])

    assert outbox == [(APPLICANT_PHONE, SMS.format("入会申请已通过"))]
    assert Notice.objects.get().sms_status == NoticeSms.SENT
    notice_sms_deliver.call(str(Notice.objects.get().id))  # delivered twice by mistake: sent once all the same
    assert len(outbox) == 1


def test_no_phone_on_file_keeps_the_message_and_sends_no_sms(actors, tree, sms):
    application = application_for(actors, tree, phone=None)

    with sms() as outbox:
        join_application_approve(actor=actors["grassroots_cadre"], application=application)

    assert Notice.objects.get().sms_status == NoticeSms.NONE
    assert [kind for kind, *_ in inbox(application.person)] == ["join_approved"]
    assert outbox == []


def test_the_portal_phone_is_used_when_the_registry_has_none(actors, tree, sms):
    """A bound member whose registry record has no phone is told on the phone they sign in with."""
    account = Member(actors["grassroots_cadre"], tree[E12], name="孙八", seq=108, phone="13700008888").account
    Person.objects.filter(pk=account.person_id).update(phone_enc=None, phone_index="", phone_masked="")
    application = join_application_submit(
        actor=actors["town_cadre"],
        org=tree[E123],
        doc_type="resident_id",
        doc_number=resident_id(date(1990, 5, 17), 108),
        name="孙八",
    )

    with sms() as outbox:
        join_application_reject(actor=actors["town_cadre"], application=application, reason="已是其他工会会员")

    assert outbox == [("13700008888", SMS.format("入会申请未通过"))]


def test_the_console_sender_logs_the_phone_masked(actors, tree, sms, settings, caplog):
    settings.SMS_BACKEND = "gonghui.common.sms.ConsoleSmsSender"
    application = application_for(actors, tree)

    with sms(), caplog.at_level(logging.INFO, logger="gonghui.sms"):
        join_application_approve(actor=actors["grassroots_cadre"], application=application)

    assert [r.getMessage() for r in caplog.records if r.name == "gonghui.sms"] == [
        f"SMS to 135****0001: {SMS.format('入会申请已通过')}"
    ]


# ================================================================ transfers


def test_each_step_of_a_transfer_a_union_asked_for_tells_the_member(actors, tree, sms, member, other_member):
    with sms() as outbox:
        transfer = transfer_request(
            actor=actors["grassroots_cadre"], membership=member.membership, to_org=tree[E123], reason="调往一二三号公司"
        )
    assert inbox(member.person) == [
        (
            "transfer_requested",
            "工会为您发起了会员接转",
            f"工会为您发起了会员接转：从“{E12_NAME}”转入“{E123_NAME}”，等待原工会同意转出。接转原因：调往一二三号公司",
            "transfer",
            transfer.id,
        )
    ]
    assert outbox == [(member.phone, SMS.format("工会为您发起了会员接转"))]

    with sms() as outbox:
        released = transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
    assert inbox(member.person)[1] == (
        "transfer_released",
        "原工会已同意转出",
        f"“{E12_NAME}”已同意您转出，等待“{E123_NAME}”接收，接收期限 {released.due_on:%Y-%m-%d}。",
        "transfer",
        transfer.id,
    )
    assert outbox == [(member.phone, SMS.format("原工会已同意转出"))]

    with sms() as outbox:
        new = transfer_accept(actor=actors["town_cadre"], transfer=transfer)
    assert inbox(member.person)[2] == (
        "transfer_completed",
        "会员接转已完成",
        f"您已转入“{E123_NAME}”，新会员卡号 {new.card_number}，会龄连续计算。",
        "transfer",
        transfer.id,
    )
    assert outbox == [(member.phone, SMS.format("会员接转已完成"))]
    assert len(inbox(member.person)) == 3
    assert inbox(other_member.person) == []


def test_a_transfer_asked_for_by_the_receiving_union_tells_the_member(actors, tree, sms, member):
    with sms() as outbox:
        transfer = transfer_request_incoming(
            actor=actors["town_cadre"], membership=member.membership, to_org=tree[E123], reason="花名册导入发现"
        )
    assert [(k, s, i) for k, _, _, s, i in inbox(member.person)] == [("transfer_requested", "transfer", transfer.id)]
    assert outbox == [(member.phone, SMS.format("工会为您发起了会员接转"))]


@pytest.mark.parametrize("side", ["source", "target"])
def test_a_refused_transfer_says_who_refused_and_why(actors, tree, sms, member, side):
    transfer = transfer_request(
        actor=actors["grassroots_cadre"], membership=member.membership, to_org=tree[E123], reason="调动"
    )
    if side == "target":
        transfer = transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
    Notice.objects.all().delete()
    actor = actors["grassroots_cadre"] if side == "source" else actors["town_cadre"]

    with sms() as outbox:
        transfer_refuse(actor=actor, transfer=transfer, reason="材料不全")

    step = f"“{E12_NAME}”不同意转出" if side == "source" else f"“{E123_NAME}”不同意接收"
    assert inbox(member.person) == [
        ("transfer_refused", "会员接转未通过", f"{step}，您的会员关系不变。理由：材料不全", "transfer", transfer.id)
    ]
    assert outbox == [(member.phone, SMS.format("会员接转未通过"))]


def test_a_transfer_withdrawn_by_the_union_tells_the_member(actors, tree, sms, member):
    transfer = transfer_request(
        actor=actors["grassroots_cadre"], membership=member.membership, to_org=tree[E123], reason="调动"
    )
    Notice.objects.all().delete()

    with sms() as outbox:
        transfer_withdraw(actor=actors["grassroots_cadre"], transfer=transfer)

    assert inbox(member.person) == [
        (
            "transfer_withdrawn",
            "会员接转已撤回",
            f"“{E12_NAME}”已撤回您的会员接转（转入“{E123_NAME}”），您的会员关系不变。",
            "transfer",
            transfer.id,
        )
    ]
    assert outbox == [(member.phone, SMS.format("会员接转已撤回"))]


def test_what_the_member_does_themself_sends_them_nothing(tree, sms, member):
    with sms() as outbox:
        transfer = member_transfer_request(account=member.account, to_org=tree[E123], reason="换工作", ip=IP)
        member_transfer_withdraw(account=member.account, transfer_id=transfer.id, ip=IP)

    assert fresh(transfer).status == TransferStatus.WITHDRAWN
    assert Notice.objects.count() == 0
    assert outbox == []


def test_an_overdue_transfer_is_told_once_per_deadline(actors, tree, sms, member):
    transfer = transfer_request(
        actor=actors["grassroots_cadre"], membership=member.membership, to_org=tree[E123], reason="调动"
    )
    Notice.objects.all().delete()
    late = transfer.due_on + timedelta(days=1)
    system = system_actor("escalate_overdue")

    with sms() as outbox:
        assert transfers_escalate_overdue(actor=system, today=late) == 1
        # Even if the escalation mark were cleared and the job ran again, the same deadline is told only once.
        TransferRequest.objects.filter(pk=transfer.pk).update(escalated_at=None)
        assert transfers_escalate_overdue(actor=system, today=late) == 1

    assert inbox(member.person) == [
        (
            "transfer_overdue",
            "会员接转已超期，已上报督办",
            f"您的会员接转在“{E12_NAME}”超过办理期限（{transfer.due_on:%Y-%m-%d}），已上报“双塔街道总工会”督办。",
            "transfer",
            transfer.id,
        )
    ]
    assert outbox == [(member.phone, SMS.format("会员接转已超期，已上报督办"))]


# ================================================================ join application deadline


def test_an_overdue_join_application_is_told_once_and_audited(actors, tree, sms, other_member):
    application = application_for(actors, tree)
    late = application.due_on + timedelta(days=1)
    system = system_actor("escalate_overdue")

    with sms() as outbox:
        assert join_applications_overdue_notify(actor=system, today=application.due_on) == 0
        assert join_applications_overdue_notify(actor=system, today=late) == 1
        assert join_applications_overdue_notify(actor=system, today=late + timedelta(days=1)) == 0

    assert inbox(application.person) == [
        (
            "join_overdue",
            "入会申请已超过审核期限",
            f"您申请加入“{E12_NAME}”的入会申请已超过审核期限（{application.due_on:%Y-%m-%d}），"
            "已列为超期未审核申请，由该工会及其上级工会督办。如有疑问，请联系该工会。",
            "join_application",
            application.id,
        )
    ]
    assert outbox == [(APPLICANT_PHONE, SMS.format("入会申请已超过审核期限"))]
    event = AuditEvent.objects.get(action="join_application.overdue_notice")
    assert (event.object_id, event.object_org_path, event.details) == (
        str(application.id),
        tree[E12].path,
        {"due_on": application.due_on.isoformat()},
    )
    assert inbox(other_member.person) == []


def test_only_the_platform_sends_overdue_notices(actors, tree):
    application = application_for(actors, tree)
    audit_before = AuditEvent.objects.count()

    with pytest.raises(PermissionDenied):
        join_applications_overdue_notify(actor=actors["city_cadre"], today=application.due_on + timedelta(days=9))

    assert Notice.objects.count() == 0
    assert AuditEvent.objects.count() == audit_before


def test_the_daily_command_tells_overdue_applicants(actors, tree, sms, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    application = application_for(actors, tree)
    monkeypatch.setattr(timezone, "localdate", lambda *a: application.due_on + timedelta(days=1))
    out = StringIO()

    with sms():
        call_command("escalate_overdue", stdout=out)

    assert out.getvalue() == "已上报 0 件超期会员接转；已提醒 1 位入会申请超期未审核的申请人。\n"
    assert [kind for kind, *_ in inbox(application.person)] == ["join_overdue"]


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


# ================================================================ reading (selectors, services)


def _notices_for(person, count: int) -> list[Notice]:
    """`count` notices for `person`, one minute apart, the last one newest."""
    start = timezone.now() - timedelta(hours=1)
    made = []
    for i in range(count):
        notice = Notice.objects.create(
            person=person,
            kind=NoticeKind.JOIN_APPROVED,
            title=f"消息{i + 1}",
            body=f"第{i + 1}条消息的内容",
            subject_type=NoticeSubject.TRANSFER,
            subject_id=person.id,
        )
        Notice.objects.filter(pk=notice.pk).update(created_at=start + timedelta(minutes=i))
        made.append(notice)
    return made


def test_the_member_reads_only_their_own_notices(member, other_member):
    mine = _notices_for(member.person, 3)
    theirs = _notices_for(other_member.person, 1)

    assert [n.title for n in own_notices(account=member.account)] == ["消息3", "消息2", "消息1"]
    assert own_unread_count(account=member.account) == 3
    with pytest.raises(NotFound):
        own_notice_get(account=member.account, notice_id=theirs[0].id)
    with pytest.raises(NotFound):
        notice_read(account=member.account, notice_id=theirs[0].id)
    with pytest.raises(NotFound):
        own_notice_get(account=member.account, notice_id="not-an-id")
    assert Notice.objects.get(pk=theirs[0].pk).read_at is None

    read = notice_read(account=member.account, notice_id=mine[1].id)
    first_read = read.read_at
    assert first_read is not None
    assert notice_read(account=member.account, notice_id=mine[1].id).read_at == first_read
    assert own_unread_count(account=member.account) == 2
    assert notices_read_all(account=member.account) == 2
    assert own_unread_count(account=member.account) == 0
    assert own_unread_count(account=other_member.account) == 1


# ================================================================ the portal pages


def items(page: str) -> int:
    """How many messages a 消息 page lists."""
    return len(re.findall(r'<li(?: class="unread")?><a href="/messages/', page))


def portal_client(account) -> Client:
    client = Client()
    session = client.session
    session[ACCOUNT_KEY] = str(account.id)
    session[VERSION_KEY] = account.session_version
    session.save()
    return client


def test_the_messages_page_lists_newest_first_with_the_unread_count(member, other_member):
    _notices_for(member.person, 3)
    _notices_for(other_member.person, 1)
    Notice.objects.filter(person=member.person, title="消息1").update(read_at=timezone.now())
    client = portal_client(member.account)

    page = client.get(reverse("portal:messages")).content.decode()

    assert '<p class="muted" data-testid="unread-count">2 条未读</p>' in page
    assert page.index("消息3") < page.index("消息2") < page.index("消息1")
    assert page.count("未读</span>") == 2
    assert "第1条消息的内容" in page
    assert "全部标为已读" in page
    assert items(page) == 3  # 李四's message is not listed


def test_opening_a_message_marks_it_read_and_leads_to_its_subject(actors, tree, member):
    transfer = transfer_request(
        actor=actors["grassroots_cadre"], membership=member.membership, to_org=tree[E123], reason="调动"
    )
    notice = Notice.objects.get(person=member.person)
    client = portal_client(member.account)

    page = client.get(reverse("portal:message", args=[notice.id])).content.decode()

    assert "<h1>工会为您发起了会员接转</h1>" in page
    assert f'<a class="btn btn-block" href="/transfers/{transfer.id}/">查看接转进度</a>' in page
    assert fresh(notice).read_at is not None
    assert "没有未读消息" in client.get(reverse("portal:messages")).content.decode()


@pytest.mark.parametrize(
    ("subject", "url"),
    [
        ("join_application", "/applications/{}/"),
        ("transfer", "/transfers/{}/"),
        ("service_case", "/services/cases/{}/"),
    ],
)
def test_each_subject_links_to_its_page(member, subject, url):
    notice = Notice.objects.create(
        person=member.person,
        kind="case_progress",
        title="进展",
        body="内容",
        subject_type=subject,
        subject_id=member.person.id,
    )
    page = portal_client(member.account).get(reverse("portal:message", args=[notice.id])).content.decode()
    assert f'href="{url.format(member.person.id)}"' in page


def test_another_members_message_answers_like_a_missing_one(member, other_member):
    (theirs,) = _notices_for(other_member.person, 1)
    client = portal_client(member.account)

    other = client.get(reverse("portal:message", args=[theirs.id]))
    missing = client.get(reverse("portal:message", args=[member.person.id]))
    garbage = client.get("/messages/not-an-id/")

    assert other.status_code == missing.status_code == garbage.status_code == 404
    assert other.content == missing.content
    assert Notice.objects.get(pk=theirs.pk).read_at is None


def test_read_all_is_a_post_and_touches_only_the_members_own(member, other_member):
    _notices_for(member.person, 2)
    _notices_for(other_member.person, 1)
    client = portal_client(member.account)

    assert client.get(reverse("portal:messages_read_all")).status_code == 405
    assert own_unread_count(account=member.account) == 2
    response = client.post(reverse("portal:messages_read_all"))

    assert response.status_code == 302 and response["Location"] == reverse("portal:messages")
    assert own_unread_count(account=member.account) == 0
    assert own_unread_count(account=other_member.account) == 1


def test_read_all_needs_the_form_token(member):
    _notices_for(member.person, 1)
    client = Client(enforce_csrf_checks=True)
    session = client.session
    session[ACCOUNT_KEY], session[VERSION_KEY] = str(member.account.id), member.account.session_version
    session.save()

    assert client.post(reverse("portal:messages_read_all")).status_code == 403
    assert own_unread_count(account=member.account) == 1


def test_the_messages_are_paginated_twenty_a_page(member):
    _notices_for(member.person, 25)
    client = portal_client(member.account)

    first = client.get(reverse("portal:messages")).content.decode()
    second = client.get(reverse("portal:messages"), {"page": 2}).content.decode()

    assert items(first) == 20 and "消息25" in first and "消息6<" in first and "消息5<" not in first
    assert "第 1 / 2 页" in first and 'href="?page=2"' in first
    assert items(second) == 5 and "消息5<" in second and "消息1<" in second
    assert "第 2 / 2 页" in second and 'href="?page=1"' in second
    assert client.get(reverse("portal:messages"), {"page": "x"}).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in():
    response = Client().get(reverse("portal:messages"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('portal:login')}?next=%2Fmessages%2F"


def test_an_unbound_account_has_an_empty_inbox(member):
    from tests.members.factories import sign_in

    account = sign_in("13700002222")
    page = portal_client(account).get(reverse("portal:messages")).content.decode()
    assert "暂无消息" in page and "没有未读消息" in page


def test_the_badge_tag_counts_the_members_unread(member):
    _notices_for(member.person, 2)
    template = Template("{% load portal_notices %}{% unread_notice_count account as unread %}[{{ unread }}]")
    assert template.render(Context({"account": member.account})) == "[2]"
    assert template.render(Context({"account": None})) == "[0]"
