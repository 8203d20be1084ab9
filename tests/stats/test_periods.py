"""Periods: reading them from a request, their months and reach, the same period a year earlier."""

from datetime import date

import pytest

from gonghui.stats import selectors
from gonghui.stats.periods import Period, period_from, year_earlier
from tests.stats.naive import TODAY

# ---------------------------------------------------------------- periods

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, Period("year", date(2026, 1, 1), date(2026, 12, 31), "2026年")),
        ({"period": "year", "year": "2024"}, Period("year", date(2024, 1, 1), date(2024, 12, 31), "2024年")),
        ({"period": "year", "year": " 2025 "}, Period("year", date(2025, 1, 1), date(2025, 12, 31), "2025年")),
        (
            {"period": "quarter", "year": "2025", "quarter": "1"},
            Period("quarter", date(2025, 1, 1), date(2025, 3, 31), "2025年第1季度"),
        ),
        (
            {"period": "quarter", "year": "2024", "quarter": "4"},
            Period("quarter", date(2024, 10, 1), date(2024, 12, 31), "2024年第4季度"),
        ),
        ({"period": "quarter"}, Period("quarter", date(2026, 4, 1), date(2026, 6, 30), "2026年第2季度")),
        (
            {"period": "month", "year": "2024", "month": "2"},
            Period("month", date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
        ),
        (
            {"period": "month", "year": "2025", "month": "2"},
            Period("month", date(2025, 2, 1), date(2025, 2, 28), "2025年2月"),
        ),
        ({"period": "month"}, Period("month", date(2026, 5, 1), date(2026, 5, 31), "2026年5月")),
        (
            {"period": "custom", "start": "2024-11", "end": "2025-03"},
            Period("custom", date(2024, 11, 1), date(2025, 3, 31), "2024年11月至2025年3月"),
        ),
        (
            {"period": "custom", "start": "2024-11-17", "end": "2025-03-02"},
            Period("custom", date(2024, 11, 1), date(2025, 3, 31), "2024年11月至2025年3月"),
        ),
        (
            {"period": "custom", "start": "2024-02", "end": "2024-02-29"},
            Period("custom", date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
        ),
    ],
)
def test_period_from_reads_each_kind(params, expected):
    period = period_from(params, today=TODAY)
    assert period == expected
    assert period_from(period.params(), today=TODAY) == period  # the links of the page select it again


THIS_YEAR = (date(2026, 1, 1), date(2026, 12, 31), "2026年")
Q2_2025 = (date(2025, 4, 1), date(2025, 6, 30), "2025年第2季度")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"period": "week"}, THIS_YEAR),
        ({"period": "year", "year": "二〇二五"}, THIS_YEAR),
        ({"period": "year", "year": "2025.0"}, THIS_YEAR),
        ({"period": "year", "year": "1999"}, THIS_YEAR),
        ({"period": "year", "year": "2101"}, THIS_YEAR),
        # An unreadable quarter or month: the current one, of the chosen year.
        ({"period": "quarter", "year": "2025", "quarter": "5"}, Q2_2025),
        ({"period": "quarter", "year": "2025", "quarter": "Q1"}, Q2_2025),
        ({"period": "month", "year": "2025", "month": "13"}, (date(2025, 5, 1), date(2025, 5, 31), "2025年5月")),
        ({"period": "month", "year": "2025", "month": "0"}, (date(2025, 5, 1), date(2025, 5, 31), "2025年5月")),
        # A custom period that cannot be read: the year.
        ({"period": "custom", "start": "2025-06", "end": "2025-01"}, THIS_YEAR),
        ({"period": "custom", "start": "2026-02-30", "end": "2026-03"}, THIS_YEAR),
        ({"period": "custom", "start": "2026-13", "end": "2026-12"}, THIS_YEAR),
        ({"period": "custom", "start": "2026/03", "end": "2026-04"}, THIS_YEAR),
        ({"period": "custom", "start": "2026-03"}, THIS_YEAR),
        ({"period": "custom", "start": "1999-12", "end": "2000-02"}, THIS_YEAR),
        ({"period": "custom", "start": "2100-11", "end": "2101-01"}, THIS_YEAR),
        (
            {"period": "custom", "year": "2024", "start": "x", "end": "y"},
            (date(2024, 1, 1), date(2024, 12, 31), "2024年"),
        ),
    ],
)
def test_period_from_falls_back_on_what_it_cannot_read(params, expected):
    period = period_from(params, today=TODAY)
    assert (period.start, period.end, period.label) == expected
    assert period.kind == (params["period"] if params["period"] in ("quarter", "month") else "year")


