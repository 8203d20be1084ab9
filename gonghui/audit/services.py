"""Writing the audit trail. Called by every service inside its own transaction."""

from typing import Any

from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.common.actor import Actor

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
