"""Checking credentials: one message and one cost for every failure, so emails cannot be probed.

Failures are counted in the database (login_failures), so the limits of auth/throttle.py hold
across every worker and host. A refusal while waiting checks no password at all. A failure is
recorded in its own unit of work, committed, and only then refused.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from functools import cache

from sqlalchemy import ColumnElement, delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..clock import utcnow
from ..errors import TooManyRequests, Unauthorized
from ..extensions import db
from ..settings import Settings
from ..uow import in_unit_of_work, transactional
from .models import LoginFailure, User
from .throttle import Failure, LoginPolicy, retry_after

_PRUNE_BATCH = 500  # each failure adds one row, so a batch per write keeps the table small


@cache
def _dummy_hash(method: str) -> str:
    """Checked when the email is unknown, so every failure costs the same time."""
    return generate_password_hash("leadshare-dummy-password", method=method)


def _account_hash(email: str, secret_key: str) -> str:
    """Keyed with SECRET_KEY, so the table does not reveal which emails were tried."""
    return hmac.new(secret_key.encode(), email.encode(), hashlib.sha256).hexdigest()


def _nth_newest(where: ColumnElement[bool], n: int, since: datetime) -> datetime | None:
    return db.session.scalar(
        select(LoginFailure.occurred_at)
        .where(where, LoginFailure.occurred_at >= since)
        .order_by(LoginFailure.occurred_at.desc())
        .offset(n - 1)
        .limit(1)
    )


def _last_failure(pair: ColumnElement[bool]) -> Failure | None:
    row = db.session.execute(
        select(LoginFailure.occurred_at, LoginFailure.streak)
        .where(pair)
        .order_by(LoginFailure.occurred_at.desc(), LoginFailure.id.desc())
        .limit(1)
    ).first()
    return None if row is None else Failure(at=row.occurred_at, streak=row.streak)


def _wait_seconds(policy: LoginPolicy, account: str, address: str, now: datetime) -> int:
    """0, or how long this account, this address or the two together must wait."""
    since = now - policy.limit_window
    pair = (LoginFailure.account_hash == account) & (LoginFailure.address == address)
    return retry_after(
        now,
        policy.pair_free_at(_last_failure(pair)),
        policy.limit_free_at(
            _nth_newest(LoginFailure.account_hash == account, policy.account_max_failures, since)
        ),
        policy.limit_free_at(
            _nth_newest(LoginFailure.address == address, policy.address_max_failures, since)
        ),
    )


def _record_failure(policy: LoginPolicy, account: str, address: str, now: datetime) -> None:
    """Count one failure of the pair and drop the rows too old to matter."""
    pair = (LoginFailure.account_hash == account) & (LoginFailure.address == address)
    recent = db.session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(pair, LoginFailure.occurred_at >= now - policy.pair_window)
    )
    streak = policy.next_streak(recent or 0, _last_failure(pair), now)
    stale = (
        select(LoginFailure.id)
        .where(LoginFailure.occurred_at < now - policy.keep_for)
        .limit(_PRUNE_BATCH)
        .with_for_update(skip_locked=True)  # concurrent failures never wait on each other
    )
    db.session.execute(delete(LoginFailure).where(LoginFailure.id.in_(stale.scalar_subquery())))
    db.session.add(
        LoginFailure(account_hash=account, address=address, streak=streak, occurred_at=now)
    )


def authenticate(email: str, password: str, address: str | None, settings: Settings) -> User:
    """The active user with this email and password, seen from client `address`.

    429 `too_many_attempts` while a limit refuses (even the right password); 401 for an unknown
    email, a deactivated user or a wrong password alike, each after one password check with
    the configured hash method. A success clears the failures of this account and address.
    It is a unit of work of its own, never inside another (refused: RuntimeError), so the
    failure it records commits although the sign-in is refused.
    """
    if in_unit_of_work():
        raise RuntimeError("authenticate must not run inside another unit of work")
    outcome = _check_credentials(email.strip().lower(), password, address, settings)
    if isinstance(outcome, Unauthorized):
        raise outcome
    return outcome


@transactional
def _check_credentials(
    email: str, password: str, address: str | None, settings: Settings
) -> User | Unauthorized:
    """The user, or the refusal to raise once the failure it recorded is committed."""
    policy = settings.login.policy()
    account, address = _account_hash(email, settings.secret_key), (address or "unknown")[:64]
    now = utcnow()
    wait = _wait_seconds(policy, account, address, now)
    if wait:
        raise TooManyRequests(
            f"Too many failed sign-ins; try again in {wait} seconds.",
            reason="too_many_attempts",
            retry_after=wait,
        )
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        matches = check_password_hash(_dummy_hash(settings.password_hash_method), password)
    else:
        matches = user.check_password(password)
    if user is None or not user.is_active_user or not matches:
        _record_failure(policy, account, address, now)
        return Unauthorized("Wrong email or password.", reason="invalid_credentials")
    db.session.execute(
        delete(LoginFailure).where(
            LoginFailure.account_hash == account, LoginFailure.address == address
        )
    )
    return user
