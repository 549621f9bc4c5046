"""Server-side web sessions: sign-out, a password change and a deactivation end them for good."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update

from ..clock import utcnow
from ..extensions import db
from ..uow import transactional
from .models import User, UserSession


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transactional
def start_session(user: User, lifetime: timedelta) -> str:
    """A new session for a user who just signed in, working for `lifetime` unless ended first.

    The raw token goes only into the cookie. The user's ended and expired sessions are dropped.
    """
    now = utcnow()
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_not(None) | (UserSession.expires_at <= now),
        )
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            token_hash=_hash(token), user_id=user.id, created_at=now, expires_at=now + lifetime
        )
    )
    user.session_token = token
    return token


def user_of_session(token: str) -> User | None:
    """The active user of a session that has neither ended nor expired; None for anything else."""
    user = db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == _hash(token),
            UserSession.ended_at.is_(None),
            UserSession.expires_at > utcnow(),
        )
    )
    if user is None or not user.is_active_user:
        return None
    user.session_token = token
    return user


@transactional
def end_session(token: str) -> None:
    """Sign-out: this session stops working, also in a copy of its cookie."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_every_session(user: User) -> None:
    """A password change, a deactivation or "sign out everywhere": every session and token dies.

    It joins the caller's unit of work (the user's change), so both commit together. The epoch
    only grows, so reactivating the user brings none of them back.
    """
    user.auth_epoch = (user.auth_epoch or 0) + 1
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


@transactional
def end_every_session_of(user_id: int) -> None:
    """ "Sign out everywhere": the user's own choice, in a unit of work of its own."""
    end_every_session(db.session.get(User, user_id))
