"""Writes to the member registry. Each service checks the actor's role and scope, locks the rows it decides on
(two cadres acting at once: one wins, the other is told the case has moved on), writes in one transaction and
records the audit event in that transaction. Invalid transitions raise and change nothing."""

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from stdnum import luhn

from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.common.crypto import encrypt_text
from gonghui.common.errors import CaseMovedOn, DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.masking import mask_name
from gonghui.common.paths import ancestor_paths
from gonghui.common.roles import Perm
from gonghui.common.validators import REASON_MAX, clean_reason
from gonghui.common.workdays import add_working_days
from gonghui.members.documents import DOC_TYPES_WITH_BIRTH_DATE, DocType
from gonghui.members.figures import (
    Dims,
    bulk_started,
    figures_record,
    membership_ended,
    membership_started,
    membership_status_swapped,
    person_recounted,
)
from gonghui.members.models import (
    HOLDING_STATUSES,
    OPEN_TRANSFER_STATUSES,
    ApplicationStatus,
    CardSerial,
    CorrectionRequest,
    CorrectionStatus,
    DeclaredTotal,
    JoinApplication,
    Membership,
    MembershipSource,
    MembershipStatus,
    Person,
    TransferRequest,
    TransferStatus,
)
from gonghui.members.notices import (
    notice_join_approved,
    notice_join_converted,
    notice_join_rejected,
    notice_transfer_completed,
    notice_transfer_overdue,
    notice_transfer_refused,
    notice_transfer_released,
    notice_transfer_requested,
    notice_transfer_withdrawn,
)
from gonghui.members.people import (
    DOC_CONTEXT,
    PROFILE_FIELDS,
    clean_birth_and_sex,
    clean_document,
    clean_phone,
    clean_profile,
    document_index,
    document_number_of,
    phone_of,
    profile_snapshot,
    quality_flags,
    seal_document,
    seal_phone,
)
from gonghui.members.search import RegistryLookup, registry_lookup_record, registry_lookup_start
from gonghui.orgs.figures import figures_declared_set
from gonghui.orgs.models import Organisation, OrgStatus

JOIN_DECISION_WORKING_DAYS = 15
TRANSFER_STEP_WORKING_DAYS = 10
# The answer to a name that does not go with a registered document number. It says nothing of the record (neither
# that the number is registered nor under which name), and the lookup is counted and audited as a search.
NAME_MISMATCH_MESSAGE = "姓名与证件号码不符，请核对证件原件后重新填写"


# ---------------------------------------------------------------- helpers


def _require_in_scope(actor: Actor, org: Organisation) -> None:
    if not actor.covers_path(org.path):
        raise NotFound()


def _require_manage(actor: Actor, org: Organisation) -> None:
    actor.require(Perm.MEMBERS_MANAGE)
    _require_in_scope(actor, org)


def _require_open_union(org: Organisation, *, field: str = "org") -> None:
    if not org.is_grassroots:
        raise ValidationFailed({field: f"“{org.name}”不是基层工会，会员只能加入基层工会或联合基层工会"})
    if org.status != OrgStatus.ACTIVE:
        raise ValidationFailed({field: f"“{org.name}”{org.get_status_display()}，不能接收会员"})


def require_import_target(actor: Actor, org: Organisation) -> None:
    """A roster may be imported into an open grassroots union in the actor's scope."""
    actor.require(Perm.MEMBERS_IMPORT)
    _require_in_scope(actor, org)
    _require_open_union(org)


def _clean_date(value: date | None, *, field: str, label: str, today: date) -> date:
    if value is None:
        return today
    if not isinstance(value, date):
        raise ValidationFailed({field: f"{label}格式应为 YYYY-MM-DD"})
    if value > today:
        raise ValidationFailed({field: f"{label}不能晚于今天"})
    return value


def _next_card_number(org: Organisation, on: date) -> str:
    """会员卡号: 6-digit region code of the union + 4-digit year of issue + 6-digit serial + Luhn check digit,
    17 digits. Serials are drawn per region and year under a row lock."""
    serial, _ = CardSerial.objects.select_for_update().get_or_create(region_code=org.region_code, year=on.year)
    if serial.last >= 999_999:
        raise DomainError(f"{org.region_code} 地区 {on.year} 年的会员卡号已用完，请联系系统管理员")
    serial.last += 1
    serial.save(update_fields=["last"])
    body = f"{org.region_code}{on.year:04d}{serial.last:06d}"
    return body + luhn.calc_check_digit(body)


def sixteenth_birthday(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + 16)
    except ValueError:  # born on 29 February
        return date(birth.year + 16, 3, 1)


def _lock(model, pk):
    return model.objects.select_for_update(of=("self",)).select_related().get(pk=pk)


def _membership_label(membership: Membership) -> str:
    return f"{mask_name(membership.person.name)}（{membership.card_number}）"


