"""Delivery: claim due messages with a lease, send them, then mark them sent, retrying or dead.

Claiming, recording and releasing are each one short unit of work. A claim selects due rows
(FOR UPDATE SKIP LOCKED on PostgreSQL, so concurrent deliverers pass each other by; SQLite runs
one writer at a time) and leases them with a conditional UPDATE of claimed_by/claimed_until;
only rows whose lease is free are taken. Sending happens between the units, with no transaction
open, so a slow receiver holds no lock. A deliverer that dies mid-batch leaves its rows leased;
once the lease runs out another deliverer sends them again: delivery is at least once, and
receivers de-duplicate on the message id. Delivery only ever happens here, in the deliverer
process, never in a web request.

A WeCom app message (channel `wecom_app`) is sent through WeCom's message/send with the
group's app and its access token (cached until it expires, renewed on errcode 40014/42001). Its
recipients are read when it is claimed: active users linked to a WeCom member of the app's corp.
A store's members in a downstream corp (上下游) get a message of their own (one row per corp,
`payload["corp_id"]`), sent with that corp's token (corpgroup/corp/gettoken, cached like the
app's) and the app's agent id there (corpgroup/corp/list_app_share_info).
WeCom's `invaliduser` (members it could not reach) is recorded on a sent message; a message
none of whose recipients WeCom knows (81013) is dead at once, not retried; WeCom's rate limits
(45009, 45033) make it wait a minute without counting as an attempt.
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

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db
from ..leads.enums import OfferStatus
from ..leads.models import Offer
from ..settings import NotifySettings, WecomSettings, current_settings
from ..tenancy.models import Dealer, Group
from ..uow import in_unit_of_work, unit_of_work
from ..vocabulary import Role
from ..wecom.client import (
    ALL_RECIPIENTS_INVALID,
    RATE_LIMITED,
    App,
    NotShared,
    WecomClient,
    WecomError,
    WecomUnavailable,
)
from ..wecom.models import WecomMember
from ..wecom.service import app_credentials
from .enums import NotificationChannel, NotificationEvent, NotificationStatus
from .formats import (
    Message,
    app_message,
    base_headers,
    is_wecom_robot,
    render,
    wecom_digest_body,
)
from .models import Notification, RobotSend
from .outbox import audience, has_webhook
from .robots import RATE_LIMIT_ERRCODES, ROBOT_PER_MINUTE, WINDOW, lock_number, plan, robot_key
from .service import webhook_secret
from .urls import Resolver, UnsafeUrl, resolve_for_sending, system_resolver

log = logging.getLogger(__name__)

BATCH_SIZE = 10
LEASE_SLACK_SECONDS = 30
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
MAX_RESPONSE_BYTES = 64 * 1024
ROBOT_SENDS_KEPT = timedelta(hours=1)


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
    merged: tuple[int, ...] = ()  # a WeCom digest: the other messages it carries
    app: App | None = None  # a WeCom app message: sent with this app, `document` its body
    document: dict[str, Any] | None = None
    corp_id: str | None = None  # an app message to a downstream corp (上下游), not the app's own

    @property
    def ids(self) -> tuple[int, ...]:
        return (self.id, *self.merged)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    throttled: bool = False  # WeCom said the robot is over its limit: not a failed attempt
    final: bool = False  # failed for good (no recipient WeCom knows): dead, not retried
    invalid_users: str | None = None  # members WeCom could not reach (`a|b`)


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
    path = f"/leads/{lead_id}" if lead_id else payload.get("path")
    return Message(
        message_id=row.message_id,
        event=row.event,
        occurred_at=row.occurred_at,
        lead_id=lead_id,
        lead_status=payload.get("lead_status"),
        lead_url=f"{public_base_url}{path}" if path else None,
        data=payload.get("data") or {},
        timezone=payload.get("timezone") or "Asia/Shanghai",
    )


def url_of(row: Notification) -> str:
    """Where a webhook row goes: its store's webhook URL, or the group's admin robot."""
    if row.channel == NotificationChannel.ADMIN_ROBOT:
        return (db.session.get(Group, row.group_id).admin_robot_url or "").strip()
    return (row.dealer.webhook_url or "").strip() if row.dealer else ""


def _cancel_reason(row: Notification, now: datetime) -> str | None:
    offer_id = row.offer_id or (row.payload or {}).get("offer_id")
    if row.event == NotificationEvent.OFFER_EXPIRING and offer_id is not None:
        offer = db.session.get(Offer, offer_id)
        if offer is None or offer.status != OfferStatus.PENDING or offer.expires_at <= now:
            return "The offer was answered or expired before the reminder went out."
    if row.channel == NotificationChannel.WECOM_APP:
        return None  # its app and recipients are read as it is rendered (`_app_outgoing`)
    if row.channel == NotificationChannel.ADMIN_ROBOT:
        return None if url_of(row) else "The group has no admin robot URL any more."
    if not has_webhook(row.dealer):
        return "The store has no webhook URL any more."
    return None


def _outgoing(row: Notification, settings: NotifySettings) -> Outgoing:
    url = url_of(row)
    wecom = is_wecom_robot(url)
    secret = None if wecom else webhook_secret(row.dealer_id).secret
    body, headers = render(message_of(row, settings.public_base_url), url, secret)
    return Outgoing(row.id, row.message_id, url, body, headers, wecom, row.attempts, row.request_id)


def recipients(row: Notification, corp_id: str) -> list[str]:
    """The userids an app message goes to: its user, else its store's members (or those of its
    `to`: roles, users), else the group's admins; active users linked to a member of `corp_id`,
    in a fixed order."""
    query = (
        select(WecomMember.userid)
        .join(User, User.id == WecomMember.user_id)
        .where(WecomMember.corp_id == corp_id, User.is_active_user.is_(True))
        .order_by(WecomMember.userid)
    )
    if row.user_id is not None or row.dealer_id is not None:
        query = query.where(*audience(row.dealer_id, row.user_id, (row.payload or {}).get("to")))
    else:
        query = query.where(User.group_id == row.group_id, User.role == Role.GROUP_ADMIN)
    return list(dict.fromkeys(db.session.scalars(query)))


def _app_outgoing(
    row: Notification, settings: NotifySettings, wecom: WecomSettings
) -> Outgoing | str:
    """The WeCom app message of a row, or why it is cancelled instead."""
    app = app_credentials(row.group_id, wecom)
    if app is None:
        return "The group has no usable WeCom app (none configured, or no secret)."
    downstream = (row.payload or {}).get("corp_id")
    touser = recipients(row, downstream or app.corp_id)
    if not touser:
        return "Nobody to send to: no active user here is linked to a WeCom member."
    document = app_message(message_of(row, settings.public_base_url), app.agent_id, touser)
    body = json.dumps(document, ensure_ascii=False).encode()
    return Outgoing(
        row.id,
        row.message_id,
        wecom.api_base,
        body,
        {},
        True,
        row.attempts,
        row.request_id,
        app=app,
        document=document,
        corp_id=downstream,
    )


def _cancel(row: Notification, reason: str) -> None:
    row.status, row.last_error = NotificationStatus.CANCELLED, reason
    row.claimed_by = row.claimed_until = None


def _due(now: datetime):
    lease_free = or_(Notification.claimed_until.is_(None), Notification.claimed_until <= now)
    return (
        (Notification.status == NotificationStatus.PENDING)
        & (Notification.next_attempt_at <= now)
        & lease_free
    )


def claim(
    worker: str,
    now: datetime,
    settings: NotifySettings,
    *,
    limit: int = BATCH_SIZE,
    wecom: WecomSettings | None = None,
) -> tuple[list[Outgoing], int]:
    """Lease up to `limit` due messages to `worker` and render them, as one unit of work.

    Returns the messages to send and how many were cancelled instead (the store dropped its
    webhook URL, or a reminder's offer was answered meanwhile). Messages to a WeCom robot keep
    its limit (`claim_batch`).
    """
    outgoing, cancelled, _waiting = claim_batch(worker, now, settings, limit=limit, wecom=wecom)
    return outgoing, cancelled


def claim_batch(
    worker: str,
    now: datetime,
    settings: NotifySettings,
    *,
    limit: int = BATCH_SIZE,
    wecom: WecomSettings | None = None,
) -> tuple[list[Outgoing], int, int]:
    """`claim`, and how many robot messages were put back to wait for room in the minute.
    `wecom` (default: the app's) names the WeCom API that app messages are sent to."""
    due = _due(now)
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
            return [], 0, 0
        rows = _lease(session, ids, due, worker, now + lease(settings, limit))
        kept, cancelled = _not_cancelled(rows, now)
        robots: dict[str, list[Notification]] = {}
        outgoing = []
        for row in kept:
            if row.channel == NotificationChannel.WECOM_APP:
                out = _app_outgoing(row, settings, wecom or current_settings().wecom)
                if isinstance(out, str):
                    _cancel(row, out)
                    cancelled += 1
                else:
                    outgoing.append(out)
            elif is_wecom_robot(url_of(row)):
                robots.setdefault(url_of(row), []).append(row)
            else:
                outgoing.append(_outgoing(row, settings))
        waiting = 0
        for url, rows_of in sorted(robots.items(), key=lambda item: robot_key(item[0])):
            # (one order for every deliverer: their robot locks never wait on each other in a ring)
            sent, put_back, dropped = _robot_batch(session, url, rows_of, worker, now, settings)
            outgoing += sent
            waiting += put_back
            cancelled += dropped
    return outgoing, cancelled, waiting


def _lease(
    session: Session, ids: list[int], due, worker: str, until: datetime
) -> list[Notification]:
    session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), due)
        .values(claimed_by=worker, claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.id.in_(ids), Notification.claimed_by == worker)
            .order_by(Notification.next_attempt_at, Notification.id)
            .execution_options(populate_existing=True)
        )
    )


