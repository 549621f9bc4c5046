"""Trends and speed: leads shared, accepted and delivered per week or month, with the previous
period beside them; and how long stores take to accept (and to contact) as a histogram.

Counted over the leads in the reader's scope that match the filters, voided leads left out,
by the week or month they were shared in (a cohort: a lead delivered later counts in the week it
was shared). Periods are calendar weeks (Monday) or months in the reader's time zone (the
group's; Asia/Shanghai for an OEM auditor). Each report is one aggregate scan: a lead's period
is a CASE over the periods' UTC bounds (computed here, so daylight saving anywhere is right),
and the current and the previous range are counted in the same scan.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Select, and_, case, func, literal, select
from sqlalchemy.dialects import postgresql

from ..auth.models import User
from ..clock import local_date, local_midnight, utcnow
from ..extensions import db
from ..hours.enums import SlaKind, SlaState
from ..hours.models import SlaTimer
from ..leads.models import Lead
from .figures import LADDER, minutes, percentile, rate
from .grouping import in_sets, key_refs
from .query import counted_conditions, dealer_refs, is_postgresql, pg_minutes, ref, tune_for_reports

PERIODS = ("week", "month")
BYS = ("none", "brand", "group", "province")
DEFAULT_PERIODS = 12
MAX_PERIODS = {"week": 106, "month": 60}
SERIES_LIMIT = 8
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Minutes: each bin's upper bound (the last is open) and its label.
SPEED_BINS = (
    (15, "<15m"),
    (30, "15–30m"),
    (60, "30–60m"),
    (120, "1–2h"),
    (240, "2–4h"),
    (480, "4–8h"),
    (1440, "8–24h"),
    (None, ">24h"),
)


class RangeTooLong(ValueError):
    """More periods than MAX_PERIODS: the chart would be unreadable and the CASE long."""


def reader_timezone(actor: User) -> str:
    group = getattr(actor, "group", None)
    return group.timezone if group is not None and group.timezone else DEFAULT_TIMEZONE


# --- periods ----------------------------------------------------------------------------------


def period_start(day: date, period: str) -> date:
    """The Monday of the day's week, or the first of its month."""
    return day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


def next_start(day: date, period: str) -> date:
    if period == "week":
        return day + timedelta(days=7)
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def previous_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=7)
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def period_days(
    created_from: datetime | None, created_to: datetime | None, period: str, timezone: str
) -> list[date]:
    """The local first days of the periods covering [from, to): by default the last 12, the
    current one included. A range is widened to whole periods."""
    if created_to is None:
        last = period_start(local_date(utcnow(), timezone), period)
    else:
        last = period_start(local_date(created_to - timedelta(microseconds=1), timezone), period)
    if created_from is None:
        first = last
        for _ in range(DEFAULT_PERIODS - 1):
            first = previous_start(first, period)
    else:
        first = period_start(local_date(created_from, timezone), period)
    days = [first]
    while days[-1] < last:
        days.append(next_start(days[-1], period))
        if len(days) > MAX_PERIODS[period]:
            raise RangeTooLong(f"At most {MAX_PERIODS[period]} {period}s at once.")
    return days


def _bucket(bounds: list[datetime]) -> ColumnElement:
    """The index of the period a lead was shared in: bounds are the UTC starts, then the end.
    PostgreSQL: width_bucket's binary search over the bounds (the CASE tested every bound in
    turn, 50 comparisons a lead for two years of months); elsewhere the CASE."""
    if is_postgresql():
        thresholds = postgresql.array([literal(b, DateTime()) for b in bounds[:-1]])
        return func.width_bucket(Lead.created_at, thresholds) - 1
    return case(
        *((Lead.created_at < bound, literal(i - 1)) for i, bound in enumerate(bounds) if i),
        else_=literal(len(bounds) - 1),
    )


def _trend_key(by: str) -> ColumnElement | None:
    return {
        "none": None,
        "brand": Lead.brand_key,
        "group": Lead.group_id,
        "province": Lead.province,
    }[by]


def _figures(shared: int, accepted: int, delivered: int) -> dict[str, Any]:
    return {
        "shared": shared,
        "accepted": accepted,
        "delivered": delivered,
        "accept_rate": rate(accepted, shared),
        "conversion": rate(delivered, shared),
    }


def _sum(points: list[dict[str, Any]]) -> dict[str, Any]:
    return _figures(*(sum(p[name] for p in points) for name in ("shared", "accepted", "delivered")))