def _audit_membership(actor: Actor, action: str, membership: Membership, details: dict | None = None) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="membership",
        object_id=membership.id,
        object_label=_membership_label(membership),
        object_org_path=membership.org.path,
        details=details or {},
    )


def _create_membership(
    *, person: Person, org: Organisation, joined_on: date, source: str, previous: Membership | None = None
) -> Membership:
    membership = Membership(
        person=person,
        org=org,
        status=MembershipStatus.ACTIVE,
        joined_on=joined_on,
        source=source,
        card_number=_next_card_number(org, timezone.localdate()),
        previous=previous,
    )
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError:  # the person joined another union at the same moment
        raise DomainError(ALREADY_MEMBER_ELSEWHERE, code="already_member") from None
    return membership


ALREADY_MEMBER_ELSEWHERE = "该人员已是其他工会会员，可发起会员接转"


def _already_member_message(actor: Actor, holding: Membership) -> str:
    """A member of a union outside the actor's subtree is a member of "another union": the registry does not say
    which union holds a person to a cadre whose subtree does not."""
    if actor.covers_path(holding.org.path):
        return f"该人员已是“{holding.org.name}”的会员，可发起会员接转"
    return ALREADY_MEMBER_ELSEWHERE


# ---------------------------------------------------------------- people


def _find_person(doc_type: str, number: str) -> Person | None:
    return Person.objects.filter(doc_type=doc_type, doc_index=document_index(doc_type, number)).first()


def _person_from_input(
    *,
    doc_type: str,
    doc_number: str,
    phone: str | None,
    profile: dict[str, Any],
    today: date,
    lookup: RegistryLookup | None = None,
) -> tuple[Person, bool]:
    """The registry's record for this document (found, or built and saved). An existing record is not overwritten
    by what an applicant typed; a different name for the same document is refused without saying whether the
    number is registered. `lookup` notes that the registry was searched (for the caller's audit)."""
    errors: dict[str, str] = {}
    document = None
    clean: dict[str, Any] = {}
    phone_clean = ""
    try:
        document = clean_document(doc_type, doc_number, today=today)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        clean = clean_profile({field: profile.get(field) for field in PROFILE_FIELDS if field in profile})
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if "name" not in profile:
        errors.setdefault("name", "姓名不能为空")
    try:
        phone_clean = clean_phone(phone)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    manual: dict[str, Any] = {}
    try:
        manual = clean_birth_and_sex(profile, today=today)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if document is not None and document.doc_type not in DOC_TYPES_WITH_BIRTH_DATE and "birth_date" not in manual:
        errors.setdefault("birth_date", "护照不含出生日期，请填写出生日期")
    if errors:
        raise ValidationFailed(errors)

    if lookup is not None:
        lookup.looked_up(document.number)
    existing = _find_person(document.doc_type, document.number)
    if existing is not None:
        if existing.name != clean["name"]:
            raise ValidationFailed({"name": NAME_MISMATCH_MESSAGE})
        return existing, False
    person = Person(**clean)
    if document.doc_type == DocType.PASSPORT or document.doc_type == DocType.FOREIGN_PERMANENT:
        for field, value in manual.items():
            setattr(person, field, value)
    seal_document(person, document)
    seal_phone(person, phone_clean)
    person.quality_flags = quality_flags(person, today=today)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:  # registered at the same moment by someone else: use that record
        existing = _find_person(document.doc_type, document.number)
        if existing is None:
            raise
        if existing.name != clean["name"]:
            raise ValidationFailed({"name": NAME_MISMATCH_MESSAGE}) from None
        return existing, False
    return person, True


def _audit_person_created(actor: Actor, person: Person, org: Organisation) -> None:
    audit_record(
        actor=actor,
        action="person.create",
        object_type="person",
        object_id=person.id,
        object_label=mask_name(person.name),
        object_org_path=org.path,
        details={"doc_type": person.doc_type, "doc": person.doc_masked},
    )


