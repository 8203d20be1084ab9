"""Writes of the service centre's common workflow: open a case (member online or cadre on the member's behalf),
受理 / 不予受理, 开始办理, 办结 (with each type's closing step), withdraw, rate, attach evidence, escalate overdue
cases, and the callback sample. Each service checks role and scope, locks the case it moves (two cadres at once:
one wins, the other is told the case moved on), writes in one transaction with its audit event, and refuses
invalid transitions without changing anything."""

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.audit.services import audit_record
from gonghui.casework.events import audit_case
from gonghui.casework.kinds import (
    HARDSHIP_HIGHER_LEVEL_AMOUNT,
    clean_application,
    clean_choice,
    clean_money,
    clean_text,
    kind_rules,
    step_working_days,
)
from gonghui.casework.models import (
    OPEN_CASE_STATUSES,
    OPEN_FILE_STATUSES,
    AidApproval,
    AidForm,
    CallbackResult,
    CallbackStatus,
    CaseAttachment,
    CaseEvent,
    CaseKind,
    CaseSerial,
    CaseSource,
    CaseStatus,
    HardshipFile,
    HardshipFileStatus,
    InsuranceClaim,
    InsuranceEnrolment,
    InsurancePayout,
    LegalAidRecord,
    LegalOutcome,
    ServiceCase,
    StudentGrant,
)
from gonghui.casework.notices import notice_case_overdue, notice_case_step
from gonghui.common.actor import Actor
from gonghui.common.errors import CaseMovedOn, DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.masking import mask_document_number
from gonghui.common.paths import STEPLEN, ancestor_paths
from gonghui.common.roles import Perm
from gonghui.common.validators import REASON_MAX, clean_reason
from gonghui.common.workdays import add_working_days
from gonghui.members.documents import DocType, DocumentInvalid, normalise_document
from gonghui.members.member_accounts import member_actor
from gonghui.members.models import HOLDING_STATUSES, MemberAccount, Membership, MembershipStatus, Person
from gonghui.members.people import document_index
from gonghui.orgs.models import Organisation, OrgLevel

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
    found = Organisation.objects.filter(path__in=paths, level=OrgLevel.COUNTY).order_by("-depth").first()
    if found is not None:
        return found
    return Organisation.objects.get(path=paths[0])


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
    return Membership.objects.filter(person=person, status__in=HOLDING_STATUSES).select_related("org").first()


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


# ---------------------------------------------------------------- opening a case


@dataclass(frozen=True)
class Consent:
    health: bool = False
    financial: bool = False


def _prepare(kind: str, person: Person, data: dict[str, Any], consent: Consent, today: date):
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
        index, masked = _student_document(data.get("student_doc_number", ""))
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
    data: dict[str, Any],
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
    *, account: MemberAccount, kind: str, data: dict[str, Any], consent: Consent, ip: str | None = None
) -> ServiceCase:
    """A member applies online for themself."""
    if account.person_id is None:
        raise DomainError("请先核验身份，再申请职工服务", code="not_bound")
    actor = member_actor(account, ip=ip)
    person = Person.objects.select_for_update().get(pk=account.person_id)
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
    *, actor: Actor, membership: Membership, kind: str, data: dict[str, Any], consent: Consent
) -> ServiceCase:
    """A cadre enters an application on a member's behalf (on paper, by phone, at a station). The cadre confirms
    that the applicant signed the written consent the type needs."""
    actor.require(Perm.CASES_MANAGE)
    if not actor.covers_path(membership.org.path):
        raise NotFound()
    person = Person.objects.select_for_update().get(pk=membership.person_id)
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


# ---------------------------------------------------------------- transitions by the handling union


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


@transaction.atomic
def case_accept(*, actor: Actor, case: ServiceCase, note: str = "") -> ServiceCase:
    case = _lock_for_cadre(actor, case, expected=(CaseStatus.SUBMITTED,))
    today = timezone.localdate()
    _note_lateness(case, today)
    case.accepted_at = timezone.now()
    case.handled_by = actor.label[:150]
    _enter_step(case, CaseStatus.ACCEPTED, today)
    case.save()
    _event(case, actor, "accept", "已受理", _note(note) or f"请在 {case.due_on:%Y-%m-%d} 前开始办理")
    audit_case(actor, "case.accept", case)
    notice_case_step(case)
    return case


