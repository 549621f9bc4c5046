"""Hours tables: a store's own opening hours, its closures, a group's calendar corrections."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


class StoreHours(db.Model):
    """A store's override of its group's opening hours (the contract's shape, as given)."""

    __tablename__ = "store_hours"

    dealer_id: Mapped[int] = mapped_column(
        ForeignKey("dealers.id", ondelete="CASCADE"), primary_key=True
    )
    weekly: Mapped[dict[str, Any]] = mapped_column(JSON)
    holidays: Mapped[list[Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StoreClosure(db.Model):
    """Days a store is shut (renovation, stock-take): local dates of its group, inclusive."""

    __tablename__ = "store_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarDay(db.Model):
    """A group's correction of the calendar for one day: holiday, make-up workday or normal
    (normal cancels a built-in day)."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("group_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    day: Mapped[date]
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(100))


class SlaTimer(db.Model):
    """One service-level clock of one holder on one lead: first contact within the group's
    open minutes after the claim, or the visit within its days after the contact. The sweep
    reminds once (`reminded_at`) and marks a miss once (`missed_at`), each by a conditional
    UPDATE, so concurrent sweepers act on a timer once."""

    __tablename__ = "sla_timers"
    __table_args__ = (
        UniqueConstraint("lead_id", "dealer_id", "kind"),
        Index("ix_sla_timers_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10), default="running")
    started_at: Mapped[datetime]
    remind_at: Mapped[datetime | None]
    due_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    met_at: Mapped[datetime | None]
    """When the store contacted (visited), in time or late: the speed-to-lead figure's end."""
    accept_open_minutes: Mapped[float | None]
    """Of a contact timer: the store's open minutes from the lead's posting to its claim."""
    open_minutes: Mapped[float | None]
    """The store's open minutes from the start to `met_at`, filled in by the next sweep."""
    released: Mapped[bool] = mapped_column(default=False)


class FollowUpNote(db.Model):
    """A consultant's follow-up note on a held lead, with an optional next appointment the
    sweep reminds the store of once (`reminded_at`). Contact data: the holder and the referrer
    read it, no message carries its text."""

    __tablename__ = "follow_up_notes"
    __table_args__ = (Index("ix_follow_up_notes_next", "reminded_at", "next_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    next_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