def _not_cancelled(rows: list[Notification], now: datetime) -> tuple[list[Notification], int]:
    kept, cancelled = [], 0
    for row in rows:
        reason = _cancel_reason(row, now)
        if reason is None:
            kept.append(row)
            continue
        _cancel(row, reason)
        cancelled += 1
    return kept, cancelled


def _robot_batch(
    session: Session,
    url: str,
    rows: list[Notification],
    worker: str,
    now: datetime,
    settings: NotifySettings,
) -> tuple[list[Outgoing], int, int]:
    """Keep a WeCom robot under its limit (leadshare.notify.robots): (messages to send, how
    many wait for room, how many more were cancelled). Deliverers on other hosts plan for the
    same robot one at a time (an advisory lock on PostgreSQL; SQLite has one writer)."""
    key = robot_key(url)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_number(key)})
    session.execute(
        delete(RobotSend).where(
            RobotSend.robot_key == key, RobotSend.sent_at < now - ROBOT_SENDS_KEPT
        )
    )
    recent = list(
        session.scalars(
            select(RobotSend.sent_at).where(
                RobotSend.robot_key == key, RobotSend.sent_at > now - WINDOW
            )
        )
    )
    stores = select(Dealer.id).where(func.trim(Dealer.webhook_url) == url)
    groups = select(Group.id).where(func.trim(Group.admin_robot_url) == url)
    to_store = (Notification.channel == NotificationChannel.WEBHOOK) & Notification.dealer_id.in_(
        stores.scalar_subquery()
    )
    to_admins = (Notification.channel == NotificationChannel.ADMIN_ROBOT) & (
        Notification.group_id.in_(groups.scalar_subquery())
    )
    same_robot = _due(now) & Notification.id.not_in([r.id for r in rows]) & (to_store | to_admins)
    others = session.scalar(select(func.count()).where(same_robot)) or 0
    decided = plan(len(rows) + others, recent, now)
    if decided.wait_until is not None:  # no room this minute: wait, not an attempt
        for row in rows:
            row.next_attempt_at = decided.wait_until
            row.claimed_by = row.claimed_until = None
        return [], len(rows), 0
    cancelled = 0
    if decided.digest:  # every message due for this robot goes now: the rest in one digest
        more = list(
            session.scalars(
                select(Notification.id)
                .where(same_robot)
                .order_by(Notification.next_attempt_at, Notification.id)
                .with_for_update(skip_locked=True)
            )
        )
        extra, cancelled = _not_cancelled(
            _lease(session, more, _due(now), worker, now + lease(settings, len(rows))), now
        )
        rows = sorted([*rows, *extra], key=lambda r: (r.next_attempt_at, r.id))
    alone = rows if not decided.digest else rows[: decided.alone]
    outgoing = [_outgoing(row, settings) for row in alone]
    merged = rows[len(alone) :]
    if merged:
        outgoing.append(_digest(merged, url, settings))
    session.add_all(
        RobotSend(robot_key=key, sent_at=now, messages=len(out.ids)) for out in outgoing
    )
    return outgoing, 0, cancelled


