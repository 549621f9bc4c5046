"""Monthly statements of a dealer's reward account: opening balance, lines, closing balance."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ..auth.models import User
from ..auth.scope import statement_dealer
from ..clock import month_bounds
from ..csvsafe import cell, cells, csv_text
from ..extensions import db
from ..leads.models import Lead
from ..tenancy.models import Dealer
from .enums import AccountKind
from .ledger import account_key
from .models import LedgerAccount, LedgerEntry, LedgerPosting, RewardProgram
from .money import format_amount


def statement(actor: User, dealer_id: int, month: str) -> dict[str, Any]:
    """Every credit, reversal and payout on the dealer's reward account in `month` (group time)."""
    dealer = statement_dealer(actor, db.session.get(Dealer, dealer_id))
    year, number = (int(part) for part in month.split("-"))
    start, end = month_bounds(year, number, dealer.group.timezone)
    key = account_key(AccountKind.DEALER_REWARDS, dealer.id)
    base = (
        select(LedgerPosting.amount_minor, LedgerEntry, Lead.public_id, RewardProgram.name)
        .join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .outerjoin(Lead, Lead.id == LedgerEntry.lead_id)
        .outerjoin(RewardProgram, RewardProgram.id == LedgerEntry.program_id)
        .where(LedgerAccount.key == key)
    )
    opening = int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerPosting.amount_minor), 0))
            .join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id)
            .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
            .where(LedgerAccount.key == key, LedgerEntry.created_at < start)
        )
        or 0
    )
    rows = db.session.execute(
        base.where(LedgerEntry.created_at >= start, LedgerEntry.created_at < end).order_by(
            LedgerEntry.created_at, LedgerEntry.id
        )
    ).all()
    lines = [
        {
            "at": entry.created_at,
            "kind": entry.kind,
            "lead_id": lead_id,
            "program": program,
            "event": entry.event,
            "amount": format_amount(amount),
            "memo": entry.memo,
        }
        for amount, entry, lead_id, program in rows
    ]
    closing = opening + sum(amount for amount, *_ in rows)
    return {
        "dealer": {"id": dealer.id, "code": dealer.code, "name": dealer.name},
        "month": month,
        "currency": dealer.group.currency,
        "opening_balance": format_amount(opening),
        "lines": lines,
        "closing_balance": format_amount(closing),
    }


def statement_csv(data: dict[str, Any]) -> str:
    """The statement as CSV for Excel (BOM, header row). Program names and memos are typed by
    people, so text goes through `cells`; amounts are the service's own decimals, kept readable."""
    rows = [("", "opening_balance", "", "", "", data["opening_balance"], "")]
    for line in data["lines"]:
        text = cells((line["at"], line["kind"], line["lead_id"], line["program"], line["event"]))
        rows.append((*text, line["amount"], cell(line["memo"])))
    rows.append(("", "closing_balance", "", "", "", data["closing_balance"], ""))
    return csv_text((("date", "kind", "lead", "program", "event", "amount", "memo"), rows))
