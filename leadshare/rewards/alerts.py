"""Budgets that warn: a program's group admins are told when its remaining budget falls below
its `alert_below` amount and when a credit was skipped for lack of budget.

An alert is a row written in the unit of work of the credit (or skip) that caused it, so a
rolled-back change tells no one; with it goes an admin notice (notify.notices: a count in the
admins' navigation, and a WeCom app message to them when the group has a WeCom app). The
admins read them as a list (their notifications) and as a banner on the reward pages while the
cause lasts: the budget is still below the alert amount, or credits were skipped since the
program was last funded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..auth.models import User
from ..auth.scope import require_role
from ..extensions import db
from ..leads.access import matching
from ..leads.models import Lead
from ..notify.enums import NotificationEvent
from ..pagination import Page, paginate
from ..tenancy.models import Group
from ..vocabulary import Role
from .enums import AccountKind, AlertKind, EntryKind
from .ledger import account_key, crossed_below
from .models import LedgerAccount, LedgerEntry, RewardAlert, RewardProgram
from .money import format_amount


def budget_fell(program: RewardProgram, before_minor: int, after_minor: int, at: datetime) -> None:
    """Tell the admins once when a credit takes the budget below the alert amount.

    Runs in the caller's unit of work; the program's account row is locked by the credit, so
    of two concurrent credits only the one that crosses the line tells.
    """
    if crossed_below(before_minor, after_minor, program.alert_below_minor):
        db.session.add(
            RewardAlert(
                group_id=program.group_id,
                program_id=program.id,
                kind=AlertKind.BUDGET_LOW,
                remaining_minor=after_minor,
                alert_below_minor=program.alert_below_minor,
                created_at=at,
            )
        )
        _tell(
            program,
            NotificationEvent.BUDGET_LOW,
            at,
            remaining=format_amount(after_minor),
            alert_below=format_amount(program.alert_below_minor),
        )


def credit_skipped(
    program: RewardProgram, lead: Lead, amount_minor: int, remaining_minor: int, at: datetime
) -> None:
    """Tell the admins that a credit due was skipped for lack of budget (in the caller's unit)."""
    db.session.add(
        RewardAlert(
            group_id=program.group_id,
            program_id=program.id,
            kind=AlertKind.CREDIT_SKIPPED,
            remaining_minor=remaining_minor,
            alert_below_minor=program.alert_below_minor,
            amount_minor=amount_minor,
            lead_id=lead.id,
            created_at=at,
        )
    )
    _tell(
        program,
        NotificationEvent.CREDIT_SKIPPED,
        at,
        amount=format_amount(amount_minor),
        remaining=format_amount(remaining_minor),
        lead_id=lead.public_id,
    )


def _tell(program: RewardProgram, kind: NotificationEvent, at: datetime, **facts: Any) -> None:
    from ..notify.notices import tell_admins  # the outbox reads rewards: imported when used

    group = db.session.get(Group, program.group_id)
    data = {"program_id": program.id, "program": program.name, "currency": group.currency}
    tell_admins(group, kind, {**data, **facts}, at)


def list_alerts(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    """The budget alerts of the admin's group, newest first (by program or kind)."""
    require_role(actor, Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
    query = select(RewardAlert).order_by(RewardAlert.id.desc())
    if actor.role == Role.GROUP_ADMIN:
        query = query.where(RewardAlert.group_id == actor.group_id)
    query = matching(query, RewardAlert, filters, ("program_id", "kind"))
    return paginate(query, page, per_page)


@dataclass(frozen=True)
class Banner:
    """What a reward page tells a group admin about one program's budget."""

    program: RewardProgram
    remaining_minor: int
    alert_below_minor: int | None
    is_low: bool
    skipped: int
    """Credits skipped for lack of budget since the program was last funded."""


def budget_banners(actor: User, program_id: int | None = None) -> list[Banner]:
    """The active programs of a group admin's group whose budget warns now (others: none)."""
    if actor.role != Role.GROUP_ADMIN:
        return []
    query = select(RewardProgram).where(
        RewardProgram.group_id == actor.group_id, RewardProgram.is_active.is_(True)
    )
    if program_id is not None:
        query = query.where(RewardProgram.id == program_id)
    banners = []
    for program in db.session.scalars(query.order_by(RewardProgram.id)):
        remaining = _remaining(program)
        low = program.alert_below_minor is not None and remaining < program.alert_below_minor
        skipped = _skipped_since_funding(program)
        if low or skipped:
            banners.append(Banner(program, remaining, program.alert_below_minor, low, skipped))
    return banners


def _remaining(program: RewardProgram) -> int:
    key = account_key(AccountKind.PROGRAM, program.id)
    return int(
        db.session.scalar(select(LedgerAccount.balance_minor).where(LedgerAccount.key == key)) or 0
    )


def _skipped_since_funding(program: RewardProgram) -> int:
    funded_at = db.session.scalar(
        select(func.max(LedgerEntry.created_at)).where(
            LedgerEntry.program_id == program.id, LedgerEntry.kind == EntryKind.FUNDING
        )
    )
    query = select(func.count(RewardAlert.id)).where(
        RewardAlert.program_id == program.id, RewardAlert.kind == AlertKind.CREDIT_SKIPPED
    )
    if funded_at is not None:
        query = query.where(RewardAlert.created_at > funded_at)
    return int(db.session.scalar(query) or 0)