def _digest(rows: list[Notification], url: str, settings: NotifySettings) -> Outgoing:
    """One WeCom message carrying several: sent, retried and recorded as one."""
    first = rows[0]
    body = wecom_digest_body(
        [message_of(row, settings.public_base_url) for row in rows], ROBOT_PER_MINUTE
    )
    return Outgoing(
        first.id,
        first.message_id,
        url,
        body,
        base_headers(),
        True,
        max(row.attempts for row in rows),
        first.request_id,
        tuple(row.id for row in rows[1:]),
    )


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


def send_app(out: Outgoing, timeout: float) -> Outcome:
    """Send a WeCom app message through message/send; never raises."""
    client = WecomClient(out.url, timeout)
    try:
        if out.corp_id is None:
            answer = client.send_message(out.app, out.document)
        else:
            answer = client.send_downstream(out.app, out.corp_id, out.document)
    except NotShared as exc:
        return Outcome(False, 200, str(exc), final=True)
    except WecomError as exc:
        if exc.errcode in RATE_LIMITED:
            return Outcome(False, 200, str(exc), throttled=True)
        if exc.errcode == ALL_RECIPIENTS_INVALID:
            touser = (out.document or {}).get("touser")
            return Outcome(False, 200, str(exc), final=True, invalid_users=touser)
        return Outcome(False, 200, str(exc))
    except WecomUnavailable as exc:
        return Outcome(False, None, str(exc)[:500])
    invalid = str(answer.get("invaliduser") or "") or None
    return Outcome(True, 200, None, invalid_users=invalid)


