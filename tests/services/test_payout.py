"""Payouts (SPEC 6): money leaves a dealer's reward account, never more than it holds."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from leadshare.errors import Conflict, Forbidden, Invalid
from leadshare.extensions import db
from leadshare.rewards.enums import AccountKind, EntryKind
from leadshare.rewards.models import LedgerAccount, LedgerEntry, LedgerPosting
from leadshare.rewards.payouts import pay_out

from .reward_world import accepted_lead, balance, build, ledger_total, program


@pytest.fixture
def world(make):
    return build(make)


@pytest.fixture
def earned(ctx, world):
    """The referrer earned 80.00 on one claimed lead."""
    program(world)
    accepted_lead(world)
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 8_000
    return world


def test_a_payout_moves_money_from_rewards_to_paid_out(earned):
    entry = pay_out(earned.user("admin"), earned.referrer.id, 5_000, "November")
    assert (entry.kind, entry.dealer_id, entry.memo) == (
        EntryKind.PAYOUT,
        earned.referrer.id,
        "November",
    )
    assert sorted(p.amount_minor for p in entry.postings) == [-5_000, 5_000]
    assert balance(AccountKind.DEALER_REWARDS, earned.referrer.id) == 3_000
    assert balance(AccountKind.PAID_OUT, earned.referrer.id) == 5_000


def test_a_payout_may_empty_the_balance_but_never_exceed_it(earned):
    admin = earned.user("admin")
    with pytest.raises(Conflict) as refused:
        pay_out(admin, earned.referrer.id, 8_001)
    assert refused.value.reason == "insufficient_balance"
    assert refused.value.extra["balance"] == "80.00"
    assert balance(AccountKind.DEALER_REWARDS, earned.referrer.id) == 8_000
    assert (
        db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.PAYOUT)) is None
    )
    pay_out(admin, earned.referrer.id, 8_000)
    assert balance(AccountKind.DEALER_REWARDS, earned.referrer.id) == 0
    with pytest.raises(Conflict):
        pay_out(admin, earned.referrer.id, 1)


def test_the_ledger_sums_to_zero_and_every_balance_is_its_postings(earned):
    pay_out(earned.user("admin"), earned.referrer.id, 2_500)
    assert ledger_total() == 0
    for account in db.session.scalars(select(LedgerAccount)):
        postings = db.session.scalar(
            select(func.coalesce(func.sum(LedgerPosting.amount_minor), 0)).where(
                LedgerPosting.account_id == account.id
            )
        )
        assert account.balance_minor == postings, account.key


def test_only_a_group_admin_of_the_dealers_group_pays_out(earned, make):
    with pytest.raises(Forbidden):
        pay_out(earned.user("holder"), earned.referrer.id, 1_000)
    other = build(make)
    with pytest.raises(Invalid) as refused:
        pay_out(other.user("admin"), earned.referrer.id, 1_000)
    assert refused.value.reason == "unknown_dealer"
    assert balance(AccountKind.DEALER_REWARDS, earned.referrer.id) == 8_000
