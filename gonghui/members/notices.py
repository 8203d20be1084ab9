"""A person's inbox (消息): what their union decided on their join application, transfer or service case, and the
deadlines that passed on them. Each notice is a row the portal lists (newest first, unread counted) and a short SMS.

The services that change an application, a transfer or a case call `notice_send` in their own transaction, so a
change that rolls back leaves no notice. The SMS is queued on commit as a background job: a rolled-back change
sends nothing, and a gateway that fails never undoes the change (the failure is logged and kept on the notice; the
message is in the portal all the same). The SMS says only what kind of thing happened: no personal number, no
other person's name, no union decision text; the full message is read in the portal after signing in.

A notice the platform sends for a passing deadline carries a `dedupe_key` (one per case per deadline), so running
the daily escalation again sends nothing twice.

Reading is the member's own business: the selectors and the read marks take the signed-in MemberAccount and reach
only the notices of the person bound to it; another person's notice answers exactly like a missing one. Marking a
notice read is not audited (it is the member's own inbox state, not a change to a record).
"""

import logging
from datetime import date
from functools import partial
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks import task

from gonghui.common.actor import Actor
from gonghui.common.crypto import decrypt_text
from gonghui.common.errors import NotFound, PermissionDenied
from gonghui.common.ids import parse_public_id
from gonghui.common.masking import mask_phone
from gonghui.common.sms import sms_send
from gonghui.members import events
from gonghui.members.models import (
    ApplicationStatus,
    JoinApplication,
    MemberAccount,
    Membership,
    Notice,
    NoticeKind,
    NoticeSms,
    NoticeSubject,
    Person,
    TransferRequest,
    TransferStatus,
)
from gonghui.members.people import PHONE_CONTEXT, phone_of

log = logging.getLogger("gonghui.notices")

SMS_TEXT = "您有一条新的工会消息：{title}。详情请登录数字工会平台查看。"
TITLE_MAX = 60
BODY_MAX = 1000


# ---------------------------------------------------------------- sending


def notice_send(
    *,
    person: Person,
    kind: str,
    title: str,
    body: str,
    subject_type: str,
    subject_id: UUID,
    dedupe_key: str = "",
) -> Notice | None:
    """Put a notice in `person`'s inbox and queue its SMS for when the caller's transaction commits. With a
    `dedupe_key` already used for this person, nothing is sent again and None is returned."""
    if kind not in NoticeKind.values or subject_type not in NoticeSubject.values:
        raise ValueError(f"unknown notice kind or subject: {kind}, {subject_type}")
    if dedupe_key and Notice.objects.filter(person=person, dedupe_key=dedupe_key).exists():
        return None
    notice = Notice(
        person=person,
        kind=kind,
        title=title[:TITLE_MAX],
        body=body[:BODY_MAX],
        subject_type=subject_type,
        subject_id=subject_id,
        dedupe_key=dedupe_key,
        sms_status=NoticeSms.QUEUED if _has_phone(person) else NoticeSms.NONE,
    )
    try:
        with transaction.atomic():
            notice.save()
    except IntegrityError:  # the same deadline notice, stored at the same moment by another run
        return None
    if notice.sms_status == NoticeSms.QUEUED:
        transaction.on_commit(partial(_queue_sms, str(notice.id)))
    return notice


def notice_sms_text(notice: Notice) -> str:
    return SMS_TEXT.format(title=notice.title)


def _has_phone(person: Person) -> bool:
    if person.phone_enc:
        return True
    return MemberAccount.objects.filter(person=person, is_active=True).exists()


def notice_phone(person: Person) -> str:
    """The phone on file: the registry's record first; else the phone the member signs in to the portal with
    (proved by a code). "" when there is neither."""
    phone = phone_of(person)
    if phone:
        return phone
    account = MemberAccount.objects.filter(person=person, is_active=True).first()
    return decrypt_text(account.phone_enc, context=PHONE_CONTEXT) if account is not None else ""


def _queue_sms(notice_id: str) -> None:
    """After commit: hand the SMS to the job worker. Nothing here may raise (the change is already committed)."""
    try:
        notice_sms_deliver.enqueue(notice_id)
    except Exception:
        log.exception("SMS for notice %s could not be queued", notice_id)
        Notice.objects.filter(id=notice_id, sms_status=NoticeSms.QUEUED).update(sms_status=NoticeSms.FAILED)


