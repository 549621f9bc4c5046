"""Signed, expiring Bearer tokens that die with a password change or a deactivation.

A token carries the user's auth epoch, bumped by both (auth/sessions.py), so reactivating a
user does not revive older tokens; the password fingerprint also catches any other reset.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..tenancy.models import Dealer
from .models import User

_SALT = "leadshare.api-token.v1"
STORE_AND_GROUP = (
    joinedload(User.group),
    joinedload(User.dealer).joinedload(Dealer.group),
    joinedload(User.dealer).joinedload(Dealer.region_rows),
)
"""Read with the user in the token check's statement: the store a store user acts for, its
group (the scope check and intake ask for both on every request) and its own region codes."""


def _fingerprint(user: User) -> str:
    """Changes whenever the password hash changes, which voids every older token."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def issue_token(user: User, secret_key: str, ttl_seconds: int) -> tuple[str, datetime]:
    serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
    token = serializer.dumps({"u": user.id, "p": _fingerprint(user), "e": user.auth_epoch})
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
    return token, expires_at.replace(microsecond=0)


def user_from_token(token: str, secret_key: str, ttl_seconds: int) -> User | None:
    serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
    try:
        payload = serializer.loads(token, max_age=ttl_seconds)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(payload, dict):
        return None
    user = db.session.get(User, payload.get("u"), options=STORE_AND_GROUP)
    if user is None or not user.is_active_user or payload.get("p") != _fingerprint(user):
        return None
    if payload.get("e") != user.auth_epoch:
        return None
    return user
