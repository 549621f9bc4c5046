"""The notification domain's vocabulary: message events and outbox statuses.

Stored as their string values; no other module spells these strings out.
"""

from __future__ import annotations

from enum import StrEnum


class NotificationEvent(StrEnum):
    """What a webhook message reports: an offer, its reminder, a claim, progress, a credit, an
    SLA reminder or miss, a consultant's appointment due."""

    OFFERED = "offered"
    OFFER_EXPIRING = "offer_expiring"
    CLAIMED = "claimed"
    CONTACTED = "contacted"
    VISITED = "visited"
    ORDERED = "ordered"
    DELIVERED = "delivered"
    LOST = "lost"
    REWARD_CREDITED = "reward_credited"
    SLA_REMINDER = "sla_reminder"
    SLA_MISSED = "sla_missed"
    FOLLOW_UP_DUE = "follow_up_due"
    BUDGET_LOW = "budget_low"
    CREDIT_SKIPPED = "credit_skipped"
    CONTACT_VIEWS = "contact_views"


ADMIN_EVENTS: tuple[NotificationEvent, ...] = (
    NotificationEvent.BUDGET_LOW,
    NotificationEvent.CREDIT_SKIPPED,
    NotificationEvent.CONTACT_VIEWS,
)
"""What group admins are told (an admin notice, and a WeCom app message to them)."""


class NotificationChannel(StrEnum):
    """How an outbox row travels: to a store's webhook URL, as a WeCom app message to people
    (a store's members, one consultant, or the group's admins), or to the group's admin robot."""

    WEBHOOK = "webhook"
    WECOM_APP = "wecom_app"
    ADMIN_ROBOT = "admin_robot"  # the group's admin robot (Group.admin_robot_url)


PROGRESS_EVENTS: tuple[NotificationEvent, ...] = (
    NotificationEvent.CONTACTED,
    NotificationEvent.VISITED,
    NotificationEvent.ORDERED,
    NotificationEvent.DELIVERED,
    NotificationEvent.LOST,
)
"""Progress the holder records, reported to the referrer (skipped stages are not)."""


class NotificationStatus(StrEnum):
    """Where an outbox row stands: due (again), delivered, out of attempts, or not to be sent."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    CANCELLED = "cancelled"


RETRYABLE: tuple[NotificationStatus, ...] = (NotificationStatus.DEAD, NotificationStatus.CANCELLED)
"""An admin may send a dead or cancelled message again."""