@transaction.atomic
def person_update(*, actor: Actor, person: Person, **changes: Any) -> Person:
    """更正个人信息. Profile fields, phone and (rarely) the document itself; before/after go to the audit trail,
    personal numbers masked."""
    actor.require(Perm.MEMBERS_MANAGE)
    holding = Membership.objects.filter(person=person, status__in=HOLDING_STATUSES).select_related("org").first()
    if holding is None or not actor.covers_path(holding.org.path):
        # Only the union that holds the membership corrects the record.
        raise PermissionDenied("只有会员所在工会及其上级工会可以更正个人信息")
    person = _lock(Person, person.pk)
    counted_as = Dims.of(person)
    today = timezone.localdate()
    before = {field: getattr(person, field) for field in (*PROFILE_FIELDS, "birth_date", "sex")}
    before_doc, before_phone = person.doc_masked, person.phone_masked
    errors: dict[str, str] = {}
    try:
        profile = clean_profile({k: v for k, v in changes.items() if k in PROFILE_FIELDS})
        for field, value in profile.items():
            setattr(person, field, value)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if "phone" in changes:
        try:
            seal_phone(person, clean_phone(changes["phone"]))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if changes.get("doc_number"):
        try:
            document = clean_document(changes.get("doc_type") or person.doc_type, changes["doc_number"], today=today)
            clash = _find_person(document.doc_type, document.number)
            if clash is not None and clash.pk != person.pk:
                errors["doc_number"] = "该证件号码已登记在另一人员名下，请核对"
            else:
                seal_document(person, document)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if person.doc_type not in DOC_TYPES_WITH_BIRTH_DATE:
        try:
            for field, value in clean_birth_and_sex(changes, today=today).items():
                setattr(person, field, value)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    person.quality_flags = quality_flags(person, today=today)
    person.save()
    diff = {
        field: [str(before[field]), str(getattr(person, field))]
        for field in before
        if before[field] != getattr(person, field)
    }
    if before_doc != person.doc_masked or changes.get("doc_number"):
        diff["doc"] = [before_doc, person.doc_masked]
    if before_phone != person.phone_masked:
        diff["mobile"] = [before_phone, person.phone_masked]
    if "name" in diff:
        diff["name"] = [mask_name(diff["name"][0]), mask_name(diff["name"][1])]
    audit_record(
        actor=actor,
        action="person.correct",
        object_type="person",
        object_id=person.id,
        object_label=mask_name(person.name),
        object_org_path=holding.org.path,
        details={"changes": diff},
    )
    figures_record(person_recounted(person, before=counted_as))
    return person


REVEALABLE = {"doc_number": "证件号码", "phone": "手机号码"}


def current_case_org_in_scope(actor: Actor, person: Person) -> Organisation | None:
    """The union in the actor's subtree that currently deals with the person: the one holding the membership, the
    one deciding a pending application, or the target of an open transfer. A union the person has left is not."""
    scope = actor.scope_path
    holding = Membership.objects.filter(person=person, status__in=HOLDING_STATUSES, org__path__startswith=scope)
    if (membership := holding.select_related("org").first()) is not None:
        return membership.org
    pending = JoinApplication.objects.filter(
        person=person, status=ApplicationStatus.PENDING, org__path__startswith=scope
    )
    if (application := pending.select_related("org").first()) is not None:
        return application.org
    incoming = TransferRequest.objects.filter(
        person=person, status__in=OPEN_TRANSFER_STATUSES, to_org__path__startswith=scope
    )
    if (transfer := incoming.select_related("to_org").first()) is not None:
        return transfer.to_org
    return None


@transaction.atomic
def person_reveal(*, actor: Actor, person: Person, field: str, reason: str) -> str:
    """查看完整号码: one record, one field, with a stated reason, audited. Returns the plain number."""
    actor.require(Perm.MEMBERS_UNMASK)
    if field not in REVEALABLE:
        raise ValidationFailed({"field": "只能查看证件号码或手机号码"})
    reason = clean_reason(reason, label="查看原因")
    where = current_case_org_in_scope(actor, person)
    if where is None:
        raise NotFound()
    value = document_number_of(person) if field == "doc_number" else phone_of(person)
    audit_record(
        actor=actor,
        action="person.reveal",
        object_type="person",
        object_id=person.id,
        object_label=mask_name(person.name),
        object_org_path=where.path,
        details={"field": field, "reason": reason},
    )
    return value


def membership_reveal(*, actor: Actor, membership: Membership, field: str, reason: str) -> str:
    """查看完整号码 from a member's page: only through a membership the person still holds. A union the member has
    left reads the record as it was then, and never their numbers now."""
    actor.require(Perm.MEMBERS_UNMASK)
    if not membership.is_holding:
        raise PermissionDenied(f"该会籍{membership.get_status_display()}，不能查看完整号码")
    return person_reveal(actor=actor, person=membership.person, field=field, reason=reason)


# ---------------------------------------------------------------- enrolment by a cadre (or an import)


def member_enrol(
    *,
    actor: Actor,
    org: Organisation,
    doc_type: str,
    doc_number: str,
    phone: str | None = None,
    joined_on: date | None = None,
    source: str = MembershipSource.CADRE,
    **profile: Any,
) -> Membership:
    """干部录入 / 批量导入: register a person straight into a union the actor manages (no application step). The
    registry lookup is counted and audited as a search by number, whatever the outcome (see RegistryLookup)."""
    _require_manage(actor, org)
    lookup = registry_lookup_start(actor=actor, org=org, purpose="member.enrol")
    try:
        return _member_enrol(
            actor=actor,
            org=org,
            doc_type=doc_type,
            doc_number=doc_number,
            phone=phone,
            joined_on=joined_on,
            source=source,
            lookup=lookup,
            **profile,
        )
    finally:
        registry_lookup_record(lookup)


