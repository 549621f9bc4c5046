"""Monthly statements of a dealer's reward money: opening and closing balances of its pending
(held) and available money, and every line on either account in between."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..auth.models import User
from ..auth.scope import statement_dealer
from ..clock import month_bounds
from ..csvsafe import Table, cell, cells, zoned
from ..extensions import db
from ..leads.contact import mask_name
from ..leads.models import Lead
from ..tenancy.models import Dealer
from .enums import AccountKind, EntryKind
from .ledger import account_key
from .models import LedgerAccount, LedgerEntry, LedgerPosting, RewardCredit, RewardProgram
from .money import format_amount

STATEMENT_ACCOUNTS = {
    AccountKind.DEALER_PENDING: "pending",
    AccountKind.DEALER_REWARDS: "available",
}
"""The dealer's accounts a statement reads, by the name a line gives its account."""


def _balances_before(keys: dict[str, str], before: datetime) -> dict[str, int]:
    """Each account's balance (by its statement name) from every posting before `before`."""
    rows = db.session.execute(
        select(LedgerAccount.key, func.coalesce(func.sum(LedgerPosting.amount_minor), 0))
        .join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(LedgerAccount.key.in_(list(keys)), LedgerEntry.created_at < before)
        .group_by(LedgerAccount.key)
    ).all()
    found = {keys[key]: int(total or 0) for key, total in rows}  # Decimal on PostgreSQL
    return {name: found.get(name, 0) for name in keys.values()}


def statement(actor: User, dealer_id: int, month: str) -> dict[str, Any]:
    """Every credit, release, reversal and payout on the dealer's pending and available money in
    `month` (group time); a held credit's line says when it is (or was) released."""
    dealer = statement_dealer(actor, db.session.get(Dealer, dealer_id))
    year, number = (int(part) for part in month.split("-"))
    start, end = month_bounds(year, number, dealer.group.timezone)
    keys = {account_key(kind, dealer.id): name for kind, name in STATEMENT_ACCOUNTS.items()}
    rows = db.session.execute(
        select(
            LedgerPosting.amount_minor,
            LedgerAccount.key,
            LedgerEntry,
            Lead.public_id,
            Lead.customer_name,
            RewardProgram.name,
            RewardCredit.held_until,
        )
        .join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .outerjoin(Lead, Lead.id == LedgerEntry.lead_id)
        .outerjoin(RewardProgram, RewardProgram.id == LedgerEntry.program_id)
        .outerjoin(RewardCredit, RewardCredit.entry_id == LedgerEntry.id)
        .where(
            LedgerAccount.key.in_(list(keys)),
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        )
        .order_by(LedgerEntry.created_at, LedgerEntry.id, LedgerPosting.id)
    ).all()
    opening = _balances_before(keys, start)
    closing = dict(opening)
    lines = []
    for amount, key, entry, lead_id, customer, program, held_until in rows:
        name = keys[key]
        closing[name] += amount
        lines.append(
            {
                "at": entry.created_at,
                "kind": entry.kind,
                "account": name,
                "lead_id": lead_id,
                "customer": mask_name(customer) if customer else None,
                "program": program,
                "event": entry.event,
                "amount": format_amount(amount),
                "releases_at": held_until if entry.kind == EntryKind.CREDIT else None,
                "memo": entry.memo,
            }
        )
    return {
        "dealer": {"id": dealer.id, "code": dealer.code, "name": dealer.name},
        "month": month,
        "currency": dealer.group.currency,
        "timezone": dealer.group.timezone,
        "opening_balance": format_amount(opening["available"]),
        "opening_pending": format_amount(opening["pending"]),
        "lines": lines,
        "closing_balance": format_amount(closing["available"]),
        "closing_pending": format_amount(closing["pending"]),
    }


HEADER = (
    "date",
    "kind",
    "account",
    "lead",
    "customer",
    "program",
    "event",
    "amount",
    "releases_at",
    "memo",
)
"""The statement CSV's columns (their page labels: leadshare.csv_headers.STATEMENT)."""


def _balance_row(kind: str, account: str, amount: str) -> tuple[str, ...]:
    return ("", kind, account, "", "", "", "", amount, "", "")


def statement_table(data: dict[str, Any]) -> Table:
    """The statement as a CSV table for Excel. Program names and memos are typed by people, so
    text goes through `cells`; amounts are the service's own decimals, kept readable; times are
    in the group's time zone with the offset. Opening and closing rows come for both the pending
    and the available money."""
    zone = data["timezone"]
    rows = [
        _balance_row("opening_balance", "pending", data["opening_pending"]),
        _balance_row("opening_balance", "available", data["opening_balance"]),
    ]
    for line in data["lines"]:
        text = cells(
            (line["kind"], line["account"], line["lead_id"], line["customer"], line["program"])
        )
        rows.append(
            (
                zoned(line["at"], zone),
                *text,
                cell(line["event"]),
                line["amount"],
                zoned(line["releases_at"], zone),
                cell(line["memo"]),
            )
        )
    rows.append(_balance_row("closing_balance", "pending", data["closing_pending"]))
    rows.append(_balance_row("closing_balance", "available", data["closing_balance"]))
    return HEADER, rows
