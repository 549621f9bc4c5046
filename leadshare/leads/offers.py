"""Offers: the routing cascade, expiry of due offers (the sweep), claims and declines.

An offer's time counts the offered store's open minutes (hours/schedule.py); routing skips a
store closed longer than the group's `skip_closed_over_hours` from the offer instant.

Each service is one unit of work that locks the lead row first (SELECT ... FOR UPDATE on
PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE). The cascade's decisions come from
the pure table in states.py; a conditional UPDATE decides which claim wins.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..auth import scope
from ..auth.models import User
from ..clock import utcnow
from ..errors import Conflict, NotFound
from ..extensions import db
from ..hours.service import StoreClocks, offer_expiry
from ..routing import service as routing
from ..routing.geo import haversine_km
from ..tenancy.models import Dealer
from ..uow import unit_of_work
from .access import locked, visible
from .enums import DeclineReason, EventType, LeadStatus, OfferKind, OfferStatus
from .events import append_event
from .models import Lead, Offer
from .states import (
    ClaimRefusal,
    cascade,
    claim_path,
    claim_refusal,
    move,
    offers_left,
    progress_rank,
    routes_on_expiry,
)

REFUSALS = {
    ClaimRefusal.ALREADY_CLAIMED: "Another store already claimed this lead.",
    ClaimRefusal.OFFER_EXPIRED: "Your offer for this lead has expired.",
    ClaimRefusal.NOT_OFFERED: "This lead was not offered to your store.",
}


def refusal(reason: ClaimRefusal) -> Conflict:
    return Conflict(REFUSALS[reason], reason=reason.value)


# --- routing cascade ----------------------------------------------------------------------


def route_next(lead: Lead, now: datetime) -> Offer | None:
    """Offer the lead to the next eligible dealer, or put it on the board, or mark it unroutable."""
    max_offers = lead.group.max_offers_per_lead
    decision = trail = None
    clocks = StoreClocks(lead.group, now)
    if offers_left(lead.offers_made, max_offers):
        # A lead not inserted yet (an intake) is routed before its rows are written: the
        # decision reads stores and their offers, none of which the new rows change, and the
        # lead, its events and its offer are then inserted by one flush.
        with db.session.no_autoflush if lead.id is None else nullcontext():
            decision, searched_km = routing.decide_for(lead, now, clocks)
        trail = {**decision.to_dict(), "searched_km": searched_km}
    route = cascade(
        offers_made=lead.offers_made,
        max_offers=max_offers,
        chosen=decision is not None and decision.chosen is not None,
        unroutable=decision is not None and decision.is_unroutable,
    )
    lead.status = move(lead.status, route.status)
    if decision is None:
        data = {"why": route.why, "offers_made": lead.offers_made}
        append_event(lead, route.event, at=now, data=data)
        return None
    if decision.chosen is None:
        append_event(lead, route.event, at=now, data={"why": route.why, "decision": trail})
        return None
    chosen = decision.chosen
    expires_at = offer_expiry(clocks.clock(chosen.dealer_id), now, lead.group.offer_ttl_minutes)
    offer = routing.make_offer(lead, chosen.dealer_id, chosen.distance_km, now, expires_at)
    append_event(
        lead,
        route.event,
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


def expire_due(lead: Lead, now: datetime) -> int:
    """Expire the lead's pending offers whose time is up and route on; returns how many expired."""
    due = list(
        db.session.scalars(
            select(Offer).where(
                Offer.lead_id == lead.id,
                Offer.status == OfferStatus.PENDING,
                Offer.expires_at <= now,
            )
        )
    )
    for offer in due:
        offer.status = OfferStatus.EXPIRED
        offer.responded_at = offer.expires_at
        append_event(
            lead,
            EventType.EXPIRED,
            at=now,
            dealer_id=offer.dealer_id,
            data={"offered_at": offer.offered_at, "expires_at": offer.expires_at},
        )
    if due and routes_on_expiry(lead.status):
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

    Each batch is one unit of work that locks the leads it takes with SKIP LOCKED on
    PostgreSQL, so concurrent sweepers (or a claim in flight) never handle the same lead twice;
    SQLite runs one writer at a time.
    """
    now = now or utcnow()
    result = SweepResult()
    while True:
        with unit_of_work():
            due = select(Offer.lead_id).where(
                Offer.status == OfferStatus.PENDING, Offer.expires_at <= now
            )
            query = select(Lead).where(Lead.id.in_(due)).order_by(Lead.id).limit(batch)
            if group_id is not None:
                query = query.where(Lead.group_id == group_id)
            leads = list(db.session.scalars(query.with_for_update(skip_locked=True)))
            for lead in leads:
                result.expired += expire_due(lead, now)
                result.leads += 1
        if not leads:
            return result


# --- claims and declines ------------------------------------------------------------------


def _own_offer(lead: Lead, dealer_id: int) -> Offer | None:
    return db.session.scalar(
        select(Offer).where(Offer.lead_id == lead.id, Offer.dealer_id == dealer_id)
    )


def _refused(lead: Lead, offer: Offer | None, now: datetime) -> Conflict:
    return refusal(
        claim_refusal(
            held=lead.holder_id is not None,
            offer=offer.status if offer else None,
            offer_due=offer is not None
            and offer.expires_at is not None
            and offer.expires_at <= now,
        )
    )


def _won_by(lead: Lead, offer: Offer | None, actor: User) -> bool:
    """This user's own claim already won the lead (a retry after a lost answer)."""
    return (
        offer is not None
        and lead.holder_id == offer.dealer_id
        and offer.status == OfferStatus.ACCEPTED
        and offer.responded_by_id == actor.id
    )


