"""Idempotency-Key: a retried POST gets the first answer back, for 24 hours, per user.

The key is reserved by inserting a row in the same transaction as the lead it creates; the
unique (user, key) constraint, not a check-then-insert, decides which of two concurrent
requests goes on. Refusals roll back, so only successful answers are replayed. The row keeps
the lead's id, committed with the lead, so when the answer itself was never stored (the process
died, or a concurrent retry arrives in the instant between the two commits) the retry is
answered from the lead instead of being refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..clock import utcnow
from ..errors import Conflict, DomainError
from ..extensions import db
from .models import IdempotencyRecord, Lead

TTL = timedelta(hours=24)


class KeyTaken(DomainError):
    """Raised inside the service when a concurrent request reserved the same key first."""

    status = 409
    reason = "idempotency_replay"


@dataclass(frozen=True)
class Replay:
    """The stored answer, or (body None) the public id of the lead to answer with again."""

    status_code: int | None
    body: str | None
    lead_id: str | None = None


def lookup(actor: User, key: str, fingerprint: str, now: datetime | None = None) -> Replay | None:
    """The stored first answer for this key, or None when the request should run."""
    now = now or utcnow()
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == actor.id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at < now - TTL,
        )
    )
    db.session.commit()
    record = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == actor.id, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different request.",
            reason="idempotency_key_reused",
        )
    if record.body is None and record.lead_id is not None:
        public_id = db.session.scalar(select(Lead.public_id).where(Lead.id == record.lead_id))
        return Replay(None, None, public_id)
    if record.body is None:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            reason="request_in_progress",
        )
    return Replay(record.status_code, record.body)


def reserve(actor: User, key: str, fingerprint: str) -> IdempotencyRecord:
    """Claim the key inside the caller's transaction; a concurrent holder makes this raise.

    The caller sets the record's lead_id before committing."""
    record = IdempotencyRecord(user_id=actor.id, key=key, fingerprint=fingerprint)
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError as exc:
        raise KeyTaken("The same request is already being processed.") from exc
    return record


def remember(actor: User, key: str, status_code: int, body: str) -> None:
    db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == actor.id, IdempotencyRecord.key == key)
        .values(status_code=status_code, body=body)
    )
    db.session.commit()
