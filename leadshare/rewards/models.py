"""Reward tables: programs and rules, the double-entry ledger, credits and skips."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from ..leads.models import Lead
from ..tenancy.models import Dealer


class RewardProgram(db.Model):
    """A group-funded incentive: covers leads created within its dates (SPEC 6)."""

    __tablename__ = "reward_programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    per_dealer_monthly_cap_minor: Mapped[int | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    rules: Mapped[list[RewardRule]] = relationship(
        cascade="all, delete-orphan", order_by="RewardRule.id"
    )


class RewardRule(db.Model):
    """Pay `amount_minor` when a covered lead reaches `event` (optionally for a brand/channel)."""

    __tablename__ = "reward_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("reward_programs.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    brand: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(20))


class LedgerAccount(db.Model):
    """One account of the double-entry ledger; `balance_minor` moves with every posting to it."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int]
    key: Mapped[str] = mapped_column(String(50))
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerEntry(db.Model):
    """A journal entry: postings that sum to zero. A reversal names the entry it undoes (once)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("reverses_id"),
        Index("ix_ledger_entries_group_created", "group_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    kind: Mapped[str] = mapped_column(String(20))
    memo: Mapped[str | None] = mapped_column(String(500))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("reward_programs.id"))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"))
    event: Mapped[str | None] = mapped_column(String(20))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    postings: Mapped[list[LedgerPosting]] = relationship(
        cascade="all, delete-orphan", order_by="LedgerPosting.id"
    )
    lead: Mapped[Lead | None] = relationship()
    dealer: Mapped[Dealer | None] = relationship()


class LedgerPosting(db.Model):
    __tablename__ = "ledger_postings"
    __table_args__ = (Index("ix_ledger_postings_account_entry", "account_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    account: Mapped[LedgerAccount] = relationship()


class RewardCredit(db.Model):
    """A credit made to a referrer: at most one per (program, lead, event), by constraint."""

    __tablename__ = "reward_credits"
    __table_args__ = (
        UniqueConstraint("program_id", "lead_id", "event"),
        Index("ix_reward_credits_program_dealer_created", "program_id", "dealer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("reward_programs.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    event: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("reward_rules.id", ondelete="SET NULL"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RewardSkip(db.Model):
    """A credit that was due but did not fit the budget or the dealer's monthly cap."""

    __tablename__ = "reward_skips"
    __table_args__ = (UniqueConstraint("program_id", "lead_id", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("reward_programs.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    event: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship()
