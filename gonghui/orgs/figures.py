"""Keeping the per-organisation figures (OrgFigures, OrgMonthFigures, OrgAgeFigures).

A row holds the figures of a whole subtree, so a change at one organisation is added to that organisation and to
every ancestor, in one statement per table, in path order (root first): two transactions touching the same rows
take their locks in the same order. Services call `figures_apply` as the last write of their transaction, so the
upper rows are held only for the moment before commit (docs/decisions.md, decision 24).

The member registry computes its deltas (gonghui/members/figures.py); the employer registry's are computed here.
A full rebuild (`manage.py rebuild_counts`) recomputes each organisation's own contribution from the source tables
and sums it up the tree: the figure of a node is the sum over its path range of the contributions below it."""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Count, F, Model, Q, QuerySet, Sum
from django.db.models.functions import Substr

from gonghui.common.paths import STEPLEN, ancestor_paths
from gonghui.orgs.models import (
    FLOW_FIELDS,
    MEMBER_STOCK_FIELDS,
    STOCK_FIELDS,
    Employer,
    OrgAgeFigures,
    Organisation,
    OrgFigures,
    OrgMonthFigures,
)


@dataclass
class FiguresDelta:
    """Changes to the figures of one organisation: current counts, movements per month, members per birth year."""

    stock: Counter = field(default_factory=Counter)
    months: dict[date, Counter] = field(default_factory=lambda: defaultdict(Counter))
    ages: Counter = field(default_factory=Counter)

    def add(self, other: "FiguresDelta", sign: int = 1) -> "FiguresDelta":
        for name, value in other.stock.items():
            self.stock[name] += sign * value
        for month, values in other.months.items():
            target = self.months[month]
            for name, value in values.items():
                target[name] += sign * value
        for year, value in other.ages.items():
            self.ages[year] += sign * value
        return self

    def negated(self) -> "FiguresDelta":
        return FiguresDelta().add(self, -1)

    def is_zero(self) -> bool:
        return (
            not any(self.stock.values())
            and not any(any(v.values()) for v in self.months.values())
            and not any(self.ages.values())
        )


def month_of(day: date) -> date:
    return day.replace(day=1)


