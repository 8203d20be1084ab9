"""What the dashboard is made of: rates, headlines, trend points, breakdowns, the children's rows, pending work."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from gonghui.casework.selectors import KindFigures
from gonghui.orgs.models import (
    Organisation,
)
from gonghui.stats.periods import Period
from gonghui.stats.selectors.coverage import COVERAGE_STALE, NOTHING_STALE, Stale, coverage_of, percent

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
