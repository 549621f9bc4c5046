"""What a reader is shown of a lead: contact details masked unless the reader may see them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..auth.models import User
from ..auth.scope import sees_contact
from ..clock import iso_z, utcnow
from ..extensions import db
from ..privacy.access_log import note_shown
from ..routing.geocode.gazetteer import Gazetteer
from ..tenancy.models import Dealer
from ..vocabulary import DEALER_ROLES
from .access import current_offer
from .chain import unseal
from .contact import mask_name, mask_phone, mask_wechat, redact_contacts
from .effective import is_due, offer_status, routing_pending
from .events import lead_events, personal_values
from .models import Lead, LeadEvent, Offer
from .states import lost_without_contact


def dealer_ref(dealer: Dealer | None) -> dict[str, Any] | None:
    return None if dealer is None else {"id": dealer.id, "code": dealer.code, "name": dealer.name}


COARSE_PRECISIONS = frozenset({"district", "city", "province"})
"""Precisions whose stored point is already an administrative centroid, not the customer's."""


def shown_km(km: float | None, unmasked: bool) -> float | None:
    """Exact distances to several known stores give the customer's point away: whole km only."""
    if km is None or unmasked:
        return km
    return float(round(km))


def shown_location(lead: Lead, unmasked: bool) -> dict[str, Any]:
    """The referrer and holder see the exact point and street address; others the district.

    Everyone else gets the administrative area and a point no finer than its centroid (the
    gazetteer's point for the lead's adcode), with the precision that point really has.
    """
    location = {
        "address": lead.address,
        "latitude": lead.latitude,
        "longitude": lead.longitude,
        "precision": lead.geo_precision,
        "province": lead.province,
        "city": lead.city,
        "district": lead.district,
        "adcode": lead.adcode,
        "source": lead.geo_source,
        "candidates": lead.location_candidates or [],
    }
    if unmasked:
        return location
    location["address"] = None
    if lead.latitude is not None and lead.geo_precision not in COARSE_PRECISIONS:
        centroid = Gazetteer.default().by_adcode(lead.adcode) if lead.adcode else None
        location["latitude"] = centroid.latitude if centroid else None
        location["longitude"] = centroid.longitude if centroid else None
        location["precision"] = centroid.precision if centroid else None
    return location


def _shown_decision(decision: dict[str, Any], unmasked: bool) -> dict[str, Any]:
    def candidate(c: dict[str, Any] | None) -> dict[str, Any] | None:
        return c and {**c, "distance_km": shown_km(c.get("distance_km"), unmasked)}

    return {
        **decision,
        "chosen": candidate(decision.get("chosen")),
        "runners_up": [candidate(c) for c in decision.get("runners_up", [])],
    }


def shown_event_data(data: dict[str, Any] | None, unmasked: bool) -> dict[str, Any] | None:
    """An event's data for this reader: distances (its own and the decision's) rounded."""
    if not data or unmasked:
        return data
    shown = dict(data)
    if "distance_km" in shown:
        shown["distance_km"] = shown_km(shown["distance_km"], unmasked)
    if isinstance(shown.get("decision"), dict):
        shown["decision"] = _shown_decision(shown["decision"], unmasked)
    return shown


def shown_notes(lead: Lead, actor: User) -> str | None:
    """A store deciding on a lead it does not hold reads the referrer's note without phone
    numbers and WeChat IDs; readers outside the group's stores (auditors) not at all."""
    if actor.role not in DEALER_ROLES:
        return None
    return redact_contacts(lead.notes, (lead.phone, lead.wechat_id))


def opened(rows: dict[str, Any]) -> dict[str, Any]:
    """The personal values of one event, by key: the value, or {"erased_at": ...} once erased."""
    return {
        key: {"erased_at": iso_z(row.erased_at)} if row.erased_at else row.value
        for key, row in rows.items()
    }


def present_lead(lead: Lead, actor: User, now: datetime | None = None) -> dict[str, Any]:
    """The lead as SPEC 8 names it, for this reader, in its effective state at `now`."""
    now = now or utcnow()
    unmasked = sees_contact(actor, lead)
    if unmasked:
        note_shown(actor, lead)
    customer = {
        "name": lead.customer_name if unmasked else mask_name(lead.customer_name),
        "phone": lead.phone if unmasked else mask_phone(lead.phone),
        "wechat_id": lead.wechat_id if unmasked else mask_wechat(lead.wechat_id),
        "masked": not unmasked,
    }
    offer = current_offer(lead)
    return {
        "id": lead.public_id,
        "status": lead.status,
        "share_reason": lead.share_reason,
        "brand": lead.brand,
        "model": lead.model,
        "budget": lead.budget,
        "timeframe": lead.timeframe,
        "customer": customer,
        "location": shown_location(lead, unmasked),
        "source": {"channel": lead.channel, "campaign": lead.campaign},
        "notes": lead.notes if unmasked else shown_notes(lead, actor),
        "referrer": dealer_ref(lead.referrer),
        "holder": dealer_ref(lead.holder),
        "current_offer": None
        if offer is None
        else {
            "dealer": dealer_ref(offer.dealer),
            "status": offer_status(offer, now),
            "distance_km": shown_km(offer.distance_km, unmasked),
            "offered_at": offer.offered_at,
            "expires_at": offer.expires_at,
        },
        "routing_pending": routing_pending(lead.status, offer, now),
        "offers_made": lead.offers_made,
        "order_ref": lead.order_ref,
        "vin": lead.vin,
        "lost_reason": lead.lost_reason,
        "lost_note": lead.lost_note,
        "lost_without_contact": lost_without_contact(lead.status, lead.progress_rank),
        "voided_at": lead.voided_at,
        "void_reason": lead.void_reason,
        "created_at": lead.created_at,
        "updated_at": lead.updated_at,
        "accepted_at": lead.accepted_at,
        "consent": {
            "at": lead.consent_at,
            "text_version": lead.consent_text_version,
            "channel": lead.consent_channel,
        },
    }


def present_trail(lead: Lead, actor: User, now: datetime | None = None) -> dict[str, Any]:
    """Every event with its routing decision, and every offer: why the lead went where it went."""
    now = now or utcnow()
    events: list[LeadEvent] = lead_events(lead)
    dealer_ids = {e.dealer_id for e in events if e.dealer_id}
    offers = list(
        db.session.scalars(select(Offer).where(Offer.lead_id == lead.id).order_by(Offer.id))
    )
    dealer_ids |= {o.dealer_id for o in offers}
    dealers = {d.id: d for d in db.session.scalars(select(Dealer).where(Dealer.id.in_(dealer_ids)))}
    unmasked = sees_contact(actor, lead)
    personal = personal_values([lead.id])
    return {
        "lead": present_lead(lead, actor, now),
        "events": [
            {
                "seq": e.seq,
                "type": e.type,
                "at": e.at,
                "actor_id": e.actor_id,
                "dealer": dealer_ref(dealers.get(e.dealer_id)),
                "data": shown_event_data(
                    unseal(e.data, opened(personal.get((lead.id, e.seq), {}))), unmasked
                ),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in events
        ],
        "offers": [
            {
                "dealer": dealer_ref(dealers.get(o.dealer_id)),
                "kind": o.kind,
                "status": offer_status(o, now),
                "distance_km": shown_km(o.distance_km, unmasked),
                "offered_at": o.offered_at,
                "expires_at": o.expires_at,
                "responded_at": o.expires_at if is_due(o, now) else o.responded_at,
                "decline_reason": o.decline_reason,
            }
            for o in offers
        ],
    }
