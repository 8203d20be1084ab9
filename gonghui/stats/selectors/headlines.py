"""A period's headline figures, the monthly trend and the breakdowns, from the kept monthly rows."""

from collections import Counter
from datetime import date
from typing import Any

from django.db.models import Q, Sum

from gonghui.orgs.figures import members_by_birth_year, month_rows, month_sums_by_org
from gonghui.orgs.models import FLOW_FIELDS, Organisation
from gonghui.stats.periods import Period, add_months, month_end
from gonghui.stats.selectors.coverage import AGE_BANDS, FORM_LABELS
from gonghui.stats.selectors.kept import current_figures
from gonghui.stats.selectors.shapes import Breakdown, Headline, TrendPoint


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
    rows = month_sums_by_org(Q(org_id__in=org_ids), first, last, sums)
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
    rows = {row["month"]: row for row in month_rows(org, months[0], FLOW_FIELDS)}
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
    by_year = members_by_birth_year(org)
    bands = []
    for label, low, high in AGE_BANDS:
        bands.append((label, sum(n for y, n in by_year.items() if y and low <= today.year - y <= high)))
    bands.append(("未知", by_year.get(0, 0)))
    forms = Breakdown("就业形态", [(label, row[name]) for name, label in FORM_LABELS])
    return [sex, Breakdown("年龄", bands), forms]