@transaction.atomic
def case_reject(*, actor: Actor, case: ServiceCase, reason: str) -> ServiceCase:
    reason = clean_reason(reason, label="不予受理的理由")
    case = _lock_for_cadre(actor, case, expected=(CaseStatus.SUBMITTED,))
    today = timezone.localdate()
    _note_lateness(case, today)
    case.rejection_reason = reason
    case.closed_at = timezone.now()
    case.handled_by = actor.label[:150]
    _enter_step(case, CaseStatus.REJECTED, today)
    case.save()
    _event(case, actor, "reject", "不予受理", reason)
    audit_case(actor, "case.reject", case, {"reason": reason})
    notice_case_step(case, reason)
    return case


@transaction.atomic
def case_start(*, actor: Actor, case: ServiceCase, note: str = "", lawyer: str = "", station: str = "") -> ServiceCase:
    """开始办理. For legal aid the lawyer or the legal aid station is assigned here."""
    case = _lock_for_cadre(actor, case, expected=(CaseStatus.ACCEPTED,))
    if case.kind == CaseKind.LEGAL:
        lawyer = clean_text({"lawyer": lawyer}, "lawyer", "承办律师", required=False, max_length=50)
        station = clean_text({"station": station}, "station", "法律援助站", required=False, max_length=100)
        if not lawyer and not station:
            raise ValidationFailed({"lawyer": "请指派承办律师或法律援助站"})
        LegalAidRecord.objects.filter(case=case).update(lawyer=lawyer, station=station)
        note = note or "指派：" + "，".join(part for part in (station, lawyer) if part)
    today = timezone.localdate()
    _note_lateness(case, today)
    case.started_at = timezone.now()
    case.handled_by = actor.label[:150]
    _enter_step(case, CaseStatus.IN_PROGRESS, today)
    case.save()
    _event(case, actor, "start", "办理中", _note(note) or f"办理期限 {case.due_on:%Y-%m-%d}")
    audit_case(actor, "case.start", case)
    notice_case_step(case)
    return case


@transaction.atomic
def case_close(*, actor: Actor, case: ServiceCase, result: str, outcome: dict[str, Any] | None = None) -> ServiceCase:
    """办结, with the type's closing step. `outcome` carries the type's fields (see docs/casework.md):
    hardship: granted, tier, aid_form, amount, aid_description; legal: outcome, amount_recovered;
    insurance: payable, reference; student: granted, amount."""
    result = clean_reason(result, label="办理结果")
    case = _lock_for_cadre(actor, case, expected=(CaseStatus.IN_PROGRESS,))
    today = timezone.localdate()
    outcome = outcome or {}
    if case.kind == CaseKind.HARDSHIP:
        from gonghui.casework.approval import case_close_needs_approval

        approval = case_close_needs_approval(actor, case, result, outcome, today)
        if approval is not None:
            # Aid above the city's standard: the case waits for the parent union, nothing is granted yet.
            _note_lateness(case, today)
            case.handled_by = actor.label[:150]
            _enter_step(case, CaseStatus.PENDING_APPROVAL, today)
            case.due_on = approval.due_on
            case.save()
            reasons = "；".join(approval.reasons)
            _event(case, actor, "approval_request", "报上级审批", f"{reasons}，报{approval.approver.name}审批")
            audit_case(actor, "case.approval_request", case, {"approver": approval.approver.code})
            notice_case_step(case)
            return case
    granted = CLOSERS[case.kind](actor, case, outcome, today)
    return _finish_close(actor, case, result, granted, today)


