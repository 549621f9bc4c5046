"""The stored ledger: accounts made on first use, balanced entries posted, and reading both.

A posting moves its account's balance with an atomic UPDATE, so a concurrent change to an
unlocked account is never overwritten; a service that checks a balance locks the account first.
`account` and `post` run inside the caller's unit of work; the reads write nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.models import User
from ..auth.scope import ledger_view
from ..extensions import db
from ..leads.access import matching
from ..pagination import Page, paginate
from ..tenancy.models import Dealer, Group
from . import ledger
from .enums import AccountKind
from .ledger import JournalEntry, account_key
from .models import LedgerAccount, LedgerEntry, LedgerPosting, RewardProgram

DEALER_KINDS = (AccountKind.DEALER_REWARDS, AccountKind.PAID_OUT, AccountKind.DEALER_PENDING)


def account(
    group_id: int, kind: AccountKind, owner_id: int, *, lock: bool = False
) -> LedgerAccount:
    """The account, created on first use; `lock` holds its row until the transaction ends."""
    key = account_key(kind, owner_id)
    query = select(LedgerAccount).where(LedgerAccount.key == key)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = db.session.scalar(query)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            db.session.add(
                LedgerAccount(
                    group_id=group_id, kind=kind, owner_id=owner_id, key=key, balance_minor=0
                )
            )
    except IntegrityError:  # created by a concurrent transaction: use theirs
        pass
    return db.session.scalar(query)


def post(
    group_id: int, entry: JournalEntry, accounts: Iterable[LedgerAccount], **meta: Any
) -> LedgerEntry:
    """Store a balanced entry and move each account's balance by its posting."""
    by_key = {a.key: a for a in accounts}
    row = LedgerEntry(group_id=group_id, kind=entry.kind, memo=entry.memo or None, **meta)
    for posting in entry.postings:
        target = by_key[posting.account]
        row.postings.append(LedgerPosting(account_id=target.id, amount_minor=posting.amount_minor))
        # Atomic in the database; the loaded row learns the new value without writing it back,
        # so a concurrent change to an unlocked account (a payout) is never overwritten.
        balance = db.session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == target.id)
            .values(balance_minor=LedgerAccount.balance_minor + posting.amount_minor)
            .returning(LedgerAccount.balance_minor)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        set_committed_value(target, "balance_minor", balance)
    db.session.add(row)
    db.session.flush()
    return row


def journal_entry(row: LedgerEntry) -> JournalEntry:
    """The pure entry a stored one holds (to reverse it)."""
    return JournalEntry(
        row.kind,
        tuple(ledger.Posting(p.account.key, p.amount_minor) for p in row.postings),
        row.memo or "",
    )


# --- reading the ledger -------------------------------------------------------------------


def _scoped(actor: User, query: Select, model: Any) -> tuple[Select, list[str] | None]:
    """The query kept to the actor's group, and the account keys it may read (None: all)."""
    group_id, dealer_ids = ledger_view(actor)
    query = query.where(model.group_id == group_id)
    if dealer_ids is None:
        return query, None
    return query, [account_key(kind, d) for d in dealer_ids for kind in DEALER_KINDS]


def list_accounts(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    """Accounts and balances in the actor's ledger view, optionally of one kind."""
    query, keys = _scoped(actor, select(LedgerAccount).order_by(LedgerAccount.id), LedgerAccount)
    if keys is not None:
        query = query.where(LedgerAccount.key.in_(keys))
    if filters.get("kind"):
        query = query.where(LedgerAccount.kind == filters["kind"])
    return paginate(query, page, per_page)


def list_entries(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    """Journal entries in the actor's ledger view, newest first, filtered by kind, program, ..."""
    query, keys = _scoped(actor, select(LedgerEntry).order_by(LedgerEntry.id.desc()), LedgerEntry)
    if keys is not None:
        touching = (
            select(LedgerPosting.entry_id).join(LedgerAccount).where(LedgerAccount.key.in_(keys))
        )
        query = query.where(LedgerEntry.id.in_(touching))
    query = matching(query, LedgerEntry, filters, ("kind", "program_id", "dealer_id"))
    return paginate(query, page, per_page)


def account_owners(actor: User) -> dict[tuple[str, int], Group | RewardProgram | Dealer]:
    """(account kind, owner id) -> what owns it, for the accounts of the actor's group."""
    group_id, dealer_ids = ledger_view(actor)
    owners: dict[tuple[str, int], Group | RewardProgram | Dealer] = {}
    group = db.session.get(Group, group_id)
    if group is not None and dealer_ids is None:
        owners[(AccountKind.TREASURY, group.id)] = group
    if dealer_ids is None:
        for program in db.session.scalars(
            select(RewardProgram).where(RewardProgram.group_id == group_id)
        ):
            owners[(AccountKind.PROGRAM, program.id)] = program
    dealers = select(Dealer).where(Dealer.group_id == group_id).order_by(Dealer.code)
    if dealer_ids is not None:
        dealers = dealers.where(Dealer.id.in_(dealer_ids))
    for dealer in db.session.scalars(dealers):
        for kind in DEALER_KINDS:
            owners[(kind, dealer.id)] = dealer
    return owners
