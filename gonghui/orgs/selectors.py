"""Reads of the organisation tree. Every function takes the actor and starts from the actor's subtree; an
organisation outside it is reported exactly like a missing one (NotFound)."""

from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
from gonghui.common.ids import parse_public_id
from gonghui.common.paths import ancestor_paths
from gonghui.common.roles import Perm
from gonghui.orgs.models import GRASSROOTS_TYPES, Employer, Organisation, OrgStatus

SEARCH_LIMIT_MAX = 50


def orgs_visible_to(actor: Actor) -> QuerySet[Organisation]:
    actor.require(Perm.ORGS_VIEW)
    return Organisation.objects.filter(path__startswith=actor.scope_path)


def subtree_of(org: Organisation) -> QuerySet[Organisation]:
    """The organisation and all its descendants (an indexed prefix on fixed-width paths)."""
    return Organisation.objects.filter(path__startswith=org.path)


def org_get(*, actor: Actor, org_id: UUID | str) -> Organisation:
    parsed = org_id if isinstance(org_id, UUID) else parse_public_id(org_id)
    if parsed is None:
        raise NotFound()
    try:
        return orgs_visible_to(actor).get(id=parsed)
    except Organisation.DoesNotExist:
        raise NotFound() from None


def org_get_by_code(*, actor: Actor, code: str) -> Organisation:
    try:
        return orgs_visible_to(actor).get(code=(code or "").strip().upper())
    except Organisation.DoesNotExist:
        raise NotFound() from None


def org_scope_root(*, actor: Actor) -> Organisation:
    """The actor's own organisation: the top of what it may see."""
    return org_get(actor=actor, org_id=actor.org_id) if actor.org_id else Organisation.objects.get_first_root_node()


def org_children(*, actor: Actor, org_id: UUID | str) -> QuerySet[Organisation]:
    parent = org_get(actor=actor, org_id=org_id)
    return orgs_visible_to(actor).filter(path__startswith=parent.path, depth=parent.depth + 1).order_by("path")


def org_search(*, actor: Actor, query: str, limit: int = 20, include_inactive: bool = False) -> list[Organisation]:
    """Organisations in scope whose name contains `query` or whose code starts with it; exact code first."""
    text = (query or "").strip()
    if not text:
        return []
    limit = max(1, min(limit, SEARCH_LIMIT_MAX))
    candidates = orgs_visible_to(actor)
    if not include_inactive:
        candidates = candidates.filter(status=OrgStatus.ACTIVE)
    matches = list(
        candidates.filter(Q(name__icontains=text) | Q(code__istartswith=text)).order_by("depth", "path")[:limit]
    )
    exact = [org for org in matches if org.code == text.upper()]
    return exact + [org for org in matches if org.code != text.upper()]


def org_breadcrumbs(*, actor: Actor, org: Organisation) -> list[Organisation]:
    """Ancestors of `org` from the actor's scope root down to `org` itself (nothing above the scope is shown)."""
    paths = [p for p in ancestor_paths(org.path) if p.startswith(actor.scope_path)]
    ancestors = list(Organisation.objects.filter(path__in=paths).order_by("depth"))
    return [*ancestors, org]


@dataclass(frozen=True)
class SubtreeSummary:
    organisations: int
    grassroots_unions: int
    by_type: dict[str, int]
    term_due_within_90_days: int
    term_overdue: int
    employers: int
    employers_covered: int
    employers_25_plus: int
    employers_25_plus_covered: int
    employers_100_plus: int
    employers_100_plus_covered: int


def org_subtree_summary(*, actor: Actor, org: Organisation, today: date | None = None) -> SubtreeSummary:
    """Counts over the active organisations and the employers in `org`'s subtree (org must be visible)."""
    org_get(actor=actor, org_id=org.id)
    today = today or timezone.localdate()
    active = subtree_of(org).filter(status=OrgStatus.ACTIVE)
    by_type = dict(active.values_list("org_type").annotate(n=Count("id")).order_by())
    terms = active.aggregate(
        due=Count("id", filter=Q(term_ends_on__gte=today, term_ends_on__lte=today + timedelta(days=90))),
        overdue=Count("id", filter=Q(term_ends_on__lt=today)),
    )
    employers = Employer.objects.filter(town_org__path__startswith=org.path)
    covered = Q(covering_union__isnull=False)
    figures = employers.aggregate(
        total=Count("id"),
        covered=Count("id", filter=covered),
        big25=Count("id", filter=Q(employee_count__gte=25)),
        big25_covered=Count("id", filter=Q(employee_count__gte=25) & covered),
        big100=Count("id", filter=Q(employee_count__gte=100)),
        big100_covered=Count("id", filter=Q(employee_count__gte=100) & covered),
    )
    return SubtreeSummary(
        organisations=sum(by_type.values()),
        grassroots_unions=sum(n for t, n in by_type.items() if t in GRASSROOTS_TYPES),
        by_type=by_type,
        term_due_within_90_days=terms["due"],
        term_overdue=terms["overdue"],
        employers=figures["total"],
        employers_covered=figures["covered"],
        employers_25_plus=figures["big25"],
        employers_25_plus_covered=figures["big25_covered"],
        employers_100_plus=figures["big100"],
        employers_100_plus_covered=figures["big100_covered"],
    )


