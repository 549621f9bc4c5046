"""The rewards domain's vocabulary: reward events, account and entry kinds, skip reasons.

Stored as their string values; no other module spells these strings out.
"""

from __future__ import annotations

from enum import StrEnum


class RewardEvent(StrEnum):
    """A lead stage a program may reward; stored as its string value (`contacted` is not one)."""

    ACCEPTED = "accepted"
    VISITED = "visited"
    ORDERED = "ordered"
    DELIVERED = "delivered"


class AccountKind(StrEnum):
    """Kinds of account: one treasury per group, one per program, three per dealer.

    A dealer's credits wait in `dealer_pending` for the program's hold, then move to
    `dealer_rewards` (the available money a payout draws on).
    """

    TREASURY = "treasury"
    PROGRAM = "program"
    DEALER_REWARDS = "dealer_rewards"
    PAID_OUT = "paid_out"
    DEALER_PENDING = "dealer_pending"


class EntryKind(StrEnum):
    """Kinds of journal entry: treasury to program, program to dealer, its undoing, dealer out,
    and a held credit's release from pending to available."""

    FUNDING = "funding"
    CREDIT = "credit"
    REVERSAL = "reversal"
    PAYOUT = "payout"
    RELEASE = "release"


class SkipReason(StrEnum):
    """Why a credit due was not made (recorded and shown to group admins)."""

    BUDGET_EXHAUSTED = "budget_exhausted"
    DEALER_CAP_REACHED = "dealer_cap_reached"


class AlertKind(StrEnum):
    """Why a program's group admins are told: budget below `alert_below`, a credit skipped."""

    BUDGET_LOW = "budget_low"
    CREDIT_SKIPPED = "credit_skipped"
