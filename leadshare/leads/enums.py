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
    RETURNED = "returned"


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
    SLA_MISSED = "sla_missed"
    CONSULTANT_ASSIGNED = "consultant_assigned"
    RETURN_REQUESTED = "return_requested"
    RETURN_CONTESTED = "return_contested"
    RETURN_DECIDED = "return_decided"
    RETURNED = "returned"
    CORRECTED = "corrected"
    PROGRESS_UNDONE = "progress_undone"
    CHAIN_ANCHORED = "chain_anchored"
    """Closes a chain rewritten when its personal data was sealed: records the old head hash."""
    ERASED = "erased"
    """The lead's personal data was erased (a customer's request, or retention)."""
    RETAIL_CONFIRMED = "retail_confirmed"
    """The OEM's retail report confirms the delivery (issue 17)."""
    RETAIL_FLAGGED = "retail_flagged"
    """The VIN was delivered twice in the group, or reported for another store."""
    RETAIL_UNCONFIRMED = "retail_unconfirmed"
    """No confirmation came by the deadline: the credits waiting for one were reversed."""


class ReturnReason(StrEnum):
    """Why the holder returns a lead (issue 17)."""

    INVALID_CONTACT = "invalid_contact"
    DUPLICATE_OF_OWN_CUSTOMER = "duplicate_of_own_customer"
    ALREADY_BOUGHT = "already_bought"
    NOT_IN_MARKET = "not_in_market"
    SPAM = "spam"


class ReturnStatus(StrEnum):
    """How a return stands: waiting for the referrer, or a group admin, or decided."""

    PENDING = "pending"
    CONTESTED = "contested"
    REVIEW = "review"
    ACCEPTED = "accepted"
    KEPT = "kept"


class LostReason(StrEnum):
    """Why a held lead was lost (issue 15): a fixed list people can count; `other` needs a note."""

    BOUGHT_ELSEWHERE = "bought_elsewhere"
    BOUGHT_OTHER_BRAND = "bought_other_brand"
    PRICE = "price"
    UNREACHABLE = "unreachable"
    POSTPONED = "postponed"
    NOT_INTERESTED = "not_interested"
    FINANCING_DECLINED = "financing_declined"
    OTHER = "other"
