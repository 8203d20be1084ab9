"""入会申请 and its decision: entered by a cadre for a union they manage or by the worker in the portal; approved,
refused, withdrawn, or turned into a transfer when the applicant is a member elsewhere."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.errors import CaseMovedOn, DomainError, ValidationFailed
from gonghui.common.validators import REASON_MAX, clean_reason
from gonghui.common.workdays import add_working_days
from gonghui.members import events
from gonghui.members.figures import figures_record, membership_started
from gonghui.members.models import (
    HOLDING_STATUSES,
    ApplicationStatus,
    JoinApplication,
    Membership,
    MembershipSource,
    TransferRequest,
)
from gonghui.members.notices import notice_join_approved, notice_join_converted, notice_join_rejected
from gonghui.members.search import RegistryLookup, registry_lookup_record, registry_lookup_start
from gonghui.members.services._common import (
    JOIN_DECISION_WORKING_DAYS,
    UNSET,
    Unset,
    _require_manage,
    _require_open_union,
)
from gonghui.members.services.enrolment import profile_given
from gonghui.members.services.memberships import _create_membership
from gonghui.members.services.people import PersonProfile, _person_from_input
from gonghui.members.services.transfers import _open_transfer
from gonghui.orgs.models import Organisation

DUPLICATE_HERE_MESSAGE = "该人员已有一份向本会提交的待审核入会申请，请直接审核该申请"
DUPLICATE_OWN_MESSAGE = "该人员已有一份待审核的入会申请，请等待审核结果"


def join_application_submit(
    *,
    actor: Actor,
    org: Organisation,
    doc_type: str,
    doc_number: str,
    phone: str | None = None,
    note: str = "",
    source: str = MembershipSource.CADRE,
    consent: bool = False,
    name: str | None | Unset = UNSET,
    ethnicity: str | None | Unset = UNSET,
    education: str | None | Unset = UNSET,
    political_status: str | None | Unset = UNSET,
    hukou_type: str | None | Unset = UNSET,
    employment_form: str | None | Unset = UNSET,
    work_unit: str | None | Unset = UNSET,
    post: str | None | Unset = UNSET,
    skill_level: str | None | Unset = UNSET,
    is_model_worker: bool | None | Unset = UNSET,
    remarks: str | None | Unset = UNSET,
    birth_date: date | None | Unset = UNSET,
    sex: str | None | Unset = UNSET,
) -> JoinApplication:
    """入会申请. A cadre enters it for a union they manage; the portal submits it for the worker (source online,
    consent required). An applicant already holding membership elsewhere is kept as an application that the union
    may turn into a transfer; its page does not say which union holds the person unless the cadre's subtree does.
    A cadre's entry is a registry lookup, counted and audited as a search by number (see RegistryLookup)."""
    profile = profile_given(
        name=name,
        ethnicity=ethnicity,
        education=education,
        political_status=political_status,
        hukou_type=hukou_type,
        employment_form=employment_form,
        work_unit=work_unit,
        post=post,
        skill_level=skill_level,
        is_model_worker=is_model_worker,
        remarks=remarks,
        birth_date=birth_date,
        sex=sex,
    )
    if source == MembershipSource.ONLINE and not consent:
        raise ValidationFailed({"consent": "请阅读并同意个人信息保护说明后提交"})
    lookup = None
    if source != MembershipSource.ONLINE:
        _require_manage(actor, org)
        lookup = registry_lookup_start(actor=actor, org=org, purpose="join_application.submit")
    try:
        return _join_application_submit(
            actor=actor,
            org=org,
            doc_type=doc_type,
            doc_number=doc_number,
            phone=phone,
            note=note,
            source=source,
            consent=consent,
            lookup=lookup,
            profile=profile,
        )
    finally:
        registry_lookup_record(lookup)


