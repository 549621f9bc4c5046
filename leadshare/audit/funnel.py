"""The funnel: stages reached, conversion rates, time to accept, offer outcomes, lost reasons.

Counted over the leads in the reader's scope that match the filters, voided leads left out; in
total, per `group_by` key, and per holder for the losses.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from ..auth.models import User
from ..auth.scope import audited_brand_keys
from ..extensions import db
from ..leads.enums import DeclineReason, LeadStatus, LostReason, OfferStatus
from ..leads.models import DuplicateRefusal, Lead
from ..vocabulary import brand_key
from .figures import (
    COUNTS,
    LADDER,
    STATUS_COUNTS,
    funnel_row,
    minutes_to_accept,
    percentile,
    rate,
)
from .grouping import Key, by_key, in_sets, key_refs, lead_key
from .query import (
    counted_conditions,
    dealer_refs,
    is_postgresql,
    pg_minutes,
    tune_for_reports,
    with_offers,
)

TOP_REASONS = len(LostReason)
"""Every reason of the fixed list can show: the list is short."""


def _minutes_to_accept() -> ColumnElement:
    if is_postgresql():
        return pg_minutes(Lead.created_at, Lead.accepted_at)
    return (func.julianday(Lead.accepted_at) - func.julianday(Lead.created_at)) * 1440.0


def _count_columns() -> list[ColumnElement]:
    lost = Lead.status == LeadStatus.LOST
    return [
        func.count().label("posted"),
        func.count().filter(or_(Lead.offers_made > 0, Lead.progress_rank >= 1)).label("offered"),
        *(
            func.count().filter(Lead.progress_rank >= rank).label(stage)
            for rank, stage in enumerate(LADDER, start=1)
        ),
        *(func.count().filter(Lead.status == status).label(status) for status in STATUS_COUNTS),
        func.count().filter(and_(lost, Lead.progress_rank == 1)).label("lost_without_contact"),
    ]


def _lead_figures(conditions, keys: Sequence[Key]) -> list[dict[Any, dict[str, Any]]]:
    """For each key, per key value: the COUNTS and the median and p90 minutes to accept."""
    elapsed = _minutes_to_accept()
    results: list[dict[Any, dict[str, Any]]] = [{} for _ in keys]
    if not is_postgresql():
        for position, key in enumerate(keys):
            same = next((p for p in range(position) if keys[p] is key), None)
            if same is not None:
                results[position] = results[same]
                continue
            query = by_key(select(*_count_columns()).where(*conditions), key)
            found = {row.get("key"): dict(row) for row in db.session.execute(query).mappings()}
            _percentiles_in_python(found, conditions, key, elapsed)
            results[position] = found
        return results
    lost = Lead.status == LeadStatus.LOST
    query, _, place = in_sets(
        select(
            *_count_columns(),  # percentile_cont skips the NULL minutes of leads never accepted
            func.percentile_cont(0.5).within_group(elapsed).label("median"),
            func.percentile_cont(0.9).within_group(elapsed).label("p90"),
            *(
                func.count().filter(lost, Lead.lost_reason == reason.value).label(f"lost:{reason}")
                for reason in LostReason
            ),
        ).where(*conditions),
        keys,
    )
    names = (*COUNTS, "median", "p90", *(f"lost:{reason}" for reason in LostReason))
    for row in db.session.execute(query).mappings():
        figures = {name: row[name] for name in names}
        for position, value in place(row):
            results[position][value] = figures
    return results


def _percentiles_in_python(found, conditions, key: Key, elapsed) -> None:
    """SQLite has no percentile_cont: fetch only the sorted minutes of the accepted leads."""
    keys = [] if key is None else [key]
    query = (
        select(elapsed, *keys)
        .where(*conditions, Lead.accepted_at.is_not(None))
        .order_by(*keys, elapsed)
    )
    values: dict[Any, list[float]] = defaultdict(list)
    for row in db.session.execute(query):
        values[row[1] if keys else None].append(row[0])
    for value, figures in found.items():
        ordered = values.get(value, [])
        figures["median"], figures["p90"] = percentile(ordered, 0.5), percentile(ordered, 0.9)


def _reasons_counted(figures: Sequence[Mapping[Any, Mapping[str, Any]]]):
    """PostgreSQL: the lost reasons per key value as the lead figures counted them (one count
    per reason of the fixed list, in the same scan), ranked as _lost_reasons ranks them; None
    when some lost lead's reason is not on the list (older rows), for _lost_reasons to rank."""
    results: list[dict[Any, list[dict[str, Any]]]] = []
    for per_value in figures:
        ranked: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for value, counts in per_value.items():
            found = [(str(r), counts[f"lost:{r}"]) for r in LostReason if counts[f"lost:{r}"]]
            if sum(n for _, n in found) != counts["lost"]:
                return None
            found.sort(key=lambda item: (-item[1], item[0]))
            ranked[value] = [{"reason": r, "count": n} for r, n in found[:TOP_REASONS]]
        results.append(ranked)
    return results


