"""Service stations: opening hours as people write them, nights past midnight and statutory holidays."""

from datetime import date, datetime

import chinese_calendar
import pytest

from gonghui.common.errors import ValidationFailed
from gonghui.stations.hours import (
    describe_intervals,
    holiday_text,
    intervals_of_day,
    is_open_at,
    parse_intervals,
    statutory_holiday,
    week_table,
)
from gonghui.stations.models import Station
from tests.stations.factories import errors_of, holiday_calendar_is_as_expected

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


# ---------------------------------------------------------------------------------------------------------------
# Opening hours


@pytest.mark.parametrize(
    ("text", "intervals"),
    [
        ("08:00-20:00", [["08:00", "20:00"]]),
        ("8:00-12:00, 14:00-18:00", [["08:00", "12:00"], ["14:00", "18:00"]]),
        ("０８：００－２０：００", [["08:00", "20:00"]]),
        ("08:00至12:00，14:00～18:00", [["08:00", "12:00"], ["14:00", "18:00"]]),
        ("07:00 — 11:00；13:30 到 19:00、20:00~21:00", [["07:00", "11:00"], ["13:30", "19:00"], ["20:00", "21:00"]]),
        ("22:00-06:00", [["22:00", "06:00"]]),
        ("20:00-24:00", [["20:00", "24:00"]]),
        ("", []),
        ("休息", []),
        ("闭站", []),
        ("不开放", []),
        ("全天", [["00:00", "24:00"]]),
        ("24小时", [["00:00", "24:00"]]),
        ("00:00-24:00", [["00:00", "24:00"]]),
        ("0:00-24:00", [["00:00", "24:00"]]),
    ],
)
def test_opening_hours_are_read_from_the_ways_people_write_them(text, intervals):
    assert parse_intervals(text) == intervals


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("08:00", "“08:00”不是时间段，请写成 08:00-18:00，多个时间段用逗号分开"),
        ("08:00-12:00-18:00", "“08:00-12:00-18:00”不是时间段，请写成 08:00-18:00，多个时间段用逗号分开"),
        ("8点-20点", "时间“8点”格式不对，请写成 08:30 这样的24小时制"),
        ("08:00-8pm", "时间“8pm”格式不对，请写成 08:30 这样的24小时制"),
        ("08:00-25:00", "时间“25:00”不存在"),
        ("08:60-20:00", "时间“08:60”不存在"),
        ("08:00-24:30", "时间“24:30”不存在"),
        ("08:00-08:00", "“08:00-08:00”开始和结束是同一时间；全天开放请写“全天”"),
        ("24:00-06:00", "“24:00-06:00”不能从 24:00 开始"),
        ("08:00-12:00, 14:00-14:00", "“14:00-14:00”开始和结束是同一时间；全天开放请写“全天”"),
    ],
)
def test_bad_opening_hours_are_refused_with_the_reason(text, message):
    with pytest.raises(ValidationFailed) as exc:
        parse_intervals(text, "周三")
    assert errors_of(exc) == {"周三": message}


def test_opening_hours_are_described_for_people():
    assert describe_intervals([]) == "休息"
    assert describe_intervals([["00:00", "24:00"]]) == "全天"
    assert describe_intervals([["08:00", "12:00"], ["14:00", "18:00"]]) == "08:00-12:00，14:00-18:00"
    assert describe_intervals([["22:00", "06:00"]]) == "22:00-06:00（次日）"
    assert describe_intervals([["20:00", "24:00"]]) == "20:00-24:00"

    weekly = Station(
        hours={"1": [["08:00", "20:00"]], "6": [["22:00", "06:00"]], "7": []},
        holiday_rule="special",
        holiday_hours=[["09:00", "12:00"]],
    )
    assert week_table(weekly) == [
        ("周一", "08:00-20:00"),
        ("周二", "休息"),
        ("周三", "休息"),
        ("周四", "休息"),
        ("周五", "休息"),
        ("周六", "22:00-06:00（次日）"),
        ("周日", "休息"),
    ]
    assert holiday_text(weekly) == "法定节假日：09:00-12:00"
    assert holiday_text(Station(holiday_rule="closed")) == "法定节假日：闭站"
    assert holiday_text(Station(holiday_rule="regular")) == "法定节假日：照常开放"
    always = Station(always_open=True, holiday_rule="closed")
    assert week_table(always) == [("每天", "全天")]
    assert holiday_text(always) == "节假日照常开放（全天）"