@transaction.atomic
def _member_enrol(
    *,
    actor: Actor,
    org: Organisation,
    doc_type: str,
    doc_number: str,
    phone: str | None,
    joined_on: date | None,
    source: str,
    lookup: RegistryLookup | None,
    **profile: Any,
) -> Membership:
    _require_open_union(org)
    if source not in (MembershipSource.CADRE, MembershipSource.IMPORT):
        raise ValidationFailed({"source": "直接录入的来源只能是干部录入或批量导入"})
    today = timezone.localdate()
    joined = _clean_date(joined_on, field="joined_on", label="入会日期", today=today)
    person, created = _person_from_input(
        doc_type=doc_type, doc_number=doc_number, phone=phone, profile=profile, today=today, lookup=lookup
    )
    holding = Membership.objects.filter(person=person, status__in=HOLDING_STATUSES).select_related("org").first()
    if holding is not None and holding.org_id == org.id:
        raise DomainError("该人员已是本会的会员", code="already_member")
    if holding is not None:
        raise DomainError(_already_member_message(actor, holding), code="already_member")
    if JoinApplication.objects.filter(person=person, org=org, status=ApplicationStatus.PENDING).exists():
        raise DomainError("该人员有一份待审核的入会申请，请直接审核该申请", code="duplicate_application")
    if person.birth_date and joined < sixteenth_birthday(person.birth_date):
        raise ValidationFailed({"joined_on": "入会日期早于年满16周岁的日期"})
    if created:
        _audit_person_created(actor, person, org)
    membership = _create_membership(person=person, org=org, joined_on=joined, source=source)
    _audit_membership(actor, "membership.enrol", membership, {"source": source, "org": org.code})
    figures_record([membership_started(membership, on=joined)])
    return membership


# ---------------------------------------------------------------- join applications


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
    **profile: Any,
) -> JoinApplication:
    """入会申请. A cadre enters it for a union they manage; the portal submits it for the worker (source online,
    consent required). An applicant already holding membership elsewhere is kept as an application that the union
    may turn into a transfer; its page does not say which union holds the person unless the cadre's subtree does.
    A cadre's entry is a registry lookup, counted and audited as a search by number (see RegistryLookup)."""
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
            **profile,
        )
    finally:
        registry_lookup_record(lookup)


DUPLICATE_HERE_MESSAGE = "该人员已有一份向本会提交的待审核入会申请，请直接审核该申请"
DUPLICATE_OWN_MESSAGE = "该人员已有一份待审核的入会申请，请等待审核结果"


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
    **profile: Any,
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
        _audit_person_created(actor, person, org)
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
    audit_application(
        actor, "join_application.submit", application, {"source": source, "already_member_elsewhere": bool(holding)}
    )
    return application


def audit_application(actor: Actor, action: str, application: JoinApplication, details: dict | None = None) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="join_application",
        object_id=application.id,
        object_label=mask_name(application.person.name),
        object_org_path=application.org.path,
        details=details or {},
    )


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
    audit_application(actor, "join_application.approve", application, {"card_number": membership.card_number})
    figures_record([membership_started(membership, on=membership.joined_on)])
    notice_join_approved(application, membership)
    return membership


@transaction.atomic
def join_application_reject(*, actor: Actor, application: JoinApplication, reason: str) -> JoinApplication:
    reason = clean_reason(reason, label="不予通过的理由")
    application = _lock_pending_application(actor, application)
    close_application(actor, application, status=ApplicationStatus.REJECTED, reason=reason)
    audit_application(actor, "join_application.reject", application, {"reason": reason})
    notice_join_rejected(application)
    return application


@transaction.atomic
def join_application_withdraw(*, actor: Actor, application: JoinApplication) -> JoinApplication:
    """Withdrawn by whoever submitted it (the cadre side here; the portal does it for the worker)."""
    application = _lock_pending_application(actor, application)
    close_application(actor, application, status=ApplicationStatus.WITHDRAWN)
    audit_application(actor, "join_application.withdraw", application)
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
    audit_application(actor, "join_application.convert", application, {"transfer": str(transfer.id)})
    notice_join_converted(application, transfer)
    return transfer


# ---------------------------------------------------------------- transfers (接转)


def lowest_common_parent(a: Organisation, b: Organisation) -> Organisation:
    """The deepest organisation whose subtree holds both `a` and `b`."""
    paths_a = [*ancestor_paths(a.path), a.path]
    paths_b = {*ancestor_paths(b.path), b.path}
    common = [p for p in paths_a if p in paths_b]
    return Organisation.objects.get(path=common[-1])


