"""Returns and disputes as pure rules (issue 17): the windows, the rate cap, who may do what next.

No framework, no database: the service (leads/disputes.py) loads the facts and asks here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from .enums import LeadStatus, ReturnReason, ReturnStatus
from .states import RETURNABLE

R = ReturnStatus

RATE_PERIOD_DAYS = 90
"""The store's return rate counts its returns and its accepted leads over this many days."""
RATE_FROM_ACCEPTED = 10
"""Below this many accepted leads in the period the rate is not applied (too few to judge)."""

OPEN: frozenset[ReturnStatus] = frozenset({R.PENDING, R.CONTESTED, R.REVIEW})
"""A return not decided yet: the lead stands still (no progress, no second return)."""
AWAITING_ADMIN: frozenset[ReturnStatus] = frozenset({R.CONTESTED, R.REVIEW})
"""Contested by the referrer, or made by a store over the rate cap: a group admin decides."""
BLOCKS_NEW_SHARE: frozenset[ReturnReason] = frozenset(
    {ReturnReason.DUPLICATE_OF_OWN_CUSTOMER, ReturnReason.SPAM}
)
"""A lead returned for these reasons still counts as the customer's live lead in de-duplication."""


class Outcome(StrEnum):
    """A group admin's decision on a disputed return."""

    RETURNED = "returned"
    KEPT = "kept"


class ReturnRefusal(StrEnum):
    """Why a return step is refused (409 unless the surface says otherwise)."""

    RETURN_PENDING = "return_pending"
    RETURN_DECIDED = "return_decided"
    NOT_RETURNABLE = "not_returnable"
    RETURN_WINDOW_CLOSED = "return_window_closed"
    NO_RETURN = "no_return"
    AWAITING_ADMIN = "awaiting_admin"
    DISPUTE_WINDOW_CLOSED = "dispute_window_closed"
    NOT_DISPUTED = "not_disputed"


def return_window_closes_at(accepted_at: datetime, window_days: int) -> datetime:
    """The holder may return a lead until `window_days` whole days after it accepted it."""
    return accepted_at + timedelta(days=window_days)


def in_return_window(accepted_at: datetime | None, now: datetime, window_days: int) -> bool:
    """True while the window is open; a lead never accepted has no window."""
    return accepted_at is not None and now < return_window_closes_at(accepted_at, window_days)


def dispute_due_at(requested_at: datetime, dispute_window_hours: int) -> datetime:
    """Wall-clock hours (not opening hours): the referrer's silence past this accepts the return."""
    return requested_at + timedelta(hours=dispute_window_hours)


def over_return_rate(returns: int, accepted: int, max_rate: float) -> bool:
    """The store's returns exceed `max_rate` of its accepted leads, once it has accepted at least
    RATE_FROM_ACCEPTED leads in the period (both counted over RATE_PERIOD_DAYS)."""
    return accepted >= RATE_FROM_ACCEPTED and returns > max_rate * accepted


def request_refusal(
    lead_status: LeadStatus | str,
    existing: ReturnStatus | str | None,
    *,
    accepted_at: datetime | None,
    now: datetime,
    window_days: int,
) -> ReturnRefusal | None:
    """Why the holder may not return the lead now, or None: one return per lead, while the
    lead is accepted, contacted or visited, within the group's window from acceptance."""
    if existing in OPEN:
        return ReturnRefusal.RETURN_PENDING
    if existing is not None:
        return ReturnRefusal.RETURN_DECIDED
    if lead_status not in RETURNABLE:
        return ReturnRefusal.NOT_RETURNABLE
    if not in_return_window(accepted_at, now, window_days):
        return ReturnRefusal.RETURN_WINDOW_CLOSED
    return None


def status_on_request(over_rate: bool) -> ReturnStatus:
    """A new return waits for the referrer, or for a group admin when the store is over the cap."""
    return R.REVIEW if over_rate else R.PENDING


def accept_refusal(status: ReturnStatus | str | None) -> ReturnRefusal | None:
    """The referrer accepts only a return waiting for its answer (even past the window: the
    sweep would accept it anyway); a contested or over-cap one is the group admin's."""
    if status is None:
        return ReturnRefusal.NO_RETURN
    if status in AWAITING_ADMIN:
        return ReturnRefusal.AWAITING_ADMIN
    if status != R.PENDING:
        return ReturnRefusal.RETURN_DECIDED
    return None


def contest_refusal(
    status: ReturnStatus | str | None, due_at: datetime | None, now: datetime
) -> ReturnRefusal | None:
    """The referrer contests a pending return before its dispute window ends, or gives its side
    of an over-cap return waiting for a group admin; once only."""
    if status is None:
        return ReturnRefusal.NO_RETURN
    if status == R.REVIEW:
        return None
    if status == R.CONTESTED:
        return ReturnRefusal.AWAITING_ADMIN
    if status != R.PENDING:
        return ReturnRefusal.RETURN_DECIDED
    if due_at is not None and now >= due_at:
        return ReturnRefusal.DISPUTE_WINDOW_CLOSED
    return None


def decide_refusal(status: ReturnStatus | str | None) -> ReturnRefusal | None:
    """A group admin decides a contested or over-cap return; a pending one is the referrer's."""
    if status is None:
        return ReturnRefusal.NO_RETURN
    if status == R.PENDING:
        return ReturnRefusal.NOT_DISPUTED
    if status not in AWAITING_ADMIN:
        return ReturnRefusal.RETURN_DECIDED
    return None


def accepted_in_silence(status: ReturnStatus | str, due_at: datetime, now: datetime) -> bool:
    """The sweep accepts a pending return whose dispute window passed with no answer."""
    return status == R.PENDING and due_at <= now
