"""Finding members: by document number (exact, through the blind index), phone (exact, blind index), card number,
name (exact or prefix) and union. Scoped to the actor's subtree, paginated, rate-limited per actor. A search by a
personal number is recorded in the audit trail (the number itself never is)."""

from dataclasses import dataclass

from django.db import connections
from django.db.models import F, QuerySet
from django.db.models.functions import Collate

from gonghui.common.actor import Actor
from gonghui.common.errors import ValidationFailed
from gonghui.common.masking import mask_document_number, mask_phone
from gonghui.common.ratelimit import rate_limit_require
from gonghui.common.validators import to_half_width
from gonghui.members import events
from gonghui.members.documents import DocType, DocumentInvalid, clean_number, normalise_document
from gonghui.members.models import HOLDING_STATUSES, Membership, MembershipStatus
from gonghui.members.people import document_index, normalise_mobile, phone_index
from gonghui.members.selectors import memberships_visible_to
from gonghui.orgs.models import Organisation

SEARCHES_PER_MINUTE = 30
SEARCHES_LIMITED_MESSAGE = "查询过于频繁，请一分钟后再试"
PAGE_SIZE_MAX = 100


@dataclass(frozen=True)
class MemberQuery:
    doc_type: str = DocType.RESIDENT_ID
    doc_number: str = ""
    phone: str = ""
    card_number: str = ""
    name: str = ""
    name_prefix: bool = False
    org: Organisation | None = None  # limit to this union's subtree (must be visible)
    status: str = ""  # "" = holding membership (正式会员 + 保留会籍); "all" = every status; or one status

    @property
    def by_personal_number(self) -> bool:
        return bool(self.doc_number or self.phone)

    @property
    def is_empty(self) -> bool:
        return not (self.doc_number or self.phone or self.card_number or self.name or self.org)


def _document_filter(query: MemberQuery) -> dict:
    if query.doc_type == DocType.PASSPORT or query.doc_type == DocType.FOREIGN_PERMANENT:
        number = clean_number(query.doc_number)
        return {"person__doc_type": query.doc_type, "person__doc_index": document_index(query.doc_type, number)}
    try:
        document = normalise_document(query.doc_type, query.doc_number)
    except DocumentInvalid as exc:
        raise ValidationFailed({"doc_number": str(exc)}) from None
    return {
        "person__doc_type": document.doc_type,
        "person__doc_index": document_index(document.doc_type, document.number),
    }


def member_search(*, actor: Actor, query: MemberQuery) -> QuerySet[Membership]:
    """Memberships matching every given criterion, newest first. Raises ValidationFailed for an empty or malformed
    query, RateLimited past SEARCHES_PER_MINUTE per actor."""
    memberships = memberships_visible_to(actor)
    if query.is_empty:
        raise ValidationFailed({"query": "请至少输入一个查询条件"})
    search_allowance_require(actor)
    filters: dict = {}
    audit_criteria: dict = {}
    if query.doc_number:
        filters.update(_document_filter(query))
        audit_criteria["doc"] = mask_document_number(clean_number(query.doc_number))
    if query.phone:
        try:
            phone = normalise_mobile(query.phone)
        except ValueError as exc:
            raise ValidationFailed({"phone": str(exc)}) from None
        filters["person__phone_index"] = phone_index(phone)
        audit_criteria["mobile"] = mask_phone(phone)
    if query.card_number:
        filters["card_number"] = to_half_width(query.card_number).replace(" ", "")
    name_order = None
    if query.name:
        name = to_half_width(query.name).replace(" ", "")
        if query.name_prefix:
            name_order = _name_in_code_point_order(memberships)
            memberships = memberships.alias(name_key=name_order)
            filters["name_key__startswith"] = name
        else:
            filters["person__name"] = name
    if query.org is not None:
        if not actor.covers_path(query.org.path):
            raise ValidationFailed({"org": "所选工会不在您的管辖范围内"})
        filters["org__path__startswith"] = query.org.path
    if query.status == "":
        filters["status__in"] = HOLDING_STATUSES
    elif query.status != "all":
        if query.status not in MembershipStatus.values:
            raise ValidationFailed({"status": "会籍状态不正确"})
        filters["status"] = query.status
    if query.by_personal_number:
        events.search_by_number(
            actor, org_path=query.org.path if query.org else actor.scope_path, criteria=audit_criteria
        )
    ordering = ("name_key", "id") if name_order is not None else ("-created_at",)
    return memberships.filter(**filters).order_by(*ordering)


def search_allowance_require(actor: Actor) -> None:
    """Count one search against the actor's SEARCHES_PER_MINUTE (every way of looking a member up shares it)."""
    rate_limit_require(
        f"member-search:{actor.kind}:{actor.id or actor.label}",
        limit=SEARCHES_PER_MINUTE,
        window_seconds=60,
        message=SEARCHES_LIMITED_MESSAGE,
    )


@dataclass
class RegistryLookup:
    """A cadre's lookup of a document number in the whole registry while enrolling a member or entering an
    application. The answer says whether the person is registered (and, with the right name, a member elsewhere),
    so it counts against the search limit when it starts, and is audited as a search by number once the number has
    actually been looked up (`looked_up`), whatever the outcome."""

    actor: Actor
    org_path: str
    purpose: str
    criteria: dict | None = None

    def looked_up(self, number: str) -> None:
        self.criteria = {"doc": mask_document_number(number)}


def registry_lookup_start(*, actor: Actor, org: Organisation, purpose: str) -> RegistryLookup | None:
    """Count the lookup (RateLimited past the actor's SEARCHES_PER_MINUTE, shared with the search). The platform's
    own actor (demo data, commands) is not limited; a member applying in the portal has the portal's own limits."""
    if actor.kind not in ("user", "token"):
        return None
    search_allowance_require(actor)
    return RegistryLookup(actor=actor, org_path=org.path, purpose=purpose)


def registry_lookup_record(lookup: RegistryLookup | None) -> None:
    """Audit a lookup that happened. Called after the service's transaction, so that a refusal (which rolls that
    transaction back) is still on the trail."""
    if lookup is not None and lookup.criteria is not None:
        events.search_by_number(
            lookup.actor, org_path=lookup.org_path, criteria=lookup.criteria, purpose=lookup.purpose
        )


def _name_in_code_point_order(memberships: QuerySet[Membership]):
    """The person's name for prefix search and its ordering. On PostgreSQL it is compared in the "C" collation, the
    collation of the column itself (migration 0006) and so of its index `person_name_birth_idx`: LIKE 'prefix%'
    becomes an index range and ORDER BY name walks the same index. SQLite compares by code point anyway."""
    if memberships.db == "default" and connections["default"].vendor == "postgresql":
        return Collate("person__name", "C")
    return F("person__name")