def _finish_close(actor: Actor, case: ServiceCase, result: str, granted: Decimal | None, today: date) -> ServiceCase:
    _note_lateness(case, today)
    case.amount_granted = granted
    case.result = result
    case.closed_at = timezone.now()
    case.handled_by = actor.label[:150]
    _enter_step(case, CaseStatus.CLOSED, today)
    case.save()
    money = f"，发放 {granted} 元" if granted else ""
    _event(case, actor, "close", "已办结", f"{result.rstrip('。．.；;，, ')}{money}")
    audit_case(actor, "case.close", case, {"amount_granted": str(granted) if granted is not None else ""})
    notice_case_step(case, f"{result.rstrip('。．.；;，, ')}{money}")
    return case


def _is_yes(value: Any) -> bool:
    return value in (True, "1", "true", "on", "yes")


def _close_hardship(actor: Actor, case: ServiceCase, outcome: dict, today: date, *, approval=None) -> Decimal | None:
    from gonghui.casework.hardship import aid_amount, aid_record, file_for_case

    if not _is_yes(outcome.get("granted")):
        return None
    form = clean_choice(outcome, "aid_form", "帮扶形式", AidForm)
    amount = aid_amount(outcome, "amount", form)
    description = clean_text(outcome, "aid_description", "帮扶内容", max_length=300)
    file = file_for_case(actor, case, tier=outcome.get("tier", ""), today=today)
    aid = aid_record(actor, file, form=form, amount=amount, description=description, on=today, case=case)
    if approval is not None:  # granted on the parent union's approval, by the union that handled the case
        aid.approval, aid.granted_by = AidApproval.APPROVED, approval.requested_by
        aid.save(update_fields=["approval", "granted_by"])
        approval.file = file
        approval.save(update_fields=["file"])
    return amount if form == AidForm.MONEY else Decimal("0.00")


def approved_case_close(*, actor: Actor, approval) -> ServiceCase:
    """The parent union approved a hardship case's proposed 办结 (called by `hardship_approval_approve`, inside its
    transaction): the proposal is carried out as the handling union wrote it."""
    case = (
        ServiceCase.objects.select_for_update(of=("self",))
        .select_related("person", "org", "home_org")
        .get(pk=approval.case_id)
    )
    if case.status != CaseStatus.PENDING_APPROVAL:
        raise CaseMovedOn(f"该申请当前为“{case.get_status_display()}”，不能进行此操作")
    today = timezone.localdate()
    _event(case, actor, "approve", "上级已批准", approval.decision_note or f"{approval.approver.name}批准")
    audit_case(actor, "case.approval_approve", case, {"approver": approval.approver.code})
    granted = _close_hardship(actor, case, approval.proposal["outcome"], today, approval=approval)
    return _finish_close(actor, case, approval.proposal["result"], granted, today)


def refused_case_return(*, actor: Actor, approval) -> ServiceCase:
    """The parent union refused: the case is back in 办理中 with a new deadline, the reason on its timeline."""
    case = (
        ServiceCase.objects.select_for_update(of=("self",))
        .select_related("person", "org", "home_org")
        .get(pk=approval.case_id)
    )
    if case.status != CaseStatus.PENDING_APPROVAL:
        raise CaseMovedOn(f"该申请当前为“{case.get_status_display()}”，不能进行此操作")
    today = timezone.localdate()
    _note_lateness(case, today)
    _enter_step(case, CaseStatus.IN_PROGRESS, today)
    case.save()
    _event(case, actor, "approval_refuse", "上级不予批准", approval.decision_note)
    audit_case(actor, "case.approval_refuse", case, {"approver": approval.approver.code})
    notice_case_step(case, progress=True)
    return case


def _close_legal(actor: Actor, case: ServiceCase, outcome: dict, today: date) -> Decimal | None:
    result = clean_choice(outcome, "outcome", "结案方式", LegalOutcome)
    recovered = clean_money(outcome, "amount_recovered", "挽回经济损失", required=False)
    LegalAidRecord.objects.filter(case=case).update(outcome=result, amount_recovered=recovered)
    return None


