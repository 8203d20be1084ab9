"""Reads of the member registry. Every function starts from the actor's subtree: a membership is visible when its
union lies in the actor's subtree; a person when one of their memberships, a pending application or an open
transfer into the subtree is. Anything else is reported exactly like a missing record (NotFound).

A union reads a member it has lost as it held them: an ended membership whose person holds no membership in the
actor's subtree carries the person's profile as it was when the membership ended (`profile_at_end`), not the
record that other unions go on to change, and a transfer's destination outside the subtree is "another union"."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.query import ModelIterable
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
from gonghui.common.ids import parse_public_id
from gonghui.common.masking import mask_name
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
    MembershipSource,
    MembershipStatus,
    Person,
    TransferRequest,
    TransferStatus,
)
from gonghui.members.people import person_from_snapshot
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import active_unions


def _parse(value: UUID | str) -> UUID:
    parsed = value if isinstance(value, UUID) else parse_public_id(value)
    if parsed is None:
        raise NotFound()
    return parsed


OTHER_UNION = "其他工会"
TRANSFERRED_ELSEWHERE = "已转出至其他工会"
_SEEN_BATCH = 500


class _MembershipsSeenFrom(QuerySet[Membership]):
    """Memberships as a subtree sees them (see the module docstring). The scope travels with every clone, so each
    list, page, search, `get` or `iterator` built on `memberships_visible_to` yields the rows already shaped,
    batch by batch (one query per batch, none when every row is held)."""

    seen_from: str = ""

    def _clone(self):
        clone = super()._clone()
        clone.seen_from = self.seen_from
        return clone


class _SeenFromIterable(ModelIterable):
    def __iter__(self):
        batch: list[Membership] = []
        for membership in super().__iter__():
            batch.append(membership)
            if len(batch) == _SEEN_BATCH:
                yield from memberships_as_seen_from(self.queryset.seen_from, batch)
                batch = []
        yield from memberships_as_seen_from(self.queryset.seen_from, batch)


def memberships_as_seen_from(scope_path: str, memberships: list[Membership]) -> list[Membership]:
    """Shape loaded memberships for a viewer whose subtree is `scope_path`, in place: an ended membership of a
    person who holds no membership in the subtree gets the person as they were at its end (an unsaved stand-in),
    and `seen_at_end` set; a transfer out to a union outside the subtree reads "已转出至其他工会". Held
    memberships are left as they are."""
    ended = [m for m in memberships if m.status not in HOLDING_STATUSES]
    if not ended:
        return memberships
    held_here = set(
        Membership.objects.filter(
            person_id__in={m.person_id for m in ended}, status__in=HOLDING_STATUSES, org__path__startswith=scope_path
        ).values_list("person_id", flat=True)
    )
    moved = [m.id for m in ended if m.status == MembershipStatus.TRANSFERRED_OUT]
    destination = dict(
        Membership.objects.filter(previous_id__in=moved).values_list("previous_id", "org__path") if moved else []
    )
    for membership in ended:
        moved_out_of_sight = not destination.get(membership.id, "~").startswith(scope_path)
        if membership.status == MembershipStatus.TRANSFERRED_OUT and moved_out_of_sight:
            membership.end_reason = TRANSFERRED_ELSEWHERE
        membership.seen_at_end = membership.person_id not in held_here
        if membership.seen_at_end:
            membership.person = person_from_snapshot(
                membership.person_id, membership.profile_at_end, name_masked=mask_name(membership.person.name)
            )
    return memberships


def memberships_visible_to(actor: Actor) -> QuerySet[Membership]:
    actor.require(Perm.MEMBERS_VIEW)
    scoped = _MembershipsSeenFrom(model=Membership)
    memberships: _MembershipsSeenFrom = scoped.filter(org__path__startswith=actor.scope_path)
    memberships.seen_from = actor.scope_path
    memberships._iterable_class = _SeenFromIterable
    return memberships.select_related("person", "org")


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
    """The memberships, applications and transfers of a visible person that lie in the actor's subtree, newest
    first. A union outside it is named only as "其他工会" (`from_label`, `to_label` of a transfer)."""
    person_get(actor=actor, person_id=person.id)
    memberships = memberships_visible_to(actor).filter(person_id=person.id)
    applications = join_applications_visible_to(actor).filter(person_id=person.id)
    transfers = list(transfers_visible_to(actor).filter(person_id=person.id).order_by("-requested_at"))
    for transfer in transfers:
        transfer.from_label = transfer.from_org.name if actor.covers_path(transfer.from_org.path) else OTHER_UNION
        transfer.to_label = transfer.to_org.name if actor.covers_path(transfer.to_org.path) else OTHER_UNION
    return {
        "memberships": list(memberships.order_by("-joined_on", "-created_at")),
        "applications": list(applications.order_by("-submitted_at")),
        "transfers": transfers,
    }


def person_profile_in_scope(*, actor: Actor, person: Person, application: JoinApplication | None = None) -> bool:
    """Whether the actor may read the person's current profile (phone, work unit, ...) beside a case such as a
    join application: the person holds a membership in the actor's subtree; or holds none and nothing of the
    record (no membership, no application) lies outside the subtree; or the person applied to this union
    themself. A record another union holds or has held is not shown to a cadre who typed its number."""
    scope = actor.scope_path
    holding = Membership.objects.filter(person=person, status__in=HOLDING_STATUSES).select_related("org").first()
    if holding is not None:
        return actor.covers_path(holding.org.path)
    if application is not None and application.source == MembershipSource.ONLINE:
        return True
    outside = Q(person=person) & ~Q(org__path__startswith=scope)
    return not (Membership.objects.filter(outside).exists() or JoinApplication.objects.filter(outside).exists())


def membership_holding_named_for(*, actor: Actor, person: Person) -> tuple[Membership | None, str]:
    """The person's current membership and the name of its union as the actor may read it: the union's name when
    it lies in the actor's subtree, else "其他工会"."""
    holding = membership_holding(person)
    if holding is None:
        return None, ""
    return holding, holding.org.name if actor.covers_path(holding.org.path) else OTHER_UNION


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
    return list(_union_directory_matches(text).order_by("name")[:limit])


