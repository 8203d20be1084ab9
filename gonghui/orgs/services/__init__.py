"""Writes to the organisation tree and the employer registry. Each service validates, checks the actor's scope
and role, writes in one transaction and records the audit event in the same transaction."""

from gonghui.orgs.services.employers import employer_bulk_create, employer_create, employer_update, employer_validate
from gonghui.orgs.services.fields import (
    LEVEL_RANK,
    ORG_EDITABLE_FIELDS,
    REVEAL_REASON_MAX,
    EmployerFields,
    OrgFields,
    check_placement,
    clean_org_fields,
    org_validate,
    require_structure_below_scope_root,
)
from gonghui.orgs.services.organisations import (
    org_contact_phone_reveal,
    org_create,
    org_dissolve,
    org_fields_locked,
    org_merge,
    org_move,
    org_update,
)
from gonghui.orgs.services.tree_bulk import OrgSpec, org_tree_bulk_create

__all__ = [
    "EmployerFields",
    "LEVEL_RANK",
    "ORG_EDITABLE_FIELDS",
    "OrgFields",
    "OrgSpec",
    "REVEAL_REASON_MAX",
    "employer_bulk_create",
    "employer_create",
    "employer_update",
    "employer_validate",
    "org_contact_phone_reveal",
    "org_create",
    "org_dissolve",
    "org_fields_locked",
    "org_merge",
    "org_move",
    "org_tree_bulk_create",
    "org_update",
    "org_validate",
    "check_placement",
    "clean_org_fields",
    "require_structure_below_scope_root",
]
