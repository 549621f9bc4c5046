"""Payouts: money leaves a dealer's reward account for its paid-out account, never more than held.

A payout draws only on the available money (the reward account), never on credits still held
in the pending account. The reward account's row is locked before its balance is checked, so
two payouts at once can never take more than the dealer holds.
"""

from __future__ import annotations

from ..auth.models import User
from ..auth.scope import is_group_admin_of
from ..errors import Conflict, Forbidden, Invalid
from ..extensions import db
from ..tenancy.models import Dealer
from ..uow import transactional
from ..vocabulary import Role
from . import ledger
from .books import account, post
from .enums import AccountKind
from .models import LedgerEntry
from .money import format_amount


@transactional
def pay_out(actor: User, dealer_id: int, amount_minor: int, memo: str | None = None) -> LedgerEntry:
    """Pay a dealer of the actor's group out of its available balance; 409 when it holds less."""
    dealer = db.session.get(Dealer, dealer_id)
    if dealer is None or not is_group_admin_of(actor, dealer.group_id):
        if actor.role not in (Role.GROUP_ADMIN, Role.PLATFORM_ADMIN):
            raise Forbidden("Only a group admin may pay out rewards.", reason="role_not_allowed")
        raise Invalid("dealer_id", "No such dealer.", reason="unknown_dealer")
    source = account(dealer.group_id, AccountKind.DEALER_REWARDS, dealer.id, lock=True)
    if source.balance_minor < amount_minor:
        pending = account(dealer.group_id, AccountKind.DEALER_PENDING, dealer.id)
        raise Conflict(
            "The dealer's available balance is smaller than this payout"
            " (credits still on hold cannot be paid out).",
            reason="insufficient_balance",
            balance=format_amount(source.balance_minor),
            pending=format_amount(pending.balance_minor),
        )
    target = account(dealer.group_id, AccountKind.PAID_OUT, dealer.id)
    entry = ledger.payout(
        source.key, target.key, amount_minor, memo=memo or f"payout {dealer.code}"
    )
    return post(dealer.group_id, entry, [source, target], dealer_id=dealer.id, actor_id=actor.id)