def send(
    out: Outgoing, *, timeout: float, allow_private: bool, resolver: Resolver = system_resolver
) -> Outcome:
    """POST one message; never raises. `timeout` bounds the whole exchange after the lookup."""
    if out.app is not None:
        return send_app(out, timeout)
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
    throttled = error is not None and out.is_wecom and _wecom_errcode(raw) in RATE_LIMIT_ERRCODES
    return Outcome(error is None, status, error, throttled)


def _wecom_errcode(raw: bytes) -> int | None:
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    code = answer.get("errcode") if isinstance(answer, dict) else None
    return code if isinstance(code, int) else None


def record(
    out: Outgoing,
    outcome: Outcome,
    worker: str,
    now: datetime,
    settings: NotifySettings,
    rng: Callable[[], float] = random.random,
) -> NotificationStatus:
    """Mark the message sent, due again after a backoff, or dead after the last attempt (or at
    once when it cannot succeed); WeCom over its limit (errcode 45009) is tried again in a
    minute, not counted as an attempt. A digest records every message it carries."""
    attempts = out.attempts + (0 if outcome.throttled else 1)
    values: dict[str, Any] = {
        "attempts": Notification.attempts + (0 if outcome.throttled else 1),
        "claimed_by": None,
        "claimed_until": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:500] if outcome.error else None,
        "invalid_users": outcome.invalid_users[:500] if outcome.invalid_users else None,
    }
    if outcome.ok:
        status = NotificationStatus.SENT
        values["sent_at"] = now
    elif outcome.throttled:
        status = NotificationStatus.PENDING
        values["next_attempt_at"] = now + WINDOW
    elif outcome.final or attempts >= settings.max_attempts:
        status = NotificationStatus.DEAD
        values["dead_at"] = now
    else:
        status = NotificationStatus.PENDING
        values["next_attempt_at"] = now + timedelta(seconds=backoff_seconds(attempts, rng))
    values["status"] = status
    with unit_of_work() as session:
        done = session.execute(
            update(Notification)
            .where(Notification.id.in_(out.ids), Notification.claimed_by == worker)
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
    if out.merged:
        fields["digest_of"] = len(out.ids)
    if done != len(out.ids):
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
    wecom: WecomSettings | None = None,
) -> DeliveryReport:
    """Send everything that is due, batch after batch, until nothing is due or `stop` is set.

    Each claim and each record is its own unit of work and the POSTs happen between them, so it
    refuses to run inside a caller's unit of work (a webhook would be sent inside a transaction).
    """
    if in_unit_of_work():
        raise RuntimeError("deliver_pending sends webhooks: call it outside any unit of work")
    worker = worker or worker_id()
    wecom = wecom or current_settings().wecom
    report = DeliveryReport()
    while not (stop and stop.is_set()):
        outgoing, cancelled, waiting = claim_batch(
            worker, now or utcnow(), settings, limit=batch, wecom=wecom
        )
        report.cancelled += cancelled
        if not outgoing and not cancelled and not waiting:
            break
        for index, out in enumerate(outgoing):
            if stop and stop.is_set():
                release(worker, [i for o in outgoing[index:] for i in o.ids])
                return report
            outcome = send(
                out,
                timeout=wecom.timeout if out.app else settings.timeout,
                allow_private=settings.allow_private,
                resolver=resolver,
            )
            status = record(out, outcome, worker, now or utcnow(), settings)
            for _message in out.ids:
                report.count(status)
    return report
