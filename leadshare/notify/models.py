"""Notification tables: the outbox and the stores' webhook secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from ..leads.models import Lead
from ..tenancy.models import Dealer
from .enums import NotificationChannel, NotificationStatus


class Notification(db.Model):
    """An outbox row: one message to one store's webhook, or one WeCom app message, written in
    the transaction of its change.

    A WeCom app message (`channel` wecom_app) goes to `user_id` when set (a lead's consultant),
    else to the members of `dealer_id` (an offer), else to the group's admins (an admin notice);
    its recipients are read when it is claimed. WeCom's `invaliduser` answer is kept in
    `invalid_users`.

    A deliverer claims due rows with a lease (`claimed_by`, `claimed_until`), sends them and marks
    them `sent`, or schedules a retry, or marks them `dead` after the last attempt.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("message_id"),
        UniqueConstraint("offer_id", "event", "channel"),
        Index("ix_notifications_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_notifications_group_status", "group_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(12), default=NotificationChannel.WEBHOOK)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    invalid_users: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]
    request_id: Mapped[str | None] = mapped_column(String(64))
    """The X-Request-Id of the request that caused the message, carried into the worker's logs."""

    dealer: Mapped[Dealer | None] = relationship()
    lead: Mapped[Lead | None] = relationship()


class WebhookSecret(db.Model):
    """The key a store's receiver checks the X-Leadshare-Signature of signed JSON messages with."""

    __tablename__ = "webhook_secrets"
    __table_args__ = (UniqueConstraint("dealer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id", ondelete="CASCADE"))
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RobotSend(db.Model):
    """One message sent (or about to be) to a WeCom group robot, kept an hour: the robot's
    20-a-minute limit is counted from these rows. `robot_key` is a hash of the robot's URL."""

    __tablename__ = "robot_sends"
    __table_args__ = (Index("ix_robot_sends_robot_sent", "robot_key", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    robot_key: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]
    messages: Mapped[int] = mapped_column(default=1)  # more than one: a digest


class AdminNotice(db.Model):
    """Something a group's admins are told (a budget running low, a credit skipped, a user
    opening many contacts), shown in their navigation until read. `key` makes a notice once
    only where that matters (a user's contact views: once per user and local day)."""

    __tablename__ = "admin_notices"
    __table_args__ = (
        UniqueConstraint("group_id", "key"),
        Index("ix_admin_notices_group_created", "group_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AdminNoticeRead(db.Model):
    """An admin has read a notice (each admin reads for themself)."""

    __tablename__ = "admin_notice_reads"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("admin_notices.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
