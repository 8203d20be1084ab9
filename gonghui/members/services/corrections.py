"""Corrections a member asked for in the portal (CorrectionRequest), decided by the union holding the membership:
采纳 writes the fields through the registry's correction service; 不予更正 needs a reason."""

from django.db import transaction
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.errors import CaseMovedOn
from gonghui.common.validators import REASON_MAX, clean_reason
from gonghui.members import events
from gonghui.members.models import CorrectionRequest, CorrectionStatus, Person
from gonghui.members.services._common import _require_manage
from gonghui.members.services.people import person_update


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
    events.correction_closed(actor, action, correction, reason=reason)


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
