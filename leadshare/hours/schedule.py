"""Store hours as a clock: open windows in a group's time zone, answered in naive UTC.

A schedule is a weekly list of intervals per day (minutes from local midnight, "24:00" a valid
end), the hours kept on statutory holidays (None: a holiday keeps the weekly hours), closures
(local date ranges, inclusive) and a day-kind function (the calendar: holiday, make-up workday
or normal). A closure closes the whole day; a holiday keeps the holiday hours; a make-up
workday (调休) keeps the hours of the first weekday, Monday to Friday, that has any; every
other day keeps its weekly hours. Instants are naive UTC (the storage convention); an aware
instant is converted first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from leadshare.clock import as_aware_utc, to_utc

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
HORIZON_DAYS = 400
"""How far ahead a schedule is searched for open time; past that a store never opens."""

_TIME = re.compile(r"^(\d{2}):(\d{2})$")

Interval = tuple[int, int]
"""Minutes from local midnight: [start, end), 0 <= start < end <= 1440."""


class DayKind(StrEnum):
    """What the calendar says of a day: a statutory holiday, a make-up workday, or neither."""

    HOLIDAY = "holiday"
    WORKDAY = "workday"
    NORMAL = "normal"


class ScheduleError(ValueError):
    """A schedule that cannot be: `reason` is the machine word, `where` the offending part."""

    def __init__(self, message: str, reason: str, where: str) -> None:
        super().__init__(message)
        self.message, self.reason, self.where = message, reason, where


def _normal(_day: date) -> DayKind:
    return DayKind.NORMAL


ALL_DAY: tuple[Interval, ...] = ((0, DAY_MINUTES),)


@dataclass(frozen=True)
class Schedule:
    """A store's effective hours, closures and calendar; `weekly` has one tuple per day, Monday
    first. The default is open around the clock in Shanghai."""

    timezone: str = "Asia/Shanghai"
    weekly: tuple[tuple[Interval, ...], ...] = (ALL_DAY,) * 7
    holidays: tuple[Interval, ...] | None = None
    closures: tuple[tuple[date, date], ...] = ()
    day_kind: Callable[[date], DayKind] = field(default=_normal, compare=False)

    @property
    def is_always_open(self) -> bool:
        """Open every minute of every day whatever the calendar: no clock to count."""
        return (
            not self.closures
            and all(day == ALL_DAY for day in self.weekly)
            and self.holidays in (None, ALL_DAY)
        )

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The local intervals a store keeps on one local day."""
        if any(start <= day <= end for start, end in self.closures):
            return ()
        kind = self.day_kind(day)
        if kind == DayKind.HOLIDAY and self.holidays is not None:
            return self.holidays
        if kind == DayKind.WORKDAY and day.weekday() >= 5:
            return next((hours for hours in self.weekly[:5] if hours), ())
        return self.weekly[day.weekday()]


# --- parsing the contract's shape ----------------------------------------------------------


def parse_time(text: object, where: str, *, is_end: bool) -> int:
    """ "HH:MM" as minutes from midnight; "24:00" only as an end."""
    match = _TIME.match(text) if isinstance(text, str) else None
    if match is None:
        raise ScheduleError(f"{text!r} is not a time; use HH:MM.", "invalid_time", where)
    hours, minutes = int(match[1]), int(match[2])
    if (hours, minutes) == (24, 0) and is_end:
        return DAY_MINUTES
    if hours > 23 or minutes > 59:
        raise ScheduleError(f"{text} is not a time of day.", "invalid_time", where)
    return hours * 60 + minutes


