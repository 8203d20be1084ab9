"""The service stations' audit events, each writing one AuditEvent through `audit.services.audit_record` inside the
caller's transaction. The services decide when; this module alone decides what the trail says."""

from typing import Any

from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.orgs.models import Organisation
from gonghui.stations.models import Station


def station_event(actor: Actor, action: str, station: Station, details: dict[str, Any] | None = None) -> None:
    """`station.create`, `.update`, `.status`, `.photo`, `.rate`: filed under the station's organisation."""
    audit_record(
        actor=actor,
        action=action,
        object_type="station",
        object_id=station.id,
        object_label=station.name,
        object_org_path=station.org.path,
        details=details or {},
    )


def stations_imported(actor: Actor, *, filename: str, summary: dict[str, int]) -> None:
    """`stations.import`: one event for a whole sheet of stations, filed under the actor's own organisation."""
    audit_record(
        actor=actor,
        action="stations.import",
        object_type="station",
        object_label="站点导入",
        object_org_path=actor.scope_path,
        details={"file": filename, **summary},
    )


def demand_points_replaced(actor: Actor, org: Organisation, *, filename: str, points: int, replaced: int) -> None:
    """`stations.demand_import`: an organisation's demand points replaced from a sheet."""
    audit_record(
        actor=actor,
        action="stations.demand_import",
        object_type="organisation",
        object_id=org.id,
        object_label=org.name,
        object_org_path=org.path,
        details={"file": filename, "points": points, "replaced": replaced},
    )
