"""The store league table: per store, how it treats the leads it is offered and the leads it
shares, and its balance with each partner store.

Who sees which stores is `auth.scope.league_view`: an OEM auditor its brands' stores in every
group (counting its brands' leads), a group admin its group's, a manager its own store beside the
median of its group's active stores. Rewards earned are the group's ledger: never shown to an
OEM auditor. Voided leads are left out. Five aggregate queries (leads by holder, leads by
referrer and holder, offers by store, first-contact timers by holder, reward credits by store),
none with a row per lead.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Mapping
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from ..auth.models import User
from ..auth.scope import audited_stores, league_view
from ..brands import service as brands
from ..csvsafe import Table, cells
from ..extensions import db
from ..hours.enums import SlaKind, SlaState
from ..hours.models import SlaTimer
from ..leads.enums import LeadStatus, OfferStatus
from ..leads.models import Lead
from ..leads.states import PROGRESS_LADDER
from ..rewards.models import RewardCredit
from ..rewards.money import format_amount
from ..tenancy.models import Dealer
from .figures import LADDER, minutes, percentile, rate
from .query import (
    counted_conditions,
    filter_conditions,
    is_postgresql,
    pg_minutes,
    ref,
    tune_for_reports,
    with_offers,
)

VISITED_RANK = [str(s) for s in PROGRESS_LADDER].index("visited") + 1
DELIVERED_RANK = len(LADDER)
PARTNERS = 3
FIGURES = (
    "received",
    "accepted",
    "acceptance_rate",
    "median_minutes_to_accept",
    "expired_unseen",
    "declined",
    "held",
    "visit_rate",
    "delivery_rate",
    "lost_without_contact",
    "contacted_in_sla_rate",
    "median_open_minutes_to_contact",
    "shared",
    "given",
    "taken",
    "balance",
)
SORTS = (*FIGURES, "rewards_earned", "store")


def _conditions(actor: User, filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """The leads counted: the reader's scope and the report filters, voided leads left out; a
    manager's are its group's (its store is shown beside the group's median)."""
    group_id, _keys, own = league_view(actor)
    if own is None:
        return counted_conditions(actor, filters)
    key = brands.filter_key(actor, filters["brand"]) if filters.get("brand") else None
    mine = [Lead.group_id == group_id, *([] if key is None else [Lead.brand_key == key])]
    return [*mine, *filter_conditions(filters), Lead.voided_at.is_(None)]


def _stores(actor: User) -> list[Dealer]:
    group_id, keys, _own = league_view(actor)
    where = Dealer.group_id == group_id if keys is None else audited_stores(actor)
    return list(db.session.scalars(select(Dealer).where(where).order_by(Dealer.id)))


def _elapsed() -> ColumnElement:
    if is_postgresql():
        return pg_minutes(Lead.created_at, Lead.accepted_at)
    return (func.julianday(Lead.accepted_at) - func.julianday(Lead.created_at)) * 1440.0


def _by_holder(conditions) -> dict[int, dict[str, Any]]:
    """Leads held per store: visited, delivered, lost with no contact, median time to accept."""
    elapsed = _elapsed()
    columns = [
        Lead.holder_id.label("store"),
        func.count().label("held"),
        func.count().filter(Lead.progress_rank >= VISITED_RANK).label("visited"),
        func.count().filter(Lead.progress_rank >= DELIVERED_RANK).label("delivered"),
        func.count()
        .filter(Lead.status == LeadStatus.LOST, Lead.progress_rank == 1)
        .label("lost_without_contact"),
    ]
    if is_postgresql():
        columns.append(func.percentile_cont(0.5).within_group(elapsed).label("median"))
    done = [*conditions, Lead.holder_id.is_not(None)]
    query = select(*columns).where(*done).group_by(Lead.holder_id)
    found = {row["store"]: dict(row) for row in db.session.execute(query).mappings()}
    if not is_postgresql():  # no percentile_cont: the sorted minutes per holder
        values: dict[int, list[float]] = defaultdict(list)
        ordered = select(Lead.holder_id, elapsed).where(*done, Lead.accepted_at.is_not(None))
        for holder, value in db.session.execute(ordered.order_by(Lead.holder_id, elapsed)):
            values[holder].append(value)
        for holder, figures in found.items():
            figures["median"] = percentile(values.get(holder, []), 0.5)
    return found


def _contact(conditions) -> dict[int, dict[str, Any]]:
    """Per holder, its first-contact timers (hours/sla.py) of the counted leads: met and missed
    within the SLA, and the median open minutes to first contact; one aggregate query (on
    SQLite, whose SQL has no percentile, the minutes come sorted per holder)."""
    join = [SlaTimer.lead_id == Lead.id, SlaTimer.kind == SlaKind.CONTACT]
    columns = [
        SlaTimer.dealer_id.label("store"),
        func.count().filter(SlaTimer.state == SlaState.MET).label("met"),
        func.count().filter(SlaTimer.state == SlaState.MISSED).label("missed"),
    ]
    if is_postgresql():
        columns.append(
            func.percentile_cont(0.5).within_group(SlaTimer.open_minutes).label("median")
        )
    query = select(*columns).join(Lead, and_(*join)).where(*conditions).group_by(SlaTimer.dealer_id)
    found = {row["store"]: dict(row) for row in db.session.execute(query).mappings()}
    if not is_postgresql():
        values: dict[int, list[float]] = defaultdict(list)
        ordered = (
            select(SlaTimer.dealer_id, SlaTimer.open_minutes)
            .join(Lead, and_(*join))
            .where(*conditions, SlaTimer.open_minutes.is_not(None))
            .order_by(SlaTimer.dealer_id, SlaTimer.open_minutes)
        )
        for dealer_id, value in db.session.execute(ordered):
            values[dealer_id].append(value)
        for dealer_id, figures in found.items():
            figures["median"] = percentile(values.get(dealer_id, []), 0.5)
    return found


def _pairs(conditions) -> dict[tuple[int, int | None], int]:
    """Leads per (referrer, holder); holder None: not accepted by anyone (yet)."""
    query = (
        select(Lead.referrer_id, Lead.holder_id, func.count().label("n"))
        .where(*conditions)
        .group_by(Lead.referrer_id, Lead.holder_id)
    )
    # Tens of thousands of pairs in a large group: unpacked, not read by attribute name.
    return {(referrer, holder): n for referrer, holder, n in db.session.execute(query)}


def _offers(conditions) -> dict[int, dict[str, int]]:
    """Offers per store offered (routed, and board claims): received leads and outcomes. A
    store has at most one offer per lead (the offers' unique (lead_id, dealer_id)), so its
    offers count its leads: no DISTINCT, whose sort cost more than the join."""
    query, offer = with_offers(select().select_from(Lead).where(*conditions))
    query = query.add_columns(
        offer.dealer_id.label("store"),
        func.count().label("received"),
        func.count().filter(offer.status == OfferStatus.ACCEPTED).label("accepted"),
        func.count().filter(offer.status == OfferStatus.DECLINED).label("declined"),
        func.count().filter(offer.status == OfferStatus.EXPIRED).label("expired"),
    ).group_by(offer.dealer_id)
    return {row["store"]: dict(row) for row in db.session.execute(query).mappings()}


def _rewards(conditions) -> dict[int, int]:
    """Reward credits earned per referring store for the counted leads, reversals left out."""
    query = (
        select(RewardCredit.dealer_id, func.sum(RewardCredit.amount_minor).label("minor"))
        .join(Lead, Lead.id == RewardCredit.lead_id)
        .where(*conditions, RewardCredit.reversal_entry_id.is_(None))
        .group_by(RewardCredit.dealer_id)
    )
    return {row.dealer_id: int(row.minor or 0) for row in db.session.execute(query)}


def _imbalance(partner: tuple[int, list[int]]) -> tuple[int, int, int]:
    """A partner's rank: the most unbalanced first, then the most leads, then its id."""
    store, (given, taken) = partner
    return (-abs(given - taken), -given - taken, store)


def _row(
    store: Dealer,
    holder: Mapping[str, Any] | None,
    offers: Mapping[str, int] | None,
    contact: Mapping[str, Any] | None,
    shared: int,
    partner_of: Mapping[int, dict[int, list[int]]],
    totals: Mapping[int, tuple[int, int]],
) -> dict[str, Any]:
    holder, offers, contact = holder or {}, offers or {}, contact or {}
    met, missed = contact.get("met", 0), contact.get("missed", 0)
    held = holder.get("held", 0)
    accepted, declined, expired = (offers.get(k, 0) for k in ("accepted", "declined", "expired"))
    partners = partner_of.get(store.id, {})
    given, taken = totals.get(store.id, (0, 0))
    # The PARTNERS most unbalanced, as sorted()[:PARTNERS] would list them.
    ranked = heapq.nsmallest(PARTNERS, partners.items(), key=_imbalance)
    return {
        "store": ref(store.id, store.code, store.name),
        "received": offers.get("received", 0),
        "accepted": accepted,
        "acceptance_rate": rate(accepted, accepted + declined + expired),
        "median_minutes_to_accept": minutes(holder.get("median")),
        "expired_unseen": expired,
        "declined": declined,
        "held": held,
        "visit_rate": rate(holder.get("visited", 0), held),
        "delivery_rate": rate(holder.get("delivered", 0), held),
        "lost_without_contact": holder.get("lost_without_contact", 0),
        "contacted_in_sla_rate": rate(met, met + missed),
        "median_open_minutes_to_contact": minutes(contact.get("median")),
        "shared": shared,
        "given": given,
        "taken": taken,
        "balance": given - taken,
        "partners": [
            {"store": partner, "given": g, "taken": t, "balance": g - t}
            for partner, (g, t) in ranked[:PARTNERS]
        ],
    }


def _median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the stores that received or shared a lead."""
    active = [r for r in rows if r["received"] or r["shared"]]
    out: dict[str, Any] = {"stores": len(active)}
    for name in FIGURES:
        values = [r[name] for r in active if r[name] is not None]
        out[name] = round(median(values), 4) if values else None
    return out


def _sort(rows: list[dict[str, Any]], sort: str, descending: bool) -> None:
    """Sort in place by one figure (stores without it last), ties by store id."""

    def value(row: dict[str, Any]) -> Any:
        if sort == "store":
            return row["store"]["code"] or ""
        found = row.get(sort)
        return float(found) if sort == "rewards_earned" and found is not None else found

    present = [r for r in rows if value(r) is not None]
    absent = [r for r in rows if value(r) is None]
    present.sort(
        key=lambda r: (value(r), -r["store"]["id"] if descending else r["store"]["id"]),
        reverse=descending,
    )
    rows[:] = present + absent


def league_report(
    actor: User,
    filters: Mapping[str, Any],
    sort: str = "received",
    order: str = "desc",
    limit: int | None = None,
) -> dict[str, Any]:
    """One row per store in the reader's league (a manager: its own), sorted by `sort`."""
    _group_id, keys, own = league_view(actor)
    conditions = _conditions(actor, filters)
    tune_for_reports()
    stores = _stores(actor)
    holders, pairs, offers = _by_holder(conditions), _pairs(conditions), _offers(conditions)
    contacts = _contact(conditions)
    refs = {s.id: ref(s.id, s.code, s.name) for s in stores}
    partner_of: dict[int, dict[int, list[int]]] = defaultdict(dict)
    shared: dict[int, int] = defaultdict(int)  # leads each store shared, one pass over the pairs
    for (referrer, holder), n in pairs.items():
        shared[referrer] += n
        if holder is None or holder == referrer:
            continue
        partner_of[referrer].setdefault(holder, [0, 0])[0] += n  # referrer gave
        partner_of[holder].setdefault(referrer, [0, 0])[1] += n  # holder took
    totals = {
        store: (sum(g for g, _t in partners.values()), sum(t for _g, t in partners.values()))
        for store, partners in partner_of.items()
    }
    rows = [
        _row(
            s,
            holders.get(s.id),
            offers.get(s.id),
            contacts.get(s.id),
            shared[s.id],
            partner_of,
            totals,
        )
        for s in stores
    ]
    missing = {p for r in rows for p in (x["store"] for x in r["partners"]) if p not in refs}
    if missing:
        for dealer in db.session.scalars(select(Dealer).where(Dealer.id.in_(sorted(missing)))):
            refs[dealer.id] = ref(dealer.id, dealer.code, dealer.name)
    for r in rows:
        for p in r["partners"]:
            p["store"] = refs.get(p["store"]) or ref(p["store"], None, None)
    shows_rewards = keys is None  # the ledger is the group's: never an OEM auditor's
    if shows_rewards:
        earned = _rewards(conditions)
        for r in rows:
            r["rewards_earned"] = format_amount(earned.get(r["store"]["id"], 0))
    group_median = _median_row(rows)
    if own is not None:
        rows = [r for r in rows if r["store"]["id"] == own]
    if sort not in SORTS or (sort == "rewards_earned" and not shows_rewards):
        sort = "received"
    _sort(rows, sort, order != "asc")
    return {
        "sort": sort,
        "order": "asc" if order == "asc" else "desc",
        "rewards_shown": shows_rewards,
        "rows_total": len(rows),
        "rows": rows[:limit],
        "median": group_median,
    }


LEAGUE_HEADER = (
    "store_id",
    "store_code",
    "store_name",
    *FIGURES,
    "partners",
)


def league_table(report: Mapping[str, Any]) -> Table:
    """Every store of the league as a CSV row; partners as `code: given/taken` text."""
    header = LEAGUE_HEADER + (("rewards_earned",) if report["rewards_shown"] else ())

    def line(r: Mapping[str, Any]) -> list[Any]:
        partners = "; ".join(
            f"{p['store']['code']}: {p['given']}/{p['taken']}" for p in r["partners"]
        )
        store = r["store"]
        out = [store["id"], *cells((store["code"], store["name"]))]
        out += [r[name] if r[name] is not None else "" for name in FIGURES]
        out += cells((partners,))
        if report["rewards_shown"]:
            out.append(r["rewards_earned"])
        return out

    return header, (line(r) for r in report["rows"])
