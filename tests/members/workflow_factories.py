"""Helpers of the registry workflow tests: the unions they use, card numbers, the audit trail as text, and a join
application in one call."""

import json
from datetime import date

from django.utils import timezone
from stdnum import luhn

from gonghui.audit.models import AuditEvent
from gonghui.members.services import join_application_submit
from tests.members.factories import COMPLETE_PROFILE, resident_id

E12 = "SZ-GS-T01-12"
E123 = "SZ-GS-T01-123"
WZE1 = "SZ-WZ-T01-E1"
T01 = "SZ-GS-T01"
PHONE = "13812341234"
BIRTH = date(1990, 5, 17)
NO_MEMBER_PERMS = ("sysadmin", "secadmin", "auditor")


def today() -> date:
    return timezone.localdate()


def card_for(region: str, serial: int, year: int | None = None) -> str:
    body = f"{region}{year or today().year:04d}{serial:06d}"
    return body + luhn.calc_check_digit(body)


def audit_actions() -> list[str]:
    """The trail written after the fixtures (which create the organisations), oldest first."""
    events = AuditEvent.objects.exclude(action__startswith="org.").order_by("at", "id")
    return list(events.values_list("action", flat=True))


def audit_text() -> str:
    """Every label and detail of the trail as one string, to search for personal numbers."""
    rows = AuditEvent.objects.values("object_label", "details", "object_id")
    return json.dumps(list(rows), ensure_ascii=False, default=str)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def submit(actor, org, *, name="李四", seq=2, birth=BIRTH, **extra):
    fields = {**COMPLETE_PROFILE, **extra}
    return join_application_submit(
        actor=actor,
        org=org,
        doc_type=fields.pop("doc_type", "resident_id"),
        doc_number=fields.pop("doc_number", resident_id(birth, seq)),
        name=name,
        **fields,
    )
