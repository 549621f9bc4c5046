"""The lead lifecycle: statuses and the pure table of moves a holder may record."""

from __future__ import annotations

from collections.abc import Mapping

from leadshare.leads.enums import LeadStatus

PROGRESS_LADDER: tuple[LeadStatus, ...] = (
    LeadStatus.ACCEPTED,
    LeadStatus.CONTACTED,
    LeadStatus.VISITED,
    LeadStatus.ORDERED,
    LeadStatus.DELIVERED,
)
"""The stages a holder moves a lead through, in order; a later stage implies the earlier ones."""

LOSABLE: frozenset[LeadStatus] = frozenset(PROGRESS_LADDER[:-1])
"""A held lead may be lost up to and including `ordered`, never once delivered."""

WITHDRAWABLE: frozenset[LeadStatus] = frozenset(
    {LeadStatus.NEEDS_LOCATION, LeadStatus.OFFERED, LeadStatus.OPEN}
)
"""The referrer may withdraw a lead only while no dealer has accepted it."""

TERMINAL: frozenset[LeadStatus] = frozenset(
    {LeadStatus.DELIVERED, LeadStatus.LOST, LeadStatus.UNROUTABLE, LeadStatus.WITHDRAWN}
)
"""Statuses no holder move leaves."""

PROGRESS_REQUIREMENTS: Mapping[LeadStatus, tuple[str, ...]] = {
    LeadStatus.ORDERED: ("order_ref",),
    LeadStatus.DELIVERED: ("vin", "order_ref"),
    LeadStatus.LOST: ("lost_reason",),
}
"""Fields a progress move must carry; delivered needs order_ref only when none was recorded."""


class InvalidTransition(Exception):
    """A move the lifecycle does not allow (SPEC 5: answered 409 `invalid_transition`)."""

    reason = "invalid_transition"

    def __init__(self, current: LeadStatus | str, target: LeadStatus | str) -> None:
        self.current = current
        self.target = target
        super().__init__(f"a lead cannot move from '{current}' to '{target}'")


def progress_steps(current: LeadStatus, target: LeadStatus) -> list[LeadStatus]:
    """Stages reached moving a held lead from current to target, skipped ones included, in order.

    Only forward along the ladder, or to `lost` from accepted up to ordered; anything else
    raises InvalidTransition.
    """
    if target == LeadStatus.LOST and current in LOSABLE:
        return [LeadStatus.LOST]
    if current in LOSABLE and target in PROGRESS_LADDER:
        start = PROGRESS_LADDER.index(current)
        end = PROGRESS_LADDER.index(target)
        if end > start:
            return list(PROGRESS_LADDER[start + 1 : end + 1])
    raise InvalidTransition(current, target)


def can_withdraw(status: LeadStatus) -> bool:
    """The referrer may withdraw a lead only before any dealer accepted it."""
    return status in WITHDRAWABLE


def is_terminal(status: LeadStatus) -> bool:
    """A delivered, lost, unroutable or withdrawn lead takes no further holder move."""
    return status in TERMINAL


def missing_fields(
    target: LeadStatus, *, order_ref_recorded: bool, data: Mapping[str, object]
) -> list[str]:
    """Fields a move to target still lacks (absent, None or blank), in PROGRESS_REQUIREMENTS order.

    Only presence is checked here; a VIN's validity is for leadshare.leads.vin.
    """
    required = PROGRESS_REQUIREMENTS.get(target, ())
    if target == LeadStatus.DELIVERED and order_ref_recorded:
        required = tuple(name for name in required if name != "order_ref")
    return [name for name in required if _is_blank(data.get(name))]


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