def _open_transfer(
    *, actor: Actor, membership: Membership, to_org: Organisation, reason: str, by_member: bool
) -> TransferRequest:
    membership = _lock(Membership, membership.pk)
    if membership.status not in HOLDING_STATUSES:
        raise DomainError(f"该会籍{membership.get_status_display()}，不能办理接转")
    _require_open_union(to_org, field="to_org")
    if to_org.id == membership.org_id:
        raise ValidationFailed({"to_org": "转入工会与当前所在工会相同"})
    if TransferRequest.objects.filter(membership=membership, status__in=OPEN_TRANSFER_STATUSES).exists():
        raise DomainError("该会员已有一份正在办理的接转申请", code="duplicate_transfer")
    transfer = TransferRequest.objects.create(
        person=membership.person,
        membership=membership,
        from_org=membership.org,
        to_org=to_org,
        common_parent=lowest_common_parent(membership.org, to_org),
        reason=reason,
        requested_by=actor.label,
        requested_by_member=by_member,
        due_on=add_working_days(timezone.localdate(), TRANSFER_STEP_WORKING_DAYS),
    )
    audit_record(
        actor=actor,
        action="transfer.request",
        object_type="transfer",
        object_id=transfer.id,
        object_label=_membership_label(membership),
        object_org_path=membership.org.path,
        details={"from": membership.org.code, "to": to_org.code, "by_member": by_member},
    )
    return transfer


@transaction.atomic
def transfer_request_incoming(
    *, actor: Actor, membership: Membership, to_org: Organisation, reason: str
) -> TransferRequest:
    """A cadre of the receiving union asks for a member of another union to be transferred in (e.g. found by a
    roster import); the member's union still decides on the release."""
    _require_manage(actor, to_org)
    reason = clean_reason(reason, label="接转原因")
    transfer = _open_transfer(actor=actor, membership=membership, to_org=to_org, reason=reason, by_member=False)
    notice_transfer_requested(transfer)
    return transfer


@transaction.atomic
def transfer_request_by_member(
    *, actor: Actor, membership: Membership, to_org: Organisation, reason: str
) -> TransferRequest:
    """会员本人申请接转 (the portal): the member asks to move their own membership; the portal checks that it is
    theirs. Both unions decide as for any transfer."""
    if actor.kind != "member":
        raise PermissionDenied()
    reason = clean_reason(reason, label="接转原因")
    return _open_transfer(actor=actor, membership=membership, to_org=to_org, reason=reason, by_member=True)


@transaction.atomic
def transfer_request(*, actor: Actor, membership: Membership, to_org: Organisation, reason: str) -> TransferRequest:
    """A cadre of the member's union (or above) asks to move the member to any union in the tree."""
    _require_manage(actor, membership.org)
    reason = clean_reason(reason, label="接转原因")
    transfer = _open_transfer(actor=actor, membership=membership, to_org=to_org, reason=reason, by_member=False)
    notice_transfer_requested(transfer)
    return transfer


def _lock_transfer(transfer: TransferRequest, *, expected: tuple[str, ...]) -> TransferRequest:
    locked = (
        TransferRequest.objects.select_for_update(of=("self",))
        .select_related("from_org", "to_org", "person")
        .get(pk=transfer.pk)
    )
    if locked.status not in expected:
        raise CaseMovedOn(f"该接转当前为“{locked.get_status_display()}”，不能再处理")
    return locked


def _audit_transfer(actor: Actor, action: str, transfer: TransferRequest, org: Organisation, details=None) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="transfer",
        object_id=transfer.id,
        object_label=f"{mask_name(transfer.person.name)}：{transfer.from_org.code} → {transfer.to_org.code}",
        object_org_path=org.path,
        details=details or {},
    )


@transaction.atomic
def transfer_release(*, actor: Actor, transfer: TransferRequest) -> TransferRequest:
    """转出工会同意转出."""
    _require_manage(actor, transfer.from_org)
    transfer = _lock_transfer(transfer, expected=(TransferStatus.PENDING_RELEASE,))
    transfer.status = TransferStatus.PENDING_ACCEPT
    transfer.released_at = timezone.now()
    transfer.released_by = actor.label
    transfer.due_on = add_working_days(timezone.localdate(), TRANSFER_STEP_WORKING_DAYS)
    transfer.escalated_at = None
    transfer.save()
    _audit_transfer(actor, "transfer.release", transfer, transfer.from_org)
    notice_transfer_released(transfer)
    return transfer


