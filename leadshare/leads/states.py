"""The lead lifecycle as one pure table: routing, claims, holder progress and withdrawal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from leadshare.errors import Conflict
from leadshare.leads.enums import EventType, LeadStatus, LostReason, OfferKind, OfferStatus

S = LeadStatus

PROGRESS_LADDER: tuple[LeadStatus, ...] = (
    S.ACCEPTED,
    S.CONTACTED,
    S.VISITED,
    S.ORDERED,
    S.DELIVERED,
)
"""The stages a holder moves a lead through, in order; a later stage implies the earlier ones."""

LOSABLE: frozenset[LeadStatus] = frozenset(PROGRESS_LADDER[:-1])
"""A held lead may be lost up to and including `ordered`, never once delivered."""

RETURNABLE: frozenset[LeadStatus] = frozenset(PROGRESS_LADDER[:3])
"""The holder may return a lead it has accepted, contacted or visited (issue 17), not later."""

ROUTED: frozenset[LeadStatus] = frozenset({S.OFFERED, S.OPEN, S.UNROUTABLE})
"""Where the routing cascade may leave a lead."""

TRANSITIONS: Mapping[LeadStatus, frozenset[LeadStatus]] = {
    # Stored as needs_location, then routed at once when it has a place.
    S.NEEDS_LOCATION: ROUTED | {S.WITHDRAWN},
    # Claimed; after a decline or an expiry offered on or opened (never unroutable: it was
    # offered); or withdrawn by its referrer.
    S.OFFERED: frozenset({S.OFFERED, S.OPEN, S.ACCEPTED, S.WITHDRAWN}),
    # Open: claimed, withdrawn, or routed again after its referrer corrected it.
    S.OPEN: ROUTED | {S.ACCEPTED, S.WITHDRAWN},
    # Accepted also goes back to routing when its holder misses the contact SLA (issue 14).
    **{
        stage: frozenset(PROGRESS_LADDER[index + 1 :])
        | {S.LOST}
        | (ROUTED if stage == S.ACCEPTED else frozenset())
        | ({S.RETURNED} if stage in RETURNABLE else set())
        for index, stage in enumerate(PROGRESS_LADDER[:-1])
    },
    S.DELIVERED: frozenset(),
    S.LOST: frozenset(),
    # Corrected by its referrer (routed again) or withdrawn.
    S.UNROUTABLE: ROUTED | {S.WITHDRAWN},
    S.WITHDRAWN: frozenset(),
    S.RETURNED: frozenset(),
}
"""Every status a lead may move to from each status; a move not listed is invalid."""

PROGRESS_REQUIREMENTS: Mapping[LeadStatus, tuple[str, ...]] = {
    S.ORDERED: ("order_ref",),
    S.DELIVERED: ("vin", "order_ref"),
    S.LOST: ("lost_reason",),
}
"""Fields a progress move must carry; delivered needs order_ref only when none was recorded."""


class InvalidTransition(Conflict):
    """A move the lifecycle does not allow (SPEC 5: answered 409 `invalid_transition`)."""

    reason = "invalid_transition"

    def __init__(self, current: LeadStatus | str, target: LeadStatus | str) -> None:
        self.current = current
        self.target = target
        super().__init__(f"A lead that is {current} cannot move to {target}.")


def may_move(current: LeadStatus | str, target: LeadStatus | str) -> bool:
    """The table allows moving a lead from current to target."""
    return LeadStatus(target) in TRANSITIONS[LeadStatus(current)]


def move(current: LeadStatus | str, target: LeadStatus) -> LeadStatus:
    """The status a lead takes moving from current to target; InvalidTransition when not allowed."""
    if not may_move(current, target):
        raise InvalidTransition(current, target)
    return target


# --- routing: the cascade after posting, locating, declining or expiring ----------------------


class RouteWhy(StrEnum):
    """Why a lead went to the board or nowhere, as recorded on its event."""

    MAX_OFFERS_REACHED = "max_offers_reached"
    NO_ELIGIBLE_DEALER = "no_eligible_dealer"
    BRAND_NOT_SOLD_ELSEWHERE = "brand_not_sold_elsewhere"


@dataclass(frozen=True)
class Route:
    """One step of the cascade: the status the lead takes, the event recorded, and why."""

    status: LeadStatus
    event: EventType
    why: RouteWhy | None = None


OFFER_NEXT = Route(S.OFFERED, EventType.OFFERED)
BOARD_AT_MAX_OFFERS = Route(S.OPEN, EventType.OPENED, RouteWhy.MAX_OFFERS_REACHED)
BOARD_NO_DEALER = Route(S.OPEN, EventType.OPENED, RouteWhy.NO_ELIGIBLE_DEALER)
NOWHERE = Route(S.UNROUTABLE, EventType.UNROUTABLE, RouteWhy.BRAND_NOT_SOLD_ELSEWHERE)


def offers_left(offers_made: int, max_offers: int) -> bool:
    """Fewer than the group's max offers were made: routing may choose the next store."""
    return offers_made < max_offers


def cascade(*, offers_made: int, max_offers: int, chosen: bool, unroutable: bool) -> Route:
    """SPEC 3: offer the chosen store; the board once max offers were made or nobody is eligible;
    unroutable only when nothing was ever offered and no other store sells the brand."""
    if not offers_left(offers_made, max_offers):
        return BOARD_AT_MAX_OFFERS
    if chosen:
        return OFFER_NEXT
    if offers_made == 0 and unroutable:
        return NOWHERE
    return BOARD_NO_DEALER