def _close_insurance(actor: Actor, case: ServiceCase, outcome: dict, today: date) -> Decimal | None:
    from gonghui.casework.insurance import claim_payout

    claim = InsuranceClaim.objects.select_related("enrolment__plan").get(case=case)
    # The enrolment row is locked so two claims closed at once cannot both spend the same annual cap.
    InsuranceEnrolment.objects.select_for_update().get(pk=claim.enrolment_id)
    payout = claim_payout(claim) if _is_yes(outcome.get("payable")) else Decimal("0.00")
    claim.payout = payout  # what the union decided to pay: the plan's amount, or nothing for a refused claim
    claim.save(update_fields=["payout"])
    if payout == 0:
        return Decimal("0.00")
    reference = clean_text(outcome, "reference", "支付凭证号", max_length=60)
    InsurancePayout.objects.create(
        claim=claim, amount=payout, paid_on=today, reference=reference, paid_by=actor.label[:150]
    )
    return payout


def _close_student(actor: Actor, case: ServiceCase, outcome: dict, today: date) -> Decimal | None:
    if not _is_yes(outcome.get("granted")):
        return None
    amount = clean_money(outcome, "amount", "资助金额", positive=True)
    details = case.details
    year = timezone.localtime(case.submitted_at).year  # the 金秋助学 round the application was made in
    try:
        with transaction.atomic():
            StudentGrant.objects.create(
                case=case,
                student_name=details["student_name"],
                student_index=details["student_index"],
                student_masked=details["student_masked"],
                school=details["school"],
                grade=details["grade"],
                year=year,
                amount=amount,
                granted_on=today,
            )
    except IntegrityError:
        raise DomainError(ONE_GRANT_A_YEAR.format(year=year), code="already_granted") from None
    return amount


CLOSERS = {
    CaseKind.HARDSHIP: _close_hardship,
    CaseKind.LEGAL: _close_legal,
    CaseKind.INSURANCE: _close_insurance,
    CaseKind.STUDENT: _close_student,
}


# ---------------------------------------------------------------- the applicant's side


def _lock_own(account: MemberAccount, case_id) -> ServiceCase:
    from gonghui.casework.selectors import own_case_get

    case = own_case_get(account=account, case_id=case_id)
    return (
        ServiceCase.objects.select_for_update(of=("self",)).select_related("person", "org", "home_org").get(pk=case.pk)
    )


@transaction.atomic
def member_case_withdraw(*, account: MemberAccount, case_id, ip: str | None = None) -> ServiceCase:
    """The applicant withdraws before 办理 starts."""
    actor = member_actor(account, ip=ip)
    case = _lock_own(account, case_id)
    return _withdraw(actor, case, "申请人撤回")


@transaction.atomic
def case_withdraw(*, actor: Actor, case: ServiceCase, reason: str) -> ServiceCase:
    """A cadre records the withdrawal the applicant asked for in person or by phone, with what they said."""
    reason = clean_reason(reason, label="撤回说明")
    case = _lock_for_cadre(actor, case, expected=(CaseStatus.SUBMITTED, CaseStatus.ACCEPTED))
    case = _withdraw(actor, case, reason)
    notice_case_step(case, reason)  # recorded by the union: the applicant is told
    return case


def _withdraw(actor: Actor, case: ServiceCase, note: str) -> ServiceCase:
    if case.status not in (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED):
        raise CaseMovedOn(f"该申请当前为“{case.get_status_display()}”，已开始办理的申请不能撤回")
    case.closed_at = timezone.now()
    _enter_step(case, CaseStatus.WITHDRAWN, timezone.localdate())
    case.save()
    _event(case, actor, "withdraw", "已撤回", note)
    audit_case(actor, "case.withdraw", case)
    return case


@transaction.atomic
def member_case_rate(
    *, account: MemberAccount, case_id, rating: Any, comment: str = "", ip: str | None = None
) -> ServiceCase:
    actor = member_actor(account, ip=ip)
    try:
        stars = int(str(rating))
    except ValueError:
        stars = 0
    if not 1 <= stars <= 5:
        raise ValidationFailed({"rating": "请选择 1 到 5 星的评价"})
    comment = (comment or "").strip()
    if len(comment) > REASON_MAX:
        raise ValidationFailed({"comment": f"评价意见不能超过{REASON_MAX}个字"})
    case = _lock_own(account, case_id)
    if case.status != CaseStatus.CLOSED:
        raise CaseMovedOn("办结后才能评价")
    if case.rating is not None:
        raise CaseMovedOn("您已评价过这件申请")
    case.rating = stars
    case.rating_comment = comment
    case.rated_at = timezone.now()
    case.save(update_fields=["rating", "rating_comment", "rated_at"])
    _event(case, actor, "rate", "已评价", f"{stars} 星" + (f"：{comment}" if comment else ""))
    audit_case(actor, "case.rate", case, {"rating": stars})
    return case


