"""Reaching leads: a lead loaded in the actor's scope (locked for a write), filters, the reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..auth import scope
from ..auth.models import User
from ..brands import service as brands
from ..clock import utcnow
from ..errors import Forbidden
from ..extensions import db
from ..pagination import Page
from ..routing.geo import haversine_km
from ..vocabulary import DEALER_ROLES, Role
from . import effective, search
from .enums import LeadStatus, OfferStatus
from .models import Lead, Offer


def locked(public_id: str) -> Lead | None:
    """The lead row, locked for the rest of the transaction (no-op lock on SQLite)."""
    return db.session.scalar(
        select(Lead)
        .where(Lead.public_id == public_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def visible(actor: User, public_id: str, *, lock: bool = False) -> Lead:
    """The lead if the actor may see it (locked when asked), else 404."""
    lead = (
        locked(public_id)
        if lock
        else db.session.scalar(select(Lead).where(Lead.public_id == public_id))
    )
    return scope.visible_lead(actor, lead)


def store_lead(actor: User, public_id: str, side: str, refusal: str) -> Lead:
    """The lead, locked, for staff of its `side` store (holder or referrer); others get a 403."""
    lead = visible(actor, public_id, lock=True)
    if actor.role not in DEALER_ROLES or actor.dealer_id != getattr(lead, f"{side}_id"):
        raise Forbidden(refusal, reason=f"not_{side}")
    return lead


def matching(query: Select, model: Any, filters: Mapping[str, Any], names: Iterable[str]) -> Select:
    """Rows whose `names` columns equal the filters given, of lead `lead_id` (public) if given."""
    for name in names:
        if filters.get(name) is not None:
            query = query.where(getattr(model, name) == filters[name])
    if filters.get("lead_id"):
        query = query.join(Lead, Lead.id == model.lead_id).where(
            Lead.public_id == filters["lead_id"]
        )
    return query


# --- reading ------------------------------------------------------------------------------


# Reads never write: a due offer reads as expired (leads/effective.py); the sweep writes it.
PRESENTED = (
    joinedload(Lead.referrer),
    joinedload(Lead.holder),
    selectinload(Lead.offers).joinedload(Offer.dealer),
)
"""What presenting a lead reads, loaded with a page of leads in a fixed number of statements."""


def get_lead(actor: User, public_id: str) -> Lead:
    """The lead, if the actor may see it; its offers are read as they stand (nothing expires)."""
    return visible(actor, public_id)


def current_offer(lead: Lead) -> Offer | None:
    """The open offer as a reader sees it: a due one reads as expired (leads/effective.py)."""
    return effective.current_offer(lead.offers)


def list_leads(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    """Leads in the actor's scope; dealers choose a view: posted, offered (pending) or held.
    `q` searches (leads/search.py), `sort` orders (newest, oldest, status)."""
    query = select(Lead)
    if actor.role == Role.PLATFORM_ADMIN:
        pass
    elif actor.role == Role.GROUP_ADMIN:
        query = query.where(Lead.group_id == actor.group_id)
    elif actor.role == Role.OEM_AUDITOR:
        query = query.where(Lead.brand_key.in_(scope.oem_brand_keys(actor.oem_id)))
    else:
        dealer = scope.acting_store(actor)
        dealer_id = dealer.id
        query = query.where(Lead.group_id == dealer.group_id)
        offered = select(Offer.lead_id).where(Offer.dealer_id == dealer_id)
        views = {
            "posted": Lead.referrer_id == dealer_id,
            "offered": Lead.id.in_(
                offered.where(Offer.status == OfferStatus.PENDING, Offer.expires_at > utcnow())
            ),
            "held": Lead.holder_id == dealer_id,
        }
        view = filters.get("view")
        query = query.where(
            views[view]
            if view
            else or_(
                Lead.referrer_id == dealer_id, Lead.holder_id == dealer_id, Lead.id.in_(offered)
            )
        )
    if filters.get("status"):
        query = query.where(Lead.status == filters["status"])
    if filters.get("created_from"):
        query = query.where(Lead.created_at >= filters["created_from"])
    if filters.get("created_to"):
        query = query.where(Lead.created_at < filters["created_to"])
    if filters.get("brand"):
        query = query.where(Lead.brand_key == brands.filter_key(actor, filters["brand"]))
    if filters.get("group_id"):
        query = query.where(Lead.group_id == filters["group_id"])
    if filters.get("q"):
        query = query.where(search.search_condition(actor, filters["q"]))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = list(
        db.session.scalars(
            query.options(*PRESENTED)
            .order_by(*search.SORTS.get(filters.get("sort") or "newest", search.SORTS["newest"]))
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


def board(actor: User, page: int, per_page: int) -> Page:
    """Open leads the actor's store may claim, nearest first (SPEC 3)."""
    dealer = scope.acting_store(actor)
    if not (dealer.is_active and dealer.is_accepting):
        return Page(items=[], page=page, per_page=per_page, total=0)
    keys = [b.key for b in dealer.brand_rows]
    leads = list(
        db.session.scalars(
            select(Lead)
            .options(*PRESENTED)
            .where(
                Lead.group_id == dealer.group_id,
                Lead.status == LeadStatus.OPEN,
                Lead.brand_key.in_(keys),
                Lead.referrer_id != dealer.id,
                ~exists().where(Offer.lead_id == Lead.id, Offer.dealer_id == dealer.id),
            )
        )
    )

    def distance(lead: Lead) -> float:
        if dealer.latitude is None or lead.latitude is None:
            return float("inf")
        return haversine_km(dealer.latitude, dealer.longitude, lead.latitude, lead.longitude)

    leads.sort(key=lambda lead: (distance(lead), lead.created_at))
    start = (page - 1) * per_page
    return Page(
        items=leads[start : start + per_page], page=page, per_page=per_page, total=len(leads)
    )