def _lost_reasons(conditions, keys: Sequence[Key]) -> list[dict[Any, list[dict[str, Any]]]]:
    """For each key, per key value: the TOP_REASONS most frequent lost reasons, ranked in SQL."""
    count = func.count()
    order = (count.desc(), Lead.lost_reason)
    lost = select(Lead.lost_reason.label("reason"), count.label("n")).where(
        *conditions, Lead.status == LeadStatus.LOST
    )
    results: list[dict[Any, list[dict[str, Any]]]] = [defaultdict(list) for _ in keys]
    if is_postgresql():
        query, partition, place = in_sets(lost, keys, extra=[Lead.lost_reason])
        ranked = [(query, partition, place)]
    else:
        ranked = [
            (
                by_key(lost.group_by(Lead.lost_reason), key),
                [] if key is None else [key],
                lambda row, p=position: [(p, row.get("key"))],
            )
            for position, key in enumerate(keys)
        ]
    for query, partition, place in ranked:
        window = func.row_number().over(partition_by=partition or None, order_by=order)
        sub = query.add_columns(window.label("position")).subquery()
        rows = db.session.execute(
            select(sub).where(sub.c.position <= TOP_REASONS).order_by(sub.c.position)
        ).mappings()
        for row in rows:
            for position, value in place(row):
                results[position][value].append({"reason": row["reason"], "count": row["n"]})
    return results


def _offer_outcomes(conditions, key: Key | str) -> dict[Any, tuple[Counter, Counter]]:
    """Routed offers counted by outcome, and declines by reason, per key value (board claims
    are not offers); key "offered" groups by the store offered. Only leads with offers join."""
    query, offer = with_offers(
        select().select_from(Lead).where(*conditions, Lead.offers_made > 0), routed_only=True
    )
    query = by_key(
        query.add_columns(offer.status, offer.decline_reason, func.count().label("n")).group_by(
            offer.status, offer.decline_reason
        ),
        offer.dealer_id if key == "offered" else key,
    )
    found: dict[Any, tuple[Counter, Counter]] = defaultdict(lambda: (Counter(), Counter()))
    for row in db.session.execute(query).mappings():
        outcomes, reasons = found[row.get("key")]
        outcomes[row["status"]] += row["n"]
        if row["status"] == OfferStatus.DECLINED:
            reasons[row["decline_reason"] or DeclineReason.OTHER.value] += row["n"]
    return found


def _grouped_rows(group_by: str, figures, offers, reasons) -> list[dict[str, Any]]:
    """One funnel row per key value, most leads first."""
    values = figures.keys() | offers.keys()
    refs = key_refs(group_by, values)
    rows = [funnel_row(refs[v], figures.get(v), offers.get(v), reasons.get(v, [])) for v in values]
    return sorted(
        rows,
        key=lambda row: (
            -row["counts"]["posted"],
            -row["offers"]["made"],
            row["key"] is None,
            str((row["key"] or {}).get("name")),
        ),
    )


def _lost_by_holder(figures, reasons) -> list[dict[str, Any]]:
    """Per holder with lost leads: leads held, lost, lost with no contact recorded, and why."""
    lost = {h: f for h, f in figures.items() if h is not None and f["lost"]}
    refs = dealer_refs(lost)
    holders = [
        {
            "holder": refs.get(holder),
            "held": f["accepted"],
            "lost": f["lost"],
            "lost_share": rate(f["lost"], f["accepted"]),
            "lost_without_contact": f["lost_without_contact"],
            "lost_reasons": reasons.get(holder, []),
        }
        for holder, f in lost.items()
    ]
    return sorted(
        holders, key=lambda h: (-h["lost"], -h["lost_without_contact"], h["holder"]["id"])
    )


