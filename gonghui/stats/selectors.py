"""The figures of any organisation's subtree for any period, read from the per-organisation figures
(gonghui/orgs/figures.py): one row for the current counts, the monthly rows after the period's start for movements
and past counts, the birth-year rows for age bands. Never a scan of the member table. Definitions: docs/statistics.md.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Substr

from gonghui.casework.models import OPEN_CASE_STATUSES, ServiceCase
from gonghui.casework.selectors import KindFigures, case_figures
from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
from gonghui.common.paths import STEPLEN
from gonghui.common.roles import Perm
from gonghui.members.models import (
    ApplicationStatus,
    CorrectionRequest,
    CorrectionStatus,
    EmploymentForm,
    JoinApplication,
    TransferRequest,
    TransferStatus,
)
from gonghui.orgs.models import (
    FLOW_FIELDS,
    GRASSROOTS_TYPES,
    STOCK_FIELDS,
    OrgAgeFigures,
    Organisation,
    OrgFigures,
    OrgMonthFigures,
    OrgStatus,
)
from gonghui.stats.periods import Period, add_months, month_end

AGE_BANDS = (("35岁及以下", 0, 35), ("36至45岁", 36, 45), ("46至55岁", 46, 55), ("56岁及以上", 56, 200))
FORM_LABELS = [(f"form_{form.value}", form.label) for form in EmploymentForm] + [("form_unknown", "未填写")]
POINT_IN_TIME = ("members", "male", "female", "new_employment", "migrant")


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


COVERAGE_STALE = "实有会员数待更新"


@dataclass(frozen=True)
class Stale:
    """Declared unions whose registered members outnumber their declared 实有会员数 (a figure to update), and by
    how many members in all."""

    unions: int = 0
    excess: int = 0


NOTHING_STALE = Stale()


def coverage_of(registered: int, declared: int, stale: Stale = NOTHING_STALE) -> Decimal | None:
    """入库率, never over 100%: each union counts at most its declared total; None (shown as 实有会员数待更新) when
    the registered members outnumber the declared ones on the whole, and when nothing is declared."""
    if not declared or registered > declared:
        return None
    return percent(registered - stale.excess, declared)


def stale_declarations(org: Organisation) -> Stale:
    """The declared unions of `org`'s subtree (itself included) whose registered members exceed their declaration.
    A grassroots union has no unions below it, so its registered_in_declared is its own."""
    row = OrgFigures.objects.filter(
        org__path__startswith=org.path, own_declared__isnull=False, registered_in_declared__gt=F("own_declared")
    ).aggregate(unions=Count("org_id"), excess=Sum(F("registered_in_declared") - F("own_declared"), default=0))
    return Stale(row["unions"], row["excess"])


def stale_declarations_below(org: Organisation) -> dict:
    """child id -> Stale of each organisation directly below `org` (only those with any): one grouped query over the
    few declared unions that are over their declaration."""
    step = len(org.path) + STEPLEN
    rows = (
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
    by_path = {row["child_path"]: Stale(row["unions"], row["excess"]) for row in rows}
    if not by_path:
        return {}
    ids = dict(Organisation.objects.filter(path__in=list(by_path)).values_list("path", "id"))
    return {ids[path]: stale for path, stale in by_path.items() if path in ids}


def require_figures(actor: Actor, org: Organisation) -> None:
    actor.require(Perm.STATS_VIEW)
    if not actor.covers_path(org.path):
        raise NotFound()


# ---------------------------------------------------------------- reading the kept figures


def current_figures(org_ids: list) -> dict:
    """org id -> {field: value} of the current counts (zeros for an organisation without any)."""
    rows = {row["org_id"]: row for row in OrgFigures.objects.filter(org_id__in=org_ids).values()}
    zero = {f: 0 for f in STOCK_FIELDS} | {"failing": 0, "failing_checked_at": None, "own_declared": None}
    return {org_id: rows.get(org_id, zero) for org_id in org_ids}


def movements(org_ids: list, start: date, end: date) -> dict:
    """org id -> Counter of the monthly movements summed over the months from `start` to `end`."""
    totals: dict[Any, Counter] = {org_id: Counter() for org_id in org_ids}
    rows = (
        OrgMonthFigures.objects.filter(org_id__in=org_ids, month__gte=start.replace(day=1), month__lte=end)
        .values("org_id")
        .annotate(**{f: Sum(f) for f in FLOW_FIELDS})
        .order_by()
    )
    for row in rows:
        values = dict(row)
        totals[values.pop("org_id")].update(values)
    return totals


def counts_at(org_ids: list, day: date, today: date, current: dict | None = None) -> dict:
    """org id -> {members, male, female, new_employment, migrant} at the end of `day`'s month (now, if that month
    has not ended): the current counts less the net changes of the later months."""
    current = current or current_figures(org_ids)
    result = {org_id: {f: current[org_id][f] for f in POINT_IN_TIME} for org_id in org_ids}
    if day.replace(day=1) >= today.replace(day=1):
        return result
    later = movements(org_ids, add_months(day.replace(day=1), 1), month_end(today))
    for org_id, net in later.items():
        for name in POINT_IN_TIME:
            result[org_id][name] -= net[f"net_{name}"]
    return result


# ---------------------------------------------------------------- the dashboard


@dataclass(frozen=True)
class Rates:
    """入库率, 准确率, 建会率 (≥25 and ≥100 staff), with their numerators and denominators. 入库率 is never over
    100%: `coverage_flag` says 实有会员数待更新 when some declared union has more members registered than declared
    (`stale_unions` of them); the rate is then left out if the registered members outnumber the declared ones on the
    whole, and otherwise counts each union at most at its declared total."""

    coverage: Decimal | None
    registered_in_declared: int
    declared_total: int
    declared_unions: int
    stale_unions: int
    coverage_flag: str
    accuracy: Decimal | None
    passing: int
    checked_at: datetime | None
    founding_25: Decimal | None
    employers_25_covered: int
    employers_25: int
    founding_100: Decimal | None
    employers_100_covered: int
    employers_100: int


def rates_of(row: dict, stale: Stale = NOTHING_STALE) -> Rates:
    """The rates of a row of figures; `stale` (the subtree's declarations that are over) refines 入库率."""
    passing = row["members"] - row["failing"] if row["failing_checked_at"] else 0
    registered, declared = row["registered_in_declared"], row["declared_total"]
    over = stale.unions > 0 or registered > declared
    return Rates(
        coverage=coverage_of(registered, declared, stale),
        registered_in_declared=registered,
        declared_total=declared,
        declared_unions=row["declared_unions"],
        stale_unions=stale.unions,
        coverage_flag=COVERAGE_STALE if over and declared else "",
        accuracy=percent(passing, row["members"]) if row["failing_checked_at"] else None,
        passing=passing,
        checked_at=row["failing_checked_at"],
        founding_25=percent(row["employers_25_covered"], row["employers_25"]),
        employers_25_covered=row["employers_25_covered"],
        employers_25=row["employers_25"],
        founding_100=percent(row["employers_100_covered"], row["employers_100"]),
        employers_100_covered=row["employers_100_covered"],
        employers_100=row["employers_100"],
    )


@dataclass(frozen=True)
class Headline:
    """The period's figures beside the same period a year earlier."""

    members: int  # at the end of the period (now, while it runs)
    members_before: int
    joined: int  # 新入会 in the period
    joined_before: int
    net_change: int
    net_change_before: int
    transferred_in: int
    transferred_out: int
    left: int  # 退会 and 注销
    new_employment: int
    new_employment_before: int
    female: int
    migrant: int

    @staticmethod
    def change(now: int, before: int) -> Decimal | None:
        return percent(now - before, before)

    @property
    def members_change(self) -> Decimal | None:
        return self.change(self.members, self.members_before)

    @property
    def joined_change(self) -> Decimal | None:
        return self.change(self.joined, self.joined_before)

    @property
    def new_employment_change(self) -> Decimal | None:
        return self.change(self.new_employment, self.new_employment_before)


@dataclass(frozen=True)
class TrendPoint:
    month: date
    members: int
    joined: int
    transferred_in: int
    transferred_out: int
    left: int


@dataclass(frozen=True)
class Breakdown:
    title: str
    rows: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.rows)

    @property
    def shares(self) -> list[tuple[str, int, Decimal | None]]:
        total = self.total
        return [(label, n, percent(n, total)) for label, n in self.rows]


