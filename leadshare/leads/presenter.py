"""What a reader is shown of a lead: contact details masked unless the reader may see them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import Dealer, Lead, LeadEvent, Offer, User
from .contact import mask_name, mask_phone, mask_wechat
from .events import lead_events
from .service import current_offer, sees_contact


def dealer_ref(dealer: Dealer | None) -> dict[str, Any] | None:
    return None if dealer is None else {"id": dealer.id, "code": dealer.code, "name": dealer.name}


def present_lead(lead: Lead, actor: User) -> dict[str, Any]:
    """The lead as SPEC 8 names it, for this reader."""
    unmasked = sees_contact(actor, lead)
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
        "location": {
            "address": lead.address if unmasked else None,
            "latitude": lead.latitude,
            "longitude": lead.longitude,
            "precision": lead.geo_precision,
            "province": lead.province,
            "city": lead.city,
            "district": lead.district,
            "adcode": lead.adcode,
            "source": lead.geo_source,
        },
        "source": {"channel": lead.channel, "campaign": lead.campaign},
        "notes": lead.notes if unmasked else None,
        "referrer": dealer_ref(lead.referrer),
        "holder": dealer_ref(lead.holder),
        "current_offer": None
        if offer is None
        else {
            "dealer": dealer_ref(offer.dealer),
            "distance_km": offer.distance_km,
            "offered_at": offer.offered_at,
            "expires_at": offer.expires_at,
        },
        "offers_made": lead.offers_made,
        "order_ref": lead.order_ref,
        "vin": lead.vin,
        "lost_reason": lead.lost_reason,
        "created_at": lead.created_at,
        "updated_at": lead.updated_at,
        "accepted_at": lead.accepted_at,
    }


def present_trail(lead: Lead, actor: User) -> dict[str, Any]:
    """Every event with its routing decision, and every offer: why the lead went where it went."""
    events: list[LeadEvent] = lead_events(lead)
    dealer_ids = {e.dealer_id for e in events if e.dealer_id}
    offers = list(
        db.session.scalars(select(Offer).where(Offer.lead_id == lead.id).order_by(Offer.id))
    )
    dealer_ids |= {o.dealer_id for o in offers}
    dealers = {d.id: d for d in db.session.scalars(select(Dealer).where(Dealer.id.in_(dealer_ids)))}
    return {
        "lead": present_lead(lead, actor),
        "events": [
            {
                "seq": e.seq,
                "type": e.type,
                "at": e.at,
                "actor_id": e.actor_id,
                "dealer": dealer_ref(dealers.get(e.dealer_id)),
                "data": e.data,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in events
        ],
        "offers": [
            {
                "dealer": dealer_ref(dealers.get(o.dealer_id)),
                "kind": o.kind,
                "status": o.status,
                "distance_km": o.distance_km,
                "offered_at": o.offered_at,
                "expires_at": o.expires_at,
                "responded_at": o.responded_at,
                "decline_reason": o.decline_reason,
            }
            for o in offers
        ],
    }
