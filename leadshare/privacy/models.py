"""Privacy tables: personal data sealed out of the trail, the contact access log and its alerts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User
    from ..leads.models import Lead


class PersonalDatum(db.Model):
    """One personal value an event of the trail refers to, with the salt of its commitment.

    The event's hashed data holds only the commitment; erasing clears value and salt and
    records when, so the chain still verifies and the trail shows "erased on <date>".
    """

    __tablename__ = "lead_personal_data"
    __table_args__ = (UniqueConstraint("lead_id", "seq", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    seq: Mapped[int]
    key: Mapped[str] = mapped_column(String(30))
    value: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    salt: Mapped[str | None] = mapped_column(String(64))
    erased_at: Mapped[datetime | None]

    lead: Mapped[Lead] = relationship()
    """Set on a new lead's rows, so the lead and its data are inserted in one flush."""


class ContactAccess(db.Model):
    """A person was shown a customer's unmasked contact: who, when, which lead and fields, how."""

    __tablename__ = "contact_access"
    __table_args__ = (
        Index("ix_contact_access_lead_at", "lead_id", "at"),
        Index("ix_contact_access_user_at", "user_id", "at"),
        Index("ix_contact_access_group_at", "group_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    fields: Mapped[list[str]] = mapped_column(JSON)
    via: Mapped[str] = mapped_column(String(20))
    """api, page, csv or request (a customer's request answered by a group admin)."""
    path: Mapped[str | None] = mapped_column(String(300))
    is_held: Mapped[bool]
    """The viewer's store held the lead then (views of other stores' leads count to alerts)."""
    reference: Mapped[str | None] = mapped_column(String(100))
    """A customer request's reference, when the access answered one."""

    lead: Mapped[Lead] = relationship()
    user: Mapped[User] = relationship()


class AdminChange(db.Model):
    """One change a group or platform admin made, with the values before and after."""

    __tablename__ = "admin_changes"
    __table_args__ = (Index("ix_admin_changes_group_at", "group_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))

    actor: Mapped[User] = relationship()
