"""Store hours, closures and a group's calendar: read, change, and the schedules routing counts.

A change of hours, closures or calendar re-counts, in the same unit of work, the expiry of the
pending offers and the reminder and due instants of the running service-level timers it
touches. `StoreClocks` gives routing every candidate's clock without a query of its own when
nothing is set, and with at most two (closures ahead, the calendar) otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, union

from ..auth import scope
from ..auth.models import User
from ..clock import local_date, utcnow
from ..errors import Invalid, NotFound
from ..extensions import db
from ..leads.enums import OfferStatus
from ..leads.models import Lead, Offer
from ..tenancy.models import Dealer, Group
from ..uow import transactional
from .calendar import CalendarYear, Overrides, calendar_year, day_kinds, is_known
from .enums import SlaKind, SlaState
from .models import CalendarDay, SlaTimer, StoreClosure, StoreHours
from .schedule import (
    ALL_DAY,
    DayKind,
    Interval,
    Schedule,
    ScheduleError,
    add_open_minutes,
    closed_for,
    format_intervals,
    format_weekly,
    is_open,
    next_opening,
    parse_intervals,
    parse_weekly,
)

AROUND_THE_CLOCK = (ALL_DAY,) * 7


def parsed_hours(value: Mapping[str, Any], field: str) -> dict[str, Any]:
    """The contract's `{"weekly": ..., "holidays": ...}` checked and written back in its own
    shape (every day named, touching intervals merged); a bad one is 422 with its reason."""
    try:
        weekly = parse_weekly(value.get("weekly"))
        holidays = value.get("holidays")
        parsed = None if holidays is None else parse_intervals(holidays, "holidays")
    except ScheduleError as error:
        raise Invalid(f"{field}.{error.where}", error.message, reason=error.reason) from error
    return {
        "weekly": format_weekly(weekly),
        "holidays": None if parsed is None else format_intervals(parsed),
    }


def _weekly(stored: Mapping[str, Any] | None) -> tuple[tuple[Interval, ...], ...]:
    return AROUND_THE_CLOCK if stored is None else parse_weekly(stored)


def _holidays(stored: list | None) -> tuple[Interval, ...] | None:
    return None if stored is None else parse_intervals(stored, "holidays")


def group_overrides(group_id: int) -> dict[date, tuple[DayKind, str | None]]:
    rows = db.session.execute(
        select(CalendarDay.day, CalendarDay.kind, CalendarDay.name).where(
            CalendarDay.group_id == group_id
        )
    )
    return {day: (DayKind(kind), name) for day, kind, name in rows}


class StoreClocks:
    """The clocks of a group's stores from one instant on, read with as few queries as can be.

    Routing adds `columns()` to its candidate query (a store's own hours and whether a closure
    is ahead, no extra rows) and `note`s each row; the group's closures ahead and its calendar
    are read once each, only when some clock needs them. A store of a group
    with no hours, no own hours and no closure is open around the clock without any query.
    """

    def __init__(self, group: Group, since: datetime) -> None:
        self.group = group
        self.day = local_date(since, group.timezone) - timedelta(days=1)
        self._rows: dict[int, tuple[Any, Any, bool]] = {}
        self._closures: dict[int, tuple[tuple[date, date], ...]] | None = None
        self._kinds: Callable[[date], DayKind] | None = None
        self._parsed: dict[str, tuple[Any, Any]] = {}
        self._clocks: dict[int, Schedule] = {}

    def columns(self) -> tuple[Any, ...]:
        """What a query joined to `StoreHours` (outer, on the dealer) selects for `note`."""
        ahead = (
            select(StoreClosure.id)
            .where(StoreClosure.dealer_id == Dealer.id, StoreClosure.ends_on >= self.day)
            .exists()
        )
        return StoreHours.weekly, StoreHours.holidays, ahead

    def note(self, dealer_id: int, weekly: Any, holidays: Any, closure_ahead: bool) -> None:
        self._rows.setdefault(dealer_id, (weekly, holidays, bool(closure_ahead)))

    def load(self, dealer_ids: Iterable[int]) -> None:
        """Read the stores not noted yet (one query)."""
        missing = sorted(set(dealer_ids) - set(self._rows))
        if missing:
            rows = db.session.execute(
                select(Dealer.id, *self.columns())
                .outerjoin(StoreHours, StoreHours.dealer_id == Dealer.id)
                .where(Dealer.id.in_(missing))
            )
            for row in rows:
                self.note(*row)

    def _load_closures(self) -> None:
        """Every closure ahead in the group, once: a few rows, however many stores ask."""
        if self._closures is not None:
            return
        found: dict[int, set[tuple[date, date]]] = {}
        rows = db.session.execute(
            select(StoreClosure.dealer_id, StoreClosure.starts_on, StoreClosure.ends_on)
            .join(Dealer, Dealer.id == StoreClosure.dealer_id)
            .where(Dealer.group_id == self.group.id, StoreClosure.ends_on >= self.day)
        )
        for dealer_id, starts_on, ends_on in rows:
            found.setdefault(dealer_id, set()).add((starts_on, ends_on))
        self._closures = {dealer_id: tuple(sorted(days)) for dealer_id, days in found.items()}

    def _day_kinds(self) -> Callable[[date], DayKind]:
        if self._kinds is None:
            self._kinds = day_kinds(group_overrides(self.group.id))
        return self._kinds

    def _hours(self, weekly: Any, holidays: Any) -> tuple[Any, Any]:
        key = repr((weekly, holidays))
        if key not in self._parsed:
            self._parsed[key] = (_weekly(weekly), _holidays(holidays))
        return self._parsed[key]

    def clock(self, dealer_id: int) -> Schedule:
        """One store's clock (read first if it was not noted)."""
        if dealer_id not in self._clocks:
            self.load([dealer_id])
            weekly, holidays, closure_ahead = self._rows[dealer_id]
            if weekly is None:
                group_hours = self.group.opening_hours or {}
                weekly, holidays = group_hours.get("weekly"), group_hours.get("holidays")
            if closure_ahead:
                self._load_closures()
            closures = (self._closures or {}).get(dealer_id, ())
            kinds = self._day_kinds() if weekly is not None else _no_calendar
            weekly_hours, holiday_hours = self._hours(weekly, holidays)
            self._clocks[dealer_id] = Schedule(
                self.group.timezone, weekly_hours, holiday_hours, closures, day_kind=kinds
            )
        return self._clocks[dealer_id]

    def closed_longer_than(self, dealer_id: int, now: datetime, hours: float) -> bool:
        """The store does not open within `hours` of `now` (never opening counts as closed)."""
        clock = self.clock(dealer_id)
        if clock.is_always_open:
            return False
        wait = closed_for(now, clock)
        return wait is None or wait > timedelta(hours=hours)


