"""Held credits in the pure ledger: release dates, release and reversal postings, budget alerts,
and any sequence of held credits, releases, reversals and payouts summing to zero."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadshare.rewards.enums import AccountKind, EntryKind
from leadshare.rewards.ledger import (
    JournalEntry,
    Posting,
    account_key,
    account_kind,
    balances,
    credit,
    crossed_below,
    funding,
    held_until,
    is_balanced,
    payout,
    release,
    release_due,
    reversal,
)

TREASURY = account_key(AccountKind.TREASURY, 3)
PROGRAM = account_key(AccountKind.PROGRAM, 7)
PENDING = account_key(AccountKind.DEALER_PENDING, 12)
AVAILABLE = account_key(AccountKind.DEALER_REWARDS, 12)
CREDITED_AT = datetime(2026, 11, 30, 23, 30)


def test_a_credit_is_held_for_the_programs_days_to_the_second():
    assert held_until(CREDITED_AT, 30) == datetime(2026, 12, 30, 23, 30)
    assert held_until(CREDITED_AT, 1) == datetime(2026, 12, 1, 23, 30)
    assert held_until(datetime(2028, 2, 1, 8, 0, 5), 29) == datetime(2028, 3, 1, 8, 0, 5)


def test_a_program_without_a_hold_makes_credits_available_at_once():
    assert held_until(CREDITED_AT, 0) is None
    assert not release_due(None, CREDITED_AT + timedelta(days=999))


@pytest.mark.parametrize("days", [-1, 1.5, True, "30", None])
def test_a_hold_is_a_whole_number_of_days(days):
    with pytest.raises(ValueError, match="whole number of days"):
        held_until(CREDITED_AT, days)


def test_a_hold_is_over_at_its_end_and_not_a_second_before():
    end = held_until(CREDITED_AT, 30)
    assert not release_due(end, end - timedelta(seconds=1))
    assert release_due(end, end)
    assert release_due(end, end + timedelta(days=3))


def test_a_held_credit_goes_to_pending_and_its_release_moves_it_to_available():
    held = credit(PROGRAM, PENDING, 8_000)
    assert held.postings == (Posting(PROGRAM, -8_000), Posting(PENDING, 8_000))
    released = release(PENDING, AVAILABLE, 8_000)
    assert released.kind == EntryKind.RELEASE
    assert released.postings == (Posting(PENDING, -8_000), Posting(AVAILABLE, 8_000))
    assert balances([held, released]) == {PROGRAM: -8_000, PENDING: 0, AVAILABLE: 8_000}


def test_a_release_moves_only_pending_money_to_available_money():
    with pytest.raises(ValueError, match="dealer_pending"):
        release(AVAILABLE, PENDING, 100)
    with pytest.raises(ValueError, match="dealer_rewards"):
        release(PENDING, PROGRAM, 100)
    with pytest.raises(ValueError, match="positive"):
        release(PENDING, AVAILABLE, 0)


def test_a_credit_goes_only_to_a_dealers_pending_or_available_account():
    with pytest.raises(ValueError, match="dealer_pending or dealer_rewards"):
        credit(PROGRAM, account_key(AccountKind.PAID_OUT, 12), 100)


def test_reversing_a_pending_credit_cancels_it_without_touching_available_money():
    held = credit(PROGRAM, PENDING, 8_000)
    undone = reversal(held)
    assert undone.postings == (Posting(PROGRAM, 8_000), Posting(PENDING, -8_000))
    assert balances([held, undone]) == {PROGRAM: 0, PENDING: 0}


def test_reversing_a_released_credit_debits_the_available_money():
    held = credit(PROGRAM, PENDING, 8_000)
    released = release(PENDING, AVAILABLE, 8_000)
    undone = reversal(held, released_to=AVAILABLE)
    assert undone.postings == (Posting(PROGRAM, 8_000), Posting(AVAILABLE, -8_000))
    assert balances([held, released, undone]) == {PROGRAM: 0, PENDING: 0, AVAILABLE: 0}


def test_a_released_credit_is_debited_only_from_a_reward_account():
    with pytest.raises(ValueError, match="reward account"):
        reversal(credit(PROGRAM, PENDING, 100), released_to=PROGRAM)


def test_a_credit_made_available_at_once_reverses_as_before():
    direct = credit(PROGRAM, AVAILABLE, 5_000)
    assert reversal(direct).postings == (Posting(PROGRAM, 5_000), Posting(AVAILABLE, -5_000))
    assert reversal(direct, released_to=AVAILABLE).postings == reversal(direct).postings


def test_the_budget_alert_tells_once_when_the_remaining_budget_falls_below_it():
    assert crossed_below(60_000, 40_000, 50_000)
    assert crossed_below(50_000, 49_999, 50_000)
    assert not crossed_below(40_000, 30_000, 50_000)  # already below: told before
    assert not crossed_below(80_000, 50_000, 50_000)  # at the line is not below it
    assert not crossed_below(60_000, 0, None)  # no alert amount set


@dataclass
class Held:
    """A credit the model made: its entry, whether the sweep released it."""

    entry: JournalEntry
    pending: str
    available: str
    released: bool = False


@dataclass
class Books:
    entries: list[JournalEntry] = field(default_factory=list)
    live: list[Held] = field(default_factory=list)
    funded: int = 0
    paid: int = 0


amounts = st.integers(min_value=1, max_value=10**9)
operations = st.lists(
    st.tuples(
        st.sampled_from(
            ["funding", "held_credit", "direct_credit", "release", "reversal", "payout"]
        ),
        st.integers(min_value=1, max_value=3),  # program or dealer id
        amounts,
        st.integers(min_value=0, max_value=10**6),  # which earlier credit to release or reverse
    ),
    max_size=80,
)


def _step(books: Books, kind: str, owner: int, amount: int, pick: int) -> JournalEntry | None:
    """The entry one operation posts, or None when the operation does not apply now."""
    program = account_key(AccountKind.PROGRAM, owner)
    pending = account_key(AccountKind.DEALER_PENDING, owner)
    available = account_key(AccountKind.DEALER_REWARDS, owner)
    current = balances(books.entries)
    if kind == "funding":
        books.funded += amount
        return funding(program, TREASURY, amount)
    if kind in ("held_credit", "direct_credit"):
        if current.get(program, 0) < amount:
            return None
        target = pending if kind == "held_credit" else available
        entry = credit(program, target, amount)
        books.live.append(Held(entry, pending, available, released=target == available))
        return entry
    if kind == "payout":
        amount = min(amount, current.get(available, 0))
        if amount <= 0:
            return None
        books.paid += amount
        return payout(available, account_key(AccountKind.PAID_OUT, owner), amount)
    if not books.live:
        return None
    if kind == "release":
        waiting = [held for held in books.live if not held.released]
        if not waiting:
            return None
        held = waiting[pick % len(waiting)]
        held.released = True
        return release(held.pending, held.available, held.entry.postings[1].amount_minor)
    held = books.live.pop(pick % len(books.live))
    return reversal(held.entry, released_to=held.available if held.released else None)


@given(operations)
def test_held_credits_releases_and_reversals_keep_every_entry_and_the_ledger_at_zero(
    ops: list[tuple[str, int, int, int]],
) -> None:
    books = Books()
    for op in ops:
        entry = _step(books, *op)
        if entry is None:
            continue
        assert sum(p.amount_minor for p in entry.postings) == 0
        books.entries.append(entry)
        totals = balances(books.entries)
        assert is_balanced(books.entries) and sum(totals.values()) == 0
        # Pending money is only ever what live, unreleased credits hold: never below zero.
        for key, balance in totals.items():
            if account_kind(key) in (AccountKind.PROGRAM, AccountKind.DEALER_PENDING):
                assert balance >= 0, key

    totals = balances(books.entries)
    by_kind = dict.fromkeys(AccountKind, 0)
    for key, balance in totals.items():
        by_kind[account_kind(key)] += balance
    held = sum(h.entry.postings[1].amount_minor for h in books.live if not h.released)
    released = sum(h.entry.postings[1].amount_minor for h in books.live if h.released)
    assert by_kind[AccountKind.TREASURY] == -books.funded
    assert by_kind[AccountKind.DEALER_PENDING] == held
    assert by_kind[AccountKind.DEALER_REWARDS] == released - books.paid
    assert by_kind[AccountKind.PROGRAM] == books.funded - held - released
    assert by_kind[AccountKind.PAID_OUT] == books.paid