def test_the_months_and_the_reach_of_a_period():
    custom = period_from({"period": "custom", "start": "2025-11", "end": "2026-08"}, today=TODAY)
    assert custom.months == [date(2025, 11, 1), date(2025, 12, 1), *[date(2026, m, 1) for m in range(1, 9)]]
    assert custom.until(TODAY) == date(2026, 5, 31)  # running: as far as the current month
    assert custom.until(date(2026, 9, 1)) == date(2026, 8, 31)
    assert period_from({"period": "year", "year": "2025"}, today=TODAY).until(TODAY) == date(2025, 12, 31)


def test_the_same_period_a_year_earlier():
    assert year_earlier(date(2024, 2, 29)) == date(2023, 2, 28)
    assert year_earlier(date(2025, 3, 31)) == date(2024, 3, 31)
    february_2024 = period_from({"period": "month", "year": "2024", "month": "2"}, today=TODAY)
    assert february_2024.year_earlier() == Period("month", date(2023, 2, 1), date(2023, 2, 28), "2024年2月（上年同期）")
    february_2025 = period_from({"period": "month", "year": "2025", "month": "2"}, today=TODAY)
    assert february_2025.year_earlier() == Period("month", date(2024, 2, 1), date(2024, 2, 29), "2025年2月（上年同期）")
    winter = period_from({"period": "custom", "start": "2023-12", "end": "2024-02"}, today=TODAY)
    assert winter.year_earlier() == Period(
        "custom", date(2022, 12, 1), date(2023, 2, 28), "2023年12月至2024年2月（上年同期）"
    )


@pytest.mark.parametrize(
    ("params", "today", "expected"),
    [
        # Complete periods: the whole of the same period a year earlier.
        ({"period": "year", "year": "2025"}, TODAY, (date(2024, 1, 1), date(2024, 12, 31))),
        ({"period": "quarter", "year": "2025", "quarter": "1"}, TODAY, (date(2024, 1, 1), date(2024, 3, 31))),
        # Running periods: only as far as the period has run (to the end of the current month).
        ({"period": "year"}, TODAY, (date(2025, 1, 1), date(2025, 5, 31))),
        ({"period": "quarter"}, TODAY, (date(2025, 4, 1), date(2025, 5, 31))),
        ({"period": "month"}, TODAY, (date(2025, 5, 1), date(2025, 5, 31))),
        ({"period": "custom", "start": "2025-11", "end": "2026-08"}, TODAY, (date(2024, 11, 1), date(2025, 5, 31))),
        # 29 February: the earlier stretch ends on the 28th.
        ({"period": "year", "year": "2028"}, date(2028, 2, 29), (date(2027, 1, 1), date(2027, 2, 28))),
        ({"period": "month", "year": "2028", "month": "2"}, date(2028, 2, 29), (date(2027, 2, 1), date(2027, 2, 28))),
        ({"period": "month", "year": "2025", "month": "2"}, date(2025, 2, 10), (date(2024, 2, 1), date(2024, 2, 29))),
    ],
)
def test_the_comparison_runs_only_as_far_as_the_period_has_run(params, today, expected):
    period = period_from(params, today=today)
    earlier = selectors.year_earlier_until(period, today)
    assert (earlier.kind, earlier.start, earlier.end) == (period.kind, *expected)
    assert earlier.label == f"{period.label}（上年同期）"


def test_a_period_that_has_not_started_is_compared_with_a_window_that_runs_forwards():
    period = period_from({"period": "quarter", "year": "2026", "quarter": "4"}, today=TODAY)
    earlier = selectors.year_earlier_until(period, TODAY)
    assert earlier.start <= earlier.end
