"""Accounts: users, their web sessions and refused sign-ins."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..clock import utcnow
from ..extensions import db
from ..tenancy.models import Dealer, Group, Oem

if TYPE_CHECKING:
    from ..wecom.models import WecomMember


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(100))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"), index=True)
    oem_id: Mapped[int | None] = mapped_column(ForeignKey("oems.id"), index=True)
    is_active_user: Mapped[bool] = mapped_column("is_active", default=True)
    auth_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # set by a group admin's password reset: the temporary password must be replaced first
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[Group | None] = relationship()
    dealer: Mapped[Dealer | None] = relationship()
    oem: Mapped[Oem | None] = relationship()
    wecom_member: Mapped[WecomMember | None] = relationship(viewonly=True, uselist=False)

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.is_active_user

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    # The web session this object was loaded for (not a column): Flask-Login stores get_id()
    # in the cookie, so the cookie names a server-side session that can be ended.
    session_token = None

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("a web session starts with auth.sessions.start_session")
        return self.session_token

    def set_password(self, password: str, method: str) -> None:
        """Hash with the given werkzeug method (PASSWORD_HASH_METHOD: scrypt, or fast in tests)."""
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class UserSession(db.Model):
    """A signed-in web session; the cookie holds a random token, the row only its hash.

    It works until `expires_at` (SESSION_TTL_HOURS, or REMEMBER_DAYS for "remember me" and
    WeCom sign-ins) unless it is ended first.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class LoginFailure(db.Model):
    """One refused sign-in: keyed by a hash of the email and the client address, never a password.

    `streak` is the pair's consecutive failures including this one (auth/throttle.py), so the
    growing delay is read from the pair's latest row alone.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_account_occurred", "account_hash", "occurred_at"),
        Index("ix_login_failures_address_occurred", "address", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_hash: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    streak: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(index=True)
