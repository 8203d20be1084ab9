"""The registry's part of the per-organisation figures (gonghui/orgs/figures.py): what each registry change adds,
and the recount from the registry that `manage.py rebuild_counts` and bulk imports use.

A membership counts from the day it starts (the join date; for a membership that came by transfer, the day the
transfer completed) until the day it ends. The member dimensions (sex, employment form, 农民工, year of birth) are
the person's current ones: a correction of a record corrects the history too, so recounting the registry at any
time gives exactly what the services have kept."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial
from uuid import UUID

from django.db import transaction
from django.db.models import Case, Count, DateField, F, IntegerField, OuterRef, Q, Subquery, When
from django.db.models.functions import ExtractYear, TruncMonth
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.roles import Perm
from gonghui.members.models import (
    HOLDING_STATUSES,
    NEW_EMPLOYMENT_FORMS,
    DeclaredTotal,
    EmploymentForm,
    HukouType,
    Membership,
    MembershipSource,
    MembershipStatus,
    Person,
    Sex,
)
from gonghui.members.quality import failing_by_union
from gonghui.orgs.figures import (
    FiguresDelta,
    figures_apply,
    figures_failing_replace,
    figures_rebuild,
    figures_resync_members,
    month_of,
    org_has_declared,
)
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import active_orgs, orgs_by_id

END_KIND: dict[str, str] = {
    MembershipStatus.TRANSFERRED_OUT: "transferred_out",
    MembershipStatus.LEFT: "left",
    MembershipStatus.CANCELLED: "cancelled",
}
FORM_FIELD = {form.value: f"form_{form.value}" for form in EmploymentForm}


@dataclass(frozen=True)
class Dims:
    """What the figures count a person by."""

    sex: str
    employment_form: str
    hukou_type: str
    birth_year: int  # 0 when unknown

    @classmethod
    def of(cls, person: Person) -> "Dims":
        return cls(
            sex=person.sex or "",
            employment_form=person.employment_form or "",
            hukou_type=person.hukou_type or "",
            birth_year=person.birth_date.year if person.birth_date else 0,
        )

    def stock(self, sign: int = 1) -> Counter:
        counts = Counter(members=sign)
        counts["male"] += sign * (self.sex == Sex.MALE)
        counts["female"] += sign * (self.sex == Sex.FEMALE)
        counts[FORM_FIELD.get(self.employment_form, "form_unknown")] += sign
        counts["new_employment"] += sign * (self.employment_form in NEW_EMPLOYMENT_FORMS)
        counts["migrant"] += sign * (self.hukou_type == HukouType.AGRICULTURAL)
        return counts

    def net(self, sign: int = 1) -> Counter:
        return Counter(
            net_members=sign,
            net_male=sign * (self.sex == Sex.MALE),
            net_female=sign * (self.sex == Sex.FEMALE),
            net_new_employment=sign * (self.employment_form in NEW_EMPLOYMENT_FORMS),
            net_migrant=sign * (self.hukou_type == HukouType.AGRICULTURAL),
        )


# ---------------------------------------------------------------- what a registry change adds


def membership_started(membership: Membership, *, on: date) -> tuple[str, FiguresDelta]:
    """A new (active) membership of `membership.org`, counted from `on`."""
    dims = Dims.of(membership.person)
    delta = FiguresDelta(stock=dims.stock())
    delta.stock["active"] += 1
    if org_has_declared(membership.org_id):
        delta.stock["registered_in_declared"] += 1
    kind = "transferred_in" if membership.source == MembershipSource.TRANSFER_IN else "joined"
    delta.months[month_of(on)].update({kind: 1, **dims.net()})
    delta.ages[dims.birth_year] += 1
    return membership.org.path, delta


def membership_ended(membership: Membership, *, held_as: str) -> tuple[str, FiguresDelta]:
    """`membership` (held as `held_as` until now) has just ended with its status and `ended_on` set."""
    dims = Dims.of(membership.person)
    delta = FiguresDelta(stock=dims.stock(-1))
    delta.stock[held_as] -= 1
    if org_has_declared(membership.org_id):
        delta.stock["registered_in_declared"] -= 1
    assert membership.ended_on is not None, "an ended membership has its end date"
    delta.months[month_of(membership.ended_on)].update({END_KIND[membership.status]: 1, **dims.net(-1)})
    delta.ages[dims.birth_year] -= 1
    return membership.org.path, delta


def membership_status_swapped(membership: Membership, *, was: str) -> tuple[str, FiguresDelta]:
    """正式会员 ⇄ 保留会籍: still a member, counted under the other status."""
    return membership.org.path, FiguresDelta(stock=Counter({was: -1, membership.status: 1}))


def _start_date(membership: Membership) -> date:
    previous = membership.previous if membership.source == MembershipSource.TRANSFER_IN else None
    if previous is not None and previous.ended_on is not None:
        return previous.ended_on
    return membership.joined_on


def person_recounted(person: Person, *, before: Dims) -> list[tuple[str, FiguresDelta]]:
    """A person's record was corrected: every membership they ever held is counted by the new dimensions."""
    after = Dims.of(person)
    if after == before:
        return []
    changes = []
    memberships = Membership.objects.filter(person=person).select_related("org", "previous")
    for membership in memberships:
        delta = FiguresDelta()
        start = delta.months[month_of(_start_date(membership))]
        start.update(after.net())
        start.subtract(before.net())
        if membership.ended_on is not None:
            end = delta.months[month_of(membership.ended_on)]
            end.update(before.net())
            end.subtract(after.net())
        if membership.status in HOLDING_STATUSES:
            delta.stock.update(after.stock())
            delta.stock.subtract(before.stock())
            delta.ages[after.birth_year] += 1
            delta.ages[before.birth_year] -= 1
        changes.append((membership.org.path, delta))
    return changes


