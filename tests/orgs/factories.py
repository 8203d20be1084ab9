"""Helpers of the organisation-service tests: the fixture tree's paths, and the state of the tree, the employers and the
audit trail, to prove a refused call changed nothing."""

from gonghui.audit.models import AuditEvent
from gonghui.orgs.models import Employer, Organisation

CLEAN_TREE = ([], [], [], [], [])

# Paths of the conftest federation (treebeard, 4-character base-36 steps, children numbered in creation order).
INITIAL_PATHS = {
    "SZ": "0001",
    "SZ-GS": "00010001",
    "SZ-GS-T01": "000100010001",
    "SZ-GS-T01-C1": "0001000100010001",
    "SZ-GS-T01-12": "0001000100010002",
    "SZ-GS-T01-123": "0001000100010003",
    "SZ-GS-T02": "000100010002",
    "SZ-GS-T02-E1": "0001000100020001",
    "SZ-WZ": "00010002",
    "SZ-WZ-T01": "000100020001",
    "SZ-WZ-T01-E1": "0001000200010001",
}


def org_state():
    """Everything a structural change could touch, per organisation."""
    return {
        row[0]: row[1:]
        for row in Organisation.objects.order_by("code").values_list(
            "code", "path", "depth", "numchild", "status", "merged_into_id", "name", "org_type", "level", "updated_at"
        )
    }


def employer_state():
    return {
        row[0]: row[1:]
        for row in Employer.objects.order_by("uscc").values_list(
            "uscc", "name", "employee_count", "industry", "town_org_id", "covering_union_id", "updated_at"
        )
    }


def paths():
    return dict(Organisation.objects.values_list("code", "path"))


def numchild():
    return dict(Organisation.objects.values_list("code", "numchild"))


def audit_actions():
    return list(AuditEvent.objects.order_by("at", "id").values_list("action", flat=True))
