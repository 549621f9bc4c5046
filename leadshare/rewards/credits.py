"""Crediting referrers as their leads convert, reversing credits, and voiding leads (SPEC 6).

Credits run inside the unit of work of the lead change that earned them (a lead-event handler
that commits nothing), so a rolled-back change credits nothing. The program's ledger account row
is locked before its balance is checked, so concurrent credits can never overdraw a program; the
unique (program, lead, event) constraint makes a second credit impossible.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update

from ..auth.models import User
from ..auth.scope import lead_to_void
from ..clock import local_date, month_of, utcnow
from ..errors import Conflict
from ..extensions import db
from ..leads.enums import EventType, LeadStatus
from ..leads.events import append_event, on_event
from ..leads.models import Lead, LeadEvent
from ..leads.states import PROGRESS_LADDER
from ..uow import transactional
from . import ledger
from .alerts import budget_fell, credit_skipped
from .books import account, journal_entry, post
from .enums import AccountKind, RewardEvent, SkipReason
from .ledger import account_key, account_kind, credit_decision
from .models import LedgerAccount, LedgerEntry, RewardCredit, RewardProgram, RewardSkip
from .rules import Rule, events_reached_on, match_rule, reversible_events_on_lost


def covering_programs(lead: Lead) -> list[RewardProgram]:
    """Active programs of the lead's group whose dates include the day the lead was created."""
    created = local_date(lead.created_at, lead.group.timezone)
    return list(
        db.session.scalars(
            select(RewardProgram)
            .where(
                RewardProgram.group_id == lead.group_id,
                RewardProgram.is_active.is_(True),
                RewardProgram.starts_on <= created,
                (RewardProgram.ends_on.is_(None)) | (RewardProgram.ends_on >= created),
            )
            .order_by(RewardProgram.id)
        )
    )


def _rules(program: RewardProgram) -> list[Rule]:
    return [
        Rule(event=r.event, amount_minor=r.amount_minor, brand=r.brand, channel=r.channel, id=r.id)
        for r in program.rules
    ]


def _decided(program: RewardProgram, lead: Lead, event: RewardEvent) -> bool:
    """A credit or a skip is already recorded for this program, lead and event."""
    for model in (RewardCredit, RewardSkip):
        found = db.session.scalar(
            select(model.id).where(
                model.program_id == program.id, model.lead_id == lead.id, model.event == event
            )
        )
        if found:
            return True
    return False


def _month_credited(program: RewardProgram, dealer_id: int, at: datetime, timezone: str) -> int:
    """What the dealer was credited by the program in the month `at` falls in (group time)."""
    start, end = month_of(at, timezone)
    total = db.session.scalar(
        select(func.coalesce(func.sum(RewardCredit.amount_minor), 0)).where(
            RewardCredit.program_id == program.id,
            RewardCredit.dealer_id == dealer_id,
            RewardCredit.reversal_entry_id.is_(None),
            RewardCredit.created_at >= start,
            RewardCredit.created_at < end,
        )
    )
    return int(total or 0)  # a bigint sum is a Decimal on PostgreSQL


