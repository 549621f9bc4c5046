"""Audit reports for OEMs and group admins: lead lists, the funnel, the flow matrix, chain checks.

Every figure is an aggregate computed by the database over the leads in the reader's scope (an
OEM auditor: its brands in every group; a group admin: its group); Python only shapes the few
aggregated rows. Voided leads (fraud) are listed but left out of the funnel and the flows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    extract,
    false,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.orm import aliased, joinedload

from ..auth.models import User
from ..auth.scope import audited_brand_keys
from ..extensions import db
from ..leads.chain import verify_chain
from ..leads.contact import mask_name, mask_phone, mask_wechat
from ..leads.enums import LeadStatus
from ..leads.events import hashed_fields
from ..leads.models import Lead, LeadEvent, Offer
from ..leads.states import PROGRESS_LADDER
from ..pagination import Page
from ..routing.geocode.gazetteer import Gazetteer
from ..tenancy.models import Dealer, Group
from ..vocabulary import Role, brand_key

AUDIT_ROLES = (Role.OEM_AUDITOR, Role.GROUP_ADMIN)
LADDER = tuple(str(stage) for stage in PROGRESS_LADDER)
"""accepted ... delivered: a lead has reached LADDER[i] when its progress_rank > i."""
STAGES = ("posted", "offered", *LADDER)
STATUS_COUNTS = ("lost", "open", "unroutable", "withdrawn")
COUNTS = (*STAGES, *STATUS_COUNTS, "lost_without_contact")
"""Stages reached, current statuses, and lost leads that never had a contact recorded."""
OFFER_OUTCOMES = ("pending", "accepted", "declined", "expired", "withdrawn")
GROUP_BYS = ("none", "group", "province", "dealer", "channel")
LEVELS = ("dealer", "city", "province")
ADCODE_DIGITS = {"city": 4, "province": 2}
TOP_REASONS = 5
VERIFY_BATCH = 500


# --- small pure helpers -------------------------------------------------------------------


def rate(numerator: int, denominator: int) -> float | None:
    """A share rounded to 4 places; None when there is nothing to divide by."""
    return round(numerator / denominator, 4) if denominator else None


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


REPORT_SETTINGS = {"jit": "off", "work_mem": "64MB"}
"""PostgreSQL settings for this transaction's report queries. The planner's cost of a year of
a brand crosses jit_above_cost, and compiling the query took 0.2 s of a 0.9 s report; 4 MB of
work_mem made the matrix's aggregate and sort spill to disk. SET LOCAL ends with the request."""


def _tune_for_reports() -> None:
    if _is_postgresql():
        for name, value in REPORT_SETTINGS.items():
            db.session.execute(select(func.set_config(name, value, true())))


# --- scope and filters --------------------------------------------------------------------


def scope_conditions(actor: User, brand: str | None = None) -> list[ColumnElement[bool]]:
    """An OEM auditor reads its brands across every group, a group admin its group; others 403.

    A brand narrows the scope (to nothing when it is not one of the auditor's brands).
    """
    group_id, keys = audited_brand_keys(actor)
    key = brand_key(brand) if brand else None
    if keys is not None:
        if key is None:
            return [Lead.brand_key.in_(sorted(keys))]
        return [Lead.brand_key == key] if key in keys else [false()]
    return [Lead.group_id == group_id, *([] if key is None else [Lead.brand_key == key])]


