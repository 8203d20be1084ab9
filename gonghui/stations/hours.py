"""Opening hours (开放时间): per ISO weekday a list of intervals "HH:MM"–"HH:MM"; an interval whose close is not after
its open runs past midnight into the next day (22:00–06:00). "24:00" closes at midnight. On a statutory public
holiday (the State Council's notice, from chinese-calendar: 春节, 国庆 and the others, with their days off) the
station follows its holiday rule: closed, as on that weekday, or its own holiday intervals. An adjusted working day
(调休, a Saturday or Sunday worked) keeps the hours of its calendar weekday.

The night part of an interval belongs to the day it started on: at 02:00 on a Tuesday a station open Monday
22:00–06:00 is open, whatever Tuesday's own rule is.
"""

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

import chinese_calendar

from gonghui.common.errors import ValidationFailed
from gonghui.common.validators import to_half_width

WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
HOLIDAY_RULES = {"regular": "照常开放", "closed": "闭站", "special": "另定时间"}
_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})$")
_INTERVAL_SPLIT = re.compile(r"\s*[-–—~～至到]\s*")
_LIST_SPLIT = re.compile(r"\s*[,，;；、]\s*")


def _minutes(text: str, where: str) -> int:
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValidationFailed({where: f"时间“{text}”格式不对，请写成 08:30 这样的24小时制"})
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise ValidationFailed({where: f"时间“{text}”不存在"})
    return hour * 60 + minute


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_intervals(text: str, where: str = "开放时间") -> list[list[str]]:
    """'08:00-12:00, 14:00-18:00' → [["08:00", "12:00"], ["14:00", "18:00"]]; '' or '休息' → []; '全天' or
    '24小时' → [["00:00", "24:00"]]. Refuses an interval that opens and closes at the same minute."""
    text = to_half_width(text or "").strip()
    if text in ("", "休息", "闭站", "不开放", "关闭"):
        return []
    if text in ("全天", "24小时", "00:00-24:00"):
        return [["00:00", "24:00"]]
    intervals = []
    for part in _LIST_SPLIT.split(text):
        pieces = _INTERVAL_SPLIT.split(part)
        if len(pieces) != 2:
            raise ValidationFailed({where: f"“{part}”不是时间段，请写成 08:00-18:00，多个时间段用逗号分开"})
        opens, closes = _minutes(pieces[0], where), _minutes(pieces[1], where)
        if opens == closes:
            raise ValidationFailed({where: f"“{part}”开始和结束是同一时间；全天开放请写“全天”"})
        if opens == 24 * 60:
            raise ValidationFailed({where: f"“{part}”不能从 24:00 开始"})
        intervals.append([_clock(opens), _clock(closes)])
    return intervals


def describe_intervals(intervals: list[list[str]]) -> str:
    if not intervals:
        return "休息"
    if intervals == [["00:00", "24:00"]]:
        return "全天"
    return "，".join(f"{a}-{b}" + ("（次日）" if _minutes(b, "") <= _minutes(a, "") else "") for a, b in intervals)


@lru_cache(maxsize=1024)
def statutory_holiday(day: date) -> bool:
    """A day off under the holiday notice (not an ordinary weekend). Unknown years: no holidays."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False
    return bool(on_holiday and name)


def intervals_of_day(station, day: date) -> list[list[str]]:
    """The intervals that start on `day`."""
    if station.always_open:
        return [["00:00", "24:00"]]
    if statutory_holiday(day):
        if station.holiday_rule == "closed":
            return []
        if station.holiday_rule == "special":
            return list(station.holiday_hours)
    return list(station.hours.get(str(day.isoweekday()), []))


def _spans(intervals: list[list[str]]) -> list[tuple[int, int]]:
    """(open, close) in minutes from the day's start; a close at or before its open moves to the next day."""
    spans = []
    for opens_text, closes_text in intervals:
        opens, closes = _minutes(opens_text, ""), _minutes(closes_text, "")
        spans.append((opens, closes if closes > opens else closes + 24 * 60))
    return spans


def is_open_at(station, moment: datetime) -> bool:
    """Whether a station with status 开放 is open at `moment` (local time)."""
    if station.always_open:
        return True
    day, minute = moment.date(), moment.hour * 60 + moment.minute
    if any(opens <= minute < closes for opens, closes in _spans(intervals_of_day(station, day))):
        return True
    yesterday = day - timedelta(days=1)
    return any(
        closes > 24 * 60 and minute < closes - 24 * 60 for _, closes in _spans(intervals_of_day(station, yesterday))
    )


def week_table(station) -> list[tuple[str, str]]:
    """(weekday, its hours) for the station page."""
    if station.always_open:
        return [("每天", "全天")]
    return [(label, describe_intervals(station.hours.get(str(n), []))) for n, label in WEEKDAYS.items()]


def holiday_text(station) -> str:
    if station.always_open:
        return "节假日照常开放（全天）"
    if station.holiday_rule == "special":
        return f"法定节假日：{describe_intervals(station.holiday_hours)}"
    return f"法定节假日：{HOLIDAY_RULES[station.holiday_rule]}"
