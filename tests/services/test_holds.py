"""Held credits (issue 17 item 2): pending for the program's hold, released by the sweep, paid out
only once available; a reversal cancels a pending credit or debits a released one."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadshare.clock import utcnow
from leadshare.errors import Conflict
from leadshare.extensions import db
from leadshare.rewards import credits, programs
from leadshare.rewards.enums import AccountKind, EntryKind
from leadshare.rewards.holds import release_due_credits
from leadshare.rewards.models import LedgerEntry, RewardCredit
from leadshare.rewards.payouts import pay_out
from leadshare.worker import run_worker

from .reward_world import accepted_lead, balance, build, ledger_total, program

CLAIMED_AT = utcnow().replace(microsecond=0) - timedelta(days=2)


@pytest.fixture
def world(ctx, make):
    world = build(make)
    program(world, hold_days=30)
    return world


def _credit() -> RewardCredit:
    return db.session.scalar(select(RewardCredit))


def _entries(kind: EntryKind) -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == kind)))


def test_a_held_credit_is_pending_until_its_hold_is_over(world):
    lead = accepted_lead(world, at=CLAIMED_AT)
    credit = _credit()
    assert credit.held_until == CLAIMED_AT + timedelta(days=30) and credit.is_pending
    assert balance(AccountKind.DEALER_PENDING, world.referrer.id) == 8_000
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 0
    assert release_due_credits(credit.held_until - timedelta(seconds=1)) == 0
    assert _credit().is_pending and lead.public_id


def test_the_sweep_releases_a_credit_once_and_again_releases_nothing(world):
    accepted_lead(world, at=CLAIMED_AT)
    due = _credit().held_until
    assert release_due_credits(due) == 1
    assert release_due_credits(due + timedelta(days=1)) == 0
    credit = _credit()
    assert not credit.is_pending and credit.release_entry_id is not None
    [released] = _entries(EntryKind.RELEASE)
    assert released.id == credit.release_entry_id and released.created_at == due
    assert sorted((p.account.kind, p.amount_minor) for p in released.postings) == [
        (AccountKind.DEALER_PENDING, -8_000),
        (AccountKind.DEALER_REWARDS, 8_000),
    ]
    assert balance(AccountKind.DEALER_PENDING, world.referrer.id) == 0
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 8_000
    assert ledger_total() == 0


def test_a_payout_draws_only_on_available_money(world):
    accepted_lead(world, at=CLAIMED_AT)
    admin = world.user("admin")
    with pytest.raises(Conflict) as refused:
        pay_out(admin, world.referrer.id, 1)
    assert refused.value.reason == "insufficient_balance"
    assert refused.value.extra == {"balance": "0.00", "pending": "80.00"}
    release_due_credits(_credit().held_until)
    pay_out(admin, world.referrer.id, 8_000)
    assert balance(AccountKind.PAID_OUT, world.referrer.id) == 8_000


def test_reversing_a_pending_credit_cancels_it_and_leaves_no_negative_balance(world):
    lead = accepted_lead(world, at=CLAIMED_AT)
    credits.void_lead(world.user("admin"), lead.public_id, "刷单")
    credit = _credit()
    assert credit.reversal_entry_id is not None and not credit.is_pending
    assert balance(AccountKind.DEALER_PENDING, world.referrer.id) == 0
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 0
    [reversal] = _entries(EntryKind.REVERSAL)
    assert {p.account.kind for p in reversal.postings} == {
        AccountKind.PROGRAM,
        AccountKind.DEALER_PENDING,
    }
    assert release_due_credits(credit.held_until) == 0  # a cancelled credit is never released
    assert _entries(EntryKind.RELEASE) == [] and ledger_total() == 0


def test_reversing_a_released_credit_is_a_debit_of_available_money(world):
    lead = accepted_lead(world, at=CLAIMED_AT)
    release_due_credits(_credit().held_until)
    pay_out(world.user("admin"), world.referrer.id, 8_000)
    credits.void_lead(world.user("admin"), lead.public_id, "刷单")
    [reversal] = _entries(EntryKind.REVERSAL)
    assert {p.account.kind for p in reversal.postings} == {
        AccountKind.PROGRAM,
        AccountKind.DEALER_REWARDS,
    }
    assert balance(AccountKind.DEALER_PENDING, world.referrer.id) == 0
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == -8_000  # owed back
    assert ledger_total() == 0


def test_a_program_without_a_hold_credits_available_money_at_once(ctx, make):
    world = build(make)
    program(world, hold_days=0)
    accepted_lead(world)
    assert _credit().held_until is None and not _credit().is_pending
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 8_000
    assert balance(AccountKind.DEALER_PENDING, world.referrer.id) == 0


def test_a_new_hold_applies_to_later_credits_only(world):
    accepted_lead(world, at=CLAIMED_AT)
    first = _credit().held_until
    programs.update_program(world.user("admin"), _credit().program_id, {"hold_days": 7})
    accepted_lead(world, n=1, at=CLAIMED_AT)
    held = sorted(c.held_until for c in db.session.scalars(select(RewardCredit)))
    assert held == [CLAIMED_AT + timedelta(days=7), first]


def test_the_workers_sweep_releases_due_credits(world, settings):
    accepted_lead(world, at=utcnow() - timedelta(days=31))
    report = run_worker(threading.Event(), settings.notify, rounds=1)
    assert report.released == 1
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 8_000