def figures_record(changes: Iterable[tuple[str, FiguresDelta]]) -> None:
    """Add the changes to the figures: the last write of a registry service (see gonghui/orgs/figures.py)."""
    figures_apply(changes)


def bulk_started(org: Organisation, people: list[Person], joined_on: list[date]) -> tuple[str, FiguresDelta]:
    delta = FiguresDelta()
    declared = org_has_declared(org.id)
    for person, joined in zip(people, joined_on, strict=True):
        dims = Dims.of(person)
        delta.stock.update(dims.stock())
        delta.months[month_of(joined)].update({"joined": 1, **dims.net()})
        delta.ages[dims.birth_year] += 1
    delta.stock["active"] += len(people)
    delta.stock["registered_in_declared"] += len(people) if declared else 0
    return org.path, delta


# ---------------------------------------------------------------- recount from the registry


def _counted_by() -> dict:
    """Count expressions over memberships for each member dimension of the person."""
    return {
        "male": Count("id", filter=Q(person__sex=Sex.MALE)),
        "female": Count("id", filter=Q(person__sex=Sex.FEMALE)),
        "new_employment": Count("id", filter=Q(person__employment_form__in=list(NEW_EMPLOYMENT_FORMS))),
        "migrant": Count("id", filter=Q(person__hukou_type=HukouType.AGRICULTURAL)),
    }


def _own_stock(memberships) -> dict[UUID, Counter]:
    forms = {field: Count("id", filter=Q(person__employment_form=form)) for form, field in FORM_FIELD.items()}
    rows = (
        memberships.filter(status__in=HOLDING_STATUSES)
        .values("org_id")
        .annotate(
            members=Count("id"),
            active=Count("id", filter=Q(status=MembershipStatus.ACTIVE)),
            reserved=Count("id", filter=Q(status=MembershipStatus.RESERVED)),
            **_counted_by(),
            **forms,
        )
        .order_by()
    )
    own = {}
    for row in rows:
        org_id = row.pop("org_id")
        counts = Counter({k: v for k, v in row.items() if v})
        counts["form_unknown"] = counts["members"] - sum(counts[f] for f in FORM_FIELD.values())
        own[org_id] = counts
    return own


