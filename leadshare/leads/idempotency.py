"""Idempotency-Key: a retried POST gets the first answer back, for 24 hours, per user.

The key is reserved by inserting a row in the same unit of work as the lead it creates, and the
answer is stored in that unit too: reservation, lead and answer commit together, or not at all.
The unique (user, key) constraint, not a check-then-insert, decides which of two concurrent
requests goes on; the other is answered from the winner's stored answer. Refusals roll back,
so only successful answers are replayed. A record that keeps a lead but no answer (written
before answers were stored in the same transaction) is answered from the lead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..clock import utcnow
from ..errors import Conflict, DomainError
from ..extensions import db
from ..uow import transactional
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


@dataclass
class Once:
    """A POST carrying an Idempotency-Key: the key, the body's fingerprint, how the surface
    renders the answer to a lead (status code and body), and that answer once given."""

    key: str
    fingerprint: str
    render: Callable[[Lead], tuple[int, str]]
    answer: tuple[int, str] | None = None


def _live(actor: User, key: str, now: datetime):
    return (
        IdempotencyRecord.user_id == actor.id,
        IdempotencyRecord.key == key,
        IdempotencyRecord.created_at >= now - TTL,
    )


def lookup(actor: User, key: str, fingerprint: str, now: datetime | None = None) -> Replay | None:
    """The stored first answer for this key (younger than the TTL), or None: run the request."""
    record = db.session.scalar(select(IdempotencyRecord).where(*_live(actor, key, now or utcnow())))
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


def reserve(actor: User, once: Once, now: datetime | None = None) -> IdempotencyRecord:
    """Claim the key inside the caller's unit of work; a concurrent holder makes this raise.

    A record older than the TTL is removed first. The caller sets the record's lead_id."""
    now = now or utcnow()
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == actor.id,
            IdempotencyRecord.key == once.key,
            IdempotencyRecord.created_at < now - TTL,
        )
    )
    record = IdempotencyRecord(user_id=actor.id, key=once.key, fingerprint=once.fingerprint)
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError as exc:
        raise KeyTaken("The same request is already being processed.") from exc
    return record


def answer(actor: User, once: Once, lead: Lead) -> None:
    """Render the answer to the lead and store it with the reservation, in the same unit."""
    once.answer = once.render(lead)
    remember(actor, once.key, *once.answer)


@transactional
def remember(actor: User, key: str, status_code: int, body: str) -> None:
    """Store the answer to replay for this key."""
    db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == actor.id, IdempotencyRecord.key == key)
        .values(status_code=status_code, body=body)
    )
