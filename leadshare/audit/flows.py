"""Where leads flow: the referrer -> store matrix at dealer, city or province level, the
reciprocity between pairs of stores, and the stores a flow map may place.

Counted over the leads in the reader's scope that match the filters, voided leads left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from ..auth.models import User
from ..auth.scope import audited_stores
from ..extensions import db
from ..leads.enums import OfferStatus
from ..leads.models import Lead
from ..routing.geocode.gazetteer import Gazetteer
from ..tenancy.models import Dealer
from ..vocabulary import Role
from .figures import LADDER, rate
from .query import (
    counted_conditions,
    dealer_refs,
    is_postgresql,
    ref,
    tune_for_reports,
    with_offers,
)

LEVELS = ("dealer", "city", "province")
ADCODE_DIGITS = {"city": 4, "province": 2}


def place_refs(prefixes: Iterable[str | None], level: str) -> dict[str | None, dict[str, Any]]:
    """A dealer's city or province, named from the first digits of its administrative code."""
    refs: dict[str | None, dict[str, Any]] = {}
    for prefix in set(prefixes):
        place = Gazetteer.default().by_adcode(prefix) if prefix else None
        name = None if place is None else place.city if level == "city" else place.province
        refs[prefix] = ref(None, place.adcode if place else None, name)
    return refs


def _flow_cells(conditions, level: str, limit: int | None) -> tuple[int, list[dict[str, Any]]]:
    """Per (referrer, offered store) at the level: leads offered or claimed, accepted, delivered.

    Ordered and cut to `limit` in the database; also answers how many cells there are.
    """
    query, offer = with_offers(select().select_from(Lead).where(*conditions))
    accepted = offer.status == OfferStatus.ACCEPTED
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
            *([] if limit is None else [func.count().over().label("cells_total")]),
        )
        .group_by(source, target)
        .order_by(leads.desc(), accepted_count.desc(), source, target)
        .limit(limit)
    )
    rows = db.session.execute(query).all()  # without a limit (CSV) every cell: no window
    ends = [end for row in rows for end in (row.source, row.target)]
    refs = dealer_refs(ends) if level == "dealer" else place_refs(ends, level)
    cells = [
        {
            "from": refs.get(row.source) or ref(None, None, None),
            "to": refs.get(row.target) or ref(None, None, None),
            "leads": row.leads,
            "accepted": row.accepted,
            "delivered": row.delivered,
            "accept_rate": rate(row.accepted, row.leads),
            "delivery_rate": rate(row.delivered, row.accepted),
        }
        for row in rows
    ]
    total = len(rows) if limit is None else rows[0].cells_total if rows else 0
    return total, cells


def _reciprocity(conditions, limit: int | None) -> tuple[int, list[dict[str, Any]]]:
    """Per pair of stores, the leads each handed the other (accepted), most unbalanced first.

    `a` is the store that gave more. Pairs are folded and ordered in the database.
    """
    least, greatest = (func.least, func.greatest) if is_postgresql() else (func.min, func.max)
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
            *([] if limit is None else [func.count().over().label("pairs_total")]),
        )
        .where(*conditions, Lead.holder_id.is_not(None))
        .group_by(low, high)
        .order_by(func.abs(low_to_high - high_to_low).desc(), func.count().desc(), low, high)
        .limit(limit)
    )
    rows = db.session.execute(query).all()
    refs = dealer_refs(i for row in rows for i in (row.low, row.high))
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
    total = len(rows) if limit is None else rows[0].pairs_total if rows else 0
    return total, pairs


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
    conditions = counted_conditions(actor, filters)
    tune_for_reports()
    cells_total, cells = _flow_cells(conditions, level, limit) if "matrix" in parts else (0, [])
    pairs_total, pairs = _reciprocity(conditions, limit) if "reciprocity" in parts else (0, [])
    return {
        "level": level,
        "cells_total": cells_total,
        "cells": cells,
        "pairs_total": pairs_total,
        "pairs": pairs,
    }


def mapped_stores(actor: User, busy_ids: Iterable[int]) -> list[Dealer]:
    """The located stores a flow map places, inside the reader's audit scope only: those of its
    flows (busy_ids), and for a group admin every other store of its group too."""
    query = select(Dealer).where(Dealer.latitude.is_not(None), audited_stores(actor))
    if actor.role != Role.GROUP_ADMIN:
        query = query.where(Dealer.id.in_(sorted(set(busy_ids))))
    return list(db.session.scalars(query.order_by(Dealer.id)))
