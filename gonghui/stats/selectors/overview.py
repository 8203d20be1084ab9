"""The dashboard of one organisation's subtree, the service figures, and the statistics tables."""

from collections import Counter
from datetime import date

from django.db.models import Count, Q

from gonghui.casework.selectors import KindFigures, case_figures, open_cases_in
from gonghui.common.actor import Actor
from gonghui.members.selectors import registry_work_in
from gonghui.orgs.models import (
    Organisation,
    OrgStatus,
)
from gonghui.orgs.selectors import active_unions_in
from gonghui.stats.periods import Period
from gonghui.stats.selectors.children import children_of, ranked_children
from gonghui.stats.selectors.coverage import (
    NOTHING_STALE,
    require_figures,
    stale_declarations,
    stale_declarations_below,
)
from gonghui.stats.selectors.headlines import breakdowns, headlines, monthly_trend, year_earlier_until
from gonghui.stats.selectors.kept import current_figures
from gonghui.stats.selectors.shapes import Dashboard, Headline, PendingWork, rates_of


def pending_work(org: Organisation, today: date) -> PendingWork:
    """Work waiting in the subtree: applications, transfers (at the step of a union in it), corrections, cases.
    One count per table, its overdue part counted in the same pass."""
    inside = org.path
    overdue = Q(due_on__lt=today)

    def counted(queryset) -> dict:
        return queryset.aggregate(open=Count("pk"), overdue=Count("pk", filter=overdue))

    registry = registry_work_in(org, today)
    applications, transfers = registry["applications"], registry["transfers"]
    cases = counted(open_cases_in(inside))
    return PendingWork(
        applications=applications["open"],
        applications_overdue=applications["overdue"],
        transfers=transfers["open"],
        transfers_overdue=transfers["overdue"],
        corrections=registry["corrections"],
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
    grassroots = active_unions_in(org).values_list("path", flat=True)
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