def employers_visible_to(actor: Actor) -> QuerySet[Employer]:
    """Employers located in the actor's subtree, or covered by a union in it."""
    actor.require(Perm.EMPLOYERS_VIEW)
    return Employer.objects.filter(
        Q(town_org__path__startswith=actor.scope_path) | Q(covering_union__path__startswith=actor.scope_path)
    )


def employer_get(*, actor: Actor, employer_id: UUID | str) -> Employer:
    parsed = employer_id if isinstance(employer_id, UUID) else parse_public_id(employer_id)
    if parsed is None:
        raise NotFound()
    try:
        return employers_visible_to(actor).get(id=parsed)
    except Employer.DoesNotExist:
        raise NotFound() from None


def employers_uncovered(*, actor: Actor, min_staff: int = 100) -> QuerySet[Employer]:
    """未建会企业 of at least `min_staff` employees in scope ("百人以上未建会企业"), biggest first."""
    return (
        employers_visible_to(actor)
        .filter(covering_union__isnull=True, employee_count__gte=min_staff)
        .order_by("-employee_count", "name")
    )


# ---------------------------------------------------------------- unscoped reads for system code
# The reads below take no actor: other domains call them from code that has already checked the actor (or runs as the
# system: commands, tasks, the figures), and from the member-facing directory, which shows only active unions.


def org_by_code(code: str) -> Organisation | None:
    """The organisation with exactly this code, or None (unscoped: management commands)."""
    return Organisation.objects.filter(code=code).first()


def org_root() -> Organisation | None:
    """The root of the tree, or None before it is initialised (unscoped: management commands)."""
    return Organisation.objects.get_first_root_node()


def orgs_by_code(codes) -> QuerySet[Organisation]:
    """The organisations with these codes (unscoped: the caller checked the actor's permission)."""
    return Organisation.objects.filter(code__in=codes)


def org_by_id(org_id: UUID) -> Organisation:
    """The organisation `org_id` (unscoped; raises Organisation.DoesNotExist): for ids read from a checked record."""
    return Organisation.objects.get(pk=org_id)


def org_by_path(path: str) -> Organisation:
    """The organisation at `path` (unscoped; raises Organisation.DoesNotExist)."""
    return Organisation.objects.get(path=path)


def orgs_by_id(ids) -> QuerySet[Organisation]:
    """The organisations with these ids (unscoped: system code and already-checked callers)."""
    return Organisation.objects.filter(id__in=ids)


def orgs_by_path(paths) -> QuerySet[Organisation]:
    """The organisations at these paths (unscoped: system code and already-checked callers)."""
    return Organisation.objects.filter(path__in=paths)


def directly_below(org: Organisation) -> QuerySet[Organisation]:
    """The organisations one level below `org`, unordered (served by the (depth, path) index; unscoped: the caller
    has checked that `org` is visible)."""
    return Organisation.objects.filter(depth=org.depth + 1, path__startswith=org.path)


def below_each(orgs) -> QuerySet[Organisation]:
    """The organisations one level below any of `orgs`, in one query (unscoped: the caller checked `orgs`); none
    for none given."""
    query = Q()
    for org in orgs:
        query |= Q(path__startswith=org.path, depth=org.depth + 1)
    return Organisation.objects.filter(query) if query else Organisation.objects.none()


def orgs_by_uscc(usccs) -> QuerySet[Organisation]:
    """The organisations registered with these 统一社会信用代码 (unscoped: the caller checked the actor)."""
    return Organisation.objects.filter(uscc__in=usccs)


def active_orgs() -> QuerySet[Organisation]:
    """Every active organisation (unscoped: system code such as the figures)."""
    return Organisation.objects.filter(status=OrgStatus.ACTIVE)


def active_unions() -> QuerySet[Organisation]:
    """Every active grassroots union (unscoped: the public union directory and system code)."""
    return Organisation.objects.filter(org_type__in=GRASSROOTS_TYPES, status=OrgStatus.ACTIVE)


def active_unions_in(org: Organisation) -> QuerySet[Organisation]:
    """The active grassroots unions of `org`'s subtree (unscoped: the caller has checked that `org` is visible)."""
    return Organisation.objects.filter(
        path__startswith=org.path, org_type__in=GRASSROOTS_TYPES, status=OrgStatus.ACTIVE
    )


def org_and_ancestors(org_id, *, fields: tuple[str, ...]) -> list[Organisation] | None:
    """The organisation `org_id` and its ancestors with only `fields` loaded (unordered), or None when there is no
    such organisation (unscoped: system code placing a point in the tree)."""
    org = Organisation.objects.filter(pk=org_id).only("path").first()
    if org is None:
        return None
    return list(Organisation.objects.filter(path__in=[*ancestor_paths(org.path), org.path]).only(*fields))


def employers_located_in(org: Organisation) -> QuerySet[Employer]:
    """Employers whose town organisation is in `org`'s subtree (unscoped: the caller has checked `org`)."""
    return Employer.objects.filter(town_org__path__startswith=org.path)
