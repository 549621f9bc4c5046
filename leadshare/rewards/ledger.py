"""A double-entry ledger: every journal entry balances to zero, so the whole ledger does too.

Sign convention: a posting's amount is added to its account's balance, so a transfer of X from
A to B is the postings (A, -X) and (B, +X). The treasury goes negative by what the group has
committed to programs; program, dealer reward and paid-out accounts hold positive balances.
A held credit goes to the dealer's pending account and is released to its available (reward)
account by a transfer; a reversal undoes it from wherever the money is at the time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from leadshare.rewards.enums import AccountKind, EntryKind, RewardEvent, SkipReason


class UnbalancedEntry(ValueError):
    """A journal entry whose postings do not sum to zero, are fewer than two, or include a zero."""


@dataclass(frozen=True)
class Posting:
    """One line of an entry: `amount_minor` is added to the balance of `account`."""

    account: str
    amount_minor: int


@dataclass(frozen=True)
class JournalEntry:
    """Postings that move money between accounts: at least two, none zero, summing to zero."""

    kind: str
    postings: tuple[Posting, ...]
    memo: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "postings", tuple(self.postings))
        for posting in self.postings:
            if isinstance(posting.amount_minor, bool) or not isinstance(posting.amount_minor, int):
                raise TypeError(f"posting amounts are int minor units: {posting!r}")
        if len(self.postings) < 2:
            raise UnbalancedEntry(f"a {self.kind} entry needs at least two postings")
        if any(posting.amount_minor == 0 for posting in self.postings):
            raise UnbalancedEntry(f"a {self.kind} entry has a zero posting")
        total = sum(posting.amount_minor for posting in self.postings)
        if total != 0:
            raise UnbalancedEntry(f"a {self.kind} entry's postings sum to {total}, not zero")


def account_key(kind: AccountKind, owner_id: int) -> str:
    """The key of an account: its kind and its owner's id, e.g. `program:7`, `paid_out:12`."""
    return f"{AccountKind(kind)}:{owner_id}"


def account_kind(key: str) -> AccountKind:
    """The kind of account a key names; ValueError for a key account_key would not produce."""
    kind, separator, owner = key.partition(":")
    if not separator or not owner.isdecimal():
        raise ValueError(f"{key!r} is not an account key like 'program:7'")
    return AccountKind(kind)


def funding(
    program_account: str, treasury_account: str, amount_minor: int, *, memo: str = ""
) -> JournalEntry:
    """A program's budget moves from the group's treasury to the program's account."""
    return _transfer(
        EntryKind.FUNDING,
        source=(treasury_account, AccountKind.TREASURY),
        target=(program_account, AccountKind.PROGRAM),
        amount_minor=amount_minor,
        memo=memo,
    )


def credit(
    program_account: str, dealer_account: str, amount_minor: int, *, memo: str = ""
) -> JournalEntry:
    """A reward moves from the program's account to the referrer's pending account (held) or
    straight to its reward account (a program without a hold)."""
    return _transfer(
        EntryKind.CREDIT,
        source=(program_account, AccountKind.PROGRAM),
        target=(dealer_account, (AccountKind.DEALER_PENDING, AccountKind.DEALER_REWARDS)),
        amount_minor=amount_minor,
        memo=memo,
    )


def release(
    pending_account: str, available_account: str, amount_minor: int, *, memo: str = ""
) -> JournalEntry:
    """A held credit's hold is over: its amount moves from pending to available money."""
    return _transfer(
        EntryKind.RELEASE,
        source=(pending_account, AccountKind.DEALER_PENDING),
        target=(available_account, AccountKind.DEALER_REWARDS),
        amount_minor=amount_minor,
        memo=memo,
    )


def reversal(of: JournalEntry, *, memo: str = "", released_to: str | None = None) -> JournalEntry:
    """A credit is undone by a new entry negating each of its postings, never by an edit.

    A held credit still pending is cancelled (its pending money goes back to the program); one
    already released (`released_to`, the dealer's available account) is debited from there.
    """
    if of.kind != EntryKind.CREDIT:
        raise ValueError(f"only a credit can be reversed, not a {of.kind} entry")
    if released_to is not None and account_kind(released_to) != AccountKind.DEALER_REWARDS:
        raise ValueError(f"a released credit is debited from a reward account, not {released_to!r}")
    postings = tuple(
        Posting(
            released_to
            if released_to is not None and account_kind(p.account) == AccountKind.DEALER_PENDING
            else p.account,
            -p.amount_minor,
        )
        for p in of.postings
    )
    return JournalEntry(EntryKind.REVERSAL, postings, memo)


