"""The API's shared answers. Each is declared once, as a schema that reads the model through its resolvers.
Schemas carry comments, not docstrings: a docstring would become the schema's description in the OpenAPI document."""

from datetime import date
from uuid import UUID

from ninja import Schema

from gonghui.common.masking import mask_phone
from gonghui.orgs.selectors import org_breadcrumbs, org_scope_root


class ErrorOut(Schema):
    code: str
    message: str
    errors: dict[str, str] | None = None


class UnionBrief(Schema):
    # A union as the member endpoints name it.

    id: UUID
    name: str
    code: str


class OrgBrief(Schema):
    id: UUID
    name: str
    code: str
    org_type: str
    org_type_label: str
    level: str
    status: str
    has_children: bool

    @staticmethod
    def resolve_org_type_label(org) -> str:
        return org.get_org_type_display()

    @staticmethod
    def resolve_has_children(org) -> bool:
        return org.numchild > 0


class OrgDetail(OrgBrief):
    parent_id: UUID | None
    depth: int
    region_code: str
    uscc: str | None
    founded_on: date | None
    term_ends_on: date | None
    address: str
    contact_person: str
    contact_phone_masked: str
    children_count: int
    breadcrumbs: list[OrgBrief]

    @staticmethod
    def resolve_parent_id(org, context):
        crumbs = _crumbs(org, context)
        return crumbs[-2].id if len(crumbs) > 1 else None

    @staticmethod
    def resolve_contact_phone_masked(org) -> str:
        return mask_phone(org.contact_phone)

    @staticmethod
    def resolve_children_count(org) -> int:
        return org.numchild

    @staticmethod
    def resolve_breadcrumbs(org, context) -> list:
        return _crumbs(org, context)[:-1]


def _crumbs(org, context) -> list:
    """The organisation's ancestors within the caller's scope, and itself; read once per answer."""
    read = context.setdefault("breadcrumbs", {})
    if org.id not in read:
        read[org.id] = org_breadcrumbs(actor=context["request"].actor, org=org)
    return read[org.id]


class OrgPage(Schema):
    count: int
    items: list[OrgBrief]


class MeOut(Schema):
    # The caller (an actor) and the root of its scope.

    kind: str
    label: str
    role: str
    org: OrgBrief

    @staticmethod
    def resolve_org(actor):
        return org_scope_root(actor=actor)