def at(day: date, clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute)


MON, TUE, SUN_BEFORE = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 1)


def test_an_interval_past_midnight_belongs_to_the_day_it_started_on():
    holiday_calendar_is_as_expected()
    assert (MON.isoweekday(), TUE.isoweekday()) == (1, 2)
    # Monday 22:00–06:00; Tuesday has its own, later hours; Sunday nothing.
    station = Station(hours={"1": [["22:00", "06:00"]], "2": [["09:00", "17:00"]]})

    assert is_open_at(station, at(MON, "22:00"))
    assert not is_open_at(station, at(MON, "21:59"))
    assert is_open_at(station, at(MON, "23:59"))
    assert is_open_at(station, at(TUE, "00:00"))
    assert is_open_at(station, at(TUE, "02:00"))
    assert is_open_at(station, at(TUE, "05:59"))
    assert not is_open_at(station, at(TUE, "06:00"))
    assert not is_open_at(station, at(TUE, "07:00"))
    assert is_open_at(station, at(TUE, "09:00"))
    assert not is_open_at(station, at(TUE, "17:00"))
    assert not is_open_at(station, at(MON, "02:00"))  # Sunday opened nothing that runs into Monday
    assert not is_open_at(station, at(SUN_BEFORE, "23:00"))


def test_a_close_at_24_00_ends_the_day():
    station = Station(hours={"1": [["20:00", "24:00"]], "2": [["00:00", "24:00"]]})

    assert is_open_at(station, at(MON, "23:59"))
    assert not is_open_at(station, at(MON, "19:59"))
    assert is_open_at(station, at(TUE, "00:00"))  # Tuesday's own whole day
    assert is_open_at(station, at(TUE, "23:59"))
    assert not is_open_at(station, at(date(2026, 11, 4), "00:00"))  # Wednesday: the whole day did not spill over
    assert not is_open_at(station, at(date(2026, 11, 4), "12:00"))


def test_an_always_open_station_is_open_at_every_moment_even_on_holidays():
    holiday_calendar_is_as_expected()
    station = Station(always_open=True, hours={}, holiday_rule="closed")

    for moment in (at(MON, "00:00"), at(TUE, "03:17"), at(date(2026, 10, 1), "12:00"), at(date(2026, 10, 4), "23:59")):
        assert is_open_at(station, moment)
    assert intervals_of_day(station, date(2026, 10, 1)) == [["00:00", "24:00"]]


WEEK_WITH_SHORT_SATURDAY = {
    "1": [["08:00", "20:00"]],
    "2": [["08:00", "20:00"]],
    "3": [["08:00", "20:00"]],
    "4": [["08:00", "20:00"]],
    "5": [["08:00", "20:00"]],
    "6": [["09:00", "12:00"]],
    "7": [],
}


def test_statutory_holidays_are_the_notice_days_off_not_ordinary_weekends():
    holiday_calendar_is_as_expected()
    assert statutory_holiday(date(2026, 10, 1))
    assert statutory_holiday(date(2026, 10, 4))
    assert not statutory_holiday(date(2026, 10, 8))
    assert not statutory_holiday(date(2026, 10, 10))  # the Saturday worked in lieu
    assert not statutory_holiday(date(2026, 10, 11))  # an ordinary Sunday
    with pytest.raises(NotImplementedError):
        chinese_calendar.get_holiday_detail(date(2027, 10, 1))
    assert not statutory_holiday(date(2027, 10, 1))  # a year the package does not know yet: no holidays


