"""A lead's effective state at a moment: what a read shows before the sweep has written it.

Reads never write. An offer whose `expires_at` has passed reads as expired from that moment,
and its lead as being routed on; only the sweep (the worker) writes the expiry and the cascade.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, TypeVar

from leadshare.leads.enums import LeadStatus, OfferStatus


class OfferState(Protocol):
    """What the rules below read of an offer (a row, or any object with these fields)."""

    id: int
    status: str
    expires_at: datetime | None


AnOffer = TypeVar("AnOffer", bound=OfferState)


def is_due(offer: OfferState, now: datetime) -> bool:
    """A pending offer whose time is up (the sweep's own test: `expires_at <= now`)."""
    return (
        offer.status == OfferStatus.PENDING
        and offer.expires_at is not None
        and offer.expires_at <= now
    )


def offer_status(offer: OfferState, now: datetime) -> OfferStatus:
    """The offer's status as a read shows it: a due pending offer is already expired."""
    return OfferStatus.EXPIRED if is_due(offer, now) else OfferStatus(offer.status)


def current_offer(offers: Iterable[AnOffer]) -> AnOffer | None:
    """The lead's latest offer still pending in the database (due or not), if any."""
    pending = [offer for offer in offers if offer.status == OfferStatus.PENDING]
    return max(pending, key=lambda offer: offer.id, default=None)


def routing_pending(lead_status: str, offer: OfferState | None, now: datetime) -> bool:
    """An offered lead whose offer ran out: the sweep will route it on (or to the board)."""
    return lead_status == LeadStatus.OFFERED and offer is not None and is_due(offer, now)
