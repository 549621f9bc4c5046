"""Leads: intake, the routing cascade, claims, declines, progress, withdrawal and expiry.

Every function is one transaction: it locks the lead row first (SELECT ... FOR UPDATE on
PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE), checks, writes rows and events,
and commits once. Refusals raise domain errors and leave nothing behind.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, or_, select, text, update
from sqlalchemy.orm import joinedload, selectinload

from ..auth import scope
from ..auth.models import User
from ..clock import utcnow
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..pagination import Page
from ..routing import service as routing
from ..routing.eligibility import covers_adcode
from ..routing.geo import haversine_km
from ..routing.geocode.gazetteer import Gazetteer, Place
from ..routing.geocode.service import geocode_address
from ..tenancy.models import Dealer
from ..vocabulary import DEALER_ROLES, Role, brand_key
from . import effective
from .enums import LeadStatus
from .events import append_event
from .idempotency import reserve
from .models import Lead, Offer
from .states import PROGRESS_LADDER, can_withdraw, missing_fields, progress_steps
from .vin import normalize_vin, vin_error

PENDING, ACCEPTED, DECLINED, EXPIRED, WITHDRAWN = (
    "pending",
    "accepted",
    "declined",
    "expired",
    "withdrawn",
)
DECLINE_REASONS = ("no_stock", "too_far", "capacity", "invalid_contact", "duplicate", "other")


def progress_rank(stage: LeadStatus) -> int:
    """1 for accepted ... 5 for delivered; 0 for anything off the ladder (lost keeps its rank)."""
    return PROGRESS_LADDER.index(stage) + 1 if stage in PROGRESS_LADDER else 0


def new_public_id() -> str:
    """Opaque, unguessable lead ids: sequential ids would reveal a group's volume."""
    return "ld_" + secrets.token_hex(8)


# --- who may see and do what (the rules live in auth/scope.py) --------------------------