def _no_calendar(_day: date) -> DayKind:
    """Open around the clock: holidays change nothing, so the calendar is never read."""
    return DayKind.NORMAL


def load_schedules(group: Group, dealer_ids: Iterable[int], since: datetime) -> dict[int, Schedule]:
    """Every listed store's clock from `since` on (see StoreClocks)."""
    clocks = StoreClocks(group, since)
    ids = sorted(set(dealer_ids))
    clocks.load(ids)
    return {dealer_id: clocks.clock(dealer_id) for dealer_id in ids}


def store_opens_at(dealer: Dealer, now: datetime) -> datetime | None:
    """When a closed store next opens (the inbox: "the clock starts at 09:00"); None when it
    is open now, or never opens."""
    clock = StoreClocks(dealer.group, now).clock(dealer.id)
    return None if is_open(now, clock) else next_opening(now, clock)


def offer_expiry(schedule: Schedule, offered_at: datetime, ttl_minutes: int) -> datetime:
    """An offer's time counts the store's open minutes; a store that never opens within the
    horizon falls back to the wall clock (so no offer waits forever)."""
    counted = add_open_minutes(offered_at, ttl_minutes, schedule)
    return counted if counted is not None else offered_at + timedelta(minutes=ttl_minutes)


CLOCK_SETTINGS = frozenset(
    {
        "opening_hours",
        "timezone",
        "offer_ttl_minutes",
        "contact_sla_minutes",
        "sla_remind_at",
        "visit_sla_days",
    }
)
"""The group settings whose change re-counts its pending offers and running timers."""


def _remind_share(group: Group) -> float | None:
    share = group.sla_remind_at
    return share if share is not None and 0 < share < 1 else None


def timer_instants(
    kind: SlaKind, group: Group, clock: Schedule, started_at: datetime
) -> tuple[datetime | None, datetime]:
    """(remind at, due at) of a timer started at `started_at`: the contact timer counts the
    store's open minutes (the wall clock when it never opens); the visit timer counts days, then
    waits for the store to open. The reminder comes at the group's share of the same count."""
    share = _remind_share(group)
    if kind == SlaKind.CONTACT:
        minutes = group.contact_sla_minutes
        due = add_open_minutes(started_at, minutes, clock) or started_at + timedelta(
            minutes=minutes
        )
        remind = None
        if share is not None:
            remind = add_open_minutes(started_at, minutes * share, clock) or (
                started_at + (due - started_at) * share
            )
        return remind, due
    wall = started_at + timedelta(days=group.visit_sla_days or 0)
    due = next_opening(wall, clock) or wall
    return (None if share is None else started_at + (due - started_at) * share), due