# ---------------------------------------------------------------- applying deltas


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _upsert_add(model: type[Model], keys: tuple[str, ...], fields: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET f = f + excluded.f (PostgreSQL and SQLite alike)."""
    if not rows:
        return
    table = _q(model._meta.db_table)
    columns = ", ".join(_q(c) for c in (*keys, *fields))
    one = "(" + ", ".join(["%s"] * (len(keys) + len(fields))) + ")"
    updates = ", ".join(f"{_q(f)} = {table}.{_q(f)} + excluded.{_q(f)}" for f in fields)
    conflict = ", ".join(_q(k) for k in keys)
    for start in range(0, len(rows), 500):
        batch = rows[start : start + 500]
        sql = (
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))} "  # noqa: S608 (identifiers are model names)
            f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for row in batch for value in row])


def _chain_paths(path: str) -> list[str]:
    return [*ancestor_paths(path), path]


def figures_apply(changes: Iterable[tuple[str, FiguresDelta]]) -> None:
    """Add each delta to the organisation at that path and to all its ancestors, in one statement per table."""
    per_path: dict[str, FiguresDelta] = defaultdict(FiguresDelta)
    for path, delta in changes:
        for prefix in _chain_paths(path):
            per_path[prefix].add(delta)
    if not per_path:
        return
    ids = dict(Organisation.objects.filter(path__in=list(per_path)).values_list("path", "id"))
    db_id = Organisation._meta.pk.get_db_prep_value
    ordered = [(db_id(ids[path], connection), per_path[path]) for path in sorted(per_path)]
    db_date = connection.ops.adapt_datefield_value
    # The subtree's current counts: every row of the chain, even an unchanged one, so each change takes the chain's
    # locks in the same order before it touches the monthly and the birth-year rows.
    _upsert_add(
        OrgFigures, ("org_id",), STOCK_FIELDS, [(org_id, *(d.stock[f] for f in STOCK_FIELDS)) for org_id, d in ordered]
    )
    month_rows = [
        (org_id, db_date(month), *(values[f] for f in FLOW_FIELDS))
        for org_id, delta in ordered
        for month, values in sorted(delta.months.items())
        if any(values.values())
    ]
    _upsert_add(OrgMonthFigures, ("org_id", "month"), FLOW_FIELDS, month_rows)
    age_rows = [
        (org_id, year, change) for org_id, delta in ordered for year, change in sorted(delta.ages.items()) if change
    ]
    _upsert_add(OrgAgeFigures, ("org_id", "birth_year"), ("members",), age_rows)


# ---------------------------------------------------------------- reading one node


def figures_delta_of(org: Organisation) -> FiguresDelta:
    """Everything recorded for `org`'s subtree, as a delta (to move it, or to compare it with a recount)."""
    delta = FiguresDelta()
    row = OrgFigures.objects.filter(org=org).values(*STOCK_FIELDS).first()
    if row:
        delta.stock.update({k: v for k, v in row.items() if v})
    for values in OrgMonthFigures.objects.filter(org=org).values("month", *FLOW_FIELDS):
        month = values.pop("month")
        delta.months[month].update({k: v for k, v in values.items() if v})
    for year, members in OrgAgeFigures.objects.filter(org=org).values_list("birth_year", "members"):
        if members:
            delta.ages[year] += members
    return delta


def _own_recorded(org: Organisation) -> FiguresDelta:
    """What is recorded for `org` itself: its subtree's figures less its children's."""
    own = figures_delta_of(org)
    for child in Organisation.objects.filter(path__startswith=org.path, depth=org.depth + 1):
        own.add(figures_delta_of(child), -1)
    return own


def _members_only(delta: FiguresDelta) -> FiguresDelta:
    kept = FiguresDelta(months=delta.months, ages=delta.ages)
    kept.stock.update({f: delta.stock[f] for f in MEMBER_STOCK_FIELDS if delta.stock[f]})
    return kept


@transaction.atomic
def figures_resync_members(org: Organisation, recount: Callable[[], FiguresDelta]) -> FiguresDelta:
    """Bring the member figures of `org` itself in line with a recount from the registry (after a bulk import).
    The chain's rows are locked before `recount()` runs, so a registry change committing meanwhile is counted
    exactly once. Returns the correction applied."""
    figures_apply([(org.path, FiguresDelta())])  # creates and locks the chain's rows, root first
    recounted, recorded = _members_only(recount()), _own_recorded(org)
    if OrgFigures.objects.filter(org=org, own_declared__isnull=False).exists():
        recounted.stock["registered_in_declared"] = recounted.stock["members"]
    correction = recounted.add(_members_only(recorded), -1)
    correction.stock["registered_in_declared"] -= recorded.stock["registered_in_declared"]
    if not correction.is_zero():
        figures_apply([(org.path, correction)])
    return correction


# ---------------------------------------------------------------- organisation tree changes


def figures_move_subtree(org: Organisation, *, old_parent_path: str) -> None:
    """After `org` (with its subtree) moved: its figures leave the old ancestors and join the new ones."""
    figures_apply([(org.path, FiguresDelta())])  # lock the new chain, root first, before reading the subtree's rows
    moved = figures_delta_of(org)
    new_parent_path = org.path[:-STEPLEN]
    if moved.is_zero() or new_parent_path == old_parent_path:
        return
    figures_apply([(old_parent_path, moved.negated()), (new_parent_path, moved)])
    failing = OrgFigures.objects.get(org=org).failing  # 准确率's numerator is a subtree sum too
    if failing:
        old_chain, new_chain = set(_chain_paths(old_parent_path)), set(_chain_paths(new_parent_path))
        rows = OrgFigures.objects.filter
        rows(org__path__in=old_chain - new_chain).update(failing=F("failing") - failing)
        rows(org__path__in=new_chain - old_chain).update(failing=F("failing") + failing)


def figures_org_closed(org: Organisation) -> None:
    """A union dissolved or merged away: its own declared member total no longer counts for 入库率."""
    figures_apply([(org.path, FiguresDelta())])  # lock the chain, root first
    row = OrgFigures.objects.get(org=org)
    if row.own_declared is None:
        return
    declared = row.own_declared
    OrgFigures.objects.filter(org=org).update(own_declared=None)
    figures_apply([(org.path, FiguresDelta(stock=Counter(declared_total=-declared, declared_unions=-1)))])


def figures_declared_set(org: Organisation, *, latest: int | None) -> None:
    """A union's latest declared member total changed to `latest` (its holding members count as registered
    against a declaration from the first one on)."""
    figures_apply([(org.path, FiguresDelta())])
    row = OrgFigures.objects.get(org=org)
    before = row.own_declared
    if before == latest:
        return
    OrgFigures.objects.filter(org=org).update(own_declared=latest)
    delta = FiguresDelta(stock=Counter(declared_total=(latest or 0) - (before or 0)))
    if (before is None) != (latest is None):
        sign = 1 if before is None else -1
        own_members = row.members - sum(
            OrgFigures.objects.filter(org__path__startswith=org.path, org__depth=org.depth + 1).values_list(
                "members", flat=True
            )
        )
        delta.stock["declared_unions"] += sign
        delta.stock["registered_in_declared"] += sign * own_members
    figures_apply([(org.path, delta)])


def org_has_declared(org_id: UUID) -> bool:
    return OrgFigures.objects.filter(org_id=org_id, own_declared__isnull=False).exists()


# ---------------------------------------------------------------- employers (建会率)


def employer_contribution(employer: Employer, sign: int = 1) -> FiguresDelta:
    covered = employer.covering_union_id is not None
    staff = employer.employee_count
    stock = Counter(
        employers=sign,
        employers_covered=sign * covered,
        employers_25=sign * (staff >= 25),
        employers_25_covered=sign * (staff >= 25 and covered),
        employers_100=sign * (staff >= 100),
        employers_100_covered=sign * (staff >= 100 and covered),
    )
    return FiguresDelta(stock=stock)


def figures_employers_changed(before: list[tuple[str, Employer]], after: list[tuple[str, Employer]]) -> None:
    """Employers (with the path of the organisation they are located in) as they were and as they are now."""
    figures_apply(
        [(path, employer_contribution(e, -1)) for path, e in before]
        + [(path, employer_contribution(e)) for path, e in after]
    )


# ---------------------------------------------------------------- full rebuild


def _employer_own() -> dict[UUID, FiguresDelta]:
    own: dict[UUID, FiguresDelta] = defaultdict(FiguresDelta)
    for employer in Employer.objects.only("town_org_id", "covering_union_id", "employee_count").iterator(5000):
        own[employer.town_org_id].add(employer_contribution(employer))
    return own


def _rolled_up(own: dict[UUID, FiguresDelta], paths: dict[UUID, str]) -> dict[str, FiguresDelta]:
    ids_by_path = {path: org_id for org_id, path in paths.items()}
    totals: dict[str, FiguresDelta] = defaultdict(FiguresDelta)
    for org_id, delta in own.items():
        for prefix in _chain_paths(paths[org_id]):
            if prefix in ids_by_path:
                totals[prefix].add(delta)
    return totals


def _lock_tables() -> None:
    """Hold off every change to the figures until the transaction ends (PostgreSQL; SQLite has one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (OrgFigures, OrgMonthFigures, OrgAgeFigures):
                cursor.execute(f"LOCK TABLE {_q(model._meta.db_table)} IN EXCLUSIVE MODE")


@transaction.atomic
def figures_rebuild(
    member_own: Callable[[], dict[UUID, FiguresDelta]], own_declared: Callable[[], dict[UUID, int]]
) -> int:
    """Replace every figure with the sum over each subtree of the organisations' own contributions: the members'
    (computed by the registry), the employers located there and the unions' declared totals. Locks the tables
    for the duration so no change is lost in between. Returns the number of organisations with figures."""
    _lock_tables()
    paths = dict(Organisation.objects.values_list("id", "path"))
    own: dict[UUID, FiguresDelta] = defaultdict(FiguresDelta)
    members, declared_totals = member_own(), own_declared()  # counted after the lock: nothing slips in between
    for source in (members, _employer_own()):
        for org_id, delta in source.items():
            own[org_id].add(delta)
    for org_id, declared in declared_totals.items():
        own[org_id].stock["declared_total"] += declared
        own[org_id].stock["declared_unions"] += 1
        own[org_id].stock["registered_in_declared"] += members[org_id].stock["members"] if org_id in members else 0
    totals = _rolled_up(own, paths)
    ids_by_path = {path: org_id for org_id, path in paths.items()}
    failing = dict(OrgFigures.objects.values_list("org_id", "failing"))
    checked = dict(OrgFigures.objects.values_list("org_id", "failing_checked_at"))
    OrgAgeFigures.objects.all().delete()
    OrgMonthFigures.objects.all().delete()
    OrgFigures.objects.all().delete()
    stock_rows: list[OrgFigures] = []
    month_rows: list[OrgMonthFigures] = []
    age_rows: list[OrgAgeFigures] = []
    for path in sorted(totals):
        org_id, delta = ids_by_path[path], totals[path]
        stock_rows.append(
            OrgFigures(
                org_id=org_id,
                own_declared=declared_totals.get(org_id),
                failing=failing.get(org_id, 0),
                failing_checked_at=checked.get(org_id),
                **{f: delta.stock[f] for f in STOCK_FIELDS},
            )
        )
        month_rows.extend(
            OrgMonthFigures(org_id=org_id, month=month, **{f: values[f] for f in FLOW_FIELDS})
            for month, values in delta.months.items()
            if any(values.values())
        )
        age_rows.extend(OrgAgeFigures(org_id=org_id, birth_year=year, members=n) for year, n in delta.ages.items() if n)
    OrgFigures.objects.bulk_create(stock_rows, batch_size=5000)
    OrgMonthFigures.objects.bulk_create(month_rows, batch_size=5000)
    OrgAgeFigures.objects.bulk_create(age_rows, batch_size=5000)
    return len(stock_rows)


@transaction.atomic
def figures_failing_replace(own_failing: dict[UUID, int], *, checked_at: datetime) -> None:
    """准确率's numerator, from the daily data-quality re-check: records failing a check, summed up the tree."""
    paths = dict(Organisation.objects.values_list("id", "path"))
    ids_by_path = {path: org_id for org_id, path in paths.items()}
    totals: Counter = Counter()
    for org_id, count in own_failing.items():
        for prefix in _chain_paths(paths[org_id]):
            totals[ids_by_path[prefix]] += count
    _lock_tables()
    rows = list(OrgFigures.objects.only("org_id", "failing", "failing_checked_at"))
    for row in rows:
        row.failing = totals.get(row.org_id, 0)
        row.failing_checked_at = checked_at
    OrgFigures.objects.bulk_update(rows, ["failing", "failing_checked_at"], batch_size=5000)


# ---------------------------------------------------------------- reading the kept figures (for the statistics)
# Unscoped: the statistics check the actor (stats.selectors.coverage.require_figures) before reading.


def current_rows(org_ids: list) -> QuerySet:
    """The current figures rows (as dicts) of the organisations `org_ids` that have one."""
    return OrgFigures.objects.filter(org_id__in=org_ids).values()


def month_sums_by_org(which: Q, first: date, last: date, sums: dict) -> QuerySet:
    """Per organisation (`org_id`), the aggregates `sums` over its monthly rows of the months `first`..`last`: one
    grouped query; `which` picks the organisations (a Q over the monthly rows)."""
    return (
        OrgMonthFigures.objects.filter(which, month__gte=first, month__lte=last)
        .values("org_id")
        .annotate(**sums)
        .order_by()
    )


def month_rows(org: Organisation, since: date, fields: Iterable[str]) -> QuerySet:
    """`org`'s monthly rows (as dicts of `month` and `fields`) from the month `since` on."""
    return OrgMonthFigures.objects.filter(org=org, month__gte=since).values("month", *fields)


def members_by_birth_year(org: Organisation) -> dict:
    """birth year (0: unknown) -> members now, over `org`'s subtree."""
    return dict(OrgAgeFigures.objects.filter(org=org).values_list("birth_year", "members"))


def over_declared(org: Organisation) -> dict:
    """The declared unions of `org`'s subtree (itself included) whose registered members exceed their declaration:
    {"unions": how many, "excess": by how many members in all}."""
    return OrgFigures.objects.filter(
        org__path__startswith=org.path, own_declared__isnull=False, registered_in_declared__gt=F("own_declared")
    ).aggregate(unions=Count("org_id"), excess=Sum(F("registered_in_declared") - F("own_declared"), default=0))


def over_declared_below(org: Organisation) -> QuerySet:
    """The same per organisation directly below `org` (rows of child_path, unions, excess; only those with any): one
    grouped query over the declared unions that are over their declaration."""
    step = len(org.path) + STEPLEN
    return (
        OrgFigures.objects.filter(
            org__path__startswith=org.path,
            org__depth__gt=org.depth,
            own_declared__isnull=False,
            registered_in_declared__gt=F("own_declared"),
        )
        .annotate(child_path=Substr("org__path", 1, step))
        .values("child_path")
        .annotate(unions=Count("org_id"), excess=Sum(F("registered_in_declared") - F("own_declared")))
        .order_by()
    )