def trend_report(
    actor: User, filters: Mapping[str, Any], period: str = "week", by: str = "none"
) -> dict[str, Any]:
    """Per period of the range: shared, accepted, delivered and the rates, the previous range of
    as many periods beside it; per `by` key (the SERIES_LIMIT largest) the current range."""
    timezone = reader_timezone(actor)
    days = period_days(filters.get("created_from"), filters.get("created_to"), period, timezone)
    n = len(days)
    earlier = [days[0]]
    for _ in range(n):
        earlier.insert(0, previous_start(earlier[0], period))
    all_days = [*earlier[:-1], *days, next_start(days[-1], period)]  # 2n starts and the end
    bounds = [local_midnight(day, timezone) for day in all_days]
    scoped = {k: v for k, v in filters.items() if k not in ("created_from", "created_to")}
    conditions = [
        *counted_conditions(actor, scoped),
        Lead.created_at >= bounds[0],
        Lead.created_at < bounds[-1],
    ]
    tune_for_reports()
    bucket = _bucket(bounds).label("bucket")
    key = _trend_key(by)
    columns = [
        bucket,
        func.count().label("shared"),
        func.count().filter(Lead.progress_rank >= 1).label("accepted"),
        func.count().filter(Lead.progress_rank >= len(LADDER)).label("delivered"),
    ]
    query = select(*columns).where(*conditions)
    if key is not None:
        names = func.min(Lead.brand) if by == "brand" else literal(None)
        query = query.add_columns(key.label("key"), names.label("name")).group_by(bucket, key)
    else:
        query = query.group_by(bucket)
    counts: dict[Any, dict[int, tuple[int, int, int]]] = {}
    names_of: dict[Any, str] = {}
    for row in db.session.execute(query).mappings():
        value = row.get("key")
        counts.setdefault(value, {})[row["bucket"]] = (
            row["shared"],
            row["accepted"],
            row["delivered"],
        )
        if row.get("name"):
            names_of[value] = row["name"]

    def figures_at(per_bucket: dict[int, tuple[int, int, int]], index: int) -> dict[str, Any]:
        return _figures(*per_bucket.get(index, (0, 0, 0)))

    whole: dict[int, list[int]] = {}
    for per_bucket in counts.values():
        for index, figures in per_bucket.items():
            slot = whole.setdefault(index, [0, 0, 0])
            for i, value in enumerate(figures):
                slot[i] += value
    total = {index: tuple(v) for index, v in whole.items()}
    points = []
    for i, day in enumerate(days):
        point = {
            "start": day.isoformat(),
            **figures_at(total, n + i),
            "previous": {"start": earlier[i].isoformat(), **figures_at(total, i)},
        }
        points.append(point)
    series = []
    if key is not None:
        refs = (
            {v: ref(None, v, names_of.get(v, v)) for v in counts if v is not None}
            if by == "brand"
            else key_refs(by, counts.keys())
        )
        for value, per_bucket in counts.items():
            current = [figures_at(per_bucket, n + i) for i in range(n)]
            total_now = _sum(current)
            if not total_now["shared"]:
                continue
            previous_total = _sum([figures_at(per_bucket, i) for i in range(n)])
            series.append(
                {
                    "key": refs.get(value),
                    "totals": {"current": total_now, "previous": previous_total},
                    "points": [
                        {"start": d.isoformat(), **p} for d, p in zip(days, current, strict=True)
                    ],
                }
            )
        series.sort(key=lambda s: (-s["totals"]["current"]["shared"], str(s["key"])))
    current_total = _sum([{k: p[k] for k in ("shared", "accepted", "delivered")} for p in points])
    previous_total = _sum([p["previous"] for p in points])
    return {
        "period": period,
        "by": by,
        "time_zone": timezone,
        "current": {"from": days[0].isoformat(), "to": all_days[-1].isoformat()},
        "previous": {"from": earlier[0].isoformat(), "to": days[0].isoformat()},
        "points": points,
        "totals": {
            "current": current_total,
            "previous": previous_total,
            "shared_change": _change(current_total["shared"], previous_total["shared"]),
        },
        "series_total": len(series),
        "series": series[:SERIES_LIMIT],
    }


def _change(now: int, before: int) -> float | None:
    """Growth over the previous range (0.25: a quarter more); None when it had nothing."""
    return round((now - before) / before, 4) if before else None


# --- speed --------------------------------------------------------------------------------


def _elapsed(start: ColumnElement, end: ColumnElement) -> ColumnElement:
    if is_postgresql():
        return pg_minutes(start, end)
    # julianday's float is off by microseconds: round to the millisecond, so 30 min is 30.
    return func.round((func.julianday(end) - func.julianday(start)) * 86_400_000.0) / 60_000.0