@dataclass(frozen=True)
class ChildRow:
    org: Organisation
    members: int
    joined: int
    net_change: int
    new_employment: int
    rates: Rates

    def value(self, key: str):
        if key in ("members", "joined", "net_change", "new_employment"):
            return getattr(self, key)
        return getattr(self.rates, key)


RANKING_KEYS = {
    "members": "会员数",
    "joined": "新入会",
    "net_change": "净增",
    "new_employment": "新就业形态会员",
    "coverage": "入库率",
    "accuracy": "准确率",
    "founding_25": "建会率(25人以上)",
    "founding_100": "建会率(100人以上)",
}


@dataclass(frozen=True)
class PendingWork:
    applications: int
    applications_overdue: int
    transfers: int
    transfers_overdue: int
    corrections: int
    cases: int
    cases_overdue: int

    @property
    def total(self) -> int:
        return self.applications + self.transfers + self.corrections + self.cases

    @property
    def overdue(self) -> int:
        return self.applications_overdue + self.transfers_overdue + self.cases_overdue


@dataclass
class Dashboard:
    org: Organisation
    period: Period
    reached: date  # the last day of the period counted (today's month end while the period runs)
    as_of: date  # the date the figures describe: the period's end, or today while it runs
    compared: Period  # the same stretch a year earlier
    status: dict  # current 正式会员 and 保留会籍
    headline: Headline
    rates: Rates
    trend: list[TrendPoint]
    breakdowns: list[Breakdown]
    children: list[ChildRow]  # the first `top` of the ranking
    children_total: int  # how many rows the whole ranking has
    pending: PendingWork
    cases: list[KindFigures] = field(default_factory=list)


