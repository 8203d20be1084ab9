"""The organisations directly below: their rows of figures and the rankings."""

from datetime import date

from django.db.models import Q, Sum

from gonghui.orgs.figures import month_sums_by_org
from gonghui.orgs.models import Organisation, OrgStatus
from gonghui.orgs.selectors import directly_below, orgs_by_id
from gonghui.stats.periods import Period, month_end
from gonghui.stats.selectors.coverage import NOTHING_STALE, Stale, coverage_of, percent, stale_declarations_below
from gonghui.stats.selectors.shapes import RANKING_KEYS, ChildRow, rates_of


def children_of(org: Organisation) -> list[Organisation]:
    return list(directly_below(org).order_by("path"))


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
    sums = {
        "period_joined": Sum("joined", filter=counted, default=0),
        "period_net_members": Sum("net_members", filter=counted, default=0),
        "later_members": Sum("net_members", filter=later, default=0),
        "later_new_employment": Sum("net_new_employment", filter=later, default=0),
    }
    rows = month_sums_by_org(which, period.start.replace(day=1), month_end(today), sums)
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
    children = directly_below(org).values_list("id", "path", "status", *[f"figures__{name}" for name in needs])
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
    which = directly_below(org) if whole else orgs_by_id(ids)
    orgs = {child.id: child for child in which.select_related("figures")}
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
