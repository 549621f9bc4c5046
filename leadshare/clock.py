"""The one place for time: UTC storage, group time zones, local days and months.

Times are stored as naive UTC datetimes. Every conversion between that convention, an aware
moment from outside, and a group's local calendar goes through these functions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Now, as naive UTC (the storage convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc(moment: datetime) -> datetime:
    """Naive UTC from any moment: an aware one is converted, a naive one is taken as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def as_aware_utc(moment: datetime) -> datetime:
    """The stored naive UTC moment with its UTC offset attached (for output)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def iso_z(moment: datetime | None, timespec: str = "seconds") -> str | None:
    """ISO-8601 in UTC with a `Z` (to the second by default); None stays None."""
    if moment is None:
        return None
    return to_utc(moment).isoformat(timespec=timespec) + "Z"


def parse_iso(value: str) -> datetime:
    """Naive UTC from an ISO-8601 text (a trailing `Z` allowed); ValueError when it is not one."""
    return to_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def local(moment: datetime, timezone: str) -> datetime:
    """The stored moment as an aware datetime in the given time zone."""
    return as_aware_utc(moment).astimezone(ZoneInfo(timezone))


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar day a stored moment falls on in the given time zone."""
    return local(moment, timezone).date()


def format_local(moment: datetime, timezone: str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored moment written in a time zone's wall-clock time."""
    return local(moment, timezone).strftime(pattern)


def local_midnight(day: date, timezone: str) -> datetime:
    """The start of a local calendar day, as naive UTC."""
    return to_utc(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone)))


def start_of_day(moment: datetime, timezone: str) -> datetime:
    """Midnight of the local day a stored moment falls on, as naive UTC."""
    return local_midnight(local_date(moment, timezone), timezone)


def month_bounds(year: int, month: int, timezone: str) -> tuple[datetime, datetime]:
    """The naive-UTC start and end of a local calendar month."""
    following = date(year + (month == 12), month % 12 + 1, 1)
    return local_midnight(date(year, month, 1), timezone), local_midnight(following, timezone)


def month_of(moment: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The naive-UTC bounds of the local month a stored moment falls in."""
    day = local_date(moment, timezone)
    return month_bounds(day.year, day.month, timezone)