def movements_in(org_ids: list, windows: dict[str, tuple[date, date, tuple[str, ...]]]) -> dict:
    """org id -> window name -> Counter of the named monthly movements summed over each window of months
    (start, end, fields): one grouped query for all the windows."""
    totals: dict[Any, dict[str, Counter]] = {org_id: {name: Counter() for name in windows} for org_id in org_ids}
    first = min(start.replace(day=1) for start, _, _ in windows.values())
    last = max(end for _, end, _ in windows.values())
    sums = {
        f"{name}__{f}": Sum(f, filter=Q(month__gte=start.replace(day=1), month__lte=end), default=0)
        for name, (start, end, fields) in windows.items()
        for f in fields
    }
    rows = (
        OrgMonthFigures.objects.filter(org_id__in=org_ids, month__gte=first, month__lte=last)
        .values("org_id")
        .annotate(**sums)
        .order_by()
    )
    for row in rows:
        values: dict[str, Any] = dict(row)
        org_id = values.pop("org_id")
        for key, value in values.items():
            name, f = key.split("__")
            totals[org_id][name][f] = value
    return totals


HEADLINE_FLOWS = ("joined", "transferred_in", "transferred_out", "left", "cancelled", "net_members")
HEADLINE_POINTS = ("members", "new_employment", "female", "migrant")  # the counts a Headline takes at an end
HEADLINE_NETS = tuple(f"net_{name}" for name in HEADLINE_POINTS)


def headlines(org_ids: list, period: Period, today: date, current: dict | None = None) -> dict:
    """org id -> Headline of the period beside the same stretch a year earlier. The counts at each end are the
    current ones less the net changes of the months after it; one query reads every window's movements."""
    current = current or current_figures(org_ids)
    reached = period.until(today)
    earlier = year_earlier_until(period, today)
    windows = {
        "period": (period.start, reached, HEADLINE_FLOWS),
        "earlier": (earlier.start, earlier.end, ("joined", "net_members")),
    }
    for name, end in (("after", reached), ("after_earlier", earlier.end)):
        if end.replace(day=1) < today.replace(day=1):
            windows[name] = (add_months(end.replace(day=1), 1), month_end(today), HEADLINE_NETS)
    moved = movements_in(org_ids, windows)

    def at_end(org_id, after: str) -> dict:
        net = moved[org_id].get(after, Counter())
        return {name: current[org_id][name] - net[f"net_{name}"] for name in HEADLINE_POINTS}

    result = {}
    for org_id in org_ids:
        now, before = at_end(org_id, "after"), at_end(org_id, "after_earlier")
        flow, flow_before = moved[org_id]["period"], moved[org_id]["earlier"]
        result[org_id] = Headline(
            members=now["members"],
            members_before=before["members"],
            joined=flow["joined"],
            joined_before=flow_before["joined"],
            net_change=flow["net_members"],
            net_change_before=flow_before["net_members"],
            transferred_in=flow["transferred_in"],
            transferred_out=flow["transferred_out"],
            left=flow["left"] + flow["cancelled"],
            new_employment=now["new_employment"],
            new_employment_before=before["new_employment"],
            female=now["female"],
            migrant=now["migrant"],
        )
    return result


def year_earlier_until(period: Period, today: date) -> Period:
    """The same stretch a year earlier: as far into it as the period has run."""
    earlier = period.year_earlier()
    reached = period.until(today)
    return Period(earlier.kind, earlier.start, month_end(reached.replace(year=reached.year - 1, day=1)), earlier.label)


