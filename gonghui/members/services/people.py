"""The registry's record of a person: found or registered from what a cadre or applicant typed, corrected by the
union holding the membership (before/after on the audit trail), and its full numbers revealed one at a time with
a stated reason."""

from datetime import date
from typing import Any, TypedDict

from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.common.masking import mask_name
from gonghui.common.roles import Perm
from gonghui.common.validators import clean_reason
from gonghui.members import events
from gonghui.members.documents import DOC_TYPES_WITH_BIRTH_DATE, DocType
from gonghui.members.figures import Dims, figures_record, person_recounted
from gonghui.members.models import (
    HOLDING_STATUSES,
    OPEN_TRANSFER_STATUSES,
    ApplicationStatus,
    JoinApplication,
    Membership,
    Person,
    TransferRequest,
)
from gonghui.members.people import (
    PROFILE_FIELDS,
    clean_birth_and_sex,
    clean_document,
    clean_phone,
    clean_profile,
    document_index,
    document_number_of,
    phone_of,
    quality_flags,
    seal_document,
    seal_phone,
)
from gonghui.members.search import RegistryLookup
from gonghui.members.services._common import UNSET, Unset, _lock, given
from gonghui.orgs.models import Organisation

# The answer to a name that does not go with a registered document number. It says nothing of the record (neither
# that the number is registered nor under which name), and the lookup is counted and audited as a search.
NAME_MISMATCH_MESSAGE = "姓名与证件号码不符，请核对证件原件后重新填写"
REVEALABLE = {"doc_number": "证件号码", "phone": "手机号码"}


class PersonProfile(TypedDict, total=False):
    """The profile typed for a new record: the keywords a caller passed (PROFILE_FIELDS), and birth date and sex
    for a document that does not carry them."""

    name: Any
    ethnicity: Any
    education: Any
    political_status: Any
    hukou_type: Any
    employment_form: Any
    work_unit: Any
    post: Any
    skill_level: Any
    is_model_worker: Any
    remarks: Any
    birth_date: Any
    sex: Any


def _find_person(doc_type: str, number: str) -> Person | None:
    return Person.objects.filter(doc_type=doc_type, doc_index=document_index(doc_type, number)).first()


def _person_from_input(
    *,
    doc_type: str,
    doc_number: str,
    phone: str | None,
    profile: PersonProfile,
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
        manual = clean_birth_and_sex(dict(profile), today=today)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if document is not None and document.doc_type not in DOC_TYPES_WITH_BIRTH_DATE and "birth_date" not in manual:
        errors.setdefault("birth_date", "护照不含出生日期，请填写出生日期")
    if errors:
        raise ValidationFailed(errors)
    assert document is not None  # clean_document either returned one or recorded an error above

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


@transaction.atomic
def person_update(
    *,
    actor: Actor,
    person: Person,
    name: str | Unset = UNSET,
    ethnicity: str | Unset = UNSET,
    education: str | Unset = UNSET,
    political_status: str | Unset = UNSET,
    hukou_type: str | Unset = UNSET,
    employment_form: str | Unset = UNSET,
    work_unit: str | Unset = UNSET,
    post: str | Unset = UNSET,
    skill_level: str | Unset = UNSET,
    is_model_worker: bool | Unset = UNSET,
    remarks: str | Unset = UNSET,
    phone: str | None | Unset = UNSET,
    doc_type: str | None = None,
    doc_number: str | None = None,
    birth_date: date | None = None,
    sex: str | None = None,
) -> Person:
    """更正个人信息. Profile fields, phone and (rarely) the document itself; before/after go to the audit trail,
    personal numbers masked. Only the keywords passed change (a profile field or the phone passed as "" is
    cleared); the document changes when `doc_number` is given (`doc_type` defaults to the current type); birth date
    and sex only for a document that does not carry them."""
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
    profile_given = given(
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
    )
    errors: dict[str, str] = {}
    try:
        profile = clean_profile(profile_given)
        for field, value in profile.items():
            setattr(person, field, value)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if not isinstance(phone, Unset):
        try:
            seal_phone(person, clean_phone(phone))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if doc_number:
        try:
            document = clean_document(doc_type or person.doc_type, doc_number, today=today)
            clash = _find_person(document.doc_type, document.number)
            if clash is not None and clash.pk != person.pk:
                errors["doc_number"] = "该证件号码已登记在另一人员名下，请核对"
            else:
                seal_document(person, document)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if person.doc_type not in DOC_TYPES_WITH_BIRTH_DATE:
        try:
            for field, value in clean_birth_and_sex({"birth_date": birth_date, "sex": sex}, today=today).items():
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
    if before_doc != person.doc_masked or doc_number:
        diff["doc"] = [before_doc, person.doc_masked]
    if before_phone != person.phone_masked:
        diff["mobile"] = [before_phone, person.phone_masked]
    if "name" in diff:
        diff["name"] = [mask_name(diff["name"][0]), mask_name(diff["name"][1])]
    events.person_corrected(actor, person, holding.org, diff)
    figures_record(person_recounted(person, before=counted_as))
    return person


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
    events.person_revealed(actor, person, where, field=field, reason=reason)
    return value


def membership_reveal(*, actor: Actor, membership: Membership, field: str, reason: str) -> str:
    """查看完整号码 from a member's page: only through a membership the person still holds. A union the member has
    left reads the record as it was then, and never their numbers now."""
    actor.require(Perm.MEMBERS_UNMASK)
    if not membership.is_holding:
        raise PermissionDenied(f"该会籍{membership.get_status_display()}，不能查看完整号码")
    return person_reveal(actor=actor, person=membership.person, field=field, reason=reason)
