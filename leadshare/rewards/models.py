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
    hold_days: Mapped[int] = mapped_column(default=30, server_default="30")
    """Days a credit stays pending before a payout may draw on it (0: available at once)."""
    alert_below_minor: Mapped[int | None] = mapped_column(BigInteger)
    """The group admins are told when the remaining budget falls below this amount."""
    requires_retail_confirmation: Mapped[bool] = mapped_column(default=False, server_default="0")
    """`delivered` credits stay pending until the OEM's retail report confirms the delivery."""
    retail_deadline_days: Mapped[int] = mapped_column(default=60, server_default="60")
    """Days after the delivery a confirmation may come; then the sweep reverses the credit."""
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
    """A credit made to a referrer: at most one per (program, lead, event), by constraint.

    A held credit (`held_until` set) is pending until the sweep releases it (`release_entry_id`);
    a reversal before that cancels it, after that debits the available money.
    """

    __tablename__ = "reward_credits"
    __table_args__ = (
        UniqueConstraint("program_id", "lead_id", "event"),
        Index("ix_reward_credits_program_dealer_created", "program_id", "dealer_id", "created_at"),
        Index("ix_reward_credits_held_until", "held_until"),
        Index("ix_reward_credits_retail_deadline", "retail_deadline_at"),
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
    held_until: Mapped[datetime | None]
    release_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    retail_deadline_at: Mapped[datetime | None]
    """Set when the program requires retail confirmation: reversed by the sweep at this time
    unless confirmed first."""
    retail_confirmed_at: Mapped[datetime | None]

    @property
    def awaits_retail(self) -> bool:
        """Held for the OEM's confirmation of the delivery, which has not come yet."""
        return self.retail_deadline_at is not None and self.retail_confirmed_at is None

    @property
    def is_pending(self) -> bool:
        """Still held: neither released nor reversed."""
        return (
            self.held_until is not None
            and self.release_entry_id is None
            and self.reversal_entry_id is None
        )


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


class RewardAlert(db.Model):
    """Something a program's group admins are told: its budget fell below `alert_below`, or a
    credit was skipped for lack of budget. Shown as a banner until the program is funded."""

    __tablename__ = "reward_alerts"
    __table_args__ = (Index("ix_reward_alerts_group_created", "group_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    program_id: Mapped[int] = mapped_column(ForeignKey("reward_programs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    remaining_minor: Mapped[int] = mapped_column(BigInteger)
    alert_below_minor: Mapped[int | None] = mapped_column(BigInteger)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    """The skipped credit's amount (a skip alert)."""
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    program: Mapped[RewardProgram] = relationship()
    lead: Mapped[Lead | None] = relationship()