def _claimable(actor: User, dealer: Dealer, public_id: str) -> Lead:
    """A store that sells the brand learns why it lost a claim (409), not just 404."""
    lead = locked(public_id)
    if lead is None or not (
        scope.can_see_lead(actor, lead)
        or (lead.group_id == dealer.group_id and dealer.sells(lead.brand))
    ):
        raise NotFound("No such lead.")
    return lead


def settled(outcome: Lead | Conflict) -> Lead:
    """The lead, or the refusal raised now that the unit of work committed what it found."""
    if isinstance(outcome, Conflict):
        raise outcome
    return outcome


def claim_lead(actor: User, public_id: str, now: datetime | None = None) -> Lead:
    """SPEC 3: exactly one claim wins: the lead row is locked and the offer moves conditionally.

    A claim that finds its offer expired records the expiry (and the cascade) and is refused
    after that unit of work commits.
    """
    with unit_of_work():
        outcome = _claim(actor, public_id, now or utcnow())
    return settled(outcome)


def _claim(actor: User, public_id: str, now: datetime) -> Lead | Conflict:
    dealer = scope.acting_store(actor)
    lead = _claimable(actor, dealer, public_id)
    offer = _own_offer(lead, dealer.id)
    if _won_by(lead, offer, actor):  # a retried claim that already won: the same answer again
        return lead
    path = claim_path(
        lead.status,
        offer.status if offer else None,
        board_eligible=offer is None and scope.may_claim_open(lead, dealer),
    )
    if path is OfferKind.ROUTED:
        won = db.session.execute(
            update(Offer)
            .where(
                Offer.id == offer.id,
                Offer.status == OfferStatus.PENDING,
                Offer.expires_at > now,
            )
            .values(status=OfferStatus.ACCEPTED, responded_at=now, responded_by_id=actor.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:
            expire_due(lead, now)
            return _refused(lead, offer, now)
        # the row holds what the UPDATE wrote: the loaded offer learns it without reading it back
        for name, value in (
            ("status", OfferStatus.ACCEPTED),
            ("responded_at", now),
            ("responded_by_id", actor.id),
        ):
            set_committed_value(offer, name, value)
    elif path is OfferKind.BOARD:
        won = db.session.execute(
            update(Lead)
            .where(Lead.id == lead.id, Lead.status == LeadStatus.OPEN)
            .values(status=LeadStatus.ACCEPTED, holder_id=dealer.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:
            raise refusal(ClaimRefusal.ALREADY_CLAIMED)
        _add_board_offer(lead, dealer, actor, now)
    else:
        raise _refused(lead, offer, now)
    lead.status = move(lead.status, LeadStatus.ACCEPTED)
    lead.holder_id, lead.accepted_at = dealer.id, now
    lead.progress_rank = progress_rank(LeadStatus.ACCEPTED)
    via = {OfferKind.ROUTED: "offer", OfferKind.BOARD: "board"}[path]
    append_event(
        lead, EventType.CLAIMED, at=now, actor=actor, dealer_id=dealer.id, data={"via": via}
    )
    return lead


def _add_board_offer(lead: Lead, dealer: Dealer, actor: User, now: datetime) -> None:
    """The accepted offer row a board claim leaves behind, with the store's distance."""
    distance = None
    if dealer.latitude is not None and lead.latitude is not None:
        distance = round(
            haversine_km(dealer.latitude, dealer.longitude, lead.latitude, lead.longitude), 3
        )
    db.session.add(
        Offer(
            lead=lead,
            dealer_id=dealer.id,
            kind=OfferKind.BOARD,
            status=OfferStatus.ACCEPTED,
            distance_km=distance,
            offered_at=now,
            responded_at=now,
            responded_by_id=actor.id,
        )
    )


def decline_lead(
    actor: User,
    public_id: str,
    reason: DeclineReason | str,
    note: str | None = None,
    now: datetime | None = None,
) -> Lead:
    """The offered store passes, with a reason; the lead goes to the next eligible store.

    A decline that finds its offer expired records the expiry and is refused after the commit.
    """
    with unit_of_work():
        outcome = _decline(actor, public_id, DeclineReason(reason), note, now or utcnow())
    return settled(outcome)


def _decline(
    actor: User, public_id: str, reason: DeclineReason, note: str | None, now: datetime
) -> Lead | Conflict:
    dealer = scope.acting_store(actor)
    lead = visible(actor, public_id, lock=True)
    offer = _own_offer(lead, dealer.id)
    if offer is None or offer.status != OfferStatus.PENDING:
        raise _refused(lead, offer, now)
    if offer.expires_at <= now:
        expire_due(lead, now)
        return refusal(ClaimRefusal.OFFER_EXPIRED)
    offer.status, offer.responded_at, offer.responded_by_id = OfferStatus.DECLINED, now, actor.id
    offer.decline_reason, offer.decline_note = reason, note
    append_event(
        lead,
        EventType.DECLINED,
        at=now,
        actor=actor,
        dealer_id=dealer.id,
        data={"reason": reason, "note": note},
    )
    route_next(lead, now)
    return lead
