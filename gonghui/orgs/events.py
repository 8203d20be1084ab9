"""The organisation tree's and the employer registry's audit events, each writing one AuditEvent through
`audit.services.audit_record` inside the caller's transaction. The services decide when and which action
(`org.create`, `org.move`, `employer.update`, ...); this module alone decides how the object is named on the trail and
under which organisation the event is filed."""

from typing import Any

from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.orgs.models import Employer, Organisation


def org_event(actor: Actor, action: str, org: Organisation, details: dict[str, Any]) -> None:
    """An organisation on the trail: its name and code, filed under the organisation itself."""
    audit_record(
        actor=actor,
        action=action,
        object_type="organisation",
        object_id=org.id,
        object_label=f"{org.name}（{org.code}）",
        object_org_path=org.path,
        details=details,
    )


def employer_event(actor: Actor, action: str, employer: Employer, details: dict[str, Any]) -> None:
    """An employer on the trail: its name, filed under the town-level union it is registered with."""
    audit_record(
        actor=actor,
        action=action,
        object_type="employer",
        object_id=employer.id,
        object_label=employer.name,
        object_org_path=employer.town_org.path,
        details=details,
    )


def orgs_bulk_created(actor: Actor, *, count: int, parents: list[str]) -> None:
    """`org.bulk_create`: one event for a batch of new organisations (the codes of up to 20 existing parents)."""
    audit_record(
        actor=actor,
        action="org.bulk_create",
        object_type="organisation",
        object_label=f"批量创建 {count} 个组织",
        details={"count": count, "parents": parents},
    )


def employers_bulk_created(actor: Actor, *, count: int) -> None:
    """`employer.bulk_create`: one event for a batch of newly registered employers."""
    audit_record(
        actor=actor,
        action="employer.bulk_create",
        object_type="employer",
        object_label=f"批量登记 {count} 家企业/单位",
        details={"count": count},
    )