@task()
def notice_sms_deliver(notice_id: str) -> None:
    """Send one notice's SMS, at most once: the row is claimed (queued → sending) before the gateway is called. A
    failure is logged with the phone masked and kept as 发送失败; it is never raised (the notice stays in the
    portal)."""
    claimed = Notice.objects.filter(id=notice_id, sms_status=NoticeSms.QUEUED).update(sms_status=NoticeSms.SENDING)
    if not claimed:
        return
    notice = Notice.objects.select_related("person").get(id=notice_id)
    phone = ""
    try:
        phone = notice_phone(notice.person)
        if not phone:
            Notice.objects.filter(id=notice_id).update(sms_status=NoticeSms.NONE)
            return
        sms_send(phone=phone, text=notice_sms_text(notice))
    except Exception as exc:  # the gateway's SmsNotSent, or anything else: the change stands, the message is kept
        log.warning("SMS for notice %s to %s not sent: %s", notice_id, mask_phone(phone), exc)
        Notice.objects.filter(id=notice_id).update(sms_status=NoticeSms.FAILED, sms_at=timezone.now())
        return
    Notice.objects.filter(id=notice_id).update(sms_status=NoticeSms.SENT, sms_at=timezone.now())


# ---------------------------------------------------------------- what the registry's services send


def _union(name: str) -> str:
    return f"“{name}”"


def notice_join_approved(application: JoinApplication, membership: Membership) -> None:
    notice_send(
        person=application.person,
        kind=NoticeKind.JOIN_APPROVED,
        title="入会申请已通过",
        body=f"您申请加入{_union(application.org.name)}的入会申请已通过，会员卡号 {membership.card_number}。"
        "欢迎入会！可在“会员卡”中查看电子会员卡。",
        subject_type=NoticeSubject.JOIN_APPLICATION,
        subject_id=application.id,
    )


def notice_join_rejected(application: JoinApplication) -> None:
    notice_send(
        person=application.person,
        kind=NoticeKind.JOIN_REJECTED,
        title="入会申请未通过",
        body=f"您申请加入{_union(application.org.name)}的入会申请未通过。理由：{application.decision_reason}",
        subject_type=NoticeSubject.JOIN_APPLICATION,
        subject_id=application.id,
    )


def notice_join_converted(application: JoinApplication, transfer: TransferRequest) -> None:
    notice_send(
        person=application.person,
        kind=NoticeKind.JOIN_CONVERTED,
        title="入会申请已改为会员接转",
        body=f"您已是其他工会会员，{_union(application.org.name)}已将您的入会申请改为会员接转，"
        "原工会同意转出、新工会接收后即完成。",
        subject_type=NoticeSubject.TRANSFER,
        subject_id=transfer.id,
    )


def _transfer_route(transfer: TransferRequest) -> str:
    return f"{_union(transfer.from_org.name)}转入{_union(transfer.to_org.name)}"


def notice_transfer_requested(transfer: TransferRequest) -> None:
    """A union asked for the member's transfer (the member's own request needs no notice)."""
    notice_send(
        person=transfer.person,
        kind=NoticeKind.TRANSFER_REQUESTED,
        title="工会为您发起了会员接转",
        body=f"工会为您发起了会员接转：从{_transfer_route(transfer)}，等待原工会同意转出。接转原因：{transfer.reason}",
        subject_type=NoticeSubject.TRANSFER,
        subject_id=transfer.id,
    )


def notice_transfer_released(transfer: TransferRequest) -> None:
    notice_send(
        person=transfer.person,
        kind=NoticeKind.TRANSFER_RELEASED,
        title="原工会已同意转出",
        body=f"{_union(transfer.from_org.name)}已同意您转出，等待{_union(transfer.to_org.name)}接收，"
        f"接收期限 {transfer.due_on:%Y-%m-%d}。",
        subject_type=NoticeSubject.TRANSFER,
        subject_id=transfer.id,
    )


def notice_transfer_completed(transfer: TransferRequest, membership: Membership) -> None:
    notice_send(
        person=transfer.person,
        kind=NoticeKind.TRANSFER_COMPLETED,
        title="会员接转已完成",
        body=f"您已转入{_union(transfer.to_org.name)}，新会员卡号 {membership.card_number}，会龄连续计算。",
        subject_type=NoticeSubject.TRANSFER,
        subject_id=transfer.id,
    )


def notice_transfer_refused(transfer: TransferRequest) -> None:
    org = transfer.from_org if transfer.refused_by_side == "source" else transfer.to_org
    step = "不同意转出" if transfer.refused_by_side == "source" else "不同意接收"
    notice_send(
        person=transfer.person,
        kind=NoticeKind.TRANSFER_REFUSED,
        title="会员接转未通过",
        body=f"{_union(org.name)}{step}，您的会员关系不变。理由：{transfer.refusal_reason}",
        subject_type=NoticeSubject.TRANSFER,
        subject_id=transfer.id,
    )


