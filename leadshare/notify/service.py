"""Group admins and notifications: list (dead ones first of all), retry, and the signing secret."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..auth.scope import require_role, sees_group
from ..clock import utcnow
from ..errors import Conflict, NotFound
from ..extensions import db
from ..leads.access import matching
from ..pagination import Page, paginate
from ..tenancy.models import Dealer
from ..uow import transactional
from ..vocabulary import Role
from .enums import RETRYABLE, NotificationStatus
from .models import Notification, WebhookSecret


def new_secret() -> str:
    """A fresh signing key for a store's receiver."""
    return "whsec_" + secrets.token_hex(32)


def webhook_secret(dealer_id: int) -> WebhookSecret:
    """The store's signing secret, made on first use (a concurrent first use keeps one).

    Runs in the caller's unit of work (the deliverer's claim, a rotation).
    """
    query = select(WebhookSecret).where(WebhookSecret.dealer_id == dealer_id)
    found = db.session.scalar(query)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            db.session.add(WebhookSecret(dealer_id=dealer_id, secret=new_secret()))
    except IntegrityError:  # made by a concurrent transaction: use theirs
        pass
    return db.session.scalar(query)


def _admin_dealer(actor: User, dealer_id: int) -> Dealer:
    """Outside the group: 404; staff and managers of the group: 403 (the secret is admins' only)."""
    dealer = db.session.get(Dealer, dealer_id)
    if dealer is None or not sees_group(actor, dealer.group_id):
        raise NotFound("No such dealer.")
    require_role(actor, Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
    return dealer


def get_webhook_secret(actor: User, dealer_id: int) -> WebhookSecret:
    """The store's secret if one is set (a read never makes one): 404 `not_set` otherwise."""
    dealer = _admin_dealer(actor, dealer_id)
    found = db.session.scalar(select(WebhookSecret).where(WebhookSecret.dealer_id == dealer.id))
    if found is None:
        raise NotFound(
            "This store has no signing secret yet; POST to this address to make one.",
            reason="not_set",
        )
    return found


@transactional
def rotate_webhook_secret(actor: User, dealer_id: int) -> WebhookSecret:
    """A new secret; messages sent from now on are signed with it."""
    dealer = _admin_dealer(actor, dealer_id)
    found = webhook_secret(dealer.id)
    found.secret, found.created_at = new_secret(), utcnow()
    return found


def list_notifications(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    """The group's messages, newest first; `status=dead` is what needs an admin's attention."""
    require_role(actor, Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
    query = select(Notification).order_by(Notification.id.desc())
    if actor.role == Role.GROUP_ADMIN:
        query = query.where(Notification.group_id == actor.group_id)
    query = matching(query, Notification, filters, ("status", "event", "dealer_id", "channel"))
    return paginate(query, page, per_page)


def _notification(actor: User, message_id: str) -> Notification:
    row = db.session.scalar(select(Notification).where(Notification.message_id == message_id))
    if row is None or not sees_group(actor, row.group_id):
        raise NotFound("No such notification.")
    require_role(actor, Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
    return row


def get_notification(actor: User, message_id: str) -> Notification:
    """One message of the admin's group."""
    return _notification(actor, message_id)


@transactional
def retry_notification(actor: User, message_id: str, now: datetime | None = None) -> Notification:
    """A dead (or cancelled) message goes back to pending with a fresh set of attempts."""
    row = _notification(actor, message_id)
    done = db.session.execute(
        update(Notification)
        .where(Notification.id == row.id, Notification.status.in_(RETRYABLE))
        .values(
            status=NotificationStatus.PENDING,
            attempts=0,
            next_attempt_at=now or utcnow(),
            claimed_by=None,
            claimed_until=None,
            dead_at=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise Conflict(
            f"Only a dead or cancelled message can be retried; this one is {row.status}.",
            reason="not_retryable",
        )
    db.session.refresh(row)
    return row
