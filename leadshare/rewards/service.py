"""Reward programs, crediting referrers as their leads convert, reversals, voids and payouts.

Credits run inside the transaction of the lead change that earned them (a lead-event handler),
so a rolled-back change credits nothing. The program's ledger account row is locked before its
balance is checked, so concurrent credits can never overdraw a program; the unique
(program, lead, event) constraint makes a second credit impossible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.models import User
from ..auth.scope import is_group_admin_of, ledger_view, require_role
from ..clock import utcnow
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..leads.access import matching
from ..leads.events import append_event, on_event
from ..leads.models import Lead, LeadEvent
from ..pagination import Page, paginate
from ..tenancy.models import Dealer, Group
from ..vocabulary import Role
from . import ledger
from .ledger import AccountKind, JournalEntry, account_key, credit_decision
from .models import (
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    RewardCredit,
    RewardProgram,
    RewardRule,
    RewardSkip,
)
from .money import format_amount
from .rules import Rule, match_rule

EVENT_OF_LEAD_EVENT = {
    "claimed": "accepted",
    "visited": "visited",
    "ordered": "ordered",
    "delivered": "delivered",
}
REVERSED_WHEN_LOST = ("ordered", "delivered")


# --- ledger storage -----------------------------------------------------------------------


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


def _entry_of(row: LedgerEntry) -> JournalEntry:
    return JournalEntry(
        row.kind,
        tuple(ledger.Posting(p.account.key, p.amount_minor) for p in row.postings),
        row.memo or "",
    )


# --- programs -----------------------------------------------------------------------------


def _program(actor: User, program_id: int) -> RewardProgram:
    program = db.session.get(RewardProgram, program_id)
    if program is None or not (
        is_group_admin_of(actor, program.group_id)
        or (actor.role in (Role.STAFF, Role.MANAGER) and actor.group_id == program.group_id)
    ):
        raise NotFound("No such reward program.")
    require_role(actor, Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
    return program


def _set_rules(program: RewardProgram, rules: list[Mapping[str, Any]]) -> None:
    """New rule rows replace the old ones; past credits keep the amounts they were made with."""
    program.rules = [
        RewardRule(
            event=r["event"],
            amount_minor=r["amount"],
            brand=r.get("brand"),
            channel=r.get("channel"),
        )
        for r in rules
    ]


def list_programs(actor: User, page: int, per_page: int) -> Page:
    require_role(actor, Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
    query = select(RewardProgram).order_by(RewardProgram.id.desc())
    if actor.role == Role.GROUP_ADMIN:
        query = query.where(RewardProgram.group_id == actor.group_id)
    return paginate(query, page, per_page)


def get_program(actor: User, program_id: int) -> RewardProgram:
    return _program(actor, program_id)


def create_program(actor: User, data: Mapping[str, Any]) -> RewardProgram:
    require_role(actor, Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
    group_id = data.get("group_id") or actor.group_id
    if (
        group_id is None
        or not is_group_admin_of(actor, group_id)
        or not db.session.get(Group, group_id)
    ):
        raise Invalid("group_id", "No such group.", reason="unknown_group")
    program = RewardProgram(
        group_id=group_id,
        name=data["name"],
        starts_on=data["starts_on"],
        ends_on=data.get("ends_on"),
        per_dealer_monthly_cap_minor=data.get("per_dealer_monthly_cap"),
        is_active=data.get("active", True),
    )
    _set_rules(program, data["rules"])
    db.session.add(program)
    db.session.flush()
    _fund(actor, program, data["budget"])
    db.session.commit()
    return program


def update_program(actor: User, program_id: int, data: Mapping[str, Any]) -> RewardProgram:
    program = _program(actor, program_id)
    starts_on = data.get("starts_on", program.starts_on)
    ends_on = data.get("ends_on", program.ends_on)
    if ends_on is not None and ends_on < starts_on:
        raise Invalid("ends_on", "The program cannot end before it starts.")
    for field, column in (
        ("name", "name"),
        ("starts_on", "starts_on"),
        ("ends_on", "ends_on"),
        ("per_dealer_monthly_cap", "per_dealer_monthly_cap_minor"),
        ("active", "is_active"),
    ):
        if field in data:
            setattr(program, column, data[field])
    if "rules" in data:
        _set_rules(program, data["rules"])
    db.session.commit()
    return program


def _fund(actor: User, program: RewardProgram, amount_minor: int) -> LedgerEntry:
    treasury = account(program.group_id, AccountKind.TREASURY, program.group_id)
    target = account(program.group_id, AccountKind.PROGRAM, program.id, lock=True)
    entry = ledger.funding(target.key, treasury.key, amount_minor, memo=f"fund {program.name}")
    return post(
        program.group_id, entry, [treasury, target], program_id=program.id, actor_id=actor.id
    )


def fund_program(actor: User, program_id: int, amount_minor: int) -> RewardProgram:
    """Budget grows only through ledger entries: the treasury funds the program's account."""
    program = _program(actor, program_id)
    _fund(actor, program, amount_minor)
    db.session.commit()
    return program


