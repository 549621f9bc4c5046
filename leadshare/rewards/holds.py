"""Held credits: the sweep releases each credit whose hold is over from pending to available.

Each batch is one unit of work that locks the credits it takes, and their leads, with SKIP
LOCKED on PostgreSQL, so two sweepers never release the same credit, and a change to the lead in
flight (a void, a loss or a return, which lock the lead and then its credits) is never waited
for and never waits for the sweep: the sweep skips that credit this time. Locking the lead too
keeps the one order every lead change takes (lead, then credit); the release's entry names the
lead, whose key the database would otherwise have to share with the change holding it.
A credit is released once (its `release_entry_id` is set in the same unit as the transfer);
running the sweep again releases nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..clock import utcnow
from ..extensions import db
from ..leads.models import Lead
from ..uow import unit_of_work
from . import ledger
from .books import account, post
from .enums import AccountKind
from .models import RewardCredit, RewardProgram


def release_credit(credit: RewardCredit, now: datetime) -> bool:
    """Move one held credit's amount from pending to available; False if it is not pending.

    Runs in the caller's unit of work, with the credit's row locked by the caller.
    """
    if not credit.is_pending or not ledger.release_due(credit.held_until, now):
        return False
    program = db.session.get(RewardProgram, credit.program_id)
    pending = account(program.group_id, AccountKind.DEALER_PENDING, credit.dealer_id)
    available = account(program.group_id, AccountKind.DEALER_REWARDS, credit.dealer_id)
    entry = ledger.release(
        pending.key, available.key, credit.amount_minor, memo=f"{program.name}: hold over"
    )
    row = post(
        program.group_id,
        entry,
        [pending, available],
        lead_id=credit.lead_id,
        program_id=credit.program_id,
        dealer_id=credit.dealer_id,
        event=credit.event,
        created_at=now,
    )
    done = db.session.execute(
        update(RewardCredit)
        .where(
            RewardCredit.id == credit.id,
            RewardCredit.release_entry_id.is_(None),
            RewardCredit.reversal_entry_id.is_(None),
        )
        .values(release_entry_id=row.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:  # the row lock makes this impossible; never post a release twice
        raise RuntimeError(f"credit {credit.id} changed under its lock")
    set_committed_value(credit, "release_entry_id", row.id)
    return True


def release_due_credits(now: datetime | None = None, *, batch: int = 200) -> int:
    """Release every held credit whose hold is over; returns how many. Safe to run at once in
    many sweepers, and again (what is released stays released)."""
    now = now or utcnow()
    released = 0
    while True:
        with unit_of_work():
            due = list(
                db.session.scalars(
                    select(RewardCredit)
                    .join(Lead, Lead.id == RewardCredit.lead_id)
                    .where(
                        RewardCredit.held_until <= now,
                        RewardCredit.release_entry_id.is_(None),
                        RewardCredit.reversal_entry_id.is_(None),
                    )
                    .order_by(RewardCredit.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True, of=(RewardCredit, Lead))
                    .execution_options(populate_existing=True)
                )
            )
            released += sum(release_credit(credit, now) for credit in due)
        if len(due) < batch:
            return released
