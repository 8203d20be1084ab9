"""Reading the kept per-organisation figures: the current counts, monthly movements, counts on a past day."""

from collections import Counter
from datetime import date
from typing import Any

from django.db.models import Q, Sum

from gonghui.orgs.figures import current_rows, month_sums_by_org
from gonghui.orgs.models import FLOW_FIELDS, STOCK_FIELDS
from gonghui.stats.periods import add_months, month_end
from gonghui.stats.selectors.coverage import POINT_IN_TIME

# ---------------------------------------------------------------- reading the kept figures


def current_figures(org_ids: list) -> dict:
    """org id -> {field: value} of the current counts (zeros for an organisation without any)."""
    rows = {row["org_id"]: row for row in current_rows(org_ids)}
    zero = {f: 0 for f in STOCK_FIELDS} | {"failing": 0, "failing_checked_at": None, "own_declared": None}
    return {org_id: rows.get(org_id, zero) for org_id in org_ids}


def movements(org_ids: list, start: date, end: date) -> dict:
    """org id -> Counter of the monthly movements summed over the months from `start` to `end`."""
    totals: dict[Any, Counter] = {org_id: Counter() for org_id in org_ids}
    rows = month_sums_by_org(Q(org_id__in=org_ids), start.replace(day=1), end, {f: Sum(f) for f in FLOW_FIELDS})
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
