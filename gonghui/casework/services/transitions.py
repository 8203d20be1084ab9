"""The steps of the handling union and of the applicant that are not 办结: 受理, 不予受理, 开始办理, withdrawing
(the member, or a cadre recording it) and the member's rating after 办结."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from gonghui.casework.events import audit_case
from gonghui.casework.kinds import (
    clean_text,
)
from gonghui.casework.models import (
    CaseKind,
    CaseStatus,
    LegalAidRecord,
    ServiceCase,
)
from gonghui.casework.notices import notice_case_step
from gonghui.casework.services.common import (
    _enter_step,
    _event,
    _lock_for_cadre,
    _lock_own,
    _note,
    _note_lateness,
)
from gonghui.common.actor import Actor
from gonghui.common.errors import CaseMovedOn, ValidationFailed
from gonghui.common.validators import REASON_MAX, clean_reason
from gonghui.members.member_accounts import member_actor
from gonghui.members.models import MemberAccount

# ---------------------------------------------------------------- transitions by the handling union


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


# ---------------------------------------------------------------- the applicant's side


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