def _duplicate_conditions(actor: User, filters: Mapping[str, Any]) -> list[ColumnElement]:
    """The refused duplicates in the reader's scope and the filters that apply to them (a
    refusal has no place or status: those filters do not narrow it)."""
    group_id, keys = audited_brand_keys(actor)
    conditions: list[ColumnElement] = []
    key = brand_key(filters["brand"]) if filters.get("brand") else None
    if keys is not None:
        allowed = sorted(keys) if key is None else [key] if key in keys else []
        conditions.append(DuplicateRefusal.brand_key.in_(allowed))
    else:
        conditions.append(DuplicateRefusal.group_id == group_id)
        if key is not None:
            conditions.append(DuplicateRefusal.brand_key == key)
    for name in ("group_id", "channel"):
        if filters.get(name) is not None:
            conditions.append(getattr(DuplicateRefusal, name) == filters[name])
    if filters.get("created_from"):
        conditions.append(DuplicateRefusal.created_at >= filters["created_from"])
    if filters.get("created_to"):
        conditions.append(DuplicateRefusal.created_at < filters["created_to"])
    return conditions


def duplicates_report(actor: User, filters: Mapping[str, Any]) -> dict[str, Any]:
    """Customers refused as duplicates, per referring store and channel (each counted once)."""
    conditions = _duplicate_conditions(actor, filters)
    customers = func.count(DuplicateRefusal.customer_key.distinct())
    rows = db.session.execute(
        select(DuplicateRefusal.dealer_id, DuplicateRefusal.channel, customers.label("n"))
        .where(*conditions)
        .group_by(DuplicateRefusal.dealer_id, DuplicateRefusal.channel)
    ).all()
    refs = dealer_refs(row.dealer_id for row in rows)
    listed = sorted(
        (
            {"dealer": refs.get(row.dealer_id), "channel": row.channel, "customers": row.n}
            for row in rows
        ),
        key=lambda row: (-row["customers"], row["dealer"]["id"], row["channel"]),
    )
    total = db.session.scalar(select(customers).where(*conditions)) or 0
    return {"duplicates_total": int(total), "duplicates": listed}


def funnel_report(
    actor: User, filters: Mapping[str, Any], group_by: str = "none", limit: int | None = None
) -> dict:
    """The funnel of the counted leads, in total and per group_by key, and losses per holder.

    Lead figures for the total, per holder and per key come from one scan (GROUPING SETS on
    PostgreSQL); every offer falls under exactly one key, so the total's offers are the sum of
    the rows'. `limit` cuts the rows and holders listed (largest first), not their totals.
    """
    conditions = counted_conditions(actor, filters)
    tune_for_reports()
    key = lead_key(group_by)
    keys = [None, Lead.holder_id, key]
    figures = _lead_figures(conditions, keys)
    counted = _reasons_counted(figures) if is_postgresql() else None
    reasons = counted if counted is not None else _lost_reasons(conditions, keys)
    offers = _offer_outcomes(conditions, "offered" if group_by == "dealer" else key)
    total_offers: tuple[Counter, Counter] = (Counter(), Counter())
    for outcomes, declines in offers.values():
        total_offers[0].update(outcomes)
        total_offers[1].update(declines)
    rows = []
    if group_by != "none":
        rows = _grouped_rows(group_by, figures[2], offers, reasons[2])
    holders = _lost_by_holder(figures[1], reasons[1])
    return {
        "group_by": group_by,
        "total": funnel_row(None, figures[0][None], total_offers, reasons[0].get(None, [])),
        "rows_total": len(rows),
        "rows": rows[:limit],
        "lost_by_holder_total": len(holders),
        "lost_by_holder": holders[:limit],
        **duplicates_report(actor, filters),
    }


def accept_minutes(actor: User, filters: Mapping[str, Any]) -> list[float]:
    """Minutes from posting to acceptance of each counted lead accepted (a histogram's input)."""
    rows = db.session.execute(
        select(Lead.created_at, Lead.accepted_at).where(
            *counted_conditions(actor, filters), Lead.accepted_at.is_not(None)
        )
    )
    return [minutes_to_accept(row.created_at, row.accepted_at) for row in rows]
