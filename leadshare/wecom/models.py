"""A group's WeCom app and the members it knows: (corp id, userid) -> leadshare user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db
from ..tenancy.models import Group


class WecomApp(db.Model):
    """The group's self-built WeCom app: its corp, agent and (encrypted) secret.

    `secret_encrypted` is a Fernet token made with WECOM_ENCRYPTION_KEY; it is empty when the
    secret comes from the environment (WECOM_SECRET_<GROUP CODE>).
    """

    __tablename__ = "wecom_apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), unique=True)
    corp_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[int]
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    group: Mapped[Group] = relationship()


class WecomMember(db.Model):
    """A WeCom member known by the pair (corp id, userid): a 上下游 store is a corp of its own."""

    __tablename__ = "wecom_members"
    __table_args__ = (UniqueConstraint("corp_id", "userid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    corp_id: Mapped[str] = mapped_column(String(64))
    userid: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