def _int_scalar(query) -> int:
    """Sums of bigint come back as Decimal on PostgreSQL: money stays int minor units."""
    return int(db.session.scalar(query) or 0)


def program_figures(program: RewardProgram) -> dict[str, Any]:
    """Budget (all funding), remaining (the account's balance), used, credit and skip counts."""
    funded = _int_scalar(
        select(func.coalesce(func.sum(LedgerPosting.amount_minor), 0))
        .join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(
            LedgerEntry.kind == "funding",
            LedgerEntry.program_id == program.id,
            LedgerAccount.kind == AccountKind.PROGRAM,
        )
    )
    remaining = (
        db.session.scalar(
            select(LedgerAccount.balance_minor).where(
                LedgerAccount.key == account_key(AccountKind.PROGRAM, program.id)
            )
        )
        or 0
    )
    credits = db.session.scalar(
        select(func.count(RewardCredit.id)).where(
            RewardCredit.program_id == program.id, RewardCredit.reversal_entry_id.is_(None)
        )
    )
    skips = dict(
        db.session.execute(
            select(RewardSkip.reason, func.count(RewardSkip.id))
            .where(RewardSkip.program_id == program.id)
            .group_by(RewardSkip.reason)
        ).all()
    )
    return {
        "budget": funded,
        "remaining": remaining,
        "used": funded - remaining,
        "credits": credits,
        "skips": skips,
    }


def list_skips(actor: User, program_id: int, page: int, per_page: int) -> Page:
    program = _program(actor, program_id)
    query = (
        select(RewardSkip).where(RewardSkip.program_id == program.id).order_by(RewardSkip.id.desc())
    )
    return paginate(query, page, per_page)


# --- crediting and reversing --------------------------------------------------------------


def _local(moment: datetime, timezone: str) -> datetime:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone))


def _month_window(moment: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The UTC bounds of the month `moment` falls in, in the group's time zone."""
    local = _local(moment, timezone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    to_utc = lambda d: d.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)  # noqa: E731
    return to_utc(start), to_utc(end)


def covering_programs(lead: Lead) -> list[RewardProgram]:
    """Active programs of the lead's group whose dates include the day the lead was created."""
    created: date = _local(lead.created_at, lead.group.timezone).date()
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


def credit_lead(lead: Lead, event: str, at: datetime) -> None:
    """Credit the referrer once per program for `event`, in full or not at all (SPEC 6)."""
    for program in covering_programs(lead):
        rules = [
            Rule(
                event=r.event,
                amount_minor=r.amount_minor,
                brand=r.brand,
                channel=r.channel,
                id=r.id,
            )
            for r in program.rules
        ]
        rule = match_rule(rules, event=event, brand=lead.brand, channel=lead.channel)
        if rule is None:
            continue
        done = select(RewardCredit.id).where(
            RewardCredit.program_id == program.id,
            RewardCredit.lead_id == lead.id,
            RewardCredit.event == event,
        )
        skipped = select(RewardSkip.id).where(
            RewardSkip.program_id == program.id,
            RewardSkip.lead_id == lead.id,
            RewardSkip.event == event,
        )
        if db.session.scalar(done) or db.session.scalar(skipped):
            continue
        source = account(lead.group_id, AccountKind.PROGRAM, program.id, lock=True)
        start, end = _month_window(at, lead.group.timezone)
        month_credited = _int_scalar(
            select(func.coalesce(func.sum(RewardCredit.amount_minor), 0)).where(
                RewardCredit.program_id == program.id,
                RewardCredit.dealer_id == lead.referrer_id,
                RewardCredit.reversal_entry_id.is_(None),
                RewardCredit.created_at >= start,
                RewardCredit.created_at < end,
            )
        )
        reason = credit_decision(
            amount_minor=rule.amount_minor,
            program_balance_minor=source.balance_minor,
            dealer_month_credited_minor=month_credited,
            per_dealer_monthly_cap_minor=program.per_dealer_monthly_cap_minor,
        )
        if reason is not None:
            db.session.add(
                RewardSkip(
                    program_id=program.id,
                    lead_id=lead.id,
                    dealer_id=lead.referrer_id,
                    event=event,
                    amount_minor=rule.amount_minor,
                    reason=reason,
                    created_at=at,
                )
            )
            continue
        target = account(lead.group_id, AccountKind.DEALER_REWARDS, lead.referrer_id)
        entry = ledger.credit(
            source.key,
            target.key,
            rule.amount_minor,
            memo=f"{program.name}: {event} {lead.public_id}",
        )
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
                program_id=program.id,
                lead_id=lead.id,
                dealer_id=lead.referrer_id,
                event=event,
                rule_id=rule.id,
                amount_minor=rule.amount_minor,
                entry_id=row.id,
                created_at=at,
            )
        )


