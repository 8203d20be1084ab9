"""Reads of the member registry. Every function starts from the actor's subtree: a membership is visible when its
union lies in the actor's subtree; a person when one of their memberships, a pending application or an open
transfer into the subtree is. Anything else is reported exactly like a missing record (NotFound)."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
from gonghui.common.ids import parse_public_id
from gonghui.common.roles import Perm
from gonghui.members.models import (
    HOLDING_STATUSES,
    OPEN_TRANSFER_STATUSES,
    ApplicationStatus,
    CorrectionRequest,
    CorrectionStatus,
    DeclaredTotal,
    JoinApplication,
    MemberAccount,
    Membership,
    Person,
    TransferRequest,
    TransferStatus,
)
from gonghui.orgs.models import GRASSROOTS_TYPES, Organisation, OrgStatus


def _parse(value: UUID | str) -> UUID:
    parsed = value if isinstance(value, UUID) else parse_public_id(value)
    if parsed is None:
        raise NotFound()
    return parsed


def memberships_visible_to(actor: Actor) -> QuerySet[Membership]:
    actor.require(Perm.MEMBERS_VIEW)
    return Membership.objects.filter(org__path__startswith=actor.scope_path).select_related("person", "org")


def membership_get(*, actor: Actor, membership_id: UUID | str) -> Membership:
    try:
        return memberships_visible_to(actor).get(id=_parse(membership_id))
    except Membership.DoesNotExist:
        raise NotFound() from None


def membership_holding(person: Person) -> Membership | None:
    """The person's current membership (正式会员 or 保留会籍), wherever it is. For services deciding a case."""
    return Membership.objects.filter(person=person, status__in=HOLDING_STATUSES).select_related("org").first()


def persons_visible_to(actor: Actor) -> QuerySet[Person]:
    actor.require(Perm.MEMBERS_VIEW)
    scope = actor.scope_path
    in_scope_membership = Membership.objects.filter(person=OuterRef("pk"), org__path__startswith=scope)
    pending_application = JoinApplication.objects.filter(
        person=OuterRef("pk"), status=ApplicationStatus.PENDING, org__path__startswith=scope
    )
    incoming_transfer = TransferRequest.objects.filter(
        person=OuterRef("pk"), status__in=OPEN_TRANSFER_STATUSES, to_org__path__startswith=scope
    )
    return Person.objects.filter(Exists(in_scope_membership) | Exists(pending_application) | Exists(incoming_transfer))


def person_get(*, actor: Actor, person_id: UUID | str) -> Person:
    try:
        return persons_visible_to(actor).get(id=_parse(person_id))
    except Person.DoesNotExist:
        raise NotFound() from None


def person_history(*, actor: Actor, person: Person) -> dict:
    """All memberships, applications and transfers of a visible person, newest first."""
    person_get(actor=actor, person_id=person.id)
    return {
        "memberships": list(person.memberships.select_related("org").order_by("-joined_on", "-created_at")),
        "applications": list(person.applications.select_related("org").order_by("-submitted_at")),
        "transfers": list(person.transfers.select_related("from_org", "to_org").order_by("-requested_at")),
    }


# ---------------------------------------------------------------- join applications


def join_applications_visible_to(actor: Actor) -> QuerySet[JoinApplication]:
    actor.require(Perm.MEMBERS_VIEW)
    return JoinApplication.objects.filter(org__path__startswith=actor.scope_path).select_related("person", "org")


def join_application_get(*, actor: Actor, application_id: UUID | str) -> JoinApplication:
    try:
        return join_applications_visible_to(actor).get(id=_parse(application_id))
    except JoinApplication.DoesNotExist:
        raise NotFound() from None


def join_applications_pending(*, actor: Actor) -> QuerySet[JoinApplication]:
    return join_applications_visible_to(actor).filter(status=ApplicationStatus.PENDING).order_by("due_on")


def join_applications_overdue(*, actor: Actor, today: date | None = None) -> QuerySet[JoinApplication]:
    """Pending past their deadline; an upper union sees those of every union below it."""
    return join_applications_pending(actor=actor).filter(due_on__lt=today or timezone.localdate())


# ---------------------------------------------------------------- transfers


def transfers_visible_to(actor: Actor) -> QuerySet[TransferRequest]:
    """Outgoing and incoming transfers of the subtree."""
    actor.require(Perm.MEMBERS_VIEW)
    scope = actor.scope_path
    return TransferRequest.objects.filter(
        Q(from_org__path__startswith=scope) | Q(to_org__path__startswith=scope)
    ).select_related("person", "from_org", "to_org", "common_parent")


def transfer_get(*, actor: Actor, transfer_id: UUID | str) -> TransferRequest:
    try:
        return transfers_visible_to(actor).get(id=_parse(transfer_id))
    except TransferRequest.DoesNotExist:
        raise NotFound() from None


def transfers_awaiting(*, actor: Actor) -> QuerySet[TransferRequest]:
    """Transfers waiting for this subtree: to release (outgoing) or to accept (incoming)."""
    scope = actor.scope_path
    return (
        transfers_visible_to(actor)
        .filter(
            Q(status=TransferStatus.PENDING_RELEASE, from_org__path__startswith=scope)
            | Q(status=TransferStatus.PENDING_ACCEPT, to_org__path__startswith=scope)
        )
        .order_by("due_on")
    )


def transfers_escalated(*, actor: Actor) -> QuerySet[TransferRequest]:
    """Overdue transfers escalated to a common parent inside the actor's subtree."""
    actor.require(Perm.MEMBERS_VIEW)
    return (
        TransferRequest.objects.filter(
            status__in=OPEN_TRANSFER_STATUSES,
            escalated_at__isnull=False,
            common_parent__path__startswith=actor.scope_path,
        )
        .select_related("person", "from_org", "to_org", "common_parent")
        .order_by("due_on")
    )


