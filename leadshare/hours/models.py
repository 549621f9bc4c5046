"""Hours tables: a store's own opening hours, its closures, a group's calendar corrections."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
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
