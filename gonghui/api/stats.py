"""Statistics endpoints (a provincial platform, a big screen, the dashboard itself): the figures of any organisation
in scope for any period, and the annual summary. Aggregates only; tokens may read them for their own subtree."""

from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from gonghui.api.schemas import ErrorOut
from gonghui.orgs.selectors import org_get
from gonghui.stats.periods import Period, period_from
from gonghui.stats.selectors import CHILDREN_SHOWN, RANKING_KEYS, Rates, dashboard, service_figures, year_earlier_until
from gonghui.stats.summary import annual_summary

router = Router(tags=["统计"])


class PeriodQuery(Schema):
    period: Literal["year", "quarter", "month", "custom"] = "year"
    year: int | None = None
    quarter: int | None = None
    month: int | None = None
    start: str | None = None
    end: str | None = None
    sort: str = "members"


class DashboardQuery(PeriodQuery):
    top: int = Field(CHILDREN_SHOWN, ge=0, description="返回排名前多少个下级组织（0 为全部）")


class PeriodOut(Schema):
    kind: str
    label: str
    start: date
    end: date
    reached: date
    compared_start: date
    compared_end: date


class RatesOut(Schema):
    coverage: Decimal | None = Field(description="入库率（%），不超过100；实有会员数待更新时为空")
    registered_in_declared: int
    declared_total: int
    declared_unions: int
    stale_unions: int = Field(description="入库会员多于实有会员数的基层工会数")
    coverage_flag: str = Field(description="“实有会员数待更新”或空")
    accuracy: Decimal | None
    passing: int
    checked_at: str | None
    founding_25: Decimal | None
    employers_25_covered: int
    employers_25: int
    founding_100: Decimal | None
    employers_100_covered: int
    employers_100: int


class HeadlineOut(Schema):
    members: int
    members_before: int
    members_change: Decimal | None
    joined: int
    joined_before: int
    joined_change: Decimal | None
    net_change: int
    net_change_before: int
    transferred_in: int
    transferred_out: int
    left: int
    new_employment: int
    new_employment_before: int
    new_employment_change: Decimal | None
    female: int
    migrant: int


class TrendOut(Schema):
    month: str
    members: int
    joined: int
    transferred_in: int
    transferred_out: int
    left: int


class BreakdownOut(Schema):
    title: str
    rows: list[tuple[str, int]]


class ChildOut(Schema):
    id: UUID
    code: str
    name: str
    members: int
    joined: int
    net_change: int
    new_employment: int
    rates: RatesOut


class PendingOut(Schema):
    applications: int
    applications_overdue: int
    transfers: int
    transfers_overdue: int
    corrections: int
    cases: int
    cases_overdue: int


class CaseFiguresOut(Schema):
    kind: str
    label: str
    cases: int
    people: int
    money: Decimal
    closed: int
    overdue: int
    avg_days: float | None
    avg_rating: float | None


class DashboardOut(Schema):
    org_id: UUID
    org_code: str
    org_name: str
    period: PeriodOut
    headline: HeadlineOut
    rates: RatesOut
    trend: list[TrendOut]
    breakdowns: list[BreakdownOut]
    children: list[ChildOut]
    children_total: int
    sorted_by: str
    pending: PendingOut


def period_out(period: Period, today: date) -> dict:
    compared = year_earlier_until(period, today)
    return {
        "kind": period.kind,
        "label": period.label,
        "start": period.start,
        "end": period.end,
        "reached": period.until(today),
        "compared_start": compared.start,
        "compared_end": compared.end,
    }


def rates_out(rates: Rates) -> dict:
    data = dict(rates.__dict__)
    data["checked_at"] = rates.checked_at.isoformat() if rates.checked_at else None
    return data


@router.get(
    "/stats/orgs/{org_id}/dashboard",
    response={200: DashboardOut, 404: ErrorOut},
    summary="驾驶舱：组织及下级的统计数（任意期间，含上年同期）",
)
def stats_dashboard(request, org_id: UUID, params: Query[DashboardQuery]):
    actor = request.actor
    org = org_get(actor=actor, org_id=org_id)
    today = timezone.localdate()
    period = period_from(params.dict(exclude_none=True), today=today)
    sort = params.sort if params.sort in RANKING_KEYS else "members"
    top = params.top or None
    board = dashboard(actor=actor, org=org, period=period, today=today, sort=sort, top=top, with_cases=False)
    h = board.headline
    return {
        "org_id": org.id,
        "org_code": org.code,
        "org_name": org.name,
        "period": period_out(period, today),
        "headline": {
            **h.__dict__,
            "members_change": h.members_change,
            "joined_change": h.joined_change,
            "new_employment_change": h.new_employment_change,
        },
        "rates": rates_out(board.rates),
        "trend": [{**p.__dict__, "month": f"{p.month:%Y-%m}"} for p in board.trend],
        "breakdowns": [{"title": b.title, "rows": b.rows} for b in board.breakdowns],
        "children": [
            {
                "id": row.org.id,
                "code": row.org.code,
                "name": row.org.name,
                "members": row.members,
                "joined": row.joined,
                "net_change": row.net_change,
                "new_employment": row.new_employment,
                "rates": rates_out(row.rates),
            }
            for row in board.children
        ],
        "children_total": board.children_total,
        "sorted_by": sort,
        "pending": board.pending.__dict__,
    }


class ServicesOut(Schema):
    org_id: UUID
    period: PeriodOut
    kinds: list[CaseFiguresOut]


@router.get(
    "/stats/orgs/{org_id}/services",
    response={200: ServicesOut, 404: ErrorOut},
    summary="职工服务统计：各类服务的件数、人数与金额（任意期间）",
)
def stats_services(request, org_id: UUID, params: Query[PeriodQuery]):
    actor = request.actor
    org = org_get(actor=actor, org_id=org_id)
    today = timezone.localdate()
    period = period_from(params.dict(exclude_none=True), today=today)
    rows = service_figures(actor=actor, org=org, start=period.start, end=period.until(today))
    return {
        "org_id": org.id,
        "period": period_out(period, today),
        "kinds": [
            {
                "kind": c.kind,
                "label": c.label,
                "cases": c.cases,
                "people": c.people,
                "money": c.money,
                "closed": c.closed,
                "overdue": c.overdue,
                "avg_days": c.avg_days,
                "avg_rating": c.avg_rating,
            }
            for c in rows
        ],
    }


class AnnualQuery(Schema):
    year: int | None = None


class SummaryItemOut(Schema):
    section: str
    name: str
    value: Decimal | None
    unit: str
    sentence: str
    note: str


class AnnualOut(Schema):
    org_id: UUID
    org_name: str
    year: int
    reached: date
    complete: bool
    items: list[SummaryItemOut]


@router.get(
    "/stats/orgs/{org_id}/annual",
    response={200: AnnualOut, 404: ErrorOut},
    summary="年度工作统计：工作报告引用的年度数据及表述",
)
def stats_annual(request, org_id: UUID, params: Query[AnnualQuery]):
    actor = request.actor
    org = org_get(actor=actor, org_id=org_id)
    today = timezone.localdate()
    year = params.year if params.year and 2000 <= params.year <= today.year else today.year
    summary = annual_summary(actor=actor, org=org, year=year, today=today)
    return {
        "org_id": org.id,
        "org_name": org.name,
        "year": summary.year,
        "reached": summary.reached,
        "complete": summary.complete,
        "items": [item.__dict__ for item in summary.items],
    }
