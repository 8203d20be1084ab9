"""Statistical periods: a year, a quarter, a month, or a custom run of whole months. The figures are kept per
calendar month, so a custom period is read as the months it touches (docs/statistics.md)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

PERIOD_KINDS = {"year": "年度", "quarter": "季度", "month": "月度", "custom": "自定义"}
MIN_YEAR, MAX_YEAR = 2000, 2100


def month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> list[date]:
    """First days of the months from `start`'s to `end`'s, inclusive."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


def year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Period:
    kind: str
    start: date  # the first day of the first month
    end: date  # the last day of the last month
    label: str

    @property
    def months(self) -> list[date]:
        return months_between(self.start, self.end)

    def until(self, today: date) -> date:
        """The last day the period has reached: its end, or the end of the current month while it is running (the end
        of its first month if it has not started: nothing is recorded after today, so its figures are today's)."""
        return max(min(self.end, month_end(today)), month_end(self.start))

    def year_earlier(self) -> "Period":
        start, end = year_earlier(self.start), month_end(year_earlier(self.end).replace(day=1))
        return Period(kind=self.kind, start=start, end=end, label=f"{self.label}（上年同期）")

    def params(self) -> dict[str, str]:
        """Query parameters that select this period again."""
        if self.kind == "custom":
            return {"period": "custom", "start": f"{self.start:%Y-%m}", "end": f"{self.end:%Y-%m}"}
        params = {"period": self.kind, "year": str(self.start.year)}
        if self.kind == "quarter":
            params["quarter"] = str((self.start.month - 1) // 3 + 1)
        if self.kind == "month":
            params["month"] = str(self.start.month)
        return params


def year_period(year: int) -> Period:
    return Period(kind="year", start=date(year, 1, 1), end=date(year, 12, 31), label=f"{year}年")


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(str(params.get(name, "")).strip())
    except ValueError:
        return default
    return value if low <= value <= high else default


def _month(text: str) -> date | None:
    """'2026-03' or '2026-03-15' → 2026-03-01."""
    text = (text or "").strip()
    try:
        if len(text) == 7:
            return date.fromisoformat(text + "-01")
        return date.fromisoformat(text).replace(day=1)
    except ValueError:
        return None


def period_from(params: Mapping[str, str], *, today: date) -> Period:
    """The period a request asks for. What cannot be read falls back to the current year (or the current quarter
    or month of the chosen year)."""
    kind = params.get("period", "year")
    year = _int(params, "year", today.year, MIN_YEAR, MAX_YEAR)
    if kind == "quarter":
        quarter = _int(params, "quarter", (today.month - 1) // 3 + 1, 1, 4)
        start = date(year, 3 * quarter - 2, 1)
        return Period(kind, start, month_end(add_months(start, 2)), f"{year}年第{quarter}季度")
    if kind == "month":
        month = _int(params, "month", today.month, 1, 12)
        start = date(year, month, 1)
        return Period(kind, start, month_end(start), f"{year}年{month}月")
    if kind == "custom":
        first, last = _month(params.get("start", "")), _month(params.get("end", ""))
        if first and last and first <= last and first.year >= MIN_YEAR and last.year <= MAX_YEAR:
            label = f"{first.year}年{first.month}月至{last.year}年{last.month}月"
            if first == last:
                label = f"{first.year}年{first.month}月"
            return Period("custom", first, month_end(last), label)
    return year_period(year)