def _union_directory_matches(text: str) -> QuerySet[Organisation]:
    return active_unions().filter(Q(name__icontains=text) | Q(code__iexact=text))


def union_directory_get(*, org_id: UUID | str) -> Organisation:
    try:
        return active_unions().get(id=_parse(org_id))
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


def registry_work_in(org: Organisation, today: date) -> dict:
    """The registry's work waiting in `org`'s subtree, for the dashboard: applications and transfers (at the step of
    a union in it) as {"open", "overdue"} counted in one pass each, and the pending corrections' count. Unscoped:
    the statistics check the actor before reading."""
    overdue = Q(due_on__lt=today)

    def counted(queryset) -> dict:
        return queryset.aggregate(open=Count("pk"), overdue=Count("pk", filter=overdue))

    inside = org.path
    return {
        "applications": counted(
            JoinApplication.objects.filter(status=ApplicationStatus.PENDING, org__path__startswith=inside)
        ),
        "transfers": counted(
            TransferRequest.objects.filter(
                Q(status=TransferStatus.PENDING_RELEASE, from_org__path__startswith=inside)
                | Q(status=TransferStatus.PENDING_ACCEPT, to_org__path__startswith=inside)
            )
        ),
        "corrections": CorrectionRequest.objects.filter(
            status=CorrectionStatus.PENDING, org__path__startswith=inside
        ).count(),
    }


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
    return list(_unions_for_employer_matches(text).order_by("name")[:limit])


def _unions_for_employer_matches(text: str) -> QuerySet[Organisation]:
    return active_unions().filter(employers_covered__name__icontains=text).distinct()


def union_search_match_count(*, query: str, by_employer: bool = False) -> int:
    """How many unions the directory search (by_employer: the employer search) matches in all, so that a page
    showing the first ones can say how many there are."""
    text = (query or "").strip()
    if len(text) < 2:
        return 0
    return (_unions_for_employer_matches if by_employer else _union_directory_matches)(text).count()


# ---------------------------------------------------------------- for other domains' services (unscoped: the caller
# has checked the actor; each names what it returns)


def holding_memberships(person: Person) -> QuerySet[Membership]:
    """The memberships `person` holds (正式会员 or 保留会籍), with the union."""
    return Membership.objects.filter(person=person, status__in=HOLDING_STATUSES).select_related("org")


def holding_membership_by_card(card_number: str, *, within: Organisation) -> QuerySet[Membership]:
    """The held membership with this card number in `within`'s subtree, with the person."""
    return Membership.objects.filter(
        card_number=card_number, status__in=HOLDING_STATUSES, org__path__startswith=within.path
    ).select_related("person")


def active_memberships_in(union: Organisation) -> QuerySet[Membership]:
    """The 正式会员 memberships of one union (not its subtree)."""
    return Membership.objects.filter(org=union, status=MembershipStatus.ACTIVE)


def person_for_update(person_id) -> Person:
    """The person's record, locked until the caller's transaction ends (a service of another domain that writes
    about this person, e.g. a case opened for them)."""
    return Person.objects.select_for_update().get(pk=person_id)