def _own_ages(memberships) -> Iterable[tuple[UUID, int, int]]:
    rows = (
        memberships.filter(status__in=HOLDING_STATUSES)
        .annotate(birth_year=ExtractYear("person__birth_date"))
        .values("org_id", "birth_year")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        yield row["org_id"], row["birth_year"] or 0, row["n"]


def _net_counts() -> dict:
    counted = _counted_by()
    return {f"net_{name}": expression for name, expression in counted.items()}


def _own_months(memberships) -> Iterable[tuple[UUID, date, Counter]]:
    transfer_in = Q(source=MembershipSource.TRANSFER_IN)
    starts = (
        memberships.annotate(
            start=Case(
                When(transfer_in & Q(previous__isnull=False), then=F("previous__ended_on")),
                default=F("joined_on"),
                output_field=DateField(),
            )
        )
        .annotate(month=TruncMonth("start", output_field=DateField()))
        .values("org_id", "month")
        .annotate(
            joined=Count("id", filter=~transfer_in),
            transferred_in=Count("id", filter=transfer_in),
            net_members=Count("id"),
            **_net_counts(),
        )
        .order_by()
    )
    for row in starts:
        org_id, month = row.pop("org_id"), row.pop("month")
        yield org_id, month, Counter(row)
    ends = (
        memberships.filter(ended_on__isnull=False)
        .annotate(month=TruncMonth("ended_on", output_field=DateField()))
        .values("org_id", "month")
        .annotate(
            transferred_out=Count("id", filter=Q(status=MembershipStatus.TRANSFERRED_OUT)),
            left=Count("id", filter=Q(status=MembershipStatus.LEFT)),
            cancelled=Count("id", filter=Q(status=MembershipStatus.CANCELLED)),
            net_members=Count("id"),
            **_net_counts(),
        )
        .order_by()
    )
    for row in ends:
        org_id, month = row.pop("org_id"), row.pop("month")
        counts = Counter({k: row[k] for k in ("transferred_out", "left", "cancelled")})
        for name in ("net_members", "net_male", "net_female", "net_new_employment", "net_migrant"):
            counts[name] = -row[name]
        yield org_id, month, counts


def own_member_figures(memberships=None) -> dict[UUID, FiguresDelta]:
    """Each organisation's own member figures, recounted from the registry (all memberships, or those given)."""
    memberships = Membership.objects.all() if memberships is None else memberships
    own: dict[UUID, FiguresDelta] = {}

    def of(org_id: UUID) -> FiguresDelta:
        if org_id not in own:
            own[org_id] = FiguresDelta()
        return own[org_id]

    for org_id, counts in _own_stock(memberships).items():
        of(org_id).stock.update(counts)
    for org_id, year, n in _own_ages(memberships):
        of(org_id).ages[year] += n
    for org_id, month, counts in _own_months(memberships):
        of(org_id).months[month].update(counts)
    return own


def latest_declared_by_union() -> dict[UUID, int]:
    """The latest declared member total of each active union that has declared one."""
    latest = DeclaredTotal.objects.filter(org=OuterRef("pk")).order_by("-as_of", "-recorded_at").values("total")[:1]
    rows = (
        active_orgs()
        .filter(declared_totals__isnull=False)
        .distinct()
        .annotate(latest=Subquery(latest, output_field=IntegerField()))
        .values_list("id", "latest")
    )
    return dict(rows)


def rebuild_counts() -> int:
    """Recount every figure from the registry, the employer registry and the declared totals; then the data-quality
    figure. Returns the number of organisations with figures."""
    with transaction.atomic():
        orgs = figures_rebuild(own_member_figures, latest_declared_by_union)
    failing_refresh()
    return orgs


def _own_of(org: Organisation) -> FiguresDelta:
    return own_member_figures(Membership.objects.filter(org=org)).get(org.id, FiguresDelta())


def resync_after_import(org: Organisation, *, updated_people: list[UUID]) -> None:
    """After a bulk import into `org`: recount `org`'s own member figures, and those of the unions where people
    whose record the import corrected held earlier memberships."""
    figures_resync_members(org, lambda: _own_of(org))
    if not updated_people:
        return
    elsewhere = (
        Membership.objects.filter(person_id__in=updated_people)
        .exclude(org=org)
        .values_list("org_id", flat=True)
        .distinct()
    )
    for other in orgs_by_id(list(elsewhere)).order_by("path"):
        figures_resync_members(other, partial(_own_of, other))


def failing_refresh() -> None:
    """准确率: records failing a data-quality check per union, summed up the tree (run by the daily re-check)."""
    figures_failing_replace(failing_by_union(), checked_at=timezone.now())


# ---------------------------------------------------------------- a declaration to update


@dataclass(frozen=True)
class DeclaredBehind:
    """A union holding more members than its latest declared 实有会员数 (入库率 would pass 100%)."""

    org: Organisation
    held: int
    declared: int


def declared_behind(*, actor: Actor, org: Organisation) -> DeclaredBehind | None:
    """The offer to update `org`'s declared 实有会员数, for an actor who may record it (declared_total_record): when
    the grassroots union `org` has declared one and now holds more members than it states; else None."""
    if not actor.can(Perm.MEMBERS_MANAGE) or not actor.covers_path(org.path) or not org.is_grassroots:
        return None
    latest = DeclaredTotal.objects.filter(org=org).order_by("-as_of", "-recorded_at").values_list("total", flat=True)
    declared = latest.first()
    if declared is None:
        return None
    held = Membership.objects.filter(org=org, status__in=HOLDING_STATUSES).count()
    return DeclaredBehind(org=org, held=held, declared=declared) if held > declared else None
