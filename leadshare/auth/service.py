"""Checking credentials: one message for every failure, so emails cannot be probed."""

from __future__ import annotations

from functools import cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Unauthorized
from ..extensions import db
from ..models import User


@cache
def _dummy_hash() -> str:
    """Checked when the email is unknown, so both failures cost the same time."""
    return generate_password_hash("leadshare-dummy-password")


def authenticate(email: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_dummy_hash(), password)
    if user is None or not user.is_active_user or not user.check_password(password):
        raise Unauthorized("Wrong email or password.", reason="invalid_credentials")
    return user
