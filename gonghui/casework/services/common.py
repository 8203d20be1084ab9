"""What the service centre's workflow services share: limits, case numbers, steps and their deadlines, routing
to the handling union, the applicant's membership and the consents a type needs, and the row lock a cadre's step
takes."""

from datetime import date
from decimal import Decimal
from typing import Any

from gonghui.casework.kinds import (
    HARDSHIP_HIGHER_LEVEL_AMOUNT,
    kind_rules,
    step_working_days,
)
from gonghui.casework.models import (
    OPEN_CASE_STATUSES,
    CaseEvent,
    CaseKind,
    CaseSerial,
    InsuranceEnrolment,
    ServiceCase,
)
from gonghui.common.actor import Actor
from gonghui.common.errors import CaseMovedOn, DomainError, NotFound, ValidationFailed
from gonghui.common.masking import mask_document_number
from gonghui.common.paths import ancestor_paths
from gonghui.common.roles import Perm
from gonghui.common.validators import REASON_MAX
from gonghui.common.workdays import add_working_days
from gonghui.members.documents import DocType, DocumentInvalid, normalise_document
from gonghui.members.models import MemberAccount, Membership, MembershipStatus, Person
from gonghui.members.people import document_index
from gonghui.members.selectors import holding_memberships
from gonghui.orgs.models import Organisation, OrgLevel
from gonghui.orgs.selectors import org_by_path, orgs_by_path

CASES_PER_DAY = 10
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# What evidence may be: scans and photos. The first bytes decide, not the name the browser sent.
ATTACHMENT_SIGNATURES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
}
CALLBACK_DEFAULT_SHARE = Decimal("0.10")
ONE_GRANT_A_YEAR = "该学生 {year} 年已获得金秋助学资助，每名学生每年限资助一次"


def _note(text: str) -> str:
    return (text or "").strip()[:REASON_MAX]


def _event(case: ServiceCase, actor: Actor, action: str, label: str, note: str = "") -> None:
    CaseEvent.objects.create(case=case, action=action, label=label, by=actor.label[:150], note=note[:1000])


def _next_number(on: date) -> str:
    """受理编号 FW + year + 6-digit serial, drawn under a row lock."""
    serial, _ = CaseSerial.objects.select_for_update().get_or_create(year=on.year)
    serial.last += 1
    serial.save(update_fields=["last"])
    return f"FW{on.year:04d}{serial.last:06d}"


def _enter_step(case: ServiceCase, status: str, today: date) -> None:
    case.status = status
    case.step_started_on = today
    if status in OPEN_CASE_STATUSES:
        case.due_on = add_working_days(today, step_working_days(case.kind, status))
        case.escalated_at = None
        case.escalated_to = None


def _note_lateness(case: ServiceCase, today: date) -> None:
    """A step finished after its deadline marks the case as having run late (for the overdue share)."""
    if case.is_open and today > case.due_on:
        case.was_overdue = True


def county_level_union(org: Organisation) -> Organisation:
    """The nearest county-level federation above (or at) `org`; the tree's root when there is none."""
    paths = [*ancestor_paths(org.path), org.path]
    found = orgs_by_path(paths).filter(level=OrgLevel.COUNTY).order_by("-depth").first()
    if found is not None:
        return found
    return org_by_path(paths[0])


def route_case(kind: str, home_org: Organisation, amount: Decimal | None, enrolment=None) -> Organisation:
    """The handling union, by type and amount (kinds.py states the rule)."""
    if kind == CaseKind.LEGAL:
        return county_level_union(home_org)
    if kind == CaseKind.HARDSHIP and amount is not None and amount >= HARDSHIP_HIGHER_LEVEL_AMOUNT:
        return county_level_union(home_org)
    if kind == CaseKind.INSURANCE and enrolment is not None:
        return enrolment.plan.org
    return home_org


def _holding_membership(person: Person) -> Membership | None:
    return holding_memberships(person).first()


def _active_membership_for_service(person: Person) -> Membership:
    membership = _holding_membership(person)
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        raise DomainError("职工服务面向正式会员：请先加入工会，或联系所在工会恢复会籍", code="not_member")
    return membership


def _student_document(raw: str) -> tuple[str, str]:
    """The student's resident ID card: its blind index and masked form; the number itself is never stored."""
    try:
        document = normalise_document(DocType.RESIDENT_ID, raw or "", min_age=0)
    except DocumentInvalid as exc:
        raise ValidationFailed({"student_doc_number": f"学生{exc}"}) from None
    return document_index(DocType.RESIDENT_ID, document.number), mask_document_number(document.number)


def _insurance_enrolment(person: Person, enrolment_id: str) -> InsuranceEnrolment:
    enrolment = (
        InsuranceEnrolment.objects.select_related("plan", "plan__org").filter(person=person, id=enrolment_id).first()
        if _is_uuid(enrolment_id)
        else None
    )
    if enrolment is None:
        raise ValidationFailed({"enrolment": "未找到申请人的这条参保记录，请选择申请人已参加的互助保障计划"})
    return enrolment


def _is_uuid(value: str) -> bool:
    from gonghui.common.ids import parse_public_id

    return parse_public_id(str(value)) is not None


def _check_consents(kind: str, details: dict, *, health: bool, financial: bool) -> None:
    """Every consent the type needs and the applicant did not give, named at once."""
    rules = kind_rules(kind)
    missing = {}
    if rules.needs_financial_consent and not financial:
        missing["consent_financial"] = "办理此项服务需要核实家庭经济状况，请阅读并同意家庭经济信息使用说明"
    if rules.needs_health_consent(details) and not health:
        missing["consent_health"] = "办理此项服务需要使用健康信息（病情、住院、伤残等），请阅读并同意健康信息使用说明"
    if missing:
        raise ValidationFailed(missing)


def _lock_for_cadre(actor: Actor, case: ServiceCase, *, expected: tuple[str, ...]) -> ServiceCase:
    actor.require(Perm.CASES_MANAGE)
    if not actor.covers_path(case.org.path):
        raise NotFound()
    locked = (
        ServiceCase.objects.select_for_update(of=("self",)).select_related("person", "org", "home_org").get(pk=case.pk)
    )
    if locked.status not in expected:
        raise CaseMovedOn(f"该申请当前为“{locked.get_status_display()}”，不能进行此操作")
    return locked


def _is_yes(value: Any) -> bool:
    return value in (True, "1", "true", "on", "yes")


def _lock_own(account: MemberAccount, case_id) -> ServiceCase:
    from gonghui.casework.selectors import own_case_get

    case = own_case_get(account=account, case_id=case_id)
    return (
        ServiceCase.objects.select_for_update(of=("self",)).select_related("person", "org", "home_org").get(pk=case.pk)
    )
