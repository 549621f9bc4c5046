"""Delivery: claim due messages with a lease, send them, then mark them sent, retrying or dead.

Claiming, recording and releasing are each one short unit of work. A claim selects due rows
(FOR UPDATE SKIP LOCKED on PostgreSQL, so concurrent deliverers pass each other by; SQLite runs
one writer at a time) and leases them with a conditional UPDATE of claimed_by/claimed_until;
only rows whose lease is free are taken. Sending happens between the units, with no transaction
open, so a slow receiver holds no lock. A deliverer that dies mid-batch leaves its rows leased;
once the lease runs out another deliverer sends them again: delivery is at least once, and
receivers de-duplicate on the message id. Delivery only ever happens here, in the deliverer
process, never in a web request.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import random
import secrets
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update

from ..clock import utcnow
from ..extensions import db
from ..leads.enums import OfferStatus
from ..leads.models import Offer
from ..settings import NotifySettings
from ..uow import in_unit_of_work, unit_of_work
from .enums import NotificationEvent, NotificationStatus
from .formats import Message, is_wecom_robot, render
from .models import Notification
from .outbox import has_webhook
from .service import webhook_secret
from .urls import Resolver, UnsafeUrl, resolve_for_sending, system_resolver

log = logging.getLogger(__name__)

BATCH_SIZE = 10
LEASE_SLACK_SECONDS = 30
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
MAX_RESPONSE_BYTES = 64 * 1024


def lease(settings: NotifySettings, batch: int) -> timedelta:
    """Long enough to send a whole batch to receivers that all time out."""
    return timedelta(seconds=LEASE_SLACK_SECONDS + batch * settings.timeout * 2)


@dataclass(frozen=True)
class Outgoing:
    """A claimed message, rendered: everything needed to send it with no database at hand."""

    id: int
    message_id: str
    url: str
    body: bytes
    headers: dict[str, str]
    is_wecom: bool
    attempts: int
    request_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None


@dataclass
class DeliveryReport:
    """How many messages a run sent, left to retry, gave up on, or cancelled."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0
    cancelled: int = 0

    def count(self, status: NotificationStatus) -> None:
        field = "retrying" if status == NotificationStatus.PENDING else str(status)
        setattr(self, field, getattr(self, field) + 1)

    def add(self, other: DeliveryReport) -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


def worker_id() -> str:
    """Names the claims of one deliverer: host, process and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def backoff_seconds(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: ~5 s after the 1st failure, ~10 s, ~20 s ... at most ~1 h.

    The jitter (x0.5 to x1.5) spreads the retries of many messages to one broken receiver.
    """
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)) * (0.5 + rng())


def message_of(row: Notification, public_base_url: str) -> Message:
    payload = row.payload or {}
    lead_id = payload.get("lead_id")
    return Message(
        message_id=row.message_id,
        event=row.event,
        occurred_at=row.occurred_at,
        lead_id=lead_id,
        lead_status=payload.get("lead_status"),
        lead_url=f"{public_base_url}/leads/{lead_id}" if lead_id else None,
        data=payload.get("data") or {},
        timezone=payload.get("timezone") or "Asia/Shanghai",
    )


def _cancel_reason(row: Notification, now: datetime) -> str | None:
    if not has_webhook(row.dealer):
        return "The store has no webhook URL any more."
    if row.event == NotificationEvent.OFFER_EXPIRING and row.offer_id is not None:
        offer = db.session.get(Offer, row.offer_id)
        if offer is None or offer.status != OfferStatus.PENDING or offer.expires_at <= now:
            return "The offer was answered or expired before the reminder went out."
    return None


def _outgoing(row: Notification, settings: NotifySettings) -> Outgoing:
    url = row.dealer.webhook_url.strip()
    wecom = is_wecom_robot(url)
    secret = None if wecom else webhook_secret(row.dealer_id).secret
    body, headers = render(message_of(row, settings.public_base_url), url, secret)
    return Outgoing(row.id, row.message_id, url, body, headers, wecom, row.attempts, row.request_id)


