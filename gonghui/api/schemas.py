from datetime import date
from uuid import UUID

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    errors: dict[str, str] | None = None


class OrgBrief(Schema):
    id: UUID
    name: str
    code: str
    org_type: str
    org_type_label: str
    level: str
    status: str
    has_children: bool


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


class OrgPage(Schema):
    count: int
    items: list[OrgBrief]


class MeOut(Schema):
    kind: str
    label: str
    role: str
    org: OrgBrief
