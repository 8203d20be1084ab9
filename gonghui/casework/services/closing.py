"""办结 with each type's closing step (hardship aid, legal outcome, insurance payout, student grant), and what
follows the parent union's decision on a hardship case sent for 上级审批."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.casework.events import audit_case
from gonghui.casework.fields import CaseOutcome
from gonghui.casework.kinds import (
    clean_choice,
    clean_money,
    clean_text,
)
from gonghui.casework.models import (
    AidApproval,
    AidForm,
    CaseKind,
    CaseStatus,
    InsuranceClaim,
    InsuranceEnrolment,
    InsurancePayout,
    LegalAidRecord,
    LegalOutcome,
    ServiceCase,
    StudentGrant,
)
from gonghui.casework.notices import notice_case_step
from gonghui.casework.services.common import (
    ONE_GRANT_A_YEAR,
    _enter_step,
    _event,
    _is_yes,
    _lock_for_cadre,
    _note_lateness,
)
from gonghui.common.actor import Actor
from gonghui.common.errors import CaseMovedOn, DomainError
from gonghui.common.validators import clean_reason


@transaction.atomic
def case_close(*, actor: Actor, case: ServiceCase, result: str, outcome: CaseOutcome | None = None) -> ServiceCase:
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
    granted = CLOSERS.get(case.kind, _close_plain)(actor, case, outcome, today)
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


def _close_hardship(
    actor: Actor, case: ServiceCase, outcome: CaseOutcome, today: date, *, approval=None
) -> Decimal | None:
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


def _close_legal(actor: Actor, case: ServiceCase, outcome: CaseOutcome, today: date) -> Decimal | None:
    result = clean_choice(outcome, "outcome", "结案方式", LegalOutcome)
    recovered = clean_money(outcome, "amount_recovered", "挽回经济损失", required=False)
    LegalAidRecord.objects.filter(case=case).update(outcome=result, amount_recovered=recovered)
    return None


def _close_insurance(actor: Actor, case: ServiceCase, outcome: CaseOutcome, today: date) -> Decimal | None:
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


def _close_student(actor: Actor, case: ServiceCase, outcome: CaseOutcome, today: date) -> Decimal | None:
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


def _close_plain(actor: Actor, case: ServiceCase, outcome: CaseOutcome, today: date) -> Decimal | None:
    """The closing step of a type whose 办结 records only the result (no record of its own, nothing granted)."""
    return None


# Each type's closing step; a type not listed closes with the result alone.
CLOSERS: dict[str, Callable[[Actor, ServiceCase, CaseOutcome, date], Decimal | None]] = {
    CaseKind.HARDSHIP: _close_hardship,
    CaseKind.LEGAL: _close_legal,
    CaseKind.INSURANCE: _close_insurance,
    CaseKind.STUDENT: _close_student,
}