def claim(
    worker: str, now: datetime, settings: NotifySettings, *, limit: int = BATCH_SIZE
) -> tuple[list[Outgoing], int]:
    """Lease up to `limit` due messages to `worker` and render them, as one unit of work.

    Returns the messages to send and how many were cancelled instead (the store dropped its
    webhook URL, or a reminder's offer was answered meanwhile).
    """
    lease_free = or_(Notification.claimed_until.is_(None), Notification.claimed_until <= now)
    due = (
        (Notification.status == NotificationStatus.PENDING)
        & (Notification.next_attempt_at <= now)
        & lease_free
    )
    with unit_of_work() as session:
        ids = list(
            session.scalars(
                select(Notification.id)
                .where(due)
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return [], 0
        session.execute(
            update(Notification)
            .where(Notification.id.in_(ids), due)
            .values(claimed_by=worker, claimed_until=now + lease(settings, limit))
            .execution_options(synchronize_session=False)
        )
        rows = session.scalars(
            select(Notification)
            .where(Notification.id.in_(ids), Notification.claimed_by == worker)
            .order_by(Notification.next_attempt_at, Notification.id)
            .execution_options(populate_existing=True)
        ).all()
        outgoing, cancelled = [], 0
        for row in rows:
            reason = _cancel_reason(row, now)
            if reason is None:
                outgoing.append(_outgoing(row, settings))
                continue
            row.status, row.last_error = NotificationStatus.CANCELLED, reason
            row.claimed_by = row.claimed_until = None
            cancelled += 1
    return outgoing, cancelled


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, not to whatever the name resolves to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS verified against the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _answer_error(out: Outgoing, status: int, raw: bytes) -> str | None:
    """Why an answer is a failure: not 2xx, or a WeCom errcode other than 0 in a 200."""
    snippet = raw[:200].decode("utf-8", errors="replace").strip()
    if not 200 <= status < 300:
        return f"HTTP {status}" + (f": {snippet}" if snippet else "")
    if out.is_wecom:
        try:
            answer = json.loads(raw)
        except ValueError:
            return f"WeCom answered something that is not JSON: {snippet}"
        if not isinstance(answer, dict) or answer.get("errcode") != 0:
            code = answer.get("errcode") if isinstance(answer, dict) else None
            message = answer.get("errmsg") if isinstance(answer, dict) else snippet
            return f"WeCom errcode {code}: {message}"
    return None


def send(
    out: Outgoing, *, timeout: float, allow_private: bool, resolver: Resolver = system_resolver
) -> Outcome:
    """POST one message; never raises. `timeout` bounds the whole exchange after the lookup."""
    try:
        scheme, host, port, address = resolve_for_sending(
            out.url, allow_private=allow_private, resolver=resolver
        )
    except UnsafeUrl as exc:
        return Outcome(False, None, f"Refused: {exc}")
    parts = urlsplit(out.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    conn = connection_class(host, port, address, timeout)
    expired = threading.Event()

    def cut_off() -> None:  # a receiver that trickles its answer still gets only `timeout`
        expired.set()
        if conn.sock is not None:
            with contextlib.suppress(OSError):  # already closed
                conn.sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(timeout, cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", target, body=out.body, headers=out.headers)
        response = conn.getresponse()
        raw = response.read(MAX_RESPONSE_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            return Outcome(False, None, f"Timed out after {timeout:g} s.")
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
    finally:
        watchdog.cancel()
        conn.close()
    error = _answer_error(out, status, raw)
    return Outcome(error is None, status, error)


def record(
    out: Outgoing,
    outcome: Outcome,
    worker: str,
    now: datetime,
    settings: NotifySettings,
    rng: Callable[[], float] = random.random,
) -> NotificationStatus:
    """Mark the message sent, due again after a backoff, or dead after the last attempt."""
    attempts = out.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "claimed_by": None,
        "claimed_until": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:500] if outcome.error else None,
    }
    if outcome.ok:
        status = NotificationStatus.SENT
        values["sent_at"] = now
    elif attempts >= settings.max_attempts:
        status = NotificationStatus.DEAD
        values["dead_at"] = now
    else:
        status = NotificationStatus.PENDING
        values["next_attempt_at"] = now + timedelta(seconds=backoff_seconds(attempts, rng))
    values["status"] = status
    with unit_of_work() as session:
        done = session.execute(
            update(Notification)
            .where(Notification.id == out.id, Notification.claimed_by == worker)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
    fields = {
        "message_id": out.message_id,
        "request_id": out.request_id,  # the request that caused the message
        "attempt": attempts,
        "delivery": str(status),
        "http_status": outcome.status_code,
    }
    if done != 1:
        log.warning("lost the lease before recording the message", extra=fields)
    elif outcome.ok:
        log.info("message sent", extra=fields)
    else:
        log.warning("message not delivered", extra={**fields, "error": outcome.error})
    return status


def release(worker: str, ids: list[int]) -> None:
    """Give back claimed messages that were not sent (a clean shutdown), due again at once."""
    with unit_of_work() as session:
        if ids:
            session.execute(
                update(Notification)
                .where(Notification.id.in_(ids), Notification.claimed_by == worker)
                .values(claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )


def deliver_pending(
    settings: NotifySettings,
    *,
    worker: str | None = None,
    now: datetime | None = None,
    batch: int = BATCH_SIZE,
    stop: threading.Event | None = None,
    resolver: Resolver = system_resolver,
) -> DeliveryReport:
    """Send everything that is due, batch after batch, until nothing is due or `stop` is set.

    Each claim and each record is its own unit of work and the POSTs happen between them, so it
    refuses to run inside a caller's unit of work (a webhook would be sent inside a transaction).
    """
    if in_unit_of_work():
        raise RuntimeError("deliver_pending sends webhooks: call it outside any unit of work")
    worker = worker or worker_id()
    report = DeliveryReport()
    while not (stop and stop.is_set()):
        outgoing, cancelled = claim(worker, now or utcnow(), settings, limit=batch)
        report.cancelled += cancelled
        if not outgoing and not cancelled:
            break
        for index, out in enumerate(outgoing):
            if stop and stop.is_set():
                release(worker, [o.id for o in outgoing[index:]])
                return report
            outcome = send(
                out,
                timeout=settings.timeout,
                allow_private=settings.allow_private,
                resolver=resolver,
            )
            report.count(record(out, outcome, worker, now or utcnow(), settings))
    return report
