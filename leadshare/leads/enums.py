"""The lead domain's vocabulary: statuses, offer outcomes, event types, decline reasons.

Stored as their string values; no other module spells these strings out.
"""

from __future__ import annotations

from enum import StrEnum


class LeadStatus(StrEnum):
    """Where a lead stands; stored as its string value."""

    NEEDS_LOCATION = "needs_location"
    OFFERED = "offered"
    OPEN = "open"
    ACCEPTED = "accepted"
    CONTACTED = "contacted"
    VISITED = "visited"
    ORDERED = "ordered"
    DELIVERED = "delivered"
    LOST = "lost"
    UNROUTABLE = "unroutable"
    WITHDRAWN = "withdrawn"


class OfferStatus(StrEnum):
    """How one offer to one store stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class OfferKind(StrEnum):
    """A routed offer, or a claim taken from the open board."""

    ROUTED = "routed"
    BOARD = "board"


class DeclineReason(StrEnum):
    """Why an offered store passed (SPEC 3)."""

    NO_STOCK = "no_stock"
    TOO_FAR = "too_far"
    CAPACITY = "capacity"
    INVALID_CONTACT = "invalid_contact"
    DUPLICATE = "duplicate"
    OTHER = "other"


class EventType(StrEnum):
    """One kind of entry in a lead's hash-chained trail."""

    POSTED = "posted"
    NEEDS_LOCATION = "needs_location"
    LOCATED = "located"
    OFFERED = "offered"
    OPENED = "opened"
    UNROUTABLE = "unroutable"
    EXPIRED = "expired"
    DECLINED = "declined"
    CLAIMED = "claimed"
    CONTACTED = "contacted"
    VISITED = "visited"
    ORDERED = "ordered"
    DELIVERED = "delivered"
    LOST = "lost"
    WITHDRAWN = "withdrawn"
    VOIDED = "voided"
    CHAIN_ANCHORED = "chain_anchored"
    """Closes a chain rewritten when its personal data was sealed: records the old head hash."""
    ERASED = "erased"
    """The lead's personal data was erased (a customer's request, or retention)."""