# ---------------------------------------------------------------- attachments


def check_attachment(name: str, content: bytes) -> tuple[str, str]:
    """(content type, extension) of acceptable evidence, or ValidationFailed in plain Chinese."""
    if not content:
        raise ValidationFailed({"file": "文件是空的，请重新选择"})
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed({"file": f"文件不能超过 {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"})
    for signature, kind in ATTACHMENT_SIGNATURES.items():
        if content.startswith(signature):
            return kind
    raise ValidationFailed({"file": "只能上传 PDF、JPG 或 PNG 格式的证明材料"})


def _display_name(name: str, extension: str) -> str:
    """The name shown and downloaded: the uploaded file's name, with the extension its content really has."""
    base = PurePath((name or "").replace("\\", "/")).name.strip()
    base = "".join(ch for ch in base if ch.isprintable())
    stem = base.rsplit(".", 1)[0].strip() if "." in base else base
    return (stem or "证明材料")[:100] + extension


def _attach(actor: Actor, case: ServiceCase, name: str, content: bytes) -> CaseAttachment:
    content_type, extension = check_attachment(name, content)
    if case.status in (CaseStatus.REJECTED, CaseStatus.WITHDRAWN):
        raise CaseMovedOn(f"该申请{case.get_status_display()}，不能再上传材料")
    if case.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationFailed({"file": f"每件申请最多上传 {MAX_ATTACHMENTS} 份材料"})
    attachment = CaseAttachment(
        case=case,
        name=_display_name(name, extension),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=actor.label[:150],
    )
    attachment.file.save(f"{attachment.id.hex}{extension}", ContentFile(content), save=False)
    try:
        attachment.save()
        _event(case, actor, "attach", "上传材料", attachment.name)
        audit_case(actor, "case.attach", case, {"file": attachment.name, "size": attachment.size})
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


@transaction.atomic
def member_case_attach(*, account: MemberAccount, case_id, name: str, content: bytes, ip=None) -> CaseAttachment:
    actor = member_actor(account, ip=ip)
    case = _lock_own(account, case_id)
    if not case.is_open:
        raise CaseMovedOn(f"该申请{case.get_status_display()}，不能再上传材料")
    return _attach(actor, case, name, content)


@transaction.atomic
def case_attach(*, actor: Actor, case: ServiceCase, name: str, content: bytes) -> CaseAttachment:
    case = _lock_for_cadre(actor, case, expected=(*OPEN_CASE_STATUSES, CaseStatus.CLOSED))
    return _attach(actor, case, name, content)


# ---------------------------------------------------------------- escalation and callbacks


@transaction.atomic
def cases_escalate_overdue(*, actor: Actor, today: date | None = None) -> int:
    """Open cases past their step's deadline go to the handling union's parent, whose workbench lists them and
    whose cadres may act on them. Once per step; run daily (`manage.py escalate_cases`)."""
    if actor.kind != "system":
        raise PermissionDenied("超期上报由平台每日自动执行")
    today = today or timezone.localdate()
    overdue = list(
        ServiceCase.objects.select_for_update(of=("self",))
        .filter(status__in=OPEN_CASE_STATUSES, due_on__lt=today, escalated_at__isnull=True)
        .select_related("person", "org")
    )
    now = timezone.now()
    count = 0
    for case in overdue:
        org = case.org
        if case.status == CaseStatus.PENDING_APPROVAL:  # late in approving: the approving union's parent supervises
            org = case.approvals.get(status="pending").approver
        parent = Organisation.objects.filter(path=org.path[:-STEPLEN]).first() if org.depth > 1 else None
        case.was_overdue = True
        case.escalated_at = now
        case.escalated_to = parent or org
        case.save(update_fields=["was_overdue", "escalated_at", "escalated_to"])
        _event(
            case,
            actor,
            "escalate",
            "超期上报",
            f"已超过{case.get_status_display()}期限，上报{case.escalated_to.name}督办",
        )
        audit_case(actor, "case.escalate", case, {"to": case.escalated_to.code, "due_on": case.due_on.isoformat()})
        notice_case_overdue(case)
        count += 1
    return count


