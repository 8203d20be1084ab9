"""Opening a case: a member applies online, or a cadre enters the application on the member's behalf; the type's
fields are checked (kinds.py), the case is routed to its handling union and numbered."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from gonghui.casework.events import audit_case
from gonghui.casework.fields import ApplicationFields
from gonghui.casework.kinds import (
    clean_application,
    kind_rules,
)
from gonghui.casework.models import (
    OPEN_CASE_STATUSES,
    OPEN_FILE_STATUSES,
    CaseKind,
    CaseSource,
    CaseStatus,
    HardshipFile,
    HardshipFileStatus,
    InsuranceClaim,
    LegalAidRecord,
    ServiceCase,
    StudentGrant,
)
from gonghui.casework.services.common import (
    CASES_PER_DAY,
    ONE_GRANT_A_YEAR,
    _active_membership_for_service,
    _check_consents,
    _enter_step,
    _event,
    _insurance_enrolment,
    _next_number,
    _student_document,
    route_case,
)
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.roles import Perm
from gonghui.members.member_accounts import member_actor
from gonghui.members.models import MemberAccount, Membership, Person
from gonghui.members.selectors import person_for_update
from gonghui.orgs.models import Organisation

# ---------------------------------------------------------------- opening a case


@dataclass(frozen=True)
class Consent:
    health: bool = False
    financial: bool = False


def _prepare(kind: str, person: Person, data: ApplicationFields, consent: Consent, today: date):
    summary, details, amount = clean_application(kind, data)
    enrolment = None
    if kind == CaseKind.INSURANCE:
        enrolment = _insurance_enrolment(person, details["enrolment"])
        plan = enrolment.plan
        admitted = date.fromisoformat(details["admitted_on"])
        if not plan.starts_on <= admitted <= plan.ends_on:
            raise ValidationFailed(
                {"admitted_on": f"入院日期不在保障期内（{plan.starts_on:%Y-%m-%d} 至 {plan.ends_on:%Y-%m-%d}）"}
            )
        if date.fromisoformat(details["discharged_on"]) > today:
            raise ValidationFailed({"discharged_on": "出院后再申请补助：出院日期不能晚于今天"})
    if kind == CaseKind.STUDENT:
        raw = data.get("student_doc_number", "")
        index, masked = _student_document(raw if isinstance(raw, str) else "")
        if StudentGrant.objects.filter(student_index=index, year=today.year).exists():
            raise DomainError(ONE_GRANT_A_YEAR.format(year=today.year), code="already_granted")
        open_for_student = ServiceCase.objects.filter(
            kind=CaseKind.STUDENT, status__in=OPEN_CASE_STATUSES, details__student_index=index
        )
        if open_for_student.exists():
            raise DomainError("该学生已有一份正在办理的金秋助学申请", code="duplicate")
        details = {**details, "student_index": index, "student_masked": masked}
    _check_consents(kind, details, health=consent.health, financial=consent.financial)
    return summary, details, amount, enrolment


def _open_case(
    *,
    actor: Actor,
    person: Person,
    home_org: Organisation,
    kind: str,
    data: ApplicationFields,
    consent: Consent,
    source: str,
    account: MemberAccount | None,
) -> ServiceCase:
    today = timezone.localdate()
    summary, details, amount, enrolment = _prepare(kind, person, data, consent, today)
    open_same = ServiceCase.objects.filter(person=person, kind=kind, status__in=OPEN_CASE_STATUSES)
    if kind != CaseKind.STUDENT and open_same.exists():
        raise DomainError(f"已有一份正在办理的{kind_rules(kind).label}申请，请等待办结或先撤回", code="duplicate")
    now = timezone.now()
    rules = kind_rules(kind)
    case = ServiceCase(
        number=_next_number(today),
        kind=kind,
        person=person,
        account=account,
        source=source,
        home_org=home_org,
        org=route_case(kind, home_org, amount, enrolment),
        summary=summary,
        details=details,
        amount_requested=amount,
        consent_financial_at=now if rules.needs_financial_consent else None,
        consent_health_at=now if rules.needs_health_consent(details) else None,
        consent_by="会员本人在线同意" if source == CaseSource.ONLINE else f"{actor.label}核对书面同意书",
        submitted_by=actor.label[:150],
        step_started_on=today,
        due_on=today,
    )
    if kind == CaseKind.HARDSHIP:
        case.returned_to_hardship = _had_exited_file(person)
    _enter_step(case, CaseStatus.SUBMITTED, today)
    case.save()
    if kind == CaseKind.LEGAL:
        LegalAidRecord.objects.create(case=case, category=details["category"], counterparty=details["counterparty"])
    if kind == CaseKind.INSURANCE:
        InsuranceClaim.objects.create(
            case=case,
            enrolment=enrolment,
            hospital=details["hospital"],
            admitted_on=date.fromisoformat(details["admitted_on"]),
            discharged_on=date.fromisoformat(details["discharged_on"]),
            hospital_days=details["hospital_days"],
            total_cost=Decimal(details["total_cost"]),
            eligible_cost=Decimal(details["eligible_cost"]),
        )
    routed = "" if case.org_id == home_org.id else f"，按规则转由{case.org.name}承办"
    _event(case, actor, "submit", "已提交申请", f"{rules.label}{routed}")
    audit_case(actor, "case.submit", case, {"source": source, "handling_org": case.org.code})
    return case


def _had_exited_file(person: Person) -> bool:
    return HardshipFile.objects.filter(person=person, status=HardshipFileStatus.EXITED).exists() and not (
        HardshipFile.objects.filter(person=person, status__in=OPEN_FILE_STATUSES).exists()
    )


@transaction.atomic
def member_case_apply(
    *, account: MemberAccount, kind: str, data: ApplicationFields, consent: Consent, ip: str | None = None
) -> ServiceCase:
    """A member applies online for themself."""
    if account.person_id is None:
        raise DomainError("请先核验身份，再申请职工服务", code="not_bound")
    actor = member_actor(account, ip=ip)
    person = person_for_update(account.person_id)
    since = timezone.now() - timedelta(days=1)
    if ServiceCase.objects.filter(account=account, submitted_at__gte=since).count() >= CASES_PER_DAY:
        raise DomainError("24小时内提交的申请过多，请明天再试", code="rate_limited")
    membership = _active_membership_for_service(person)
    return _open_case(
        actor=actor,
        person=person,
        home_org=membership.org,
        kind=kind,
        data=data,
        consent=consent,
        source=CaseSource.ONLINE,
        account=account,
    )


@transaction.atomic
def case_enter(
    *, actor: Actor, membership: Membership, kind: str, data: ApplicationFields, consent: Consent
) -> ServiceCase:
    """A cadre enters an application on a member's behalf (on paper, by phone, at a station). The cadre confirms
    that the applicant signed the written consent the type needs."""
    actor.require(Perm.CASES_MANAGE)
    if not actor.covers_path(membership.org.path):
        raise NotFound()
    person = person_for_update(membership.person_id)
    current = _active_membership_for_service(person)
    if current.id != membership.id:
        raise DomainError("该会籍已不是申请人当前的正式会籍，请刷新后重试")
    return _open_case(
        actor=actor,
        person=person,
        home_org=membership.org,
        kind=kind,
        data=data,
        consent=consent,
        source=CaseSource.CADRE,
        account=None,
    )