def monthly_trend(org: Organisation, period: Period, today: date, current: dict | None = None) -> list[TrendPoint]:
    """Each month of the period up to the current one: members at its end and its movements."""
    months = [m for m in period.months if m <= today.replace(day=1)]
    if not months:
        return []
    current = current or current_figures([org.id])
    rows = {
        row["month"]: row
        for row in OrgMonthFigures.objects.filter(org=org, month__gte=months[0]).values("month", *FLOW_FIELDS)
    }
    members = current[org.id]["members"] - sum(r["net_members"] for m, r in rows.items() if m > months[-1])
    points = []
    for month in reversed(months):
        row = rows.get(month, {})
        points.append(
            TrendPoint(
                month=month,
                members=members,
                joined=row.get("joined", 0),
                transferred_in=row.get("transferred_in", 0),
                transferred_out=row.get("transferred_out", 0),
                left=row.get("left", 0) + row.get("cancelled", 0),
            )
        )
        members -= row.get("net_members", 0)
    return list(reversed(points))


def breakdowns(org: Organisation, today: date, current: dict) -> list[Breakdown]:
    """Members now by sex, age band (age = this year less the year of birth) and employment form."""
    row = current[org.id]
    sex = Breakdown(
        "性别",
        [("男", row["male"]), ("女", row["female"]), ("未填写", row["members"] - row["male"] - row["female"])],
    )
    by_year = dict(OrgAgeFigures.objects.filter(org=org).values_list("birth_year", "members"))
    bands = []
    for label, low, high in AGE_BANDS:
        bands.append((label, sum(n for y, n in by_year.items() if y and low <= today.year - y <= high)))
    bands.append(("未知", by_year.get(0, 0)))
    forms = Breakdown("就业形态", [(label, row[name]) for name, label in FORM_LABELS])
    return [sex, Breakdown("年龄", bands), forms]


def children_of(org: Organisation) -> list[Organisation]:
    return list(Organisation.objects.filter(**_directly_below(org, "")).order_by("path"))


def _directly_below(org: Organisation, prefix: str = "org__") -> dict:
    """The filter for the organisations one level below `org` (served by the (depth, path) index)."""
    return {f"{prefix}depth": org.depth + 1, f"{prefix}path__startswith": org.path}


# What a child's row reads of the current figures: its point-in-time counts and the rates' numbers.
CHILD_STOCK_FIELDS = (
    "members",
    "new_employment",
    "failing",
    "failing_checked_at",
    "registered_in_declared",
    "declared_total",
    "declared_unions",
    "employers_25",
    "employers_25_covered",
    "employers_100",
    "employers_100_covered",
)
CHILD_ZERO = {f: 0 for f in CHILD_STOCK_FIELDS} | {"failing_checked_at": None}


def _child_movements(org: Organisation, period: Period, today: date, ids: list | None = None) -> dict:
    """child id -> the period's joins and net change, and the net changes after the period (to take the counts back
    to its end): one grouped query over the children's monthly rows (of `ids` only, when given)."""
    reached = period.until(today)
    counted = Q(month__lte=reached)
    later = Q(month__gt=reached)
    which = Q(org_id__in=ids) if ids is not None else Q(**_directly_below(org))
    rows = (
        OrgMonthFigures.objects.filter(which, month__gte=period.start.replace(day=1), month__lte=month_end(today))
        .values("org_id")
        .annotate(
            period_joined=Sum("joined", filter=counted, default=0),
            period_net_members=Sum("net_members", filter=counted, default=0),
            later_members=Sum("net_members", filter=later, default=0),
            later_new_employment=Sum("net_new_employment", filter=later, default=0),
        )
        .order_by()
    )
    return {values.pop("org_id"): values for values in map(dict, rows)}


NOTHING_MOVED = {"period_joined": 0, "period_net_members": 0, "later_members": 0, "later_new_employment": 0}
# The current figures each ranking needs to order the children (members: to leave out a dissolved child without any).
RANKING_STOCK = {
    "members": ("members",),
    "joined": ("members",),
    "net_change": ("members",),
    "new_employment": ("members", "new_employment"),
    "coverage": ("members", "registered_in_declared", "declared_total"),
    "accuracy": ("members", "failing", "failing_checked_at"),
    "founding_25": ("members", "employers_25_covered", "employers_25"),
    "founding_100": ("members", "employers_100_covered", "employers_100"),
}