def held_until(credited_at: datetime, hold_days: int) -> datetime | None:
    """When a credit made at `credited_at` becomes available: `hold_days` whole days later, to the
    second; None for a program without a hold (the credit is available at once)."""
    if isinstance(hold_days, bool) or not isinstance(hold_days, int) or hold_days < 0:
        raise ValueError(f"a hold is a whole number of days, 0 or more, not {hold_days!r}")
    return None if hold_days == 0 else credited_at + timedelta(days=hold_days)


def retail_deadline(
    credited_at: datetime, event: str, deadline_days: int | None
) -> datetime | None:
    """When a credit is reversed unless its delivery is confirmed first: only a `delivered`
    credit of a program requiring retail confirmation (`deadline_days` given) has a deadline."""
    if deadline_days is None or event != RewardEvent.DELIVERED:
        return None
    return credited_at + timedelta(days=deadline_days)


def release_due(held: datetime | None, now: datetime) -> bool:
    """A held credit is released once its hold is over (at `held` exactly, or later)."""
    return held is not None and held <= now


def crossed_below(before_minor: int, after_minor: int, alert_below_minor: int | None) -> bool:
    """A program's remaining budget has just fallen below its alert amount (told once a fall)."""
    return (
        alert_below_minor is not None
        and before_minor >= alert_below_minor
        and after_minor < alert_below_minor
    )


def payout(
    dealer_account: str, paid_out_account: str, amount_minor: int, *, memo: str = ""
) -> JournalEntry:
    """A payout moves money from the dealer's reward account to its paid-out account."""
    return _transfer(
        EntryKind.PAYOUT,
        source=(dealer_account, AccountKind.DEALER_REWARDS),
        target=(paid_out_account, AccountKind.PAID_OUT),
        amount_minor=amount_minor,
        memo=memo,
    )


def balances(entries: Iterable[JournalEntry]) -> dict[str, int]:
    """Each account's balance: the sum of its postings (accounts netting to zero included)."""
    totals: dict[str, int] = {}
    for entry in entries:
        for posting in entry.postings:
            totals[posting.account] = totals.get(posting.account, 0) + posting.amount_minor
    return totals


def is_balanced(entries: Iterable[JournalEntry]) -> bool:
    """The whole ledger balances: all postings of all entries sum to zero."""
    return sum(posting.amount_minor for entry in entries for posting in entry.postings) == 0


def credit_decision(
    *,
    amount_minor: int,
    program_balance_minor: int,
    dealer_month_credited_minor: int,
    per_dealer_monthly_cap_minor: int | None,
) -> SkipReason | None:
    """None when a credit can be made in full, else why it is skipped (budget checked first).

    Never partial: the program's balance must cover the whole amount, and with a cap set the
    dealer's credits this month plus this amount must not exceed it.
    """
    if amount_minor <= 0:
        raise ValueError(f"a credit is a positive amount, not {amount_minor}")
    if program_balance_minor < amount_minor:
        return SkipReason.BUDGET_EXHAUSTED
    if (
        per_dealer_monthly_cap_minor is not None
        and dealer_month_credited_minor + amount_minor > per_dealer_monthly_cap_minor
    ):
        return SkipReason.DEALER_CAP_REACHED
    return None


def _transfer(
    kind: EntryKind,
    *,
    source: tuple[str, AccountKind],
    target: tuple[str, AccountKind | tuple[AccountKind, ...]],
    amount_minor: int,
    memo: str,
) -> JournalEntry:
    for account, expected in (source, target):
        allowed = expected if isinstance(expected, tuple) else (expected,)
        if account_kind(account) not in allowed:
            names = " or ".join(str(allowed_kind) for allowed_kind in allowed)
            raise ValueError(f"a {kind} entry needs a {names} account here, not {account!r}")
    if amount_minor <= 0:
        raise ValueError(f"a {kind} moves a positive amount, not {amount_minor}")
    return JournalEntry(
        kind, (Posting(source[0], -amount_minor), Posting(target[0], amount_minor)), memo
    )
