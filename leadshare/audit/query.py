"""What every audit report shares: the scope and filters of its leads, names for its keys, the
join to the offers, and the PostgreSQL settings its queries run with.

Every figure is an aggregate computed by the database over the leads in the reader's scope (an
OEM auditor: its brands in every group; a group admin: its group); Python only shapes the few
aggregated rows. Voided leads (fraud) are listed but left out of the funnel and the flows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, false, func, select, true

from ..auth.models import User
from ..auth.scope import audited_brand_keys
from ..brands import service as brands
from ..extensions import db
from ..leads.enums import OfferKind
from ..leads.models import Lead, Offer
from ..tenancy.models import Dealer, Group

REPORT_SETTINGS = {"jit": "off", "work_mem": "64MB"}
"""PostgreSQL settings for this transaction's report queries. The planner's cost of a year of
a brand crosses jit_above_cost, and compiling the query took 0.2 s of a 0.9 s report; 4 MB of
work_mem made the matrix's aggregate and sort spill to disk. SET LOCAL ends with the request."""

FILTERS = ("group_id", "province", "city", "status", "channel")
"""Filters that name a lead column; `brand`, `created_from` and `created_to` have their own."""


def is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def pg_minutes(start: ColumnElement, end: ColumnElement) -> ColumnElement[float]:
    """PostgreSQL: the minutes from start to end as a double precision. EXTRACT answers a
    numeric since PostgreSQL 14, and numeric division, comparison and sorting made the time to
    accept cost ten times the scan of a brand's year; date_part's float is exact to the
    microsecond over these spans."""
    return func.date_part("epoch", end - start) / 60.0


def tune_for_reports() -> None:
    """SET LOCAL the REPORT_SETTINGS (a read: nothing is written)."""
    if is_postgresql():
        for name, value in REPORT_SETTINGS.items():
            db.session.execute(select(func.set_config(name, value, true())))


# --- scope and filters --------------------------------------------------------------------


def scope_conditions(actor: User, brand: str | None = None) -> list[ColumnElement[bool]]:
    """An OEM auditor reads its brands across every group, a group admin its group; others 403.

    A brand narrows the scope (to nothing when it is not one of the auditor's brands).
    """
    group_id, keys = audited_brand_keys(actor)
    key = brands.filter_key(actor, brand) if brand else None
    if keys is not None:
        if key is None:
            return [Lead.brand_key.in_(sorted(keys))]
        return [Lead.brand_key == key] if key in keys else [false()]
    return [Lead.group_id == group_id, *([] if key is None else [Lead.brand_key == key])]


def lead_conditions(actor: User, filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """Scope plus the report filters; created_from is inclusive, created_to exclusive."""
    return [*scope_conditions(actor, filters.get("brand")), *filter_conditions(filters)]


def filter_conditions(filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """The report filters other than the brand (which the scope decides about)."""
    conditions: list[ColumnElement[bool]] = []
    for name in FILTERS:
        if filters.get(name) is not None:
            conditions.append(getattr(Lead, name) == filters[name])
    if filters.get("created_from"):
        conditions.append(Lead.created_at >= filters["created_from"])
    if filters.get("created_to"):
        conditions.append(Lead.created_at < filters["created_to"])
    return conditions


def counted_conditions(actor: User, filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """The leads the funnel and the flows count: in scope, filtered, not voided."""
    return [*lead_conditions(actor, filters), Lead.voided_at.is_(None)]


def with_offers(query: Select, *, routed_only: bool = False) -> tuple[Select, Any]:
    """Join each counted lead to its offers; answers the query and the offer columns.

    On PostgreSQL the offers are a LATERAL subquery fenced by OFFSET 0, so the planner probes
    the offers' (lead_id) index once per counted lead instead of hashing every offer in the
    table: half the CPU for a brand's year among a million leads. Elsewhere a plain join.
    """
    offers = select(Offer.lead_id, Offer.dealer_id, Offer.status, Offer.decline_reason)
    if routed_only:
        offers = offers.where(Offer.kind == OfferKind.ROUTED)
    if is_postgresql():
        lateral = offers.where(Offer.lead_id == Lead.id).offset(0).lateral("o")
        return query.join(lateral, true()), lateral.c
    joined = offers.subquery("o")
    return query.join(joined, joined.c.lead_id == Lead.id), joined.c


# --- what report keys stand for -------------------------------------------------------------


def ref(id_: int | None, code: str | None, name: str | None) -> dict[str, Any]:
    """A store, group or place as the reports name it: {id, code, name}."""
    return {"id": id_, "code": code, "name": name}


def dealer_refs(ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = sorted({i for i in ids if i is not None})
    # Integers written into the SQL: thousands of bound parameters cost more to send and parse.
    ids_in = bindparam("ids", wanted, expanding=True, literal_execute=True)
    rows = db.session.execute(
        select(Dealer.id, Dealer.code, Dealer.name).where(Dealer.id.in_(ids_in))
    )
    return {row.id: ref(row.id, row.code, row.name) for row in rows}


def group_refs(ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = sorted({i for i in ids if i is not None})
    rows = db.session.execute(select(Group.id, Group.code, Group.name).where(Group.id.in_(wanted)))
    return {row.id: ref(row.id, row.code, row.name) for row in rows}
