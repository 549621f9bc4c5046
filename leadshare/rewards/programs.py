"""Reward programs: create, change and fund them (group admins), and read their figures.

Budget grows only through ledger entries: the group's treasury funds the program's account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from ..auth.models import User
from ..auth.scope import is_group_admin_of, program_in_scope, require_role
from ..brands import service as brands
from ..errors import Invalid
from ..extensions import db
from ..pagination import Page, paginate
from ..tenancy.models import Group
from ..uow import transactional
from ..vocabulary import Role
from . import ledger
from .books import account, post
from .enums import AccountKind, EntryKind
from .ledger import account_key
from .models import (
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    RewardCredit,
    RewardProgram,
    RewardRule,
    RewardSkip,
)

DEFAULT_HOLD_DAYS = 30
"""A credit is pending this many days unless the program says otherwise."""
DEFAULT_RETAIL_DEADLINE_DAYS = 60
"""A delivery credit waiting for the OEM's confirmation is reversed this many days after it."""


def _program(actor: User, program_id: int) -> RewardProgram:
    return program_in_scope(actor, db.session.get(RewardProgram, program_id))


def _rule_brand(group_id: int, brand: str | None) -> str | None:
    return brands.group_brand(group_id, brand, "rules") if brand else None


def _set_rules(program: RewardProgram, rules: list[Mapping[str, Any]]) -> None:
    """New rule rows replace the old ones; past credits keep the amounts they were made with.

    A rule's brand is one of the group's catalogue brands, stored under its catalogue name."""
    program.rules = [
        RewardRule(
            event=r["event"],
            amount_minor=r["amount"],
            brand=brands.group_brand(program.group_id, r["brand"], "rules")
            if r.get("brand")
            else None,
            channel=r.get("channel"),
        )
        for r in rules
    ]


def _fund(actor: User, program: RewardProgram, amount_minor: int) -> LedgerEntry:
    treasury = account(program.group_id, AccountKind.TREASURY, program.group_id)
    target = account(program.group_id, AccountKind.PROGRAM, program.id, lock=True)
    entry = ledger.funding(target.key, treasury.key, amount_minor, memo=f"fund {program.name}")
    return post(
        program.group_id, entry, [treasury, target], program_id=program.id, actor_id=actor.id
    )


def list_programs(actor: User, page: int, per_page: int) -> Page:
    """The programs an admin runs, newest first (a group admin: its own group's)."""
    require_role(actor, Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
    query = select(RewardProgram).order_by(RewardProgram.id.desc())
    if actor.role == Role.GROUP_ADMIN:
        query = query.where(RewardProgram.group_id == actor.group_id)
    return paginate(query, page, per_page)


def get_program(actor: User, program_id: int) -> RewardProgram:
    """One program of the actor's group (see auth/scope.py `program_in_scope`)."""
    return _program(actor, program_id)


@transactional
def create_program(actor: User, data: Mapping[str, Any]) -> RewardProgram:
    """A new program with its rules, funded with its budget from the group's treasury."""
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
        hold_days=data.get("hold_days", DEFAULT_HOLD_DAYS),
        alert_below_minor=data.get("alert_below"),
        requires_retail_confirmation=data.get("requires_retail_confirmation", False),
        retail_deadline_days=data.get("retail_deadline_days", DEFAULT_RETAIL_DEADLINE_DAYS),
    )
    _set_rules(program, data["rules"])
    db.session.add(program)
    db.session.flush()
    _fund(actor, program, data["budget"])
    return program


@transactional
def update_program(actor: User, program_id: int, data: Mapping[str, Any]) -> RewardProgram:
    """Change a program's name, dates, cap, activity, hold, alert amount, retail confirmation
    or rules; new rules, a new hold and a new confirmation rule apply to later credits (a held
    credit keeps the release time and deadline it was made with)."""
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
        ("hold_days", "hold_days"),
        ("alert_below", "alert_below_minor"),
        ("requires_retail_confirmation", "requires_retail_confirmation"),
        ("retail_deadline_days", "retail_deadline_days"),
    ):
        if field in data:
            setattr(program, column, data[field])
    if "rules" in data:
        _set_rules(program, data["rules"])
    return program


@transactional
def fund_program(actor: User, program_id: int, amount_minor: int) -> RewardProgram:
    """Budget grows only through ledger entries: the treasury funds the program's account."""
    program = _program(actor, program_id)
    _fund(actor, program, amount_minor)
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
            LedgerEntry.kind == EntryKind.FUNDING,
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
    """Credits that were due to a program but skipped, newest first."""
    program = _program(actor, program_id)
    query = (
        select(RewardSkip).where(RewardSkip.program_id == program.id).order_by(RewardSkip.id.desc())
    )
    return paginate(query, page, per_page)