@transaction.atomic
def _join_application_submit(
    *,
    actor: Actor,
    org: Organisation,
    doc_type: str,
    doc_number: str,
    phone: str | None,
    note: str,
    source: str,
    consent: bool,
    lookup: RegistryLookup | None,
    profile: PersonProfile,
) -> JoinApplication:
    _require_open_union(org)
    if len(note or "") > REASON_MAX:
        raise ValidationFailed({"note": f"申请说明不能超过{REASON_MAX}个字"})
    today = timezone.localdate()
    person, created = _person_from_input(
        doc_type=doc_type, doc_number=doc_number, phone=phone, profile=profile, today=today, lookup=lookup
    )
    holding = Membership.objects.filter(person=person, status__in=HOLDING_STATUSES).first()
    if holding is not None and holding.org_id == org.id:
        raise DomainError("该人员已是本会会员，无需再次申请", code="already_member")
    pending = JoinApplication.objects.filter(person=person, status=ApplicationStatus.PENDING)
    if pending.filter(org=org).exists():
        # Only this union's own pending application is mentioned: one pending with another union is not a
        # cadre's business, and one entered by a cadre never stops the person applying themself.
        raise DomainError(
            DUPLICATE_HERE_MESSAGE if source != MembershipSource.ONLINE else DUPLICATE_OWN_MESSAGE,
            code="duplicate_application",
        )
    if source == MembershipSource.ONLINE and pending.filter(source=MembershipSource.ONLINE).exists():
        raise DomainError(DUPLICATE_OWN_MESSAGE, code="duplicate_application")
    if created:
        events.person_created(actor, person, org)
    try:
        with transaction.atomic():
            application = JoinApplication.objects.create(
                person=person,
                org=org,
                source=source,
                submitted_by=actor.label,
                due_on=add_working_days(today, JOIN_DECISION_WORKING_DAYS),
                consent_at=timezone.now() if consent else None,
                note=(note or "").strip(),
            )
    except IntegrityError:  # another application for this person was submitted at the same moment
        message = DUPLICATE_OWN_MESSAGE if source == MembershipSource.ONLINE else DUPLICATE_HERE_MESSAGE
        raise DomainError(message, code="duplicate_application") from None
    events.application_event(
        actor, "join_application.submit", application, {"source": source, "already_member_elsewhere": bool(holding)}
    )
    return application


def close_application(actor: Actor, application: JoinApplication, *, status: str, reason: str = "") -> None:
    """Record the decision on a locked, pending application."""
    application.status = status
    application.decided_at = timezone.now()
    application.decided_by = actor.label
    application.decision_reason = reason
    application.save()


def _lock_pending_application(actor: Actor, application: JoinApplication) -> JoinApplication:
    _require_manage(actor, application.org)
    locked = JoinApplication.objects.select_for_update().get(pk=application.pk)
    if locked.status != ApplicationStatus.PENDING:
        raise CaseMovedOn(f"该申请当前为“{locked.get_status_display()}”，不能再处理")
    return locked


@transaction.atomic
def join_application_approve(*, actor: Actor, application: JoinApplication, comment: str = "") -> Membership:
    application = _lock_pending_application(actor, application)
    _require_open_union(application.org)
    holding = Membership.objects.filter(person=application.person, status__in=HOLDING_STATUSES).select_related("org")
    current = holding.first()
    if current is not None:
        where = f"“{current.org.name}”的" if actor.covers_path(current.org.path) else "其他工会"
        raise DomainError(f"申请人已是{where}会员，不能直接批准，请改为会员接转", code="already_member")
    membership = _create_membership(
        person=application.person,
        org=application.org,
        joined_on=timezone.localdate(),
        source=application.source,
    )
    application.membership = membership
    close_application(
        actor, application, status=ApplicationStatus.APPROVED, reason=(comment or "").strip()[:REASON_MAX]
    )
    events.application_event(actor, "join_application.approve", application, {"card_number": membership.card_number})
    figures_record([membership_started(membership, on=membership.joined_on)])
    notice_join_approved(application, membership)
    return membership


@transaction.atomic
def join_application_reject(*, actor: Actor, application: JoinApplication, reason: str) -> JoinApplication:
    reason = clean_reason(reason, label="不予通过的理由")
    application = _lock_pending_application(actor, application)
    close_application(actor, application, status=ApplicationStatus.REJECTED, reason=reason)
    events.application_event(actor, "join_application.reject", application, {"reason": reason})
    notice_join_rejected(application)
    return application


@transaction.atomic
def join_application_withdraw(*, actor: Actor, application: JoinApplication) -> JoinApplication:
    """Withdrawn by whoever submitted it (the cadre side here; the portal does it for the worker)."""
    application = _lock_pending_application(actor, application)
    close_application(actor, application, status=ApplicationStatus.WITHDRAWN)
    events.application_event(actor, "join_application.withdraw", application)
    return application


@transaction.atomic
def join_application_convert_to_transfer(
    *, actor: Actor, application: JoinApplication, reason: str = ""
) -> TransferRequest:
    """The applicant already holds membership elsewhere: close the application and open a transfer request from
    that union to this one (routed to the source union for release)."""
    application = _lock_pending_application(actor, application)
    current = Membership.objects.filter(person=application.person, status__in=HOLDING_STATUSES).first()
    if current is None:
        raise DomainError("申请人目前不是其他工会的会员，请直接审核入会申请")
    transfer = _open_transfer(
        actor=actor,
        membership=current,
        to_org=application.org,
        reason=(reason or "").strip() or "入会申请转为会员接转",
        by_member=application.source == MembershipSource.ONLINE,
    )
    close_application(
        actor, application, status=ApplicationStatus.CONVERTED, reason="申请人已是其他工会会员，已改为会员接转"
    )
    events.application_event(actor, "join_application.convert", application, {"transfer": str(transfer.id)})
    notice_join_converted(application, transfer)
    return transfer