def union_directory_search(*, query: str, limit: int = 20) -> list[Organisation]:
    """Active grassroots unions anywhere in the tree by name or code: the public directory a member or cadre uses
    to pick a transfer target or a union to join. Shows names and codes only, never members."""
    text = (query or "").strip()
    if len(text) < 2:
        return []
    limit = max(1, min(limit, 50))
    found = Organisation.objects.filter(org_type__in=GRASSROOTS_TYPES, status=OrgStatus.ACTIVE).filter(
        Q(name__icontains=text) | Q(code__iexact=text)
    )
    return list(found.order_by("name")[:limit])


def union_directory_get(*, org_id: UUID | str) -> Organisation:
    try:
        return Organisation.objects.get(id=_parse(org_id), org_type__in=GRASSROOTS_TYPES, status=OrgStatus.ACTIVE)
    except Organisation.DoesNotExist:
        raise NotFound("找不到该基层工会，或该工会已撤销") from None


# ---------------------------------------------------------------- declared totals


def declared_totals_visible_to(actor: Actor) -> QuerySet[DeclaredTotal]:
    actor.require(Perm.MEMBERS_VIEW)
    return DeclaredTotal.objects.filter(org__path__startswith=actor.scope_path).select_related("org")


def declared_total_latest(org: Organisation) -> DeclaredTotal | None:
    return org.declared_totals.order_by("-as_of", "-recorded_at").first()


@dataclass(frozen=True)
class MemberCounts:
    holding: int
    active: int
    reserved: int


def member_counts(*, actor: Actor, org: Organisation) -> MemberCounts:
    """Members holding membership in `org`'s subtree (org must be visible to the actor)."""
    actor.require(Perm.MEMBERS_VIEW)
    if not actor.covers_path(org.path):
        raise NotFound()
    memberships = Membership.objects.filter(org__path__startswith=org.path)
    active = memberships.filter(status="active").count()
    reserved = memberships.filter(status="reserved").count()
    return MemberCounts(holding=active + reserved, active=active, reserved=reserved)


# ---------------------------------------------------------------- correction requests (cadre side)


def corrections_visible_to(actor: Actor) -> QuerySet[CorrectionRequest]:
    actor.require(Perm.MEMBERS_VIEW)
    return CorrectionRequest.objects.filter(org__path__startswith=actor.scope_path).select_related("person", "org")


def correction_get(*, actor: Actor, correction_id: UUID | str) -> CorrectionRequest:
    try:
        return corrections_visible_to(actor).get(id=_parse(correction_id))
    except CorrectionRequest.DoesNotExist:
        raise NotFound() from None


def corrections_pending(*, actor: Actor) -> QuerySet[CorrectionRequest]:
    return corrections_visible_to(actor).filter(status=CorrectionStatus.PENDING).order_by("submitted_at")


# ---------------------------------------------------------------- the member's own record (portal)
# Each takes the signed-in MemberAccount and reads only the person bound to it. Someone else's id is NotFound.


def own_person(*, account: MemberAccount) -> Person | None:
    if account.person_id is None:
        return None
    return Person.objects.get(pk=account.person_id)


def own_memberships(*, account: MemberAccount) -> list[Membership]:
    if account.person_id is None:
        return []
    found = Membership.objects.filter(person_id=account.person_id).select_related("org")
    return list(found.order_by("-created_at"))


def own_applications(*, account: MemberAccount) -> list[JoinApplication]:
    if account.person_id is None:
        return []
    found = JoinApplication.objects.filter(person_id=account.person_id).select_related("org", "membership")
    return list(found.order_by("-submitted_at"))


def own_application_get(*, account: MemberAccount, application_id: UUID | str) -> JoinApplication:
    if account.person_id is None:
        raise NotFound()
    try:
        return JoinApplication.objects.select_related("org", "membership", "person").get(
            id=_parse(application_id), person_id=account.person_id
        )
    except JoinApplication.DoesNotExist:
        raise NotFound() from None


def own_transfers(*, account: MemberAccount) -> list[TransferRequest]:
    if account.person_id is None:
        return []
    found = TransferRequest.objects.filter(person_id=account.person_id).select_related("from_org", "to_org")
    return list(found.order_by("-requested_at"))


def own_transfer_get(*, account: MemberAccount, transfer_id: UUID | str) -> TransferRequest:
    if account.person_id is None:
        raise NotFound()
    try:
        return TransferRequest.objects.select_related("from_org", "to_org", "person", "new_membership").get(
            id=_parse(transfer_id), person_id=account.person_id
        )
    except TransferRequest.DoesNotExist:
        raise NotFound() from None


def own_corrections(*, account: MemberAccount) -> list[CorrectionRequest]:
    if account.person_id is None:
        return []
    found = CorrectionRequest.objects.filter(person_id=account.person_id).select_related("org")
    return list(found.order_by("-submitted_at"))


def unions_for_employer_search(*, query: str, limit: int = 20) -> list[Organisation]:
    """Open grassroots unions covering an employer whose name matches: a worker knows their employer's name
    better than their union's."""
    text = (query or "").strip()
    if len(text) < 2:
        return []
    limit = max(1, min(limit, 50))
    found = Organisation.objects.filter(
        org_type__in=GRASSROOTS_TYPES,
        status=OrgStatus.ACTIVE,
        employers_covered__name__icontains=text,
    ).distinct()
    return list(found.order_by("name")[:limit])