def lead_conditions(actor: User, filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """Scope plus the report filters; created_from is inclusive, created_to exclusive."""
    conditions = scope_conditions(actor, filters.get("brand"))
    for name in ("group_id", "province", "city", "status", "channel"):
        if filters.get(name) is not None:
            conditions.append(getattr(Lead, name) == filters[name])
    if filters.get("created_from"):
        conditions.append(Lead.created_at >= filters["created_from"])
    if filters.get("created_to"):
        conditions.append(Lead.created_at < filters["created_to"])
    return conditions


def _counted(actor: User, filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """The leads the funnel and the flows count: in scope, filtered, not voided."""
    return [*lead_conditions(actor, filters), Lead.voided_at.is_(None)]


# --- what report keys stand for -------------------------------------------------------------


def _ref(id_: int | None, code: str | None, name: str | None) -> dict[str, Any]:
    return {"id": id_, "code": code, "name": name}


def _dealer_refs(ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = sorted({i for i in ids if i is not None})
    # Integers written into the SQL: thousands of bound parameters cost more to send and parse.
    ids_in = bindparam("ids", wanted, expanding=True, literal_execute=True)
    rows = db.session.execute(
        select(Dealer.id, Dealer.code, Dealer.name).where(Dealer.id.in_(ids_in))
    )
    return {row.id: _ref(row.id, row.code, row.name) for row in rows}


def _group_refs(ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = sorted({i for i in ids if i is not None})
    rows = db.session.execute(select(Group.id, Group.code, Group.name).where(Group.id.in_(wanted)))
    return {row.id: _ref(row.id, row.code, row.name) for row in rows}


def _place_refs(prefixes: Iterable[str | None], level: str) -> dict[str | None, dict[str, Any]]:
    """A dealer's city or province, named from the first digits of its administrative code."""
    refs: dict[str | None, dict[str, Any]] = {}
    for prefix in set(prefixes):
        place = Gazetteer.default().by_adcode(prefix) if prefix else None
        name = None if place is None else place.city if level == "city" else place.province
        refs[prefix] = _ref(None, place.adcode if place else None, name)
    return refs


def _key_refs(group_by: str, keys: Iterable[Any]) -> dict[Any, dict[str, Any] | None]:
    """Each key of a grouped funnel as {id, code, name}; None for leads without one."""
    keys = set(keys)
    if group_by == "dealer":
        found = _dealer_refs(keys)
    elif group_by == "group":
        found = _group_refs(keys)
    else:
        found = {key: _ref(None, None, key) for key in keys if key is not None}
    return {key: found.get(key) for key in keys}


# --- lead lists ---------------------------------------------------------------------------


def _lead_select(conditions: Sequence[ColumnElement[bool]]) -> Select:
    return (
        select(Lead)
        .options(joinedload(Lead.group), joinedload(Lead.referrer), joinedload(Lead.holder))
        .where(*conditions)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
    )


def list_audit_leads(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    """One page of the leads in scope that match the filters, newest first, contacts masked."""
    _tune_for_reports()
    conditions = lead_conditions(actor, filters)
    total = db.session.scalar(select(func.count(Lead.id)).where(*conditions)) or 0
    leads = db.session.scalars(
        _lead_select(conditions).limit(per_page).offset((page - 1) * per_page)
    )
    items = [audit_lead(lead) for lead in leads]
    return Page(items=items, page=page, per_page=per_page, total=total)


def iter_audit_leads(actor: User, filters: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every matching lead, fetched in batches (for CSV); the scope is checked before streaming."""
    query = _lead_select(lead_conditions(actor, filters)).execution_options(yield_per=1000)

    def rows() -> Iterator[dict[str, Any]]:
        for lead in db.session.scalars(query):
            yield audit_lead(lead)

    return rows()


def _dealer_ref(dealer: Dealer | None) -> dict[str, Any] | None:
    return None if dealer is None else _ref(dealer.id, dealer.code, dealer.name)


def audit_lead(lead: Lead) -> dict[str, Any]:
    """A lead as auditors see it: contact details always masked, no address, no notes."""
    minutes = None
    if lead.accepted_at is not None:
        minutes = _minutes((lead.accepted_at - lead.created_at).total_seconds() / 60)
    return {
        "id": lead.public_id,
        "status": lead.status,
        "stage_reached": LADDER[lead.progress_rank - 1] if lead.progress_rank else None,
        "share_reason": lead.share_reason,
        "brand": lead.brand,
        "model": lead.model,
        "channel": lead.channel,
        "campaign": lead.campaign,
        "group": _ref(lead.group.id, lead.group.code, lead.group.name),
        "referrer": _dealer_ref(lead.referrer),
        "holder": _dealer_ref(lead.holder),
        "customer": {
            "name": mask_name(lead.customer_name),
            "phone": mask_phone(lead.phone),
            "wechat_id": mask_wechat(lead.wechat_id),
            "masked": True,
        },
        "location": {
            "province": lead.province,
            "city": lead.city,
            "district": lead.district,
            "adcode": lead.adcode,
            "precision": lead.geo_precision,
        },
        "offers_made": lead.offers_made,
        "lost_reason": lead.lost_reason,
        "created_at": lead.created_at,
        "accepted_at": lead.accepted_at,
        "minutes_to_accept": minutes,
        "voided_at": lead.voided_at,
        "void_reason": lead.void_reason,
    }


# --- the funnel ---------------------------------------------------------------------------

Key = ColumnElement | None
"""What funnel figures are grouped by; None stands for the total of every counted lead."""


def _lead_key(group_by: str) -> ColumnElement | None:
    return {
        "none": None,
        "group": Lead.group_id,
        "province": Lead.province,
        "dealer": Lead.holder_id,
        "channel": Lead.channel,
    }[group_by]


def _by_key(query: Select, key: Key) -> Select:
    """Group the query by key, selected last as `key`; without a key it stays one row."""
    return query if key is None else query.add_columns(key.label("key")).group_by(key)


def _in_sets(
    query: Select, keys: Sequence[Key], extra: Sequence[ColumnElement] = ()
) -> tuple[Select, list[ColumnElement], Callable[[Mapping[str, Any]], list[tuple[int, Any]]]]:
    """PostgreSQL: group one aggregate query by every key at once (GROUPING SETS), one scan.

    Each set is also grouped by `extra`. Answers the query, the columns that tell sets and key
    values apart (to partition a window by), and a function placing a result row as
    [(position in keys, key value)].
    """
    exprs: list[ColumnElement] = []
    for key in keys:
        if key is not None and not any(key is seen for seen in exprs):
            exprs.append(key)
    flags = [func.grouping(expr) for expr in exprs]
    sets = [tuple_(expr, *extra) for expr in exprs]
    if any(key is None for key in keys):
        sets.append(tuple_(*extra))
    query = query.add_columns(
        *(expr.label(f"k{i}") for i, expr in enumerate(exprs)),
        *(flag.label(f"g{i}") for i, flag in enumerate(flags)),
    ).group_by(func.grouping_sets(*sets))

    def place(row: Mapping[str, Any]) -> list[tuple[int, Any]]:
        found = next((i for i in range(len(exprs)) if row[f"g{i}"] == 0), None)
        value = None if found is None else row[f"k{found}"]
        key = None if found is None else exprs[found]
        return [(p, value) for p, k in enumerate(keys) if (k is None if key is None else k is key)]

    return query, [*flags, *exprs], place


def _minutes_to_accept() -> ColumnElement:
    if _is_postgresql():
        return extract("epoch", Lead.accepted_at - Lead.created_at) / 60.0
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
    minutes = _minutes_to_accept()
    results: list[dict[Any, dict[str, Any]]] = [{} for _ in keys]
    if not _is_postgresql():
        for position, key in enumerate(keys):
            same = next((p for p in range(position) if keys[p] is key), None)
            if same is not None:
                results[position] = results[same]
                continue
            query = _by_key(select(*_count_columns()).where(*conditions), key)
            found = {row.get("key"): dict(row) for row in db.session.execute(query).mappings()}
            _percentiles_in_python(found, conditions, key, minutes)
            results[position] = found
        return results
    query, _, place = _in_sets(
        select(
            *_count_columns(),  # percentile_cont skips the NULL minutes of leads never accepted
            func.percentile_cont(0.5).within_group(minutes).label("median"),
            func.percentile_cont(0.9).within_group(minutes).label("p90"),
        ).where(*conditions),
        keys,
    )
    for row in db.session.execute(query).mappings():
        figures = {name: row[name] for name in (*COUNTS, "median", "p90")}
        for position, value in place(row):
            results[position][value] = figures
    return results


def _percentiles_in_python(found, conditions, key: Key, minutes) -> None:
    """SQLite has no percentile_cont: fetch only the sorted minutes of the accepted leads."""
    keys = [] if key is None else [key]
    query = (
        select(minutes, *keys)
        .where(*conditions, Lead.accepted_at.is_not(None))
        .order_by(*keys, minutes)
    )
    values: dict[Any, list[float]] = defaultdict(list)
    for row in db.session.execute(query):
        values[row[1] if keys else None].append(row[0])
    for value, figures in found.items():
        ordered = values.get(value, [])
        figures["median"], figures["p90"] = percentile(ordered, 0.5), percentile(ordered, 0.9)


def _lost_reasons(conditions, keys: Sequence[Key]) -> list[dict[Any, list[dict[str, Any]]]]:
    """For each key, per key value: the TOP_REASONS most frequent lost reasons, ranked in SQL."""
    count = func.count()
    order = (count.desc(), Lead.lost_reason)
    lost = select(Lead.lost_reason.label("reason"), count.label("n")).where(
        *conditions, Lead.status == LeadStatus.LOST
    )
    results: list[dict[Any, list[dict[str, Any]]]] = [defaultdict(list) for _ in keys]
    if _is_postgresql():
        query, partition, place = _in_sets(lost, keys, extra=[Lead.lost_reason])
        ranked = [(query, partition, place)]
    else:
        ranked = [
            (
                _by_key(lost.group_by(Lead.lost_reason), key),
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


def _with_offers(query: Select, *, routed_only: bool = False) -> tuple[Select, Any]:
    """Join each counted lead to its offers; answers the query and the offer columns.

    On PostgreSQL the offers are a LATERAL subquery fenced by OFFSET 0, so the planner probes
    the offers' (lead_id) index once per counted lead instead of hashing every offer in the
    table: half the CPU for a brand's year among a million leads. Elsewhere a plain join.
    """
    offers = select(Offer.lead_id, Offer.dealer_id, Offer.status, Offer.decline_reason)
    if routed_only:
        offers = offers.where(Offer.kind == "routed")
    if _is_postgresql():
        lateral = offers.where(Offer.lead_id == Lead.id).offset(0).lateral("o")
        return query.join(lateral, true()), lateral.c
    joined = offers.subquery("o")
    return query.join(joined, joined.c.lead_id == Lead.id), joined.c


def _offer_outcomes(conditions, key: Key | str) -> dict[Any, tuple[Counter, Counter]]:
    """Routed offers counted by outcome, and declines by reason, per key value (board claims
    are not offers); key "offered" groups by the store offered. Only leads with offers join."""
    query, offer = _with_offers(
        select().select_from(Lead).where(*conditions, Lead.offers_made > 0), routed_only=True
    )
    query = _by_key(
        query.add_columns(offer.status, offer.decline_reason, func.count().label("n")).group_by(
            offer.status, offer.decline_reason
        ),
        offer.dealer_id if key == "offered" else key,
    )
    found: dict[Any, tuple[Counter, Counter]] = defaultdict(lambda: (Counter(), Counter()))
    for row in db.session.execute(query).mappings():
        outcomes, reasons = found[row.get("key")]
        outcomes[row["status"]] += row["n"]
        if row["status"] == "declined":
            reasons[row["decline_reason"] or "other"] += row["n"]
    return found


def _offer_summary(outcomes: Counter, reasons: Counter) -> dict[str, Any]:
    """Shares of resolved offers: accepted, declined or expired (a store's answer or silence)."""
    resolved = outcomes["accepted"] + outcomes["declined"] + outcomes["expired"]
    declined = outcomes["declined"]
    return {
        "made": sum(outcomes.values()),
        **{outcome: outcomes[outcome] for outcome in OFFER_OUTCOMES},
        "resolved": resolved,
        "expired_share": rate(outcomes["expired"], resolved),
        "declined_share": rate(declined, resolved),
        "decline_reasons": [
            {"reason": reason, "count": n, "share": rate(n, declined)}
            for reason, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
        ],
    }


def _funnel_row(
    key: dict[str, Any] | None,
    figures: Mapping[str, Any] | None,
    offers: tuple[Counter, Counter] | None,
    lost_reasons: list[dict[str, Any]],
) -> dict[str, Any]:
    figures = figures or {}
    counts = {name: figures.get(name, 0) for name in COUNTS}
    rates = {f"{a}_to_{b}": rate(counts[b], counts[a]) for a, b in pairwise(STAGES)}
    rates["posted_to_delivered"] = rate(counts["delivered"], counts["posted"])
    return {
        "key": key,
        "counts": counts,
        "rates": rates,
        "time_to_accept": {
            "accepted": counts["accepted"],
            "median_minutes": _minutes(figures.get("median")),
            "p90_minutes": _minutes(figures.get("p90")),
        },
        "offers": _offer_summary(*(offers or (Counter(), Counter()))),
        "lost_reasons": [
            {**reason, "share": rate(reason["count"], counts["lost"])} for reason in lost_reasons
        ],
    }


def _grouped_rows(group_by: str, figures, offers, reasons) -> list[dict[str, Any]]:
    """One funnel row per key value, most leads first."""
    values = figures.keys() | offers.keys()
    refs = _key_refs(group_by, values)
    rows = [_funnel_row(refs[v], figures.get(v), offers.get(v), reasons.get(v, [])) for v in values]
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
    refs = _dealer_refs(lost)
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


def funnel_report(
    actor: User, filters: Mapping[str, Any], group_by: str = "none", limit: int | None = None
) -> dict:
    """The funnel of the counted leads, in total and per group_by key, and losses per holder.

    Lead figures for the total, per holder and per key come from one scan (GROUPING SETS on
    PostgreSQL); every offer falls under exactly one key, so the total's offers are the sum of
    the rows'. `limit` cuts the rows and holders listed (largest first), not their totals.
    """
    conditions = _counted(actor, filters)
    _tune_for_reports()
    key = _lead_key(group_by)
    keys = [None, Lead.holder_id, key]
    figures, reasons = _lead_figures(conditions, keys), _lost_reasons(conditions, keys)
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
        "total": _funnel_row(None, figures[0][None], total_offers, reasons[0].get(None, [])),
        "rows_total": len(rows),
        "rows": rows[:limit],
        "lost_by_holder_total": len(holders),
        "lost_by_holder": holders[:limit],
    }


# --- the flow matrix ----------------------------------------------------------------------


def _flow_cells(conditions, level: str, limit: int | None) -> tuple[int, list[dict[str, Any]]]:
    """Per (referrer, offered store) at the level: leads offered or claimed, accepted, delivered.

    Ordered and cut to `limit` in the database; also answers how many cells there are.
    """
    query, offer = _with_offers(select().select_from(Lead).where(*conditions))
    accepted = offer.status == "accepted"
    if level == "dealer":
        source, target, leads = Lead.referrer_id, offer.dealer_id, func.count()
    else:
        referrer, receiver = aliased(Dealer), aliased(Dealer)
        query = query.join(referrer, referrer.id == Lead.referrer_id).join(
            receiver, receiver.id == offer.dealer_id
        )
        digits = ADCODE_DIGITS[level]
        source = func.substr(referrer.adcode, 1, digits)
        target = func.substr(receiver.adcode, 1, digits)
        leads = func.count(func.distinct(Lead.id))
    accepted_count = func.count().filter(accepted)
    source, target = source.label("source"), target.label("target")
    query = (
        query.add_columns(
            source,
            target,
            leads.label("leads"),
            accepted_count.label("accepted"),
            func.count()
            .filter(and_(accepted, Lead.progress_rank >= len(LADDER)))
            .label("delivered"),
            func.count().over().label("cells_total"),
        )
        .group_by(source, target)
        .order_by(leads.desc(), accepted_count.desc(), source, target)
        .limit(limit)
    )
    rows = db.session.execute(query).all()
    ends = [end for row in rows for end in (row.source, row.target)]
    refs = _dealer_refs(ends) if level == "dealer" else _place_refs(ends, level)
    cells = [
        {
            "from": refs.get(row.source) or _ref(None, None, None),
            "to": refs.get(row.target) or _ref(None, None, None),
            "leads": row.leads,
            "accepted": row.accepted,
            "delivered": row.delivered,
            "accept_rate": rate(row.accepted, row.leads),
            "delivery_rate": rate(row.delivered, row.accepted),
        }
        for row in rows
    ]
    return (rows[0].cells_total if rows else 0), cells


def _reciprocity(conditions, limit: int | None) -> tuple[int, list[dict[str, Any]]]:
    """Per pair of stores, the leads each handed the other (accepted), most unbalanced first.

    `a` is the store that gave more. Pairs are folded and ordered in the database.
    """
    least, greatest = (func.least, func.greatest) if _is_postgresql() else (func.min, func.max)
    low = least(Lead.referrer_id, Lead.holder_id).label("low")
    high = greatest(Lead.referrer_id, Lead.holder_id).label("high")
    low_to_high = func.count().filter(Lead.referrer_id == low.element)
    high_to_low = func.count().filter(Lead.referrer_id == high.element)
    query = (
        select(
            low,
            high,
            low_to_high.label("low_to_high"),
            high_to_low.label("high_to_low"),
            func.count().over().label("pairs_total"),
        )
        .where(*conditions, Lead.holder_id.is_not(None))
        .group_by(low, high)
        .order_by(func.abs(low_to_high - high_to_low).desc(), func.count().desc(), low, high)
        .limit(limit)
    )
    rows = db.session.execute(query).all()
    refs = _dealer_refs(i for row in rows for i in (row.low, row.high))
    pairs = []
    for row in rows:
        a, b, a_to_b, b_to_a = row.low, row.high, row.low_to_high, row.high_to_low
        if b_to_a > a_to_b:
            a, b, a_to_b, b_to_a = b, a, b_to_a, a_to_b
        pairs.append(
            {
                "a": refs.get(a),
                "b": refs.get(b),
                "a_to_b": a_to_b,
                "b_to_a": b_to_a,
                "balance": a_to_b - b_to_a,
            }
        )
    return (rows[0].pairs_total if rows else 0), pairs


def flow_report(
    actor: User,
    filters: Mapping[str, Any],
    level: str = "dealer",
    limit: int | None = None,
    parts: Sequence[str] = ("matrix", "reciprocity"),
) -> dict:
    """Referrer -> store matrix at dealer, city or province level, and reciprocity per pair;
    the first `limit` cells and pairs (all without a limit) with their totals. `parts` says
    which of the two to compute (an export needs one)."""
    conditions = _counted(actor, filters)
    _tune_for_reports()
    cells_total, cells = _flow_cells(conditions, level, limit) if "matrix" in parts else (0, [])
    pairs_total, pairs = _reciprocity(conditions, limit) if "reciprocity" in parts else (0, [])
    return {
        "level": level,
        "cells_total": cells_total,
        "cells": cells,
        "pairs_total": pairs_total,
        "pairs": pairs,
    }


# --- chain verification over a range --------------------------------------------------------


def verify_range(actor: User, created_from: datetime, created_to: datetime) -> dict[str, Any]:
    """Recompute the chain of every lead in scope created in [from, to); list the broken ones.

    Leads are read in batches in (created_at, id) order, so the created_at indexes drive it.
    """
    conditions = [
        *scope_conditions(actor),
        Lead.created_at >= created_from,
        Lead.created_at < created_to,
    ]
    event_columns = (
        LeadEvent.lead_id,
        LeadEvent.seq,
        LeadEvent.type,
        LeadEvent.at,
        LeadEvent.actor_id,
        LeadEvent.dealer_id,
        LeadEvent.data,
        LeadEvent.prev_hash,
        LeadEvent.hash,
    )
    checked, broken, after = 0, [], None
    while True:
        batch = select(Lead.id, Lead.public_id, Lead.head_hash, Lead.created_at).where(*conditions)
        if after is not None:
            batch = batch.where(tuple_(Lead.created_at, Lead.id) > after)
        leads = db.session.execute(
            batch.order_by(Lead.created_at, Lead.id).limit(VERIFY_BATCH)
        ).all()
        if not leads:
            return {"checked": checked, "broken": broken}
        chains: dict[int, list[Any]] = defaultdict(list)
        for event in db.session.execute(
            select(*event_columns)
            .where(LeadEvent.lead_id.in_([lead.id for lead in leads]))
            .order_by(LeadEvent.lead_id, LeadEvent.seq)
        ):
            chains[event.lead_id].append(event)
        for lead in leads:
            rows = [
                {**hashed_fields(lead, event), "prev_hash": event.prev_hash, "hash": event.hash}
                for event in chains[lead.id]
            ]
            report = verify_chain(rows, head_hash=lead.head_hash)
            if not report.ok:
                broken.append(
                    {"id": lead.public_id, "broken_at": report.broken_at, "reason": report.reason}
                )
        checked += len(leads)
        after = (leads[-1].created_at, leads[-1].id)