def _locked(public_id: str) -> Lead | None:
    """The lead row, locked for the rest of the transaction (no-op lock on SQLite)."""
    return db.session.scalar(
        select(Lead)
        .where(Lead.public_id == public_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _visible(actor: User, public_id: str, *, lock: bool = False) -> Lead:
    lead = (
        _locked(public_id)
        if lock
        else db.session.scalar(select(Lead).where(Lead.public_id == public_id))
    )
    return scope.visible_lead(actor, lead)


def _store_lead(actor: User, public_id: str, side: str, refusal: str) -> Lead:
    """The lead, locked, for staff of its `side` store (holder or referrer); others get a 403."""
    lead = _visible(actor, public_id, lock=True)
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


# --- intake -------------------------------------------------------------------------------


def _duplicate_of(
    group_id: int, phone: str | None, wechat_id: str | None, now: datetime, window_days: int
) -> str | None:
    """The same phone or WeChat ID on a live lead of the group within the window (SPEC 2 step 2)."""
    keys = []
    if phone:
        keys.append(Lead.phone == phone)
    if wechat_id:
        keys.append(Lead.wechat_id == wechat_id)
    if not keys:
        return None
    if db.engine.dialect.name == "postgresql":
        # Serialise concurrent intakes of the same customer: the check below then sees the first.
        for value in filter(None, (phone, wechat_id)):
            db.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{group_id}:{value}"}
            )
    return db.session.scalar(
        select(Lead.public_id)
        .where(
            Lead.group_id == group_id,
            or_(*keys),
            Lead.status != LeadStatus.WITHDRAWN,
            Lead.created_at >= now - timedelta(days=window_days),
        )
        .order_by(Lead.created_at)
        .limit(1)
    )


def locate(location: Mapping[str, Any]) -> Place | None:
    """Client coordinates win (exact, admin code from the nearest district); else the chain."""
    if location.get("latitude") is not None:
        lat, lon = location["latitude"], location["longitude"]
        hint = Gazetteer.default().nearest_district(lat, lon)
        return Place(
            latitude=lat,
            longitude=lon,
            precision="exact",
            province=hint.province if hint else None,
            city=hint.city if hint else None,
            district=hint.district if hint else None,
            adcode=hint.adcode if hint else None,
            source="client",
        )
    if location.get("address"):
        return geocode_address(location["address"])
    return None


def _set_place(lead: Lead, place: Place) -> None:
    lead.latitude, lead.longitude = place.latitude, place.longitude
    lead.geo_precision, lead.geo_source = place.precision, place.source
    lead.province, lead.city, lead.district, lead.adcode = (
        place.province,
        place.city,
        place.district,
        place.adcode,
    )


def share_reason(referrer: Dealer, brand: str, place: Place | None) -> str | None:
    """Why the referrer cannot serve the customer itself; None when it can (or cannot tell yet)."""
    if place is not None and referrer.latitude is not None:
        distance = haversine_km(
            referrer.latitude, referrer.longitude, place.latitude, place.longitude
        )
        inside = distance <= referrer.service_radius_km or covers_adcode(
            referrer.region_codes, place.adcode
        )
        if not inside:
            return "out_of_region"
    if not referrer.sells(brand):
        return "brand_not_carried"
    return None


def post_lead(
    actor: User,
    data: Mapping[str, Any],
    now: datetime | None = None,
    idempotency: tuple[str, str] | None = None,
) -> Lead:
    """SPEC 2: validate, de-duplicate, geocode, decide the share reason, store, route."""
    now = now or utcnow()
    referrer = scope.acting_store(actor)
    reservation = reserve(actor, *idempotency) if idempotency else None
    group = referrer.group
    customer, source = data["customer"], data["source"]
    duplicate = _duplicate_of(
        group.id, customer.get("phone"), customer.get("wechat_id"), now, group.dedup_window_days
    )
    if duplicate:
        raise Conflict(
            "This customer was already shared in your group recently.",
            reason="duplicate_lead",
            duplicate_of=duplicate,
        )
    place = locate(data["location"])
    reason = share_reason(referrer, data["brand"], place)
    if reason is None and place is not None:
        raise Conflict(
            "Your store sells this brand and serves this customer's area: serve them yourself.",
            reason="not_shareable",
        )
    lead = Lead(
        public_id=new_public_id(),
        group_id=group.id,
        referrer_id=referrer.id,
        created_by_id=actor.id,
        status=LeadStatus.NEEDS_LOCATION,
        share_reason=reason,
        customer_name=customer["name"],
        phone=customer.get("phone"),
        wechat_id=customer.get("wechat_id"),
        brand=data["brand"],
        brand_key=brand_key(data["brand"]),
        model=data.get("model"),
        budget=data.get("budget"),
        timeframe=data.get("timeframe"),
        channel=source["channel"],
        campaign=source.get("campaign"),
        notes=data.get("notes"),
        consent_at=now,
        address=data["location"].get("address"),
        created_at=now,
        updated_at=now,
    )
    if place is not None:
        _set_place(lead, place)
    db.session.add(lead)
    db.session.flush()
    if reservation is not None:
        reservation.lead_id = lead.id
    append_event(
        lead,
        "posted",
        at=now,
        actor=actor,
        dealer_id=referrer.id,
        data={
            "share_reason": reason,
            "channel": lead.channel,
            "campaign": lead.campaign,
            "brand": lead.brand,
            "location": _location_data(lead),
        },
    )
    if place is None:
        append_event(lead, "needs_location", at=now, actor=actor, dealer_id=referrer.id)
    else:
        route_next(lead, now)
    db.session.commit()
    return lead


def _location_data(lead: Lead) -> dict[str, Any] | None:
    if lead.latitude is None:
        return None
    return {
        "precision": lead.geo_precision,
        "source": lead.geo_source,
        "adcode": lead.adcode,
        "province": lead.province,
        "city": lead.city,
        "district": lead.district,
    }


def set_location(
    actor: User, public_id: str, location: Mapping[str, Any], now: datetime | None = None
) -> Lead:
    """The referrer completes a lead stored as needs_location; routing then runs."""
    now = now or utcnow()
    lead = _visible(actor, public_id, lock=True)
    if actor.dealer_id != lead.referrer_id:
        raise Forbidden(
            "Only the store that posted the lead may fix its location.", reason="not_referrer"
        )
    if lead.status != LeadStatus.NEEDS_LOCATION:
        raise Conflict("This lead already has a location.", reason="location_already_set")
    place = locate(location)
    if place is None:
        raise Invalid(
            "address",
            "This address could not be located; give latitude and longitude.",
            reason="address_not_found",
        )
    reason = share_reason(lead.referrer, lead.brand, place)
    if reason is None:
        raise Conflict(
            "Your store sells this brand and serves this customer's area: serve them yourself.",
            reason="not_shareable",
        )
    lead.share_reason = reason
    lead.address = location.get("address") or lead.address
    _set_place(lead, place)
    append_event(
        lead,
        "located",
        at=now,
        actor=actor,
        dealer_id=lead.referrer_id,
        data={"share_reason": reason, "location": _location_data(lead)},
    )
    route_next(lead, now)
    db.session.commit()
    return lead


# --- routing cascade ----------------------------------------------------------------------


def route_next(lead: Lead, now: datetime) -> Offer | None:
    """Offer the lead to the next eligible dealer, or put it on the board, or mark it unroutable."""
    if lead.offers_made >= lead.group.max_offers_per_lead:
        lead.status = LeadStatus.OPEN
        append_event(
            lead,
            "opened",
            at=now,
            data={"why": "max_offers_reached", "offers_made": lead.offers_made},
        )
        return None
    decision, searched_km = routing.decide_for(lead, now)
    trail = {**decision.to_dict(), "searched_km": searched_km}
    if decision.chosen is not None:
        offer = routing.make_offer(
            lead, decision.chosen.dealer_id, decision.chosen.distance_km, now
        )
        lead.status = LeadStatus.OFFERED
        append_event(
            lead,
            "offered",
            at=now,
            dealer_id=offer.dealer_id,
            data={
                "offer": lead.offers_made,
                "distance_km": offer.distance_km,
                "expires_at": offer.expires_at,
                "decision": trail,
            },
        )
        return offer
    if lead.offers_made == 0 and not routing.brand_sold_elsewhere(lead):
        lead.status = LeadStatus.UNROUTABLE
        append_event(
            lead,
            "unroutable",
            at=now,
            data={"why": "brand_not_sold_elsewhere", "decision": trail},
        )
    else:
        lead.status = LeadStatus.OPEN
        append_event(
            lead,
            "opened",
            at=now,
            data={"why": "no_eligible_dealer", "decision": trail},
        )
    return None


def _expire_due(lead: Lead, now: datetime) -> int:
    """Expire the lead's pending offers whose time is up and route on; returns how many expired."""
    due = list(
        db.session.scalars(
            select(Offer).where(
                Offer.lead_id == lead.id, Offer.status == PENDING, Offer.expires_at <= now
            )
        )
    )
    for offer in due:
        offer.status = EXPIRED
        offer.responded_at = offer.expires_at
        append_event(
            lead,
            "expired",
            at=now,
            dealer_id=offer.dealer_id,
            data={"offered_at": offer.offered_at, "expires_at": offer.expires_at},
        )
    if due and lead.status == LeadStatus.OFFERED:
        route_next(lead, now)
    return len(due)


@dataclass
class SweepResult:
    leads: int = 0
    expired: int = 0


def sweep(
    now: datetime | None = None, *, group_id: int | None = None, batch: int = 200
) -> SweepResult:
    """Expire due offers and re-route their leads; many sweepers may run at once.

    Each batch locks the leads it takes with SKIP LOCKED on PostgreSQL, so concurrent sweepers
    (or a claim in flight) never handle the same lead twice; SQLite runs one writer at a time.
    """
    now = now or utcnow()
    result = SweepResult()
    while True:
        due = select(Offer.lead_id).where(Offer.status == PENDING, Offer.expires_at <= now)
        query = select(Lead).where(Lead.id.in_(due)).order_by(Lead.id).limit(batch)
        if group_id is not None:
            query = query.where(Lead.group_id == group_id)
        leads = list(db.session.scalars(query.with_for_update(skip_locked=True)))
        if not leads:
            db.session.commit()
            return result
        for lead in leads:
            result.expired += _expire_due(lead, now)
            result.leads += 1
        db.session.commit()


# --- claims and declines ------------------------------------------------------------------


def _pending_offer(lead: Lead, dealer_id: int) -> Offer | None:
    return db.session.scalar(
        select(Offer).where(Offer.lead_id == lead.id, Offer.dealer_id == dealer_id)
    )


def _refuse_claim(lead: Lead, dealer_id: int, offer: Offer | None, now: datetime):
    if lead.holder_id is not None:
        raise Conflict("Another store already claimed this lead.", reason="already_claimed")
    if offer is not None and (
        offer.status == EXPIRED or (offer.status == PENDING and offer.expires_at <= now)
    ):
        raise Conflict("Your offer for this lead has expired.", reason="offer_expired")
    raise Conflict("This lead was not offered to your store.", reason="not_offered")


def _won_by(lead: Lead, offer: Offer | None, actor: User) -> bool:
    """This user's own claim already won the lead (a retry after a lost answer)."""
    return (
        offer is not None
        and lead.holder_id == offer.dealer_id
        and offer.status == ACCEPTED
        and offer.responded_by_id == actor.id
    )


def _claimable(actor: User, dealer: Dealer, public_id: str) -> Lead:
    """A store that sells the brand learns why it lost a claim (409), not just 404."""
    lead = _locked(public_id)
    if lead is None or not (
        scope.can_see_lead(actor, lead)
        or (lead.group_id == dealer.group_id and dealer.sells(lead.brand))
    ):
        raise NotFound("No such lead.")
    return lead


def claim_lead(actor: User, public_id: str, now: datetime | None = None) -> Lead:
    """SPEC 3: exactly one claim wins: the lead row is locked and the offer moves conditionally."""
    now = now or utcnow()
    dealer = scope.acting_store(actor)
    lead = _claimable(actor, dealer, public_id)
    offer = _pending_offer(lead, dealer.id)
    if _won_by(lead, offer, actor):  # a retried claim that already won: the same answer again
        db.session.commit()
        return lead
    if offer is not None and offer.status == PENDING:
        won = db.session.execute(
            update(Offer)
            .where(Offer.id == offer.id, Offer.status == PENDING, Offer.expires_at > now)
            .values(status=ACCEPTED, responded_at=now, responded_by_id=actor.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:
            _expire_due(lead, now)
            db.session.commit()
            _refuse_claim(lead, dealer.id, offer, now)
        db.session.refresh(offer)
        via = "offer"
    elif lead.status == LeadStatus.OPEN and offer is None and scope.may_claim_open(lead, dealer):
        won = db.session.execute(
            update(Lead)
            .where(Lead.id == lead.id, Lead.status == LeadStatus.OPEN)
            .values(status=LeadStatus.ACCEPTED, holder_id=dealer.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:
            raise Conflict("Another store already claimed this lead.", reason="already_claimed")
        distance = None
        if dealer.latitude is not None and lead.latitude is not None:
            distance = round(
                haversine_km(dealer.latitude, dealer.longitude, lead.latitude, lead.longitude), 3
            )
        db.session.add(
            Offer(
                lead_id=lead.id,
                dealer_id=dealer.id,
                kind="board",
                status=ACCEPTED,
                distance_km=distance,
                offered_at=now,
                responded_at=now,
                responded_by_id=actor.id,
            )
        )
        via = "board"
    else:
        _refuse_claim(lead, dealer.id, offer, now)
    lead.status, lead.holder_id, lead.accepted_at = LeadStatus.ACCEPTED, dealer.id, now
    lead.progress_rank = progress_rank(LeadStatus.ACCEPTED)
    append_event(lead, "claimed", at=now, actor=actor, dealer_id=dealer.id, data={"via": via})
    db.session.commit()
    return lead


def decline_lead(
    actor: User, public_id: str, reason: str, note: str | None = None, now: datetime | None = None
) -> Lead:
    """The offered store passes, with a reason; the lead goes to the next eligible store."""
    now = now or utcnow()
    dealer = scope.acting_store(actor)
    lead = _visible(actor, public_id, lock=True)
    offer = _pending_offer(lead, dealer.id)
    if offer is None or offer.status != PENDING:
        _refuse_claim(lead, dealer.id, offer, now)
    if offer.expires_at <= now:
        _expire_due(lead, now)
        db.session.commit()
        raise Conflict("Your offer for this lead has expired.", reason="offer_expired")
    offer.status, offer.responded_at, offer.responded_by_id = DECLINED, now, actor.id
    offer.decline_reason, offer.decline_note = reason, note
    append_event(
        lead,
        "declined",
        at=now,
        actor=actor,
        dealer_id=dealer.id,
        data={"reason": reason, "note": note},
    )
    route_next(lead, now)
    db.session.commit()
    return lead


# --- holder progress and referrer withdrawal ------------------------------------------------


def record_progress(
    actor: User, public_id: str, data: Mapping[str, Any], now: datetime | None = None
) -> Lead:
    """SPEC 5: the holder moves the lead forward (skips count as reached) or marks it lost."""
    now = now or utcnow()
    lead = _store_lead(
        actor, public_id, "holder", "Only the store holding this lead may record its progress."
    )
    target = LeadStatus(data["status"])
    steps = progress_steps(LeadStatus(lead.status), target)
    missing = missing_fields(target, order_ref_recorded=bool(lead.order_ref), data=data)
    if missing:
        raise Invalid(
            missing[0], f"Moving to {target} needs {', '.join(missing)}.", reason="missing_field"
        )
    if "vin" in data and data.get("vin"):
        problem = vin_error(data["vin"])
        if problem:
            raise Invalid("vin", problem, reason="invalid_vin")
        lead.vin = normalize_vin(data["vin"])
    if data.get("order_ref"):
        lead.order_ref = data["order_ref"]
    if target == LeadStatus.LOST:
        lead.lost_reason = data["lost_reason"]
    for step in steps:
        details: dict[str, Any] = {"skipped": step != target}
        if step == target:
            details.update(
                {k: data[k] for k in ("order_ref", "lost_reason", "note") if data.get(k)}
            )
            if lead.vin and step == LeadStatus.DELIVERED:
                details["vin"] = lead.vin
        append_event(lead, str(step), at=now, actor=actor, dealer_id=lead.holder_id, data=details)
    lead.status = target
    lead.progress_rank = max(lead.progress_rank, progress_rank(steps[-1]))
    db.session.commit()
    return lead


def withdraw_lead(
    actor: User, public_id: str, reason: str | None = None, now: datetime | None = None
) -> Lead:
    """The referrer takes a lead back while no store has accepted it."""
    now = now or utcnow()
    lead = _store_lead(
        actor, public_id, "referrer", "Only the store that posted the lead may withdraw it."
    )
    _expire_due(lead, now)
    if not can_withdraw(LeadStatus(lead.status)):
        raise Conflict(
            f"A lead that is {lead.status} can no longer be withdrawn.", reason="invalid_transition"
        )
    db.session.execute(
        update(Offer)
        .where(Offer.lead_id == lead.id, Offer.status == PENDING)
        .values(status=WITHDRAWN, responded_at=now)
        .execution_options(synchronize_session=False)
    )
    lead.status = LeadStatus.WITHDRAWN
    append_event(
        lead, "withdrawn", at=now, actor=actor, dealer_id=lead.referrer_id, data={"reason": reason}
    )
    db.session.commit()
    return lead


# --- reading ------------------------------------------------------------------------------


# Reads never write: a due offer reads as expired (leads/effective.py); the sweep writes it.
PRESENTED = (
    joinedload(Lead.referrer),
    joinedload(Lead.holder),
    selectinload(Lead.offers).joinedload(Offer.dealer),
)
"""What presenting a lead reads, loaded with a page of leads in a fixed number of statements."""


def get_lead(actor: User, public_id: str) -> Lead:
    return _visible(actor, public_id)


def current_offer(lead: Lead) -> Offer | None:
    return effective.current_offer(lead.offers)


def list_leads(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    """Leads in the actor's scope; dealers choose a view: posted, offered (pending) or held."""
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
                offered.where(Offer.status == PENDING, Offer.expires_at > utcnow())
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
        query = query.where(Lead.brand_key == brand_key(filters["brand"]))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = list(
        db.session.scalars(
            query.options(*PRESENTED)
            .order_by(Lead.created_at.desc(), Lead.id.desc())
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