@transaction.atomic
def transfer_accept(*, actor: Actor, transfer: TransferRequest) -> Membership:
    """转入工会接收: the old membership ends as 已转出, a new one starts in the target union with the original
    join date (会龄 continues) and a new card number; `previous` links the two."""
    _require_manage(actor, transfer.to_org)
    transfer = _lock_transfer(transfer, expected=(TransferStatus.PENDING_ACCEPT,))
    to_org = Organisation.objects.get(pk=transfer.to_org_id)
    _require_open_union(to_org, field="to_org")
    old = _lock(Membership, transfer.membership_id)
    if old.status not in HOLDING_STATUSES:
        raise CaseMovedOn(f"原会籍当前为“{old.get_status_display()}”，不能再接转")
    held_as = old.status
    today = timezone.localdate()
    old.status = MembershipStatus.TRANSFERRED_OUT
    old.ended_on = today
    old.end_reason = f"转入“{to_org.name}”"
    old.profile_at_end = _profile_at_end(old)
    old.save()
    new = _create_membership(
        person=transfer.person, org=to_org, joined_on=old.joined_on, source=MembershipSource.TRANSFER_IN, previous=old
    )
    transfer.status = TransferStatus.COMPLETED
    transfer.decided_at = timezone.now()
    transfer.decided_by = actor.label
    transfer.new_membership = new
    transfer.save()
    # A correction the member asked of the old union is now the new union's to decide: the old one no longer holds
    # the record and must not read it through the request.
    moved = CorrectionRequest.objects.filter(
        person_id=transfer.person_id, org_id=old.org_id, status=CorrectionStatus.PENDING
    ).update(org=to_org)
    details = {"card_number": new.card_number, **({"corrections_moved": moved} if moved else {})}
    _audit_transfer(actor, "transfer.accept", transfer, to_org, details)
    figures_record([membership_ended(old, held_as=held_as), membership_started(new, on=today)])
    notice_transfer_completed(transfer, new)
    return new


@transaction.atomic
def transfer_refuse(*, actor: Actor, transfer: TransferRequest, reason: str) -> TransferRequest:
    """Refused by the side whose step it is: the source before release, the target after."""
    reason = clean_reason(reason, label="拒绝理由")
    current = _lock_transfer(transfer, expected=OPEN_TRANSFER_STATUSES)
    side = "source" if current.status == TransferStatus.PENDING_RELEASE else "target"
    org = current.from_org if side == "source" else current.to_org
    _require_manage(actor, org)
    current.status = TransferStatus.REFUSED
    current.refused_by_side = side
    current.refusal_reason = reason
    current.decided_at = timezone.now()
    current.decided_by = actor.label
    current.save()
    _audit_transfer(actor, "transfer.refuse", current, org, {"side": side, "reason": reason})
    notice_transfer_refused(current)
    return current


@transaction.atomic
def transfer_withdraw(*, actor: Actor, transfer: TransferRequest) -> TransferRequest:
    """Withdrawn by the member's union before the target accepts."""
    _require_manage(actor, transfer.from_org)
    current = _lock_transfer(transfer, expected=OPEN_TRANSFER_STATUSES)
    current.status = TransferStatus.WITHDRAWN
    current.decided_at = timezone.now()
    current.decided_by = actor.label
    current.save()
    _audit_transfer(actor, "transfer.withdraw", current, current.from_org)
    notice_transfer_withdrawn(current)
    return current


@transaction.atomic
def transfers_escalate_overdue(*, actor: Actor, today: date | None = None) -> int:
    """Mark open transfers past their step's deadline as escalated to the lowest common parent, whose workbench
    lists them and whose cadres can act on both sides. Run daily (`manage.py escalate_overdue`)."""
    today = today or timezone.localdate()
    overdue = list(
        TransferRequest.objects.select_for_update(of=("self",))
        .filter(status__in=OPEN_TRANSFER_STATUSES, due_on__lt=today, escalated_at__isnull=True)
        .select_related("person", "from_org", "to_org", "common_parent")
    )
    now = timezone.now()
    for transfer in overdue:
        transfer.escalated_at = now
        transfer.save(update_fields=["escalated_at"])
        _audit_transfer(
            actor, "transfer.escalate", transfer, transfer.common_parent, {"to": transfer.common_parent.code}
        )
        notice_transfer_overdue(transfer)
    return len(overdue)


# ---------------------------------------------------------------- leave, reserve, restore, cancel


def _profile_at_end(membership: Membership) -> dict:
    """The record as the union held it when the membership ends, read under the person's row lock so that a
    correction committing at the same moment is either in it or waits."""
    return profile_snapshot(Person.objects.select_for_update().get(pk=membership.person_id))


def _lock_membership_for_change(actor: Actor, membership: Membership, *, expected) -> Membership:
    _require_manage(actor, membership.org)
    locked = Membership.objects.select_for_update(of=("self",)).select_related("person", "org").get(pk=membership.pk)
    if locked.status not in expected:
        raise CaseMovedOn(f"该会籍当前为“{locked.get_status_display()}”，不能办理此项")
    if TransferRequest.objects.filter(membership=locked, status__in=OPEN_TRANSFER_STATUSES).exists():
        raise DomainError("该会员有正在办理的接转，请先处理接转")
    return locked


def _end_membership(actor, membership, *, status, reason, on, action, expected=HOLDING_STATUSES) -> Membership:
    reason = clean_reason(reason)
    today = timezone.localdate()
    locked = _lock_membership_for_change(actor, membership, expected=expected)
    ended = _clean_date(on, field="ended_on", label="终止日期", today=today)
    if ended < locked.joined_on:
        raise ValidationFailed({"ended_on": "终止日期不能早于入会日期"})
    if locked.previous_id and locked.source == MembershipSource.TRANSFER_IN and ended < locked.previous.ended_on:
        raise ValidationFailed({"ended_on": "终止日期不能早于转入本会的日期"})
    held_as = locked.status
    locked.status = status
    locked.ended_on = ended
    locked.end_reason = reason
    locked.profile_at_end = _profile_at_end(locked)
    locked.save()
    _audit_membership(actor, action, locked, {"reason": reason, "on": ended.isoformat()})
    figures_record([membership_ended(locked, held_as=held_as)])
    return locked