@transaction.atomic
def callbacks_draw(
    *, actor: Actor, org: Organisation, start: date, end: date, share: Decimal = CALLBACK_DEFAULT_SHARE
) -> list[ServiceCase]:
    """Draw a random sample (share of the cases closed in the period, at least one) for callback (回访)."""
    actor.require(Perm.CASES_MANAGE)
    if not actor.covers_path(org.path):
        raise NotFound()
    if not Decimal("0") < share <= Decimal("1"):
        raise ValidationFailed({"share": "抽取比例应在 1% 到 100% 之间"})
    if end < start:
        raise ValidationFailed({"end": "结束日期不能早于开始日期"})
    pool = list(
        ServiceCase.objects.select_for_update(of=("self",))
        .filter(
            org__path__startswith=org.path,
            status=CaseStatus.CLOSED,
            closed_at__date__gte=start,
            closed_at__date__lte=end,
            callback_status=CallbackStatus.NONE,
        )
        .select_related("person", "org")
        .order_by("id")
    )
    if not pool:
        return []
    size = max(1, math.ceil(len(pool) * share))
    drawn = secrets.SystemRandom().sample(pool, size)
    now = timezone.now()
    for case in drawn:
        case.callback_status = CallbackStatus.PENDING
        case.callback_drawn_at = now
        case.save(update_fields=["callback_status", "callback_drawn_at"])
    audit_record(
        actor=actor,
        action="case.callback_draw",
        object_type="organisation",
        object_id=org.id,
        object_label=org.name,
        object_org_path=org.path,
        details={"pool": len(pool), "drawn": size, "start": start.isoformat(), "end": end.isoformat()},
    )
    return drawn


@transaction.atomic
def callback_record(*, actor: Actor, case: ServiceCase, result: str, note: str = "") -> ServiceCase:
    actor.require(Perm.CASES_MANAGE)
    if not actor.covers_path(case.org.path):
        raise NotFound()
    result = clean_choice({"result": result}, "result", "回访结果", CallbackResult)
    locked = ServiceCase.objects.select_for_update(of=("self",)).select_related("person", "org").get(pk=case.pk)
    if locked.callback_status != CallbackStatus.PENDING:
        raise CaseMovedOn("该申请不在待回访名单中")
    locked.callback_status = CallbackStatus.DONE
    locked.callback_result = result
    locked.callback_note = _note(note)
    locked.callback_at = timezone.now()
    locked.callback_by = actor.label[:150]
    locked.save(update_fields=["callback_status", "callback_result", "callback_note", "callback_at", "callback_by"])
    _event(
        locked, actor, "callback", "已回访", f"{locked.get_callback_result_display()} {locked.callback_note}".strip()
    )
    audit_case(actor, "case.callback", locked, {"result": result})
    return locked


def case_view_record(*, actor: Actor, case: ServiceCase) -> None:
    """Opening a case shows health and financial details: the look is audited."""
    audit_case(actor, "case.view", case)


def figures_export_record(*, actor: Actor, org: Organisation, start: date, end: date) -> None:
    """Exporting the statistics table is audited like every export."""
    actor.require(Perm.CASES_VIEW)
    if not actor.covers_path(org.path):
        raise NotFound()
    audit_record(
        actor=actor,
        action="case.figures_export",
        object_type="organisation",
        object_id=org.id,
        object_label=org.name,
        object_org_path=org.path,
        details={"start": start.isoformat(), "end": end.isoformat()},
    )


def attachment_view_record(*, actor: Actor, attachment: CaseAttachment) -> None:
    audit_case(actor, "case.attachment_view", attachment.case, {"file": attachment.name})
