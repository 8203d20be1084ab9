"""Writing the audit trail. Called by every service inside its own transaction."""

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from gonghui.audit.exports import audit_trail_xlsx
from gonghui.audit.labels import OrgNames
from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.audit.selectors import AuditFilters, audit_event_list
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError

# Keys that must never reach the trail, whatever a caller passes in `details`.
_FORBIDDEN_DETAIL_KEYS = frozenset({"document_number", "id_number", "phone", "password", "token", "secret"})


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any = "",
    object_label: str = "",
    object_org_path: str = "",
    result: str = AuditResult.SUCCESS,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    clean_details = dict(details or {})
    leaked = _FORBIDDEN_DETAIL_KEYS.intersection(clean_details)
    if leaked:
        raise ValueError(f"audit details must not carry {sorted(leaked)}")
    return AuditEvent.objects.create(
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:150],
        actor_role=actor.role,
        actor_org_id=actor.org_id,
        actor_org_path=actor.scope_path,
        ip=actor.ip,
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_label=str(object_label)[:200],
        object_org_path=object_org_path,
        result=result,
        details=clean_details,
    )


# An export for an inspection is bounded: past this, the auditor narrows the filters (a shorter period, one action).
AUDIT_EXPORT_MAX_ROWS = 20_000


def audit_trail_export(
    *,
    actor: Actor,
    filters: AuditFilters,
    org_names_for: Callable[[list[AuditEvent]], OrgNames],
) -> tuple[bytes, int]:
    """审计日志导出: the auditor's filtered trail as an .xlsx and its row count. The export is itself recorded, with
    its filters and the number of rows it carried. Only who may read the trail may export it, and only their subtree;
    more rows than AUDIT_EXPORT_MAX_ROWS are refused and nothing is recorded. `org_names_for` names the organisations
    of the events (the organisations app sits above this one)."""
    events = audit_event_list(actor=actor, filters=filters)
    count = events.count()
    if count > AUDIT_EXPORT_MAX_ROWS:
        raise DomainError(
            f"筛选出的审计日志共 {count} 条，超过单次导出上限 {AUDIT_EXPORT_MAX_ROWS} 条，"
            "请缩短时间范围或增加筛选条件后再导出",
            code="audit_export_too_large",
        )
    rows = list(events[:AUDIT_EXPORT_MAX_ROWS])
    names = org_names_for(rows)
    exported_at = timezone.now()
    content = audit_trail_xlsx(
        events=rows, count=len(rows), filters=filters, names=names, exported_at=exported_at, exported_by=actor.label
    )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="audit.export",
            object_type="audit_trail",
            object_label=f"审计日志 {len(rows)} 条",
            object_org_path=filters.org_path or actor.scope_path,
            details={"filters": filters.as_details(), "rows": len(rows)},
        )
    return content, len(rows)