@transaction.atomic
def membership_leave(*, actor: Actor, membership: Membership, reason: str, on: date | None = None) -> Membership:
    """退会."""
    return _end_membership(
        actor, membership, status=MembershipStatus.LEFT, reason=reason, on=on, action="membership.leave"
    )


@transaction.atomic
def membership_cancel(*, actor: Actor, membership: Membership, reason: str, on: date | None = None) -> Membership:
    """注销 (death, a record entered in error, expulsion)."""
    return _end_membership(
        actor, membership, status=MembershipStatus.CANCELLED, reason=reason, on=on, action="membership.cancel"
    )


@transaction.atomic
def membership_reserve(*, actor: Actor, membership: Membership, reason: str) -> Membership:
    """保留会籍 (unemployment, retirement while keeping the link, long leave)."""
    reason = clean_reason(reason)
    locked = _lock_membership_for_change(actor, membership, expected=(MembershipStatus.ACTIVE,))
    locked.status = MembershipStatus.RESERVED
    locked.end_reason = reason
    locked.save()
    _audit_membership(actor, "membership.reserve", locked, {"reason": reason})
    figures_record([membership_status_swapped(locked, was=MembershipStatus.ACTIVE)])
    return locked


@transaction.atomic
def membership_restore(*, actor: Actor, membership: Membership, reason: str = "") -> Membership:
    """保留会籍 → 正式会员."""
    locked = _lock_membership_for_change(actor, membership, expected=(MembershipStatus.RESERVED,))
    locked.status = MembershipStatus.ACTIVE
    locked.end_reason = ""
    locked.save()
    _audit_membership(actor, "membership.restore", locked, {"reason": (reason or "").strip()[:REASON_MAX]})
    figures_record([membership_status_swapped(locked, was=MembershipStatus.RESERVED)])
    return locked


# ---------------------------------------------------------------- declared totals, quality re-check


@transaction.atomic
def declared_total_record(*, actor: Actor, org: Organisation, total: int, as_of: date | None = None) -> DeclaredTotal:
    """实有会员数 of a grassroots union, as its own books state it."""
    _require_manage(actor, org)
    if not org.is_grassroots:
        raise ValidationFailed({"org": "实有会员数由基层工会填报"})
    if not isinstance(total, int) or isinstance(total, bool) or total < 0 or total > 1_000_000:
        raise ValidationFailed({"total": "实有会员数应为 0 到 1000000 之间的整数"})
    today = timezone.localdate()
    as_of = _clean_date(as_of, field="as_of", label="统计日期", today=today)
    declared = DeclaredTotal.objects.create(org=org, total=total, as_of=as_of, recorded_by=actor.label)
    audit_record(
        actor=actor,
        action="declared_total.record",
        object_type="organisation",
        object_id=org.id,
        object_label=org.name,
        object_org_path=org.path,
        details={"total": total, "as_of": as_of.isoformat()},
    )
    if org.status == OrgStatus.ACTIVE:
        latest = DeclaredTotal.objects.filter(org=org).order_by("-as_of", "-recorded_at").values_list("total")[:1]
        figures_declared_set(org, latest=latest.get()[0])
    return declared


def quality_recheck(*, batch_size: int = 2000, today: date | None = None) -> int:
    """Recompute every person's own quality checks (ages move on; rules may change). Returns records changed."""
    today = today or timezone.localdate()
    changed = 0
    last_id = None
    while True:
        page = Person.objects.order_by("id")
        if last_id is not None:
            page = page.filter(id__gt=last_id)
        people = list(page[:batch_size])
        if not people:
            return changed
        dirty = []
        for person in people:
            flags = quality_flags(person, today=today)
            if flags != person.quality_flags:
                person.quality_flags = flags
                dirty.append(person)
        Person.objects.bulk_update(dirty, ["quality_flags"])
        changed += len(dirty)
        last_id = people[-1].id


# ---------------------------------------------------------------- bulk loading


def card_serials_reserve(org: Organisation, on: date, count: int) -> int:
    """Reserve `count` consecutive card serials of `org`'s region and year under the serial row's lock; the first."""
    serial, _ = CardSerial.objects.select_for_update().get_or_create(region_code=org.region_code, year=on.year)
    if serial.last + count > 999_999:
        raise DomainError(f"{org.region_code} 地区 {on.year} 年的会员卡号已用完，请联系系统管理员")
    first = serial.last + 1
    serial.last += count
    serial.save(update_fields=["last"])
    return first