def reverse_credits(
    lead: Lead,
    at: datetime,
    *,
    events: Iterable[str] | None = None,
    memo: str,
    actor_id: int | None = None,
) -> int:
    """Undo the lead's credits (all, or those of `events`) with new entries; each at most once."""
    query = select(RewardCredit).where(
        RewardCredit.lead_id == lead.id, RewardCredit.reversal_entry_id.is_(None)
    )
    if events is not None:
        query = query.where(RewardCredit.event.in_(list(events)))
    count = 0
    for credit in db.session.scalars(query.order_by(RewardCredit.id)).all():
        original = db.session.get(LedgerEntry, credit.entry_id)
        accounts = [
            account(lead.group_id, AccountKind(p.account.kind), p.account.owner_id, lock=True)
            for p in original.postings
        ]
        row = post(
            lead.group_id,
            ledger.reversal(_entry_of(original), memo=memo),
            accounts,
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


@on_event
def _reward_lead_event(lead: Lead, event: LeadEvent) -> None:
    """Lead events earn credits (accepted, visited, ordered, delivered) or reverse them."""
    if event.type == "voided":
        reverse_credits(lead, event.at, memo=f"void {lead.public_id}", actor_id=event.actor_id)
    elif lead.voided_at is not None:
        return
    elif event.type in EVENT_OF_LEAD_EVENT:
        credit_lead(lead, EVENT_OF_LEAD_EVENT[event.type], event.at)
    elif event.type == "lost":
        reverse_credits(
            lead, event.at, events=REVERSED_WHEN_LOST, memo=f"lost after ordered {lead.public_id}"
        )


def void_lead(actor: User, public_id: str, reason: str, now: datetime | None = None) -> Lead:
    """A group admin voids a fraudulent lead: every credit is reversed, funnels leave it out."""
    now = now or utcnow()
    lead = db.session.scalar(
        select(Lead)
        .where(Lead.public_id == public_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    visible = lead is not None and (
        is_group_admin_of(actor, lead.group_id)
        or (
            actor.group_id == lead.group_id
            and actor.dealer_id in (lead.referrer_id, lead.holder_id)
        )
    )
    if not visible:
        raise NotFound("No such lead.")
    require_role(actor, Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
    if lead.voided_at is not None:
        raise Conflict("This lead is already void.", reason="already_voided")
    lead.voided_at, lead.void_reason = now, reason
    append_event(lead, "voided", at=now, actor=actor, data={"reason": reason})
    db.session.commit()
    return lead


# --- payouts, accounts, entries -----------------------------------------------------------


def pay_out(actor: User, dealer_id: int, amount_minor: int, memo: str | None = None) -> LedgerEntry:
    """Money leaves the dealer's reward account for its paid-out account; never more than held."""
    dealer = db.session.get(Dealer, dealer_id)
    if dealer is None or not is_group_admin_of(actor, dealer.group_id):
        if actor.role not in (Role.GROUP_ADMIN, Role.PLATFORM_ADMIN):
            raise Forbidden("Only a group admin may pay out rewards.", reason="role_not_allowed")
        raise Invalid("dealer_id", "No such dealer.", reason="unknown_dealer")
    source = account(dealer.group_id, AccountKind.DEALER_REWARDS, dealer.id, lock=True)
    if source.balance_minor < amount_minor:
        raise Conflict(
            "The dealer's reward balance is smaller than this payout.",
            reason="insufficient_balance",
            balance=format_amount(source.balance_minor),
        )
    target = account(dealer.group_id, AccountKind.PAID_OUT, dealer.id)
    entry = ledger.payout(
        source.key, target.key, amount_minor, memo=memo or f"payout {dealer.code}"
    )
    row = post(dealer.group_id, entry, [source, target], dealer_id=dealer.id, actor_id=actor.id)
    db.session.commit()
    return row


def _ledger_scope(actor: User) -> tuple[int, list[str] | None]:
    """(group, account keys or None for all), as auth/scope.py's ledger_view allows."""
    group_id, dealer_ids = ledger_view(actor)
    if dealer_ids is None:
        return group_id, None
    kinds = (AccountKind.DEALER_REWARDS, AccountKind.PAID_OUT)
    return group_id, [account_key(kind, d) for d in dealer_ids for kind in kinds]


def list_accounts(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    group_id, keys = _ledger_scope(actor)
    query = (
        select(LedgerAccount).where(LedgerAccount.group_id == group_id).order_by(LedgerAccount.id)
    )
    if keys is not None:
        query = query.where(LedgerAccount.key.in_(keys))
    if filters.get("kind"):
        query = query.where(LedgerAccount.kind == filters["kind"])
    return paginate(query, page, per_page)


def list_entries(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    group_id, keys = _ledger_scope(actor)
    query = (
        select(LedgerEntry).where(LedgerEntry.group_id == group_id).order_by(LedgerEntry.id.desc())
    )
    if keys is not None:
        touching = (
            select(LedgerPosting.entry_id).join(LedgerAccount).where(LedgerAccount.key.in_(keys))
        )
        query = query.where(LedgerEntry.id.in_(touching))
    query = matching(query, LedgerEntry, filters, ("kind", "program_id", "dealer_id"))
    return paginate(query, page, per_page)
