"""Notices (消息) of the registry: join applications and transfers tell the member once, in the portal and by SMS
after the commit; a failing gateway undoes nothing; overdue notices are sent once per deadline."""

import logging
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from gonghui.audit.models import AuditEvent
from gonghui.common.actor import system_actor
from gonghui.common.errors import PermissionDenied
from gonghui.members.models import ApplicationStatus, Notice, NoticeSms, Person, TransferRequest, TransferStatus
from gonghui.members.notices import join_applications_overdue_notify, notice_sms_deliver
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
from tests.members.factories import IP, Member, enrol, fresh, resident_id
from tests.members.notice_factories import APPLICANT_PHONE, E12, E12_NAME, E123, E123_NAME, SMS, application_for, inbox

pytestmark = pytest.mark.django_db


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


@pytest.mark.parametrize("sender", ["FailingSender", "BrokenSender"])
def test_a_failing_gateway_undoes_nothing_and_the_message_stays(actors, tree, sms, settings, caplog, sender):
    application = application_for(actors, tree)
    settings.SMS_BACKEND = f"tests.members.notice_factories.{sender}"

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