def _contact_join() -> ColumnElement[bool]:
    """Each counted lead's first-contact timers (hours/sla.py): the claim starts one for the
    claiming store, the first `contacted` stamps `met_at`."""
    return and_(SlaTimer.lead_id == Lead.id, SlaTimer.kind == SlaKind.CONTACT)


def _timers(*columns: ColumnElement) -> Select:
    """Select from the contact timers JOINed to their leads (explicit: no cartesian product)."""
    return select(*columns).select_from(SlaTimer).join(Lead, _contact_join())


def _histogram_columns(m: ColumnElement, prefix: str = "") -> list[ColumnElement]:
    """Values of m counted per SPEED_BINS band (NULLs in none), with the median and p90 on
    PostgreSQL (percentile_cont skips NULLs)."""
    counts = []
    lower = None
    for upper, _label in SPEED_BINS:
        band = [] if lower is None else [m >= lower]
        if upper is not None:
            band.append(m < upper)
        counts.append(func.count().filter(*band))
        lower = upper
    columns = [func.count(m).label(f"{prefix}n")]
    columns += [c.label(f"{prefix}b{i}") for i, c in enumerate(counts)]
    if is_postgresql():
        columns += [
            func.percentile_cont(0.5).within_group(m).label(f"{prefix}median"),
            func.percentile_cont(0.9).within_group(m).label(f"{prefix}p90"),
        ]
    return columns


def _histogram_of(row: Mapping[str, Any], median, p90, prefix: str = "") -> dict[str, Any]:
    return {
        "leads": row[f"{prefix}n"],
        "median_minutes": minutes(median),
        "p90_minutes": minutes(p90),
        "bins": [
            {"label": label, "upper_minutes": upper, "count": row[f"{prefix}b{i}"]}
            for i, (upper, label) in enumerate(SPEED_BINS)
        ],
    }


def _histogram(conditions, start: ColumnElement, end: ColumnElement, timers: bool) -> dict:
    """Leads per time band from start to end, with the median and p90, in one aggregate scan
    (SQLite has no percentile_cont: there the sorted minutes of the leads are fetched). With
    timers, over the holders' contact timers of the leads."""
    elapsed = _elapsed(start, end)
    done = [*conditions, end.is_not(None)]
    if timers:
        done.append(SlaTimer.dealer_id == Lead.holder_id)
    source = (_timers(elapsed.label("m")) if timers else select(elapsed.label("m"))).where(*done)
    m = source.subquery("elapsed").c.m  # computed once per lead, not once per band
    row = db.session.execute(select(*_histogram_columns(m))).mappings().one()
    if is_postgresql():
        return _histogram_of(row, row["median"], row["p90"])
    ordered = list(db.session.scalars(select(m).order_by(m)))
    return _histogram_of(row, percentile(ordered, 0.5), percentile(ordered, 0.9))


SPEED_MEASURES = ("accept_wall", "accept_open", "contact_wall", "contact_open")
"""To accept and to first contact, on the wall clock and in the store's open minutes."""


def _speed_values() -> dict[str, ColumnElement]:
    """Each SPEED_MEASURES value of one contact timer, in minutes; NULL where it has none (a
    timer not met yet has no contact time; open minutes wait for the sweep)."""
    return {
        "accept_wall": _elapsed(Lead.created_at, SlaTimer.started_at),
        "accept_open": SlaTimer.accept_open_minutes,
        "contact_wall": _elapsed(SlaTimer.started_at, SlaTimer.met_at),
        "contact_open": SlaTimer.open_minutes,
    }


