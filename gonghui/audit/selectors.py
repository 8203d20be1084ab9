"""Reading the audit trail: only the audit administrator, and only events of actors in their subtree."""

from datetime import date, datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone

from gonghui.audit.models import AuditEvent
from gonghui.common.actor import Actor
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


def audit_event_list(
    *,
    actor: Actor,
    action: str | None = None,
    actor_label: str | None = None,
    object_type: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    events = audit_events_visible_to(actor)
    if action:
        events = events.filter(action=action)
    if actor_label:
        events = events.filter(actor_label=actor_label)
    if object_type:
        events = events.filter(object_type=object_type)
    if date_from:
        events = events.filter(at__gte=timezone.make_aware(datetime.combine(date_from, time.min)))
    if date_to:
        events = events.filter(at__lte=timezone.make_aware(datetime.combine(date_to, time.max)))
    return events.order_by("-at")
