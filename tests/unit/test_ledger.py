"""The double-entry ledger: balanced entries, reversals that net to zero, all-or-nothing credits."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadshare.rewards.enums import AccountKind, EntryKind, SkipReason
from leadshare.rewards.ledger import (
    JournalEntry,
    Posting,
    UnbalancedEntry,
    account_key,
    account_kind,
    balances,
    credit,
    credit_decision,
    funding,
    is_balanced,
    payout,
    reversal,
)

TREASURY = account_key(AccountKind.TREASURY, 3)
PROGRAM = account_key(AccountKind.PROGRAM, 7)
DEALER = account_key(AccountKind.DEALER_REWARDS, 12)
PAID_OUT = account_key(AccountKind.PAID_OUT, 12)


def total(entry: JournalEntry) -> int:
    return sum(posting.amount_minor for posting in entry.postings)


def test_account_keys_name_kind_and_owner() -> None:
    assert (TREASURY, PROGRAM, DEALER, PAID_OUT) == (
        "treasury:3",
        "program:7",
        "dealer_rewards:12",
        "paid_out:12",
    )
    assert account_kind("dealer_rewards:12") is AccountKind.DEALER_REWARDS


@pytest.mark.parametrize("key", ["program", "program:", "program:x", "bank:1", ":7"])
def test_account_kind_refuses_malformed_keys(key: str) -> None:
    with pytest.raises(ValueError):
        account_kind(key)


def test_funding_moves_budget_from_treasury_to_program() -> None:
    entry = funding(PROGRAM, TREASURY, 500_000)
    assert entry.kind == EntryKind.FUNDING
    assert entry.postings == (Posting(TREASURY, -500_000), Posting(PROGRAM, 500_000))
    assert total(entry) == 0


def test_credit_moves_reward_from_program_to_dealer() -> None:
    entry = credit(PROGRAM, DEALER, 20_000, memo="lead 5 accepted")
    assert entry.kind == EntryKind.CREDIT
    assert entry.postings == (Posting(PROGRAM, -20_000), Posting(DEALER, 20_000))
    assert entry.memo == "lead 5 accepted"
    assert total(entry) == 0


def test_payout_moves_money_from_dealer_to_paid_out() -> None:
    entry = payout(DEALER, PAID_OUT, 15_000)
    assert entry.kind == EntryKind.PAYOUT
    assert entry.postings == (Posting(DEALER, -15_000), Posting(PAID_OUT, 15_000))
    assert total(entry) == 0


def test_reversal_of_a_credit_negates_it_and_nets_to_zero() -> None:
    original = credit(PROGRAM, DEALER, 20_000)
    undo = reversal(original, memo="lead 5 voided")
    assert undo.kind == EntryKind.REVERSAL
    assert undo.postings == (Posting(PROGRAM, 20_000), Posting(DEALER, -20_000))
    assert total(undo) == 0
    assert balances([original, undo]) == {PROGRAM: 0, DEALER: 0}


@pytest.mark.parametrize(
    "entry",
    [funding(PROGRAM, TREASURY, 1), payout(DEALER, PAID_OUT, 1)],
)
def test_only_a_credit_can_be_reversed(entry: JournalEntry) -> None:
    with pytest.raises(ValueError, match="only a credit"):
        reversal(entry)
    with pytest.raises(ValueError, match="only a credit"):
        reversal(reversal(credit(PROGRAM, DEALER, 1)))


@pytest.mark.parametrize(
    "postings",
    [
        (Posting(PROGRAM, -100), Posting(DEALER, 99)),
        (Posting(PROGRAM, 100),),
        (),
        (Posting(PROGRAM, -100), Posting(DEALER, 100), Posting(TREASURY, 0)),
        (Posting(PROGRAM, 0), Posting(DEALER, 0)),
    ],
)
def test_unbalanced_single_or_zero_postings_are_refused(postings: tuple[Posting, ...]) -> None:
    with pytest.raises(UnbalancedEntry):
        JournalEntry(EntryKind.CREDIT, postings)


def test_an_entry_may_have_more_than_two_balanced_postings() -> None:
    entry = JournalEntry(
        "split",
        (Posting(PROGRAM, -300), Posting(DEALER, 200), Posting("dealer_rewards:13", 100)),
    )
    assert total(entry) == 0


def test_posting_amounts_are_int_minor_units() -> None:
    with pytest.raises(TypeError):
        JournalEntry(EntryKind.CREDIT, (Posting(PROGRAM, -1.5), Posting(DEALER, 1.5)))  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [0, -100])
def test_constructors_move_positive_amounts_only(amount: int) -> None:
    with pytest.raises(ValueError):
        funding(PROGRAM, TREASURY, amount)
    with pytest.raises(ValueError):
        credit(PROGRAM, DEALER, amount)
    with pytest.raises(ValueError):
        payout(DEALER, PAID_OUT, amount)


def test_constructors_refuse_accounts_of_the_wrong_kind() -> None:
    with pytest.raises(ValueError, match="treasury"):
        funding(TREASURY, PROGRAM, 100)  # arguments swapped
    with pytest.raises(ValueError, match="dealer_rewards"):
        credit(PROGRAM, PAID_OUT, 100)
    with pytest.raises(ValueError, match="paid_out"):
        payout(DEALER, PROGRAM, 100)


def test_reversing_a_paid_out_credit_leaves_the_dealer_owing_it() -> None:
    original = credit(PROGRAM, DEALER, 20_000)
    entries = [
        funding(PROGRAM, TREASURY, 20_000),
        original,
        payout(DEALER, PAID_OUT, 20_000),
        reversal(original),
    ]
    assert balances(entries) == {
        TREASURY: -20_000,
        PROGRAM: 20_000,
        DEALER: -20_000,
        PAID_OUT: 20_000,
    }
    assert is_balanced(entries)


def test_balances_sum_postings_per_account() -> None:
    entries = [
        funding(PROGRAM, TREASURY, 100_000),
        credit(PROGRAM, DEALER, 20_000),
        credit(PROGRAM, DEALER, 5_000),
        payout(DEALER, PAID_OUT, 20_000),
    ]
    assert balances(entries) == {
        TREASURY: -100_000,
        PROGRAM: 75_000,
        DEALER: 5_000,
        PAID_OUT: 20_000,
    }
    assert is_balanced(entries)
    assert balances([]) == {}
    assert is_balanced([])


def test_credit_is_made_when_the_budget_fits_exactly() -> None:
    assert (
        credit_decision(
            amount_minor=20_000,
            program_balance_minor=20_000,
            dealer_month_credited_minor=0,
            per_dealer_monthly_cap_minor=None,
        )
        is None
    )


def test_credit_is_skipped_when_the_budget_is_one_fen_short() -> None:
    assert (
        credit_decision(
            amount_minor=20_000,
            program_balance_minor=19_999,
            dealer_month_credited_minor=0,
            per_dealer_monthly_cap_minor=None,
        )
        is SkipReason.BUDGET_EXHAUSTED
    )


def test_credit_that_exactly_reaches_the_cap_is_made() -> None:
    assert (
        credit_decision(
            amount_minor=20_000,
            program_balance_minor=1_000_000,
            dealer_month_credited_minor=80_000,
            per_dealer_monthly_cap_minor=100_000,
        )
        is None
    )


def test_credit_that_would_exceed_the_cap_is_skipped() -> None:
    assert (
        credit_decision(
            amount_minor=20_000,
            program_balance_minor=1_000_000,
            dealer_month_credited_minor=80_001,
            per_dealer_monthly_cap_minor=100_000,
        )
        is SkipReason.DEALER_CAP_REACHED
    )


def test_without_a_cap_only_the_budget_limits_credits() -> None:
    assert (
        credit_decision(
            amount_minor=20_000,
            program_balance_minor=20_000,
            dealer_month_credited_minor=10**12,
            per_dealer_monthly_cap_minor=None,
        )
        is None
    )


def test_budget_is_checked_before_the_cap() -> None:
    assert (
        credit_decision(
            amount_minor=20_000,
            program_balance_minor=0,
            dealer_month_credited_minor=100_000,
            per_dealer_monthly_cap_minor=100_000,
        )
        is SkipReason.BUDGET_EXHAUSTED
    )


def test_credit_decision_refuses_a_non_positive_amount() -> None:
    with pytest.raises(ValueError):
        credit_decision(
            amount_minor=0,
            program_balance_minor=100,
            dealer_month_credited_minor=0,
            per_dealer_monthly_cap_minor=None,
        )


@dataclass
class Books:
    entries: list[JournalEntry] = field(default_factory=list)
    credits: list[JournalEntry] = field(default_factory=list)
    credited_by_dealer: dict[str, int] = field(default_factory=dict)
    funded: int = 0
    credited: int = 0
    paid: int = 0


amounts = st.integers(min_value=1, max_value=10**9)
operations = st.lists(
    st.tuples(
        st.sampled_from(["funding", "credit", "reversal", "payout"]),
        st.integers(min_value=1, max_value=3),  # program or dealer id
        amounts,
        st.integers(min_value=0, max_value=10**6),  # which earlier credit to reverse
    ),
    max_size=60,
)


@given(operations, st.one_of(st.none(), amounts))
def test_any_sequence_of_entries_keeps_the_whole_ledger_at_zero(
    ops: list[tuple[str, int, int, int]], cap: int | None
) -> None:
    books = Books()
    for kind, owner, amount, pick in ops:
        program = account_key(AccountKind.PROGRAM, owner)
        dealer = account_key(AccountKind.DEALER_REWARDS, owner)
        current = balances(books.entries)
        if kind == "funding":
            entry = funding(program, TREASURY, amount)
            books.funded += amount
        elif kind == "credit":
            if credit_decision(
                amount_minor=amount,
                program_balance_minor=current.get(program, 0),
                dealer_month_credited_minor=books.credited_by_dealer.get(dealer, 0),
                per_dealer_monthly_cap_minor=cap,
            ):
                continue
            entry = credit(program, dealer, amount)
            books.credits.append(entry)
            books.credited += amount
            books.credited_by_dealer[dealer] = books.credited_by_dealer.get(dealer, 0) + amount
        elif kind == "reversal":
            if not books.credits:
                continue
            original = books.credits.pop(pick % len(books.credits))
            entry = reversal(original)
            books.credited -= original.postings[1].amount_minor
        else:
            available = current.get(dealer, 0)
            if available <= 0:
                continue
            amount = min(amount, available)
            entry = payout(dealer, account_key(AccountKind.PAID_OUT, owner), amount)
            books.paid += amount
        books.entries.append(entry)

        totals = balances(books.entries)
        assert is_balanced(books.entries)
        assert sum(totals.values()) == 0
        assert totals.get(TREASURY, 0) == -books.funded
        # Credits go through credit_decision, so no program overspends; a dealer's account may
        # go negative when a credit already paid out is reversed (the dealer owes it back).
        assert all(
            balance >= 0
            for key, balance in totals.items()
            if account_kind(key) in (AccountKind.PROGRAM, AccountKind.PAID_OUT)
        )

    totals = balances(books.entries)
    by_kind = {kind: 0 for kind in AccountKind}
    for key, balance in totals.items():
        by_kind[account_kind(key)] += balance
    assert by_kind[AccountKind.PROGRAM] == books.funded - books.credited
    assert by_kind[AccountKind.DEALER_REWARDS] == books.credited - books.paid
    assert by_kind[AccountKind.PAID_OUT] == books.paid