def _card_numbers(org: Organisation, on: date, count: int) -> list[str]:
    """`count` consecutive card numbers for `org`'s region, drawn under the serial row's lock."""
    first = card_serials_reserve(org, on, count)
    numbers = []
    for value in range(first, first + count):
        body = f"{org.region_code}{on.year:04d}{value:06d}"
        numbers.append(body + luhn.calc_check_digit(body))
    return numbers


@transaction.atomic
def members_bulk_load(
    *, actor: Actor, org: Organisation, people: list[Person], joined_on: list[date], source: str
) -> list[Membership]:
    """Insert already-sealed, validated new people as active members of `org` in one go (demo data, imports of
    a checked file). The caller guarantees the people are new; the database constraints still hold the line.
    One audit event for the batch."""
    _require_manage(actor, org)
    _require_open_union(org)
    if len(people) != len(joined_on):
        raise ValueError("people and joined_on must have the same length")
    if not people:
        return []
    today = timezone.localdate()
    for person in people:
        person.quality_flags = quality_flags(person, today=today)
    Person.objects.bulk_create(people, batch_size=2000)
    cards = _card_numbers(org, today, len(people))
    memberships = [
        Membership(
            person=person, org=org, status=MembershipStatus.ACTIVE, joined_on=joined, source=source, card_number=card
        )
        for person, joined, card in zip(people, joined_on, cards, strict=True)
    ]
    Membership.objects.bulk_create(memberships, batch_size=2000)
    audit_record(
        actor=actor,
        action="membership.bulk_load",
        object_type="organisation",
        object_id=org.id,
        object_label=org.name,
        object_org_path=org.path,
        details={"count": len(memberships), "source": source},
    )
    figures_record([bulk_started(org, people, joined_on)])
    return memberships


def people_reseal(*, batch_size: int = 1000) -> int:
    """Key rotation: re-encrypt every document number and mobile with the current FIELD_ENCRYPTION_KEY and
    recompute both blind indexes with the current BLIND_INDEX_KEY. Idempotent; each batch is one transaction.
    Returns the number of people rewritten."""
    rewritten = 0
    last_id = None
    while True:
        page = Person.objects.order_by("id")
        if last_id is not None:
            page = page.filter(id__gt=last_id)
        ids = list(page.values_list("id", flat=True)[:batch_size])
        if not ids:
            return rewritten
        with transaction.atomic():
            people = list(Person.objects.select_for_update().filter(id__in=ids).order_by("id"))
            for person in people:
                number, phone = document_number_of(person), phone_of(person)
                person.doc_number_enc = encrypt_text(number, context=DOC_CONTEXT)
                person.doc_index = document_index(person.doc_type, number)
                seal_phone(person, phone)
            Person.objects.bulk_update(people, ["doc_number_enc", "doc_index", "phone_enc", "phone_index"])
        rewritten += len(people)
        last_id = ids[-1]


# ---------------------------------------------------------------- corrections asked for by members


def _lock_pending_correction(actor: Actor, correction: CorrectionRequest) -> CorrectionRequest:
    _require_manage(actor, correction.org)
    locked = (
        CorrectionRequest.objects.select_for_update(of=("self",)).select_related("person", "org").get(pk=correction.pk)
    )
    if locked.status != CorrectionStatus.PENDING:
        raise CaseMovedOn(f"该更正申请当前为“{locked.get_status_display()}”，不能再处理")
    return locked


def _close_correction(actor: Actor, correction: CorrectionRequest, *, status: str, reason: str, action: str) -> None:
    correction.status = status
    correction.decided_at = timezone.now()
    correction.decided_by = actor.label
    correction.decision_reason = reason
    correction.save()
    audit_record(
        actor=actor,
        action=action,
        object_type="correction",
        object_id=correction.id,
        object_label=mask_name(correction.person.name),
        object_org_path=correction.org.path,
        details={"fields": sorted(correction.changes), "reason": reason},
    )


@transaction.atomic
def correction_request_apply(*, actor: Actor, correction: CorrectionRequest, comment: str = "") -> Person:
    """采纳: the requested fields are written through the registry's correction service (validated again, audited
    with before/after)."""
    correction = _lock_pending_correction(actor, correction)
    correction.previous = {field: getattr(correction.person, field) for field in correction.changes}
    person = person_update(actor=actor, person=correction.person, **correction.changes)
    _close_correction(
        actor,
        correction,
        status=CorrectionStatus.APPLIED,
        reason=(comment or "").strip()[:REASON_MAX],
        action="correction.apply",
    )
    return person


@transaction.atomic
def correction_request_reject(*, actor: Actor, correction: CorrectionRequest, reason: str) -> CorrectionRequest:
    reason = clean_reason(reason, label="不予更正的理由")
    correction = _lock_pending_correction(actor, correction)
    _close_correction(actor, correction, status=CorrectionStatus.REJECTED, reason=reason, action="correction.reject")
    return correction