def parse_intervals(value: object, where: str) -> tuple[Interval, ...]:
    """A day's `[["09:00", "12:00"], ["13:00", "21:00"]]`: each ends after it starts, none
    overlaps another (touching ones are merged); sorted."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ScheduleError(
            "A day's hours are a list of [start, end] pairs.", "invalid_hours", where
        )
    intervals = []
    for pair in value:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ScheduleError("Each interval is a [start, end] pair.", "invalid_hours", where)
        start = parse_time(pair[0], where, is_end=False)
        end = parse_time(pair[1], where, is_end=True)
        if end <= start:
            raise ScheduleError(
                f"{pair[1]} is not after {pair[0]}; an interval ends after it starts.",
                "end_before_start",
                where,
            )
        intervals.append((start, end))
    intervals.sort()
    merged: list[Interval] = []
    for start, end in intervals:
        if merged and start < merged[-1][1]:
            raise ScheduleError("Two intervals of one day overlap.", "overlapping_intervals", where)
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def parse_weekly(weekly: object) -> tuple[tuple[Interval, ...], ...]:
    """`{"mon": [...], ..., "sun": [...]}`: a missing or empty day is closed."""
    if not isinstance(weekly, Mapping):
        raise ScheduleError("weekly maps mon ... sun to intervals.", "invalid_hours", "weekly")
    unknown = sorted(set(weekly) - set(DAYS))
    if unknown:
        raise ScheduleError(
            f"Unknown day {unknown[0]!r}; use mon, tue, wed, thu, fri, sat, sun.",
            "unknown_day",
            "weekly",
        )
    return tuple(parse_intervals(weekly.get(day), f"weekly.{day}") for day in DAYS)


def format_minutes(minutes: int) -> str:
    """Minutes from midnight as "HH:MM" (1440 is "24:00")."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_intervals(intervals: Sequence[Interval]) -> list[list[str]]:
    """Intervals back in the contract's shape."""
    return [[format_minutes(start), format_minutes(end)] for start, end in intervals]


def format_weekly(weekly: Sequence[Sequence[Interval]]) -> dict[str, list[list[str]]]:
    """A weekly schedule back in the contract's shape (every day named, closed days empty)."""
    return {day: format_intervals(hours) for day, hours in zip(DAYS, weekly, strict=True)}


# --- the clock ----------------------------------------------------------------------------


def _utc(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    # Aware arithmetic is wall-clock arithmetic: 24:00 is the next day's local midnight.
    return to_utc(datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=minutes))


def open_windows(instant: datetime, schedule: Schedule) -> Iterator[tuple[datetime, datetime]]:
    """The open windows [start, end) from `instant` on, merged across midnight, in naive UTC;
    the first starts no earlier than `instant`. Ends after HORIZON_DAYS."""
    instant = to_utc(instant)
    if schedule.is_always_open:
        yield instant, instant + timedelta(days=HORIZON_DAYS)
        return
    zone = ZoneInfo(schedule.timezone)
    first = as_aware_utc(instant).astimezone(zone).date()
    pending: tuple[datetime, datetime] | None = None
    for offset in range(HORIZON_DAYS + 2):
        day = first + timedelta(days=offset)
        for start_minutes, end_minutes in schedule.intervals_on(day):
            start, end = _utc(day, start_minutes, zone), _utc(day, end_minutes, zone)
            if end <= max(start, instant):
                continue
            start = max(start, instant)
            if pending is not None and start <= pending[1]:
                pending = (pending[0], max(pending[1], end))
                continue
            if pending is not None:
                yield pending
            pending = (start, end)
    if pending is not None:
        yield pending


def is_open(instant: datetime, schedule: Schedule) -> bool:
    """The store is open at this instant (a window holds it; a window's end is closed time)."""
    instant = to_utc(instant)
    window = next(open_windows(instant, schedule), None)
    return window is not None and window[0] <= instant


def next_opening(instant: datetime, schedule: Schedule) -> datetime | None:
    """The instant itself when open, else the next opening; None when it never opens."""
    window = next(open_windows(instant, schedule), None)
    return window[0] if window else None


def add_open_minutes(instant: datetime, minutes: float, schedule: Schedule) -> datetime | None:
    """The instant at which `minutes` open minutes have passed since `instant`; it falls inside
    an open window or at its end. None when the schedule has not that much open time ahead."""
    left = timedelta(minutes=minutes)
    instant = to_utc(instant)
    if left <= timedelta(0):
        return instant
    for start, end in open_windows(instant, schedule):
        if end - start >= left:
            return start + left
        left -= end - start
    return None


def open_minutes_between(start: datetime, end: datetime, schedule: Schedule) -> float:
    """The open minutes from `start` to `end` (0 when end is not after start)."""
    start, end = to_utc(start), to_utc(end)
    total = timedelta(0)
    for window_start, window_end in open_windows(start, schedule):
        if window_start >= end:
            break
        total += min(window_end, end) - window_start
    return total / timedelta(minutes=1)


def closed_for(instant: datetime, schedule: Schedule) -> timedelta | None:
    """How long from `instant` until the store next opens (zero when open); None: never."""
    opening = next_opening(instant, schedule)
    return None if opening is None else opening - to_utc(instant)
