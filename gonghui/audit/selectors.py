"""Reading the audit trail: only the audit administrator, and only events of actors in their subtree."""

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from gonghui.audit.models import AuditEvent
from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
from gonghui.common.paths import is_root_path
from gonghui.common.roles import Perm


def audit_events_visible_to(actor: Actor) -> QuerySet[AuditEvent]:
    """Events whose actor, or whose object, lies in the auditor's subtree. Platform events (commands, jobs), failed
    sign-ins (anonymous actor) and members' own events that concern no union yet (sign-in and binding attempts of a
    worker not on the registry) carry no organisation and are read at the root only."""
    actor.require(Perm.AUDIT_VIEW)
    in_scope = Q(actor_org_path__startswith=actor.scope_path) | Q(
        object_org_path__startswith=actor.scope_path, object_org_path__gt=""
    )
    if is_root_path(actor.scope_path):
        in_scope |= Q(actor_org_path="") | Q(actor_kind="anonymous") | Q(actor_kind="member")
    return AuditEvent.objects.filter(in_scope)


@dataclass(frozen=True)
class AuditFilters:
    """What an auditor narrows the trail to. Days are the product's days (Asia/Shanghai), both ends included.

    `org_path` selects the subtree of one organisation: events whose actor belongs to it or whose object lies in it.
    `org_id` is that organisation's id, kept to name it in the record of an export. `actor` matches part of the
    actor's name as recorded; `object` matches part of the object's label or its exact id."""

    start: date | None = None
    end: date | None = None
    action: str = ""
    actor: str = ""
    actor_role: str = ""
    org_path: str = ""
    org_id: str = ""
    object_type: str = ""
    object: str = ""
    audit_result: str = ""

    def as_details(self) -> dict[str, Any]:
        """The filters that are set, as they are recorded in the audit event of an export (no path: the org's id)."""
        values: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "org_path" or value in (None, ""):
                continue
            key = "org" if field.name == "org_id" else field.name
            values[key] = value.isoformat() if isinstance(value, date) else value
        return values


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_event_list(*, actor: Actor, filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """The auditor's events narrowed by `filters`, newest first. An organisation outside the auditor's subtree is
    reported like a missing one."""
    events = audit_events_visible_to(actor)
    f = filters or AuditFilters()
    if f.org_path:
        if not actor.covers_path(f.org_path):
            raise NotFound()
        events = events.filter(
            Q(actor_org_path__startswith=f.org_path) | Q(object_org_path__startswith=f.org_path, object_org_path__gt="")
        )
    if f.action:
        events = events.filter(action=f.action)
    if f.actor:
        events = events.filter(actor_label__icontains=f.actor)
    if f.actor_role:
        events = events.filter(actor_role=f.actor_role)
    if f.object_type:
        events = events.filter(object_type=f.object_type)
    if f.object:
        events = events.filter(Q(object_label__icontains=f.object) | Q(object_id=f.object))
    if f.audit_result:
        events = events.filter(result=f.audit_result)
    if f.start:
        events = events.filter(at__gte=_day_start(f.start))
    if f.end:
        events = events.filter(at__lt=_day_start(f.end + timedelta(days=1)))
    return events.order_by("-at", "-id")
