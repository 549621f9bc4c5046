"""The store clock: open minutes across midnight, weekends, closures, holidays and time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadshare.hours.schedule import (
    DayKind,
    Schedule,
    ScheduleError,
    add_open_minutes,
    closed_for,
    format_weekly,
    is_open,
    next_opening,
    open_minutes_between,
    open_windows,
    parse_intervals,
    parse_weekly,
)

SH = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=0, minute=0, zone=SH) -> datetime:
    """A local wall-clock moment as naive UTC (the storage convention)."""
    moment = datetime(year, month, day, hour, minute, tzinfo=zone)
    return moment.astimezone(UTC).replace(tzinfo=None)


def schedule(weekly=None, **kwargs) -> Schedule:
    days = weekly or {day: [["09:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    return Schedule(weekly=parse_weekly(days), **kwargs)


EVERY_DAY = {day: [["09:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def test_an_offer_at_2030_with_120_minutes_expires_at_1030_the_next_open_day() -> None:
    store = schedule(EVERY_DAY)
    # 2026-12-03 is a Thursday
    assert add_open_minutes(at(2026, 12, 3, 20, 30), 120, store) == at(2026, 12, 4, 10, 30)


def test_minutes_inside_one_interval_run_on_the_wall_clock() -> None:
    assert add_open_minutes(at(2026, 12, 3, 10), 120, schedule()) == at(2026, 12, 3, 12)


def test_an_offer_made_at_night_starts_counting_at_the_opening() -> None:
    assert add_open_minutes(at(2026, 12, 3, 2), 30, schedule()) == at(2026, 12, 3, 9, 30)


def test_the_count_may_end_exactly_at_closing_time() -> None:
    assert add_open_minutes(at(2026, 12, 3, 20), 60, schedule()) == at(2026, 12, 3, 21)


def test_a_weekend_closed_store_carries_friday_evening_to_monday() -> None:
    # Friday 2026-12-04 20:00 + 120 minutes: 60 on Friday, 60 on Monday 12-07
    assert add_open_minutes(at(2026, 12, 4, 20), 120, schedule()) == at(2026, 12, 7, 10)


def test_24_00_joins_midnight_to_the_next_day() -> None:
    store = schedule({"mon": [["18:00", "24:00"]], "tue": [["00:00", "02:00"]]})
    # Monday 2026-11-30 23:00 + 120: 60 before midnight, 60 after
    assert add_open_minutes(at(2026, 11, 30, 23), 120, store) == at(2026, 12, 1, 1)
    windows = open_windows(at(2026, 11, 30, 19), store)
    assert next(windows) == (at(2026, 11, 30, 19), at(2026, 12, 1, 2))


def test_two_intervals_a_day_skip_the_lunch_break() -> None:
    store = schedule({"thu": [["09:00", "12:00"], ["14:00", "18:00"]]})
    assert add_open_minutes(at(2026, 12, 3, 11), 120, store) == at(2026, 12, 3, 15)
    assert not is_open(at(2026, 12, 3, 13), store)
    assert next_opening(at(2026, 12, 3, 13), store) == at(2026, 12, 3, 14)


def test_a_closure_closes_every_day_of_its_range() -> None:
    store = schedule(EVERY_DAY, closures=((date(2026, 12, 4), date(2026, 12, 6)),))
    assert add_open_minutes(at(2026, 12, 3, 20), 120, store) == at(2026, 12, 7, 10, 0)
    assert not is_open(at(2026, 12, 5, 12), store)
    assert closed_for(at(2026, 12, 3, 21), store) == timedelta(days=3, hours=12)


SPRING_FESTIVAL_2026 = {date(2026, 2, 15) + timedelta(days=n) for n in range(9)}  # 02-15 .. 02-23
MAKE_UP_SATURDAYS = {date(2026, 2, 14), date(2026, 2, 28)}


def chinese_days(day: date) -> DayKind:
    if day in SPRING_FESTIVAL_2026:
        return DayKind.HOLIDAY
    if day in MAKE_UP_SATURDAYS:
        return DayKind.WORKDAY
    return DayKind.NORMAL


def test_the_spring_festival_is_closed_when_the_holiday_hours_are_empty() -> None:
    store = schedule(EVERY_DAY, holidays=(), day_kind=chinese_days)
    # Saturday 02-14 (a make-up workday) 20:00 + 120: 60 that evening, 60 on 02-24
    assert add_open_minutes(at(2026, 2, 14, 20), 120, store) == at(2026, 2, 24, 10)
    assert not is_open(at(2026, 2, 17, 12), store)


def test_holiday_hours_replace_the_weekly_ones_on_a_holiday() -> None:
    store = schedule(
        EVERY_DAY, holidays=parse_intervals([["10:00", "16:00"]], "h"), day_kind=chinese_days
    )
    assert next_opening(at(2026, 2, 17, 9), store) == at(2026, 2, 17, 10)
    assert add_open_minutes(at(2026, 2, 17, 15), 120, store) == at(2026, 2, 18, 11)


def test_without_holiday_hours_a_holiday_keeps_the_weekly_hours() -> None:
    store = schedule(EVERY_DAY, holidays=None, day_kind=chinese_days)
    assert is_open(at(2026, 2, 17, 9, 30), store)


def test_a_make_up_saturday_keeps_weekday_hours_at_a_store_closed_on_weekends() -> None:
    store = schedule(day_kind=chinese_days)  # Monday to Friday only
    # Friday 2026-02-13 20:00 + 120: 60 on Friday, 60 on the make-up Saturday 02-14
    assert add_open_minutes(at(2026, 2, 13, 20), 120, store) == at(2026, 2, 14, 10)
    assert not is_open(at(2026, 2, 7, 10), store)  # an ordinary Saturday


def test_a_time_zone_other_than_shanghai_counts_its_own_wall_clock() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    store = schedule(EVERY_DAY, timezone="Europe/Berlin")
    # 2026-03-28 20:30 Berlin + 120; the clocks go forward that night: still 10:30 local
    expires = add_open_minutes(at(2026, 3, 28, 20, 30, berlin), 120, store)
    assert expires == at(2026, 3, 29, 10, 30, berlin)
    assert expires == datetime(2026, 3, 29, 8, 30)  # CEST is UTC+2
    assert not is_open(at(2026, 3, 28, 10, 0), store)  # 10:00 in Shanghai is 03:00 in Berlin


def test_open_minutes_between_counts_only_open_time() -> None:
    store = schedule(EVERY_DAY)
    assert open_minutes_between(at(2026, 12, 3, 20), at(2026, 12, 4, 10), store) == 120
    assert open_minutes_between(at(2026, 12, 4, 10), at(2026, 12, 3, 20), store) == 0


def test_a_store_that_never_opens_has_no_expiry() -> None:
    never = Schedule(weekly=((),) * 7)
    assert add_open_minutes(at(2026, 12, 3), 1, never) is None
    assert next_opening(at(2026, 12, 3), never) is None
    assert closed_for(at(2026, 12, 3), never) is None


def test_the_default_schedule_is_open_around_the_clock() -> None:
    always = Schedule()
    assert always.is_always_open
    assert add_open_minutes(at(2026, 12, 3, 23), 120, always) == at(2026, 12, 4, 1)
    assert is_open(at(2026, 12, 3, 3), always)


@pytest.mark.parametrize(
    ("weekly", "reason"),
    [
        ({"mon": [["09:00", "25:00"]]}, "invalid_time"),
        ({"mon": [["9:00", "18:00"]]}, "invalid_time"),
        ({"mon": [["24:00", "24:00"]]}, "invalid_time"),
        ({"mon": [["18:00", "09:00"]]}, "end_before_start"),
        ({"mon": [["09:00", "09:00"]]}, "end_before_start"),
        ({"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}, "overlapping_intervals"),
        ({"monday": [["09:00", "18:00"]]}, "unknown_day"),
        ({"mon": [["09:00"]]}, "invalid_hours"),
        ({"mon": "09:00-18:00"}, "invalid_hours"),
        (["mon"], "invalid_hours"),
    ],
)
def test_bad_schedules_are_refused_with_a_reason(weekly, reason) -> None:
    with pytest.raises(ScheduleError) as refused:
        parse_weekly(weekly)
    assert refused.value.reason == reason


def test_touching_intervals_merge_and_the_shape_round_trips() -> None:
    weekly = parse_weekly({"mon": [["13:00", "24:00"], ["09:00", "13:00"]], "sun": []})
    assert weekly[0] == ((540, 1440),)
    assert format_weekly(weekly)["mon"] == [["09:00", "24:00"]]
    assert format_weekly(weekly)["sun"] == []


# --- properties -----------------------------------------------------------------------------

times = st.integers(min_value=0, max_value=48).map(lambda n: n * 30)
intervals = st.lists(st.tuples(times, times), max_size=3)


def _day(pairs):
    cleaned = []
    for start, end in sorted((min(a, b), max(a, b)) for a, b in pairs):
        if end > start and end <= 1440 and (not cleaned or start > cleaned[-1][1]):
            cleaned.append((start, end))
    return tuple(cleaned)


@st.composite
def schedules(draw) -> Schedule:
    weekly = tuple(_day(draw(intervals)) for _ in range(7))
    if sum(end - start for day in weekly for start, end in day) < 300:
        weekly = (((540, 1260),),) + weekly[1:]  # enough open time to stay inside the horizon
    holidays = draw(st.sampled_from([None, (), ((600, 960),)]))
    start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 60)))
    closures = (
        ((start, start + timedelta(days=draw(st.integers(0, 9)))),) if draw(st.booleans()) else ()
    )
    zone = draw(st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York"]))
    return Schedule(zone, weekly, holidays, closures, day_kind=chinese_days)


instants = st.integers(min_value=0, max_value=90 * 24 * 60).map(
    lambda minutes: datetime(2026, 1, 1) + timedelta(minutes=minutes)
)


def _inside_a_window(moment: datetime, store: Schedule, since: datetime) -> bool:
    return any(start < moment <= end for start, end in _windows_until(store, since, moment))


def _windows_until(store: Schedule, since: datetime, until: datetime):
    for window in open_windows(since, store):
        if window[0] > until:
            return
        yield window


@settings(max_examples=150, deadline=None)
@given(store=schedules(), instant=instants, minutes=st.integers(min_value=1, max_value=3000))
def test_the_result_is_never_inside_closed_time(store, instant, minutes) -> None:
    result = add_open_minutes(instant, minutes, store)
    assert result is not None
    assert _inside_a_window(result, store, instant)
    assert is_open(result - timedelta(microseconds=1), store)


@settings(max_examples=150, deadline=None)
@given(
    store=schedules(),
    instant=instants,
    first=st.integers(min_value=0, max_value=2000),
    second=st.integers(min_value=0, max_value=2000),
)
def test_open_minutes_are_additive(store, instant, first, second) -> None:
    middle = add_open_minutes(instant, first, store)
    end = add_open_minutes(middle, second, store)
    assert end == add_open_minutes(instant, first + second, store)
    assert open_minutes_between(instant, end, store) == pytest.approx(first + second)
    assert open_minutes_between(instant, middle, store) + open_minutes_between(
        middle, end, store
    ) == pytest.approx(first + second)
