"""Server-side web sessions: sign-out, a password change and a deactivation end them for good."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, select, update

from ..clock import utcnow
from ..extensions import db
from ..uow import transactional
from .models import User, UserSession


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transactional
def start_session(user: User) -> str:
    """A new session for a user who just signed in; the raw token goes only into the cookie."""
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_not(None))
    )
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_hash(token), user_id=user.id))
    user.session_token = token
    return token


def user_of_session(token: str) -> User | None:
    """The active user of a session that has not ended; None for anything else."""
    user = db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
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
    """A password change or a deactivation: every session and token of the user dies.

    It joins the caller's unit of work (the user's change), so both commit together. The epoch
    only grows, so reactivating the user brings none of them back.
    """
    user.auth_epoch = (user.auth_epoch or 0) + 1
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