def test_a_station_closed_on_holidays_keeps_its_weekday_hours_on_other_days():
    holiday_calendar_is_as_expected()
    station = Station(hours=WEEK_WITH_SHORT_SATURDAY, holiday_rule="closed")

    assert intervals_of_day(station, date(2026, 10, 1)) == []
    assert not is_open_at(station, at(date(2026, 10, 1), "10:00"))  # National Day, a Thursday
    assert not is_open_at(station, at(date(2026, 10, 5), "10:00"))  # a Monday in the break
    assert is_open_at(station, at(date(2026, 10, 8), "10:00"))  # Thursday, back to work
    # The Saturday worked in lieu keeps Saturday's hours, not a weekday's.
    assert intervals_of_day(station, date(2026, 10, 10)) == [["09:00", "12:00"]]
    assert is_open_at(station, at(date(2026, 10, 10), "10:00"))
    assert not is_open_at(station, at(date(2026, 10, 10), "13:00"))
    assert not is_open_at(station, at(date(2026, 10, 11), "10:00"))  # an ordinary Sunday: Sunday's rest
    assert is_open_at(station, at(date(2027, 10, 1), "10:00"))  # unknown year: a plain Friday


def test_a_station_open_as_usual_on_holidays_follows_the_calendar_weekday():
    holiday_calendar_is_as_expected()
    station = Station(hours=WEEK_WITH_SHORT_SATURDAY, holiday_rule="regular")

    assert is_open_at(station, at(date(2026, 10, 1), "19:59"))  # Thursday's hours
    assert not is_open_at(station, at(date(2026, 10, 3), "13:00"))  # Saturday's short hours
    assert is_open_at(station, at(date(2026, 10, 3), "11:00"))
    assert not is_open_at(station, at(date(2026, 10, 4), "10:00"))  # Sunday's rest


def test_a_station_with_special_holiday_hours_uses_them_on_every_holiday():
    holiday_calendar_is_as_expected()
    station = Station(hours=WEEK_WITH_SHORT_SATURDAY, holiday_rule="special", holiday_hours=[["10:00", "16:00"]])

    assert intervals_of_day(station, date(2026, 10, 4)) == [["10:00", "16:00"]]
    assert not is_open_at(station, at(date(2026, 10, 1), "09:00"))
    assert is_open_at(station, at(date(2026, 10, 1), "10:00"))
    assert not is_open_at(station, at(date(2026, 10, 1), "16:00"))
    assert is_open_at(station, at(date(2026, 10, 4), "12:00"))  # a Sunday off, open for the holiday
    assert is_open_at(station, at(date(2026, 10, 8), "09:00"))  # an ordinary Thursday again
    assert not is_open_at(station, at(date(2026, 10, 11), "12:00"))  # an ordinary Sunday is not a holiday


def test_the_night_part_of_a_holiday_interval_spills_into_the_next_day():
    holiday_calendar_is_as_expected()
    station = Station(
        hours={"4": [["08:00", "17:00"]]},
        holiday_rule="special",
        holiday_hours=[["20:00", "02:00"]],
    )

    assert is_open_at(station, at(date(2026, 10, 7), "21:00"))  # the last day of the break
    assert is_open_at(station, at(date(2026, 10, 8), "01:30"))  # Thursday morning: still the holiday's night
    assert not is_open_at(station, at(date(2026, 10, 8), "02:00"))
    assert not is_open_at(station, at(date(2026, 10, 8), "07:59"))
    assert is_open_at(station, at(date(2026, 10, 8), "08:00"))  # Thursday's own hours
    assert not is_open_at(station, at(date(2026, 10, 8), "21:00"))  # Thursday has no evening interval
    assert not is_open_at(station, at(date(2026, 10, 9), "01:30"))


def test_an_ordinary_night_runs_into_a_holiday_and_a_closed_holiday_has_no_night():
    holiday_calendar_is_as_expected()
    night = [["22:00", "06:00"]]
    station = Station(hours={"3": night, "4": night}, holiday_rule="closed")

    assert is_open_at(station, at(date(2026, 9, 30), "23:00"))  # an ordinary Wednesday
    assert is_open_at(station, at(date(2026, 10, 1), "02:00"))  # Wednesday's night, though Thursday is a holiday
    assert not is_open_at(station, at(date(2026, 10, 1), "22:30"))  # the holiday is closed
    assert not is_open_at(station, at(date(2026, 10, 2), "02:00"))  # so it has no night part either
    assert not is_open_at(station, at(date(2026, 10, 8), "02:00"))  # Wednesday 7 October was a holiday
    assert is_open_at(station, at(date(2026, 10, 8), "23:00"))
    assert is_open_at(station, at(date(2026, 10, 9), "05:59"))