def _ranking_value(key: str, stock: dict, flow: dict, stale: Stale = NOTHING_STALE):
    """The value a child is ranked by: exactly what its ChildRow shows (ChildRow.value). A child whose 入库率 is
    flagged 实有会员数待更新 instead of a number ranks after those with one."""
    if key == "members":
        return stock["members"] - flow["later_members"]
    if key == "new_employment":
        return stock["new_employment"] - flow["later_new_employment"]
    if key == "joined":
        return flow["period_joined"]
    if key == "net_change":
        return flow["period_net_members"]
    if key == "accuracy":
        return percent(stock["members"] - stock["failing"], stock["members"]) if stock["failing_checked_at"] else None
    part, whole = RANKING_STOCK[key][1:]
    if key == "coverage":
        return coverage_of(stock[part], stock[whole], stale)
    return percent(stock[part], stock[whole])


def ranked_children(
    org: Organisation, period: Period, today: date, *, sort: str = "members", top: int | None = None
) -> tuple[list[ChildRow], int]:
    """The first `top` (all with None) of the organisations directly below `org`, ranked by `sort` (largest first,
    then by place in the tree), and how many there are. Ranks on the few figures the order needs, read for every
    child in one query; the rows shown are then read in full. The monthly rows are read for every child only when
    the order depends on them (joins or net change, or counts at the end of a period that has ended)."""
    key = sort if sort in RANKING_KEYS else "members"
    needs = RANKING_STOCK[key]
    children = Organisation.objects.filter(**_directly_below(org, "")).values_list(
        "id", "path", "status", *[f"figures__{name}" for name in needs]
    )
    ended = period.until(today) < month_end(today)
    moved_all = key in ("joined", "net_change") or (ended and key in ("members", "new_employment"))
    moved = _child_movements(org, period, today) if moved_all else {}
    stale = stale_declarations_below(org)
    ranked = []
    for child_id, path, status, *values in children:
        stock = {
            name: (value if value is not None or name == "failing_checked_at" else 0)
            for name, value in zip(needs, values, strict=True)
        }
        if status != OrgStatus.ACTIVE and not stock["members"]:
            continue
        value = _ranking_value(key, stock, moved.get(child_id, NOTHING_MOVED), stale.get(child_id, NOTHING_STALE))
        ranked.append((value is None, -(value or 0), path, child_id))
    ranked.sort()
    shown = [child_id for *_, child_id in (ranked if top is None else ranked[:top])]
    return _child_rows_of(org, shown, period, today, moved if moved_all else None, stale), len(ranked)


def _child_rows_of(
    org: Organisation, ids: list, period: Period, today: date, moved: dict | None, stale: dict | None = None
) -> list[ChildRow]:
    """Full rows for the children `ids`, in that order."""
    if not ids:
        return []
    whole = len(ids) > 200  # a long list is read by the tree filter rather than sent as ids
    which = Q(**_directly_below(org, "")) if whole else Q(id__in=ids)
    orgs = {child.id: child for child in Organisation.objects.filter(which).select_related("figures")}
    stock = {
        child_id: {name: getattr(child.figures, name) for name in CHILD_STOCK_FIELDS}
        for child_id, child in orgs.items()
        if hasattr(child, "figures")
    }
    if moved is None:
        moved = _child_movements(org, period, today, None if whole else ids)
    if stale is None:
        stale = stale_declarations_below(org)
    rows = []
    for child_id in ids:
        current = stock.get(child_id, CHILD_ZERO)
        flow = moved.get(child_id, NOTHING_MOVED)
        rows.append(
            ChildRow(
                org=orgs[child_id],
                members=current["members"] - flow["later_members"],
                joined=flow["period_joined"],
                net_change=flow["period_net_members"],
                new_employment=current["new_employment"] - flow["later_new_employment"],
                rates=rates_of(current, stale.get(child_id, NOTHING_STALE)),
            )
        )
    return rows


def child_rows(org: Organisation, period: Period, today: date, *, sort: str = "members") -> list[ChildRow]:
    """All the organisations directly below `org` with their figures, ranked by `sort`."""
    return ranked_children(org, period, today, sort=sort)[0]