@dataclass
class Recounted:
    offers: int = 0
    timers: int = 0


def recount_clocks(group: Group, dealer_ids: Iterable[int] | None = None) -> Recounted:
    """Re-count, from their start, the expiry of the group's pending routed offers and the
    reminder and due instants of its running service-level timers (of some stores) after their
    hours, closures, calendar or settings changed (a group that no longer sets `visit_sla_days`
    closes its running visit timers); returns how many moved. Joins the caller's unit."""
    ids = None if dealer_ids is None else list(dealer_ids)

    def of_stores(query, dealer_column):
        query = query.join(Dealer, Dealer.id == dealer_column).where(Dealer.group_id == group.id)
        return query if ids is None else query.where(dealer_column.in_(ids))

    offers = of_stores(select(Offer), Offer.dealer_id).where(Offer.status == OfferStatus.PENDING)
    timers = of_stores(select(SlaTimer), SlaTimer.dealer_id).where(
        SlaTimer.state == SlaState.RUNNING
    )
    touched = union(
        offers.with_only_columns(Offer.lead_id), timers.with_only_columns(SlaTimer.lead_id)
    )
    # Lock the leads first, in id order, as every offer change and the sweep's miss do: a sweep
    # or a claim in flight either finishes before this re-count reads the rows or waits for it.
    lead_ids = list(
        db.session.scalars(
            select(Lead.id).where(Lead.id.in_(touched)).order_by(Lead.id).with_for_update()
        )
    )
    result = Recounted()
    if not lead_ids:
        return result
    fresh = {"populate_existing": True}
    pending = list(
        db.session.scalars(offers.where(Offer.lead_id.in_(lead_ids)).execution_options(**fresh))
    )
    running = list(
        db.session.scalars(timers.where(SlaTimer.lead_id.in_(lead_ids)).execution_options(**fresh))
    )
    starts = [o.offered_at for o in pending] + [t.started_at for t in running]
    dealers = {o.dealer_id for o in pending} | {t.dealer_id for t in running}
    clocks = load_schedules(group, dealers, min(starts))
    for offer in pending:
        expires = offer_expiry(clocks[offer.dealer_id], offer.offered_at, group.offer_ttl_minutes)
        if expires != offer.expires_at:
            offer.expires_at, result.offers = expires, result.offers + 1
    for timer in running:
        if timer.kind == SlaKind.VISIT and not group.visit_sla_days:
            timer.state, result.timers = SlaState.CLOSED, result.timers + 1  # no visit SLA now
            continue
        instants = timer_instants(
            SlaKind(timer.kind), group, clocks[timer.dealer_id], timer.started_at
        )
        if instants != (timer.remind_at, timer.due_at):
            (timer.remind_at, timer.due_at), result.timers = instants, result.timers + 1
    return result


# --- store hours --------------------------------------------------------------------------


def _dealer(actor: User, dealer_id: int, *, edit: bool) -> Dealer:
    dealer = db.session.get(Dealer, dealer_id)
    if dealer is None or not scope.sees_group(actor, dealer.group_id):
        raise NotFound("No such dealer.")
    if edit:
        scope.require_store_hours_editor(actor, dealer)
    return dealer


def effective_hours(dealer: Dealer) -> dict[str, Any]:
    """The hours a store keeps: its own override, else its group's (open around the clock
    when neither has any)."""
    own = db.session.get(StoreHours, dealer.id)
    if own is not None:
        hours, source = {"weekly": own.weekly, "holidays": own.holidays}, "store"
    else:
        group_hours = dealer.group.opening_hours
        hours, source = group_hours or {"weekly": format_weekly(AROUND_THE_CLOCK)}, "group"
    return {
        "weekly": hours["weekly"],
        "holidays": hours.get("holidays"),
        "source": source,
        "timezone": dealer.group.timezone,
    }


def effective_hours_of_group(group: Group) -> dict[str, Any]:
    """A group's default hours in the contract's shape (open around the clock when unset)."""
    return group.opening_hours or {"weekly": format_weekly(AROUND_THE_CLOCK), "holidays": None}


def get_store_hours(actor: User, dealer_id: int) -> dict[str, Any]:
    return effective_hours(_dealer(actor, dealer_id, edit=False))