def credit_lead(lead: Lead, event: RewardEvent, at: datetime) -> None:
    """Credit the referrer once per program for `event`, in full or not at all (SPEC 6).

    Runs in the caller's unit of work. A credit that does not fit the program's balance or the
    dealer's monthly cap is recorded as a skip with its reason. A program with a hold credits
    the referrer's pending account; the sweep releases it `hold_days` later. A program that
    requires retail confirmation keeps a `delivered` credit pending until the delivery is
    confirmed (holds.py), whatever its hold.
    """
    for program in covering_programs(lead):
        rule = match_rule(_rules(program), event=event, brand=lead.brand, channel=lead.channel)
        if rule is None or _decided(program, lead, event):
            continue
        source = account(lead.group_id, AccountKind.PROGRAM, program.id, lock=True)
        reason = credit_decision(
            amount_minor=rule.amount_minor,
            program_balance_minor=source.balance_minor,
            dealer_month_credited_minor=_month_credited(
                program, lead.referrer_id, at, lead.group.timezone
            ),
            per_dealer_monthly_cap_minor=program.per_dealer_monthly_cap_minor,
        )
        due = {
            "program_id": program.id,
            "lead_id": lead.id,
            "dealer_id": lead.referrer_id,
            "event": event,
            "amount_minor": rule.amount_minor,
            "created_at": at,
        }
        if reason is not None:
            db.session.add(RewardSkip(**due, reason=reason))
            if reason == SkipReason.BUDGET_EXHAUSTED:
                credit_skipped(program, lead, rule.amount_minor, source.balance_minor, at)
            continue
        deadline = ledger.retail_deadline(
            at,
            event,
            program.retail_deadline_days if program.requires_retail_confirmation else None,
        )
        held = ledger.held_until(at, program.hold_days) or (at if deadline else None)
        kind = AccountKind.DEALER_REWARDS if held is None else AccountKind.DEALER_PENDING
        target = account(lead.group_id, kind, lead.referrer_id)
        entry = ledger.credit(
            source.key,
            target.key,
            rule.amount_minor,
            memo=f"{program.name}: {event} {lead.public_id}",
        )
        before = source.balance_minor
        row = post(
            lead.group_id,
            entry,
            [source, target],
            lead_id=lead.id,
            program_id=program.id,
            dealer_id=lead.referrer_id,
            event=event,
            created_at=at,
        )
        db.session.add(
            RewardCredit(
                **due,
                rule_id=rule.id,
                entry_id=row.id,
                held_until=held,
                retail_deadline_at=deadline,
            )
        )
        budget_fell(program, before, source.balance_minor, at)