def routes_on_expiry(status: LeadStatus | str) -> bool:
    """An expired offer sends the lead on only while the lead is still offered."""
    return status == S.OFFERED


# --- claims ------------------------------------------------------------------------------------


class ClaimRefusal(StrEnum):
    """Why a claim or a decline is refused (SPEC 3): the machine-readable reason."""

    ALREADY_CLAIMED = "already_claimed"
    OFFER_EXPIRED = "offer_expired"
    NOT_OFFERED = "not_offered"


def claim_path(
    status: LeadStatus | str, offer: OfferStatus | str | None, *, board_eligible: bool
) -> OfferKind | None:
    """How a store claims: through its pending offer (routed), or from the board when the lead is
    open, was never offered to it and it meets the board rules; None when it may not claim."""
    if offer == OfferStatus.PENDING:
        return OfferKind.ROUTED
    if status == S.OPEN and offer is None and board_eligible:
        return OfferKind.BOARD
    return None


def claim_refusal(*, held: bool, offer: OfferStatus | str | None, offer_due: bool) -> ClaimRefusal:
    """The refusal a store gets: another store holds the lead, its offer expired, or it had none."""
    if held:
        return ClaimRefusal.ALREADY_CLAIMED
    if offer == OfferStatus.EXPIRED or (offer == OfferStatus.PENDING and offer_due):
        return ClaimRefusal.OFFER_EXPIRED
    return ClaimRefusal.NOT_OFFERED


# --- holder progress and withdrawal ------------------------------------------------------------


def progress_rank(stage: LeadStatus | str) -> int:
    """1 for accepted ... 5 for delivered; 0 for anything off the ladder (lost keeps its rank)."""
    return PROGRESS_LADDER.index(S(stage)) + 1 if stage in PROGRESS_LADDER else 0


def progress_steps(current: LeadStatus | str, target: LeadStatus | str) -> list[LeadStatus]:
    """Stages reached moving a held lead from current to target, skipped ones included, in order.

    Only forward along the ladder, or to `lost` from accepted up to ordered (the table's moves of
    a held lead); anything else (a return included: it has its own steps) raises
    InvalidTransition.
    """
    if (
        current not in LOSABLE
        or target == S.RETURNED
        or not may_move(current, target)
        or target in ROUTED
    ):
        raise InvalidTransition(current, target)
    if target == S.LOST:
        return [S.LOST]
    start, end = PROGRESS_LADDER.index(S(current)), PROGRESS_LADDER.index(S(target))
    return list(PROGRESS_LADDER[start + 1 : end + 1])


def can_withdraw(status: LeadStatus | str) -> bool:
    """The referrer may withdraw a lead only before any dealer accepted it."""
    return may_move(status, S.WITHDRAWN)


CORRECTABLE: frozenset[LeadStatus] = frozenset({S.NEEDS_LOCATION, S.UNROUTABLE, S.OPEN})
"""Where the referrer may still correct a lead's brand, model and location (issue 15)."""


class CorrectionRefusal(StrEnum):
    """Why a correction is refused: a store holds the lead, or it is offered or closed."""

    LEAD_HELD = "lead_held"
    NOT_CORRECTABLE = "not_correctable"


def correction_refusal(status: LeadStatus | str, *, held: bool) -> CorrectionRefusal | None:
    """None when the referrer may correct the lead now; else why not."""
    if held:
        return CorrectionRefusal.LEAD_HELD
    if status not in CORRECTABLE:
        return CorrectionRefusal.NOT_CORRECTABLE
    return None


def lost_note_missing(reason: str | None, note: object) -> bool:
    """`other` says nothing by itself: it needs the holder's note."""
    return reason == LostReason.OTHER and _is_blank(note)


def lost_without_contact(status: LeadStatus | str, rank: int) -> bool:
    """Lost before any contact was recorded (the audit's 主观战败): lost at `accepted`."""
    return status == S.LOST and rank == progress_rank(S.ACCEPTED)


UNDO_WINDOW_HOURS = 24
"""How long the holder may undo its last progress step."""

UNDOABLE_EVENTS: frozenset[str] = frozenset(
    {EventType.CONTACTED, EventType.VISITED, EventType.ORDERED, EventType.DELIVERED, EventType.LOST}
)
"""The events a progress step records (a claim is not progress: it cannot be undone)."""


def status_before_step(stages: list[LeadStatus], rank: int) -> LeadStatus:
    """The status a lead had before one progress step that recorded `stages` (skipped ones
    first): the ladder stage before the first, or for a loss the furthest stage reached."""
    if stages[-1] == S.LOST:
        return PROGRESS_LADDER[rank - 1]
    return PROGRESS_LADDER[PROGRESS_LADDER.index(stages[0]) - 1]


def missing_fields(
    target: LeadStatus, *, order_ref_recorded: bool, data: Mapping[str, object]
) -> list[str]:
    """Fields a move to target still lacks (absent, None or blank), in PROGRESS_REQUIREMENTS order.

    Only presence is checked here; a VIN's validity is for leadshare.leads.vin.
    """
    required = PROGRESS_REQUIREMENTS.get(target, ())
    if target == S.DELIVERED and order_ref_recorded:
        required = tuple(name for name in required if name != "order_ref")
    return [name for name in required if _is_blank(data.get(name))]


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