def notice_transfer_withdrawn(transfer: TransferRequest) -> None:
    """Withdrawn by the member's union (the member's own withdrawal needs no notice)."""
    notice_send(
        person=transfer.person,
        kind=NoticeKind.TRANSFER_WITHDRAWN,
        title="会员接转已撤回",
        body=f"{_union(transfer.from_org.name)}已撤回您的会员接转（转入{_union(transfer.to_org.name)}），"
        "您的会员关系不变。",
        subject_type=NoticeSubject.TRANSFER,
        subject_id=transfer.id,
    )


def notice_transfer_overdue(transfer: TransferRequest) -> None:
    """Once per transfer and step deadline."""
    waiting = transfer.from_org if transfer.status == TransferStatus.PENDING_RELEASE else transfer.to_org
    notice_send(
        person=transfer.person,
        kind=NoticeKind.TRANSFER_OVERDUE,
        title="会员接转已超期，已上报督办",
        body=f"您的会员接转在{_union(waiting.name)}超过办理期限（{transfer.due_on:%Y-%m-%d}），"
        f"已上报{_union(transfer.common_parent.name)}督办。",
        subject_type=NoticeSubject.TRANSFER,
        subject_id=transfer.id,
        dedupe_key=f"transfer_overdue:{transfer.id}:{transfer.due_on:%Y-%m-%d}",
    )


@transaction.atomic
def join_applications_overdue_notify(*, actor: Actor, today: date | None = None) -> int:
    """入会申请超期: tell each applicant whose application is still pending past its deadline, once per application
    and deadline; the union's workbench (and those above it) count it as overdue. Run daily with
    `manage.py escalate_overdue`. Returns the notices sent."""
    if actor.kind != "system":
        raise PermissionDenied("超期提醒由平台每日自动执行")
    today = today or timezone.localdate()
    overdue = (
        JoinApplication.objects.filter(status=ApplicationStatus.PENDING, due_on__lt=today)
        .select_related("person", "org")
        .order_by("due_on", "id")
    )
    sent = 0
    for application in overdue.iterator(chunk_size=500):
        notice = notice_send(
            person=application.person,
            kind=NoticeKind.JOIN_OVERDUE,
            title="入会申请已超过审核期限",
            body=f"您申请加入{_union(application.org.name)}的入会申请已超过审核期限"
            f"（{application.due_on:%Y-%m-%d}），已列为超期未审核申请，由该工会及其上级工会督办。"
            "如有疑问，请联系该工会。",
            subject_type=NoticeSubject.JOIN_APPLICATION,
            subject_id=application.id,
            dedupe_key=f"join_overdue:{application.id}:{application.due_on:%Y-%m-%d}",
        )
        if notice is None:
            continue
        events.application_event(
            actor, "join_application.overdue_notice", application, {"due_on": application.due_on.isoformat()}
        )
        sent += 1
    return sent


# ---------------------------------------------------------------- the member's reads (portal)


def own_notices(*, account: MemberAccount) -> QuerySet[Notice]:
    """The signed-in member's notices, newest first."""
    if account.person_id is None:
        return Notice.objects.none()
    return Notice.objects.filter(person_id=account.person_id).order_by("-created_at", "-id")


def own_unread_count(*, account: MemberAccount) -> int:
    if account.person_id is None:
        return 0
    return Notice.objects.filter(person_id=account.person_id, read_at__isnull=True).count()


def own_notice_get(*, account: MemberAccount, notice_id: UUID | str) -> Notice:
    """One of the member's own notices; another person's, or none, is NotFound alike."""
    parsed = parse_public_id(str(notice_id))
    if account.person_id is None or parsed is None:
        raise NotFound()
    try:
        return Notice.objects.get(id=parsed, person_id=account.person_id)
    except Notice.DoesNotExist:
        raise NotFound() from None


def notice_read(*, account: MemberAccount, notice_id: UUID | str) -> Notice:
    """Opening a notice marks it read (the first time only)."""
    notice = own_notice_get(account=account, notice_id=notice_id)
    if notice.read_at is None:
        now = timezone.now()
        Notice.objects.filter(id=notice.id, read_at__isnull=True).update(read_at=now)
        notice.read_at = now
    return notice


def notices_read_all(*, account: MemberAccount) -> int:
    """全部标为已读. Returns how many were unread."""
    if account.person_id is None:
        return 0
    return Notice.objects.filter(person_id=account.person_id, read_at__isnull=True).update(read_at=timezone.now())