def reverse_credits(
    lead: Lead,
    at: datetime,
    *,
    events: Iterable[str] | None = None,
    credit_ids: Iterable[int] | None = None,
    memo: str,
    actor_id: int | None = None,
) -> int:
    """Undo the lead's credits (all, or those of `events` or `credit_ids`) with new entries;
    each at most once.

    A credit still pending is cancelled (the money goes back to the program from pending); one
    already released is a debit of the referrer's available money. The credit rows are locked
    first, so a release in flight either ends before (and this debits available money) or finds
    the credit reversed. Runs in the caller's unit of work; returns how many were reversed.
    """
    query = select(RewardCredit).where(
        RewardCredit.lead_id == lead.id, RewardCredit.reversal_entry_id.is_(None)
    )
    if events is not None:
        query = query.where(RewardCredit.event.in_(list(events)))
    if credit_ids is not None:
        query = query.where(RewardCredit.id.in_(list(credit_ids)))
    query = query.order_by(RewardCredit.id).with_for_update()
    count = 0
    for credit in db.session.scalars(query.execution_options(populate_existing=True)).all():
        original = db.session.get(LedgerEntry, credit.entry_id)
        released_to = None
        if credit.release_entry_id is not None:
            released_to = account_key(AccountKind.DEALER_REWARDS, credit.dealer_id)
        entry = ledger.reversal(journal_entry(original), memo=memo, released_to=released_to)
        row = post(
            lead.group_id,
            entry,
            [_locked(lead.group_id, posting.account) for posting in entry.postings],
            lead_id=lead.id,
            program_id=credit.program_id,
            dealer_id=credit.dealer_id,
            event=credit.event,
            reverses_id=original.id,
            actor_id=actor_id,
            created_at=at,
        )
        done = db.session.execute(
            update(RewardCredit)
            .where(RewardCredit.id == credit.id, RewardCredit.reversal_entry_id.is_(None))
            .values(reversal_entry_id=row.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise Conflict("This credit was already reversed.", reason="already_reversed")
        count += 1
    return count


def _locked(group_id: int, key: str) -> LedgerAccount:
    """The account a key names, its row locked until the transaction ends."""
    return account(group_id, account_kind(key), int(key.partition(":")[2]), lock=True)


def stage_reached(event: LeadEvent) -> LeadStatus | None:
    """The ladder stage a lead event steps the lead onto: a claim accepts, progress names it."""
    if event.type == EventType.CLAIMED:
        return LeadStatus.ACCEPTED
    return LeadStatus(event.type) if event.type in PROGRESS_LADDER else None


@on_event
def _reward_lead_event(lead: Lead, event: LeadEvent) -> None:
    """Lead events earn credits (the reward events a step reaches) or reverse them (lost, void,
    an accepted return, an undone step).

    Runs inside the lead change's unit of work and commits nothing.
    """
    if event.type == EventType.VOIDED:
        reverse_credits(lead, event.at, memo=f"void {lead.public_id}", actor_id=event.actor_id)
    elif event.type == EventType.RETURNED:
        reverse_credits(lead, event.at, memo=f"returned {lead.public_id}", actor_id=event.actor_id)
    elif lead.voided_at is not None:
        return
    elif event.type == EventType.PROGRESS_UNDONE:
        undone = [e for stage in event.data["undone"] for e in events_reached_on(stage)]
        if undone:
            reverse_credits(
                lead,
                event.at,
                events=undone,
                memo=f"undo {event.data['undone'][-1]} {lead.public_id}",
                actor_id=event.actor_id,
            )
    elif event.type == EventType.LOST:
        reverse_credits(
            lead,
            event.at,
            events=reversible_events_on_lost(),
            memo=f"lost after ordered {lead.public_id}",
        )
    elif (stage := stage_reached(event)) is not None:
        for reward_event in events_reached_on(stage):
            credit_lead(lead, reward_event, event.at)


@transactional
def void_lead(actor: User, public_id: str, reason: str, now: datetime | None = None) -> Lead:
    """A group admin voids a fraudulent lead: every credit is reversed, funnels leave it out."""
    now = now or utcnow()
    lead = lead_to_void(
        actor,
        db.session.scalar(
            select(Lead)
            .where(Lead.public_id == public_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ),
    )
    if lead.voided_at is not None:
        raise Conflict("This lead is already void.", reason="already_voided")
    lead.voided_at, lead.void_reason = now, reason
    append_event(lead, EventType.VOIDED, at=now, actor=actor, data={"reason": reason})
    return lead


def net_earnings(dealer_id: int | None, lead_ids: list[str]) -> dict[str, int]:
    """Per lead public id, the net amount credited to the dealer (credits minus reversals).

    Leads that never earned the dealer a credit are left out.
    """
    if dealer_id is None or not lead_ids:
        return {}
    rows = db.session.execute(
        select(Lead.public_id, RewardCredit.amount_minor, RewardCredit.reversal_entry_id)
        .join(Lead, Lead.id == RewardCredit.lead_id)
        .where(RewardCredit.dealer_id == dealer_id, Lead.public_id.in_(lead_ids))
    ).all()
    totals: dict[str, int] = {}
    for public_id, amount, reversal in rows:
        totals[public_id] = totals.get(public_id, 0) + (0 if reversal is not None else amount)
    return totals


def store_earnings_total(dealer_id: int | None) -> int:
    """Everything the dealer's shared leads earned it (credits not reversed), in minor units."""
    if dealer_id is None:
        return 0
    total = db.session.scalar(
        select(func.coalesce(func.sum(RewardCredit.amount_minor), 0)).where(
            RewardCredit.dealer_id == dealer_id, RewardCredit.reversal_entry_id.is_(None)
        )
    )
    return int(total or 0)  # Decimal on PostgreSQL


def credits_due(lead: Lead, stages: Iterable[str]) -> list[dict[str, object]]:
    """What a step reaching `stages` would credit the referrer, per program (a read, for a page
    to confirm first; a budget or a monthly cap may still skip a credit when it is made)."""
    if lead.voided_at is not None:
        return []
    due: list[dict[str, object]] = []
    for program in covering_programs(lead):
        for stage in stages:
            for event in events_reached_on(stage):
                rule = match_rule(
                    _rules(program), event=event, brand=lead.brand, channel=lead.channel
                )
                if rule is not None and not _decided(program, lead, event):
                    due.append(
                        {"program": program.name, "event": event, "amount_minor": rule.amount_minor}
                    )
    return due


def credits_standing(lead: Lead, events: Iterable[str] | None = None) -> list[dict[str, object]]:
    """The lead's credits not reversed (of `events` when given): what a loss, an undo or a void
    would reverse (a read, for a page to confirm first)."""
    query = (
        select(RewardProgram.name, RewardCredit.event, RewardCredit.amount_minor)
        .join(RewardProgram, RewardProgram.id == RewardCredit.program_id)
        .where(RewardCredit.lead_id == lead.id, RewardCredit.reversal_entry_id.is_(None))
        .order_by(RewardCredit.id)
    )
    if events is not None:
        query = query.where(RewardCredit.event.in_(list(events)))
    return [
        {"program": name, "event": event, "amount_minor": amount}
        for name, event, amount in db.session.execute(query)
    ]
