"""干部录入: a cadre (or a roster import) registers a person straight into a union's roster, with no application
step. Entering a person by document number is a registry lookup, counted and audited as a search by number (see
RegistryLookup). Also the profile keywords that enrolment and join applications take."""

from datetime import date
from typing import cast

from django.db import transaction
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.members import events
from gonghui.members.figures import figures_record, membership_started
from gonghui.members.models import (
    HOLDING_STATUSES,
    ApplicationStatus,
    JoinApplication,
    Membership,
    MembershipSource,
)
from gonghui.members.search import RegistryLookup, registry_lookup_record, registry_lookup_start
from gonghui.members.services._common import (
    UNSET,
    Unset,
    _clean_date,
    _require_manage,
    _require_open_union,
    given,
)
from gonghui.members.services.memberships import _already_member_message, _create_membership
from gonghui.members.services.people import PersonProfile, _person_from_input
from gonghui.orgs.models import Organisation


def sixteenth_birthday(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + 16)
    except ValueError:  # born on 29 February
        return date(birth.year + 16, 3, 1)


def profile_given(
    *,
    name: str | None | Unset,
    ethnicity: str | None | Unset,
    education: str | None | Unset,
    political_status: str | None | Unset,
    hukou_type: str | None | Unset,
    employment_form: str | None | Unset,
    work_unit: str | None | Unset,
    post: str | None | Unset,
    skill_level: str | None | Unset,
    is_model_worker: bool | None | Unset,
    remarks: str | None | Unset,
    birth_date: date | None | Unset,
    sex: str | None | Unset,
) -> PersonProfile:
    """The profile keywords a caller passed (one left out is not the same as one passed empty)."""
    return cast(
        PersonProfile,
        given(
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
        ),
    )


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
) -> Membership:
    """干部录入 / 批量导入: register a person straight into a union the actor manages (no application step). The
    registry lookup is counted and audited as a search by number, whatever the outcome (see RegistryLookup)."""
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
            profile=profile,
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
    profile: PersonProfile,
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
        events.person_created(actor, person, org)
    membership = _create_membership(person=person, org=org, joined_on=joined, source=source)
    events.membership_event(actor, "membership.enrol", membership, {"source": source, "org": org.code})
    figures_record([membership_started(membership, on=joined)])
    return membership
