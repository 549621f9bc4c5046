"""The Chinese calendar: statutory holidays and make-up workdays, built in and corrected per group.

The built-in days come from the `chinese-calendar` package for the years it knows; a group's
own days (typed in when next year's dates are announced) replace the built-in ones day by day,
and kind `normal` cancels a built-in day. A year neither knows falls back to the weekly hours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.metadata import version

import chinese_calendar

from .schedule import DayKind

PACKAGE = "chinese-calendar"
BUILT_IN, GROUP = "package", "group"
"""Where a year's days come from: the built-in package, the group's own days."""
NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
"""The package names its holidays in English; the calendar answers them in Chinese."""


@dataclass(frozen=True)
class CalendarDayInfo:
    """One day that differs from an ordinary week, and who said so."""

    day: date
    kind: DayKind
    name: str | None
    source: str


@dataclass(frozen=True)
class CalendarYear:
    """A year of a group's calendar: `known` is false when neither source has any day of it;
    `sources` names them as words (BUILT_IN, GROUP), `source` as the API spells it."""

    year: int
    known: bool
    source: str
    days: tuple[CalendarDayInfo, ...]
    sources: tuple[str, ...] = ()


Overrides = Mapping[date, tuple[DayKind, str | None]]
"""A group's own days: the kind and name it gave each."""


@cache
def package_source() -> str:
    """The built-in source named with its version (`chinese-calendar 1.11.0`)."""
    return f"{PACKAGE} {version(PACKAGE)}"


@cache
def built_in_years() -> frozenset[int]:
    """The years the package knows."""
    return frozenset(d.year for d in chinese_calendar.holidays) | frozenset(
        d.year for d in chinese_calendar.workdays
    )


def built_in(day: date) -> tuple[DayKind, str | None]:
    """What the package says of a day (normal for a day it does not list or a year it does
    not know)."""
    if day in chinese_calendar.holidays:
        return DayKind.HOLIDAY, NAMES.get(chinese_calendar.holidays[day])
    if day in chinese_calendar.workdays:
        return DayKind.WORKDAY, NAMES.get(chinese_calendar.workdays[day])
    return DayKind.NORMAL, None


def day_kinds(overrides: Overrides) -> Callable[[date], DayKind]:
    """The group's day-kind function for the store clock: its own day, else the built-in one."""

    def kind(day: date) -> DayKind:
        own = overrides.get(day)
        return own[0] if own is not None else built_in(day)[0]

    return kind


def is_known(year: int, overrides: Overrides) -> bool:
    """A source knows the year: the package, or the group has typed in days of it."""
    return year in built_in_years() or any(day.year == year for day in overrides)


def calendar_year(year: int, overrides: Overrides) -> CalendarYear:
    """A group's year: the built-in days with the group's own days laid over them, in date
    order, without the days that end up normal."""
    merged: dict[date, CalendarDayInfo] = {}
    built = year in built_in_years()
    if built:
        source = package_source()
        for table, kind in (
            (chinese_calendar.holidays, DayKind.HOLIDAY),
            (chinese_calendar.workdays, DayKind.WORKDAY),
        ):
            for day, name in table.items():
                if day.year == year:
                    merged[day] = CalendarDayInfo(day, kind, NAMES.get(name), source)
    own = {day: value for day, value in overrides.items() if day.year == year}
    for day, (kind, name) in own.items():
        merged[day] = CalendarDayInfo(day, kind, name, GROUP)
    sources = (BUILT_IN,) * built + (GROUP,) * bool(own)
    spelt = [package_source()] * built + [GROUP] * bool(own)
    days = tuple(info for _, info in sorted(merged.items()) if info.kind != DayKind.NORMAL)
    return CalendarYear(year, bool(sources), " + ".join(spelt) or "none", days, sources)
