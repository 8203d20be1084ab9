"""Statistics endpoints (a provincial platform, a big screen, the dashboard itself): the figures of any organisation
in scope for any period, and the annual summary. Aggregates only; tokens may read them for their own subtree."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from gonghui.api.schemas import ErrorOut
from gonghui.orgs.selectors import org_get
from gonghui.stats.periods import Period, period_from
from gonghui.stats.selectors import (
    CHILDREN_SHOWN,
    RANKING_KEYS,
    Dashboard,
    dashboard,
    service_figures,
    year_earlier_until,
)
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


@dataclass(frozen=True)
class PeriodSoFar:
    """A period as far as it has run on `today`, and the same stretch a year earlier (what a dashboard holds)."""

    period: Period
    today: date

    @property
    def reached(self) -> date:
        return self.period.until(self.today)

    @property
    def compared(self) -> Period:
        return year_earlier_until(self.period, self.today)


@dataclass(frozen=True)
class RankedDashboard:
    """The dashboard and the key its children were ranked by."""

    board: Dashboard
    sorted_by: str

    def __getattr__(self, name: str):
        return getattr(self.board, name)


class PeriodOut(Schema):
    # Read from a Dashboard or a PeriodSoFar: the period, how far it has run, the same stretch a year earlier.
    kind: str
    label: str
    start: date
    end: date
    reached: date
    compared_start: date
    compared_end: date

    @staticmethod
    def resolve_kind(span) -> str:
        return span.period.kind

    @staticmethod
    def resolve_label(span) -> str:
        return span.period.label

    @staticmethod
    def resolve_start(span) -> date:
        return span.period.start

    @staticmethod
    def resolve_end(span) -> date:
        return span.period.end

    @staticmethod
    def resolve_compared_start(span) -> date:
        return span.compared.start

    @staticmethod
    def resolve_compared_end(span) -> date:
        return span.compared.end


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

    @staticmethod
    def resolve_checked_at(rates) -> str | None:
        return rates.checked_at.isoformat() if rates.checked_at else None


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

    @staticmethod
    def resolve_month(point) -> str:
        return f"{point.month:%Y-%m}"


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

    @staticmethod
    def resolve_id(row):
        return row.org.id

    @staticmethod
    def resolve_code(row) -> str:
        return row.org.code

    @staticmethod
    def resolve_name(row) -> str:
        return row.org.name


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

    @staticmethod
    def resolve_org_id(ranked):
        return ranked.org.id

    @staticmethod
    def resolve_org_code(ranked) -> str:
        return ranked.org.code

    @staticmethod
    def resolve_org_name(ranked) -> str:
        return ranked.org.name

    @staticmethod
    def resolve_period(ranked):
        return ranked.board


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
    return RankedDashboard(board=board, sorted_by=sort)


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
    return {"org_id": org.id, "period": PeriodSoFar(period=period, today=today), "kinds": rows}


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

    @staticmethod
    def resolve_org_id(summary):
        return summary.org.id

    @staticmethod
    def resolve_org_name(summary) -> str:
        return summary.org.name


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
    return annual_summary(actor=actor, org=org, year=year, today=today)
