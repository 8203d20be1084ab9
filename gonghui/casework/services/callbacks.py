"""Escalating overdue cases, the callback sample (办结回访) and its results, and the audited views and exports of
cases and their figures."""

import math
import secrets
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from gonghui.audit.services import audit_record
from gonghui.casework.events import audit_case
from gonghui.casework.kinds import (
    clean_choice,
)
from gonghui.casework.models import (
    OPEN_CASE_STATUSES,
    CallbackResult,
    CallbackStatus,
    CaseStatus,
    ServiceCase,
)
from gonghui.casework.notices import notice_case_overdue
from gonghui.casework.services.common import (
    CALLBACK_DEFAULT_SHARE,
    _event,
    _note,
)
from gonghui.common.actor import Actor
from gonghui.common.errors import CaseMovedOn, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.paths import STEPLEN
from gonghui.common.roles import Perm
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import orgs_by_path

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
        parent = orgs_by_path([org.path[:-STEPLEN]]).first() if org.depth > 1 else None
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
