"""Held credits: the sweep releases each credit whose hold is over from pending to available.

Each batch is one unit of work that locks the credits it takes, and their leads, with SKIP
LOCKED on PostgreSQL, so two sweepers never release the same credit, and a change to the lead in
flight (a void, a loss or a return, which lock the lead and then its credits) is never waited
for and never waits for the sweep: the sweep skips that credit this time. Locking the lead too
keeps the one order every lead change takes (lead, then credit); the release's entry names the
lead, whose key the database would otherwise have to share with the change holding it.
A credit is released once (its `release_entry_id` is set in the same unit as the transfer);
running the sweep again releases nothing twice.

A program that requires retail confirmation holds its `delivered` credits until the OEM's
report confirms the delivery (`confirm_retail_credits`, released then if the hold is over) and
the sweep reverses those still unconfirmed at their deadline (`reverse_unconfirmed_credits`,
the pending money going back to the program), with the same locks as the release.
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..clock import utcnow
from ..extensions import db
from ..leads.enums import EventType
from ..leads.events import append_event
from ..leads.models import Lead
from ..uow import unit_of_work
from . import ledger
from .books import account, post
from .credits import reverse_credits
from .enums import AccountKind
from .models import RewardCredit, RewardProgram


def release_credit(credit: RewardCredit, now: datetime) -> bool:
    """Move one held credit's amount from pending to available; False if it is not pending.

    Runs in the caller's unit of work, with the credit's row locked by the caller.
    """
    if (
        not credit.is_pending
        or credit.awaits_retail
        or not ledger.release_due(credit.held_until, now)
    ):
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


def _take(batch: int, *conditions) -> list[RewardCredit]:
    """Up to `batch` credits meeting `conditions`, each locked with its lead; those another
    transaction holds are skipped (SKIP LOCKED) for the next sweep."""
    return list(
        db.session.scalars(
            select(RewardCredit)
            .join(Lead, Lead.id == RewardCredit.lead_id)
            .where(*conditions)
            .order_by(RewardCredit.id)
            .limit(batch)
            .with_for_update(skip_locked=True, of=(RewardCredit, Lead))
            .execution_options(populate_existing=True)
        )
    )


def release_due_credits(now: datetime | None = None, *, batch: int = 200) -> int:
    """Release every held credit whose hold is over; returns how many. Safe to run at once in
    many sweepers, and again (what is released stays released)."""
    now = now or utcnow()
    released = 0
    while True:
        with unit_of_work():
            due = _take(
                batch,
                RewardCredit.held_until <= now,
                RewardCredit.release_entry_id.is_(None),
                RewardCredit.reversal_entry_id.is_(None),
                or_(
                    RewardCredit.retail_deadline_at.is_(None),
                    RewardCredit.retail_confirmed_at.is_not(None),
                ),
            )
            released += sum(release_credit(credit, now) for credit in due)
        if len(due) < batch:
            return released


def confirm_retail_credits(lead: Lead, now: datetime) -> int:
    """The OEM confirmed the lead's delivery: its credits waiting for that stop waiting, and are
    released at once if their hold is over (else by the sweep). Returns how many were waiting.

    Runs in the caller's unit of work, the lead's row locked by the caller.
    """
    waiting = db.session.scalars(
        select(RewardCredit)
        .where(
            RewardCredit.lead_id == lead.id,
            RewardCredit.retail_deadline_at.is_not(None),
            RewardCredit.retail_confirmed_at.is_(None),
            RewardCredit.reversal_entry_id.is_(None),
        )
        .order_by(RewardCredit.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for credit in waiting:
        credit.retail_confirmed_at = now
        release_credit(credit, now)
    return len(waiting)


def reverse_unconfirmed_credits(now: datetime | None = None, *, batch: int = 200) -> int:
    """Reverse every credit still waiting for retail confirmation at its deadline (a pending
    credit: cancelled back to the program), with an event on the lead's trail; returns how many.
    Safe to run at once in many sweepers, and again."""
    now = now or utcnow()
    reversed_count = 0
    while True:
        with unit_of_work():
            due = _take(
                batch,
                RewardCredit.retail_deadline_at <= now,
                RewardCredit.retail_confirmed_at.is_(None),
                RewardCredit.reversal_entry_id.is_(None),
                RewardCredit.release_entry_id.is_(None),
            )
            by_lead = sorted(due, key=lambda credit: (credit.lead_id, credit.id))
            for lead_id, credits in groupby(by_lead, lambda credit: credit.lead_id):
                lead = db.session.get(Lead, lead_id)
                count = reverse_credits(
                    lead,
                    now,
                    credit_ids=[credit.id for credit in credits],
                    memo=f"no retail confirmation {lead.public_id}",
                )
                append_event(
                    lead,
                    EventType.RETAIL_UNCONFIRMED,
                    at=now,
                    dealer_id=lead.holder_id,
                    data={"credits_reversed": count},
                )
                reversed_count += count
        if len(due) < batch:
            return reversed_count