@transactional
def put_store_hours(actor: User, dealer_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """Replace a store's whole override; `{"weekly": null}` goes back to the group's hours."""
    dealer = _dealer(actor, dealer_id, edit=True)
    own = db.session.get(StoreHours, dealer.id)
    if data.get("weekly") is None:
        if own is not None:
            db.session.delete(own)
    else:
        hours = parsed_hours(data, "hours")
        if own is None:
            own = StoreHours(dealer_id=dealer.id)
            db.session.add(own)
        own.weekly, own.holidays = hours["weekly"], hours["holidays"]
    db.session.flush()
    recount_clocks(dealer.group, [dealer.id])
    return effective_hours(dealer)


# --- closures -----------------------------------------------------------------------------


def list_closures(actor: User, dealer_id: int) -> list[StoreClosure]:
    dealer = _dealer(actor, dealer_id, edit=False)
    return list(
        db.session.scalars(
            select(StoreClosure)
            .where(StoreClosure.dealer_id == dealer.id)
            .order_by(StoreClosure.starts_on, StoreClosure.id)
        )
    )


@transactional
def add_closure(actor: User, dealer_id: int, data: Mapping[str, Any]) -> StoreClosure:
    """A store shut for a range of its group's local days (inclusive)."""
    dealer = _dealer(actor, dealer_id, edit=True)
    if data["ends_on"] < data["starts_on"]:
        raise Invalid(
            "ends_on", "A closure ends on or after the day it starts.", reason="end_before_start"
        )
    closure = StoreClosure(dealer_id=dealer.id, **data)
    db.session.add(closure)
    db.session.flush()
    recount_clocks(dealer.group, [dealer.id])
    return closure


@transactional
def delete_closure(actor: User, dealer_id: int, closure_id: int) -> None:
    dealer = _dealer(actor, dealer_id, edit=True)
    closure = db.session.get(StoreClosure, closure_id)
    if closure is None or closure.dealer_id != dealer.id:
        raise NotFound("No such closure.")
    db.session.delete(closure)
    db.session.flush()
    recount_clocks(dealer.group, [dealer.id])


# --- the calendar -------------------------------------------------------------------------


def _group(actor: User, group_id: int) -> Group:
    group = db.session.get(Group, group_id)
    if group is None or not scope.sees_group(actor, group.id):
        raise NotFound("No such group.")
    return group


def get_calendar(actor: User, group_id: int, year: int | None = None) -> CalendarYear:
    """A group's year (this year in its time zone by default): built-in and its own days."""
    group = _group(actor, group_id)
    year = year or local_date(utcnow(), group.timezone).year
    return calendar_year(year, group_overrides(group.id))


@transactional
def put_calendar(actor: User, group_id: int, year: int, days: list[Mapping[str, Any]]) -> Any:
    """Replace the group's own days of one year; pending offers and running timers are counted
    again."""
    group = _group(actor, group_id)
    scope.require_group_admin(actor, group.id)
    seen: set[date] = set()
    for index, entry in enumerate(days):
        if entry["date"].year != year:
            raise Invalid(
                f"days.{index}.date",
                f"{entry['date'].isoformat()} is not in {year}.",
                reason="date_outside_year",
            )
        if entry["date"] in seen:
            raise Invalid(
                f"days.{index}.date",
                f"{entry['date'].isoformat()} is given twice.",
                reason="duplicate_day",
            )
        seen.add(entry["date"])
    db.session.execute(
        delete(CalendarDay).where(
            CalendarDay.group_id == group.id,
            CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)),
        )
    )
    for entry in days:
        db.session.add(
            CalendarDay(
                group_id=group.id, day=entry["date"], kind=entry["kind"], name=entry.get("name")
            )
        )
    db.session.flush()
    recount_clocks(group)
    overrides: Overrides = group_overrides(group.id)
    return calendar_year(year, overrides)


NEXT_YEAR_FROM_MONTH = 11
"""From November on, next year's calendar is due (the State Council announces it late in the
year), so a next year nobody knows yet is worth a warning."""


def unknown_years_of(group: Group, now: datetime | None = None) -> list[int]:
    """The years the group's calendar should know by now and does not: this year and, from
    November, the next one. On those days its stores keep their weekly hours."""
    today = local_date(now or utcnow(), group.timezone)
    years = [today.year] + [today.year + 1] * (today.month >= NEXT_YEAR_FROM_MONTH)
    overrides = group_overrides(group.id)
    return [year for year in years if not is_known(year, overrides)]


def unknown_calendar_years(now: datetime | None = None) -> list[tuple[str, int]]:
    """(group code, year) for each group whose calendar knows neither this year nor, from
    November, the next one. A warning for `flask leadshare check`, the admin page and a metric;
    never a readiness failure."""
    now = now or utcnow()
    return [
        (group.code, year)
        for group in db.session.scalars(select(Group).order_by(Group.code))
        for year in unknown_years_of(group, now)
    ]
