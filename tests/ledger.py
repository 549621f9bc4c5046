"""The ledger's invariants, asserted over a whole database (inside an app context)."""

from __future__ import annotations

from sqlalchemy import func, select

from leadshare.extensions import db
from leadshare.rewards.models import LedgerAccount, LedgerPosting


def assert_ledger_balanced() -> None:
    """Every entry sums to zero, so does the whole ledger; each balance is its postings' sum."""
    total = select(func.coalesce(func.sum(LedgerPosting.amount_minor), 0))
    assert db.session.scalar(total) == 0
    unbalanced = db.session.execute(
        select(LedgerPosting.entry_id)
        .group_by(LedgerPosting.entry_id)
        .having(func.sum(LedgerPosting.amount_minor) != 0)
    ).all()
    assert unbalanced == []
    for account in db.session.scalars(select(LedgerAccount)):
        posted = db.session.scalar(total.where(LedgerPosting.account_id == account.id))
        assert account.balance_minor == posted, account.key