def pending_work(org: Organisation, today: date) -> PendingWork:
    """Work waiting in the subtree: applications, transfers (at the step of a union in it), corrections, cases.
    One count per table, its overdue part counted in the same pass."""
    inside = org.path
    overdue = Q(due_on__lt=today)

    def counted(queryset) -> dict:
        return queryset.aggregate(open=Count("pk"), overdue=Count("pk", filter=overdue))

    applications = counted(
        JoinApplication.objects.filter(status=ApplicationStatus.PENDING, org__path__startswith=inside)
    )
    transfers = counted(
        TransferRequest.objects.filter(
            Q(status=TransferStatus.PENDING_RELEASE, from_org__path__startswith=inside)
            | Q(status=TransferStatus.PENDING_ACCEPT, to_org__path__startswith=inside)
        )
    )
    cases = counted(ServiceCase.objects.filter(status__in=OPEN_CASE_STATUSES, org__path__startswith=inside))
    return PendingWork(
        applications=applications["open"],
        applications_overdue=applications["overdue"],
        transfers=transfers["open"],
        transfers_overdue=transfers["overdue"],
        corrections=CorrectionRequest.objects.filter(
            status=CorrectionStatus.PENDING, org__path__startswith=inside
        ).count(),
        cases=cases["open"],
        cases_overdue=cases["overdue"],
    )


CHILDREN_SHOWN = 50  # rows of the children's ranking a dashboard carries unless asked for more


def dashboard(
    *,
    actor: Actor,
    org: Organisation,
    period: Period,
    today: date,
    sort: str = "members",
    top: int | None = CHILDREN_SHOWN,
    with_cases: bool = True,
) -> Dashboard:
    """Everything the 驾驶舱 shows for `org`'s subtree and `period`; of the children's ranking the first `top` rows
    (all of them with None)."""
    require_figures(actor, org)
    current = current_figures([org.id])
    children, children_total = ranked_children(org, period, today, sort=sort, top=top)
    return Dashboard(
        org=org,
        period=period,
        reached=period.until(today),
        as_of=min(period.until(today), today),
        compared=year_earlier_until(period, today),
        status={"active": current[org.id]["active"], "reserved": current[org.id]["reserved"]},
        headline=headlines([org.id], period, today, current)[org.id],
        rates=rates_of(current[org.id], stale_declarations(org)),
        trend=monthly_trend(org, period, today, current),
        breakdowns=breakdowns(org, today, current),
        children=children,
        children_total=children_total,
        pending=pending_work(org, today),
        cases=service_figures(actor=actor, org=org, start=period.start, end=period.until(today)) if with_cases else [],
    )


def service_figures(*, actor: Actor, org: Organisation, start: date, end: date) -> list[KindFigures]:
    """The service centre's figures (docs/casework.md) for the statistics: counted over the case records, so kept
    apart from the member figures (the API serves them from their own endpoint)."""
    require_figures(actor, org)
    return case_figures(actor=actor, org=org, start=start, end=end)


# ---------------------------------------------------------------- statistics tables


def member_table(*, actor: Actor, org: Organisation, period: Period, today: date) -> tuple[list, Headline]:
    """会员统计表: (child organisation, Headline) for each child with members now or in the period, and the total."""
    require_figures(actor, org)
    children = children_of(org)
    ids = [org.id] + [c.id for c in children]
    figures = headlines(ids, period, today)
    rows = [
        (child, figures[child.id])
        for child in children
        if child.status == OrgStatus.ACTIVE or figures[child.id].members or figures[child.id].net_change
    ]
    return rows, figures[org.id]


def founding_table(*, actor: Actor, org: Organisation) -> tuple[list, tuple]:
    """建会情况表: (child, grassroots unions, employers, covered, Rates) per child and for the whole subtree."""
    require_figures(actor, org)
    children = [c for c in children_of(org) if c.status == OrgStatus.ACTIVE]
    ids = [org.id] + [c.id for c in children]
    current = current_figures(ids)
    unions: Counter = Counter()
    grassroots = Organisation.objects.filter(
        path__startswith=org.path, org_type__in=GRASSROOTS_TYPES, status=OrgStatus.ACTIVE
    ).values_list("path", flat=True)
    child_by_prefix = {c.path: c.id for c in children}
    step = len(org.path) + (len(children[0].path) - len(org.path) if children else 0)
    for path in grassroots.iterator(5000):
        unions[org.id] += 1
        if children and (child := child_by_prefix.get(path[:step])):
            unions[child] += 1

    stale = stale_declarations_below(org) | {org.id: stale_declarations(org)}

    def row(target):
        figures = current[target.id]
        return (
            target,
            unions[target.id],
            figures["employers"],
            figures["employers_covered"],
            rates_of(figures, stale.get(target.id, NOTHING_STALE)),
        )

    return [row(c) for c in children], row(org)