def _timer_figures(conditions) -> dict[int | None, dict[str, Any]]:
    """Per store that claimed counted leads (key None: every store): contact timers, met and
    missed, and the median and p90 of each SPEED_MEASURES; one aggregate query on PostgreSQL
    (GROUPING SETS, percentile_cont). SQLite, without percentiles, gets the counts the same way
    and each measure's minutes sorted per store."""
    values = _speed_values()
    columns = [
        func.count().label("claimed"),
        func.count().filter(SlaTimer.state == SlaState.MET).label("met"),
        func.count().filter(SlaTimer.state == SlaState.MISSED).label("missed"),
    ]
    if is_postgresql():  # the values computed once per timer, below the aggregate
        holders = case((SlaTimer.dealer_id == Lead.holder_id, values["contact_wall"]))
        timer = (
            _timers(
                SlaTimer.dealer_id,
                SlaTimer.state,
                *(value.label(name) for name, value in values.items()),
                holders.label("holder_contact"),  # the contact histogram's: holders' timers
            )
            .where(*conditions)
            .subquery("timer")
        )
        columns = [
            func.count().label("claimed"),
            func.count().filter(timer.c.state == SlaState.MET).label("met"),
            func.count().filter(timer.c.state == SlaState.MISSED).label("missed"),
        ]
        for name in values:
            columns += [
                func.percentile_cont(0.5).within_group(timer.c[name]).label(f"{name}_median"),
                func.percentile_cont(0.9).within_group(timer.c[name]).label(f"{name}_p90"),
            ]
        columns += _histogram_columns(timer.c.holder_contact, "contact_")
        query, _, place = in_sets(select(*columns), [None, timer.c.dealer_id])
        found: dict[int | None, dict[str, Any]] = {}
        for row in db.session.execute(query).mappings():
            for position, value in place(row):
                found[value if position else None] = dict(row)
        return found
    found = {None: dict(db.session.execute(_timers(*columns).where(*conditions)).mappings().one())}
    per_store = _timers(SlaTimer.dealer_id.label("key"), *columns).where(*conditions)
    for row in db.session.execute(per_store.group_by(SlaTimer.dealer_id)).mappings():
        found[row["key"]] = dict(row)
    for name, value in values.items():
        ordered: dict[int | None, list[float]] = {}
        query = _timers(SlaTimer.dealer_id, value).where(*conditions, value.is_not(None))
        for dealer_id, minutes_ in db.session.execute(query.order_by(SlaTimer.dealer_id, value)):
            ordered.setdefault(dealer_id, []).append(minutes_)
        every = sorted(v for store in ordered.values() for v in store)
        for key, figures in found.items():
            sample = every if key is None else ordered.get(key, [])
            figures[f"{name}_median"] = percentile(sample, 0.5)
            figures[f"{name}_p90"] = percentile(sample, 0.9)
    return found


def _spread(figures: Mapping[str, Any], name: str) -> dict[str, float | None]:
    return {
        "median_minutes": minutes(figures.get(f"{name}_median")),
        "p90_minutes": minutes(figures.get(f"{name}_p90")),
    }


def _speeds(figures: Mapping[str, Any]) -> dict[str, Any]:
    """Median and p90 to accept and to first contact, in the store's open minutes and on the
    wall clock, over contact timers (one per store that claimed a lead)."""
    return {
        "to_accept": {
            "wall": _spread(figures, "accept_wall"),
            "open": _spread(figures, "accept_open"),
        },
        "to_contact": {
            "wall": _spread(figures, "contact_wall"),
            "open": _spread(figures, "contact_open"),
        },
    }


def _store_speeds(found: Mapping[int | None, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per store that claimed leads: its speeds and the share of its decided contact timers
    (met or missed; running and closed ones are not decided) met within the SLA."""
    stores_of = {key: figures for key, figures in found.items() if key is not None}
    refs = dealer_refs(stores_of)
    stores = [
        {
            "store": refs.get(dealer_id),
            "claimed": figures["claimed"],
            "contacted_in_sla": figures["met"],
            "missed_sla": figures["missed"],
            "share_in_sla": rate(figures["met"], figures["met"] + figures["missed"]),
            "speeds": _speeds(figures),
        }
        for dealer_id, figures in stores_of.items()
    ]
    return sorted(stores, key=lambda s: (-s["claimed"], (s["store"] or {}).get("code") or ""))


def speed_report(actor: User, filters: Mapping[str, Any]) -> dict[str, Any]:
    """Time from posting to acceptance as a histogram with median and p90, and from acceptance
    to first contact the same way (the holder's contact timer); both again in the store's open
    minutes, overall and per store with each store's share contacted within the SLA. Every
    figure is an aggregate: no row per lead or timer leaves PostgreSQL."""
    conditions = counted_conditions(actor, filters)
    tune_for_reports()
    timers = _timer_figures(conditions)
    every = timers.get(None)
    if is_postgresql() and every is not None:  # counted with the timers, in the same scan
        to_contact = _histogram_of(every, every["contact_median"], every["contact_p90"], "contact_")
    else:
        to_contact = _histogram(conditions, SlaTimer.started_at, SlaTimer.met_at, timers=True)
    return {
        "to_accept": _histogram(conditions, Lead.created_at, Lead.accepted_at, timers=False),
        "to_contact": to_contact,
        "speeds": _speeds(timers.get(None, {})),
        "stores": _store_speeds(timers),
    }
