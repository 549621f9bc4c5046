"""Real `flask leadshare deliver` processes on a scratch database, on both engines.

Several deliverers started at once share the outbox without ever sending a message twice (row
locks with SKIP LOCKED and leases on PostgreSQL, leases taken by conditional UPDATE under
SQLite's one writer); `deliver --loop` picks new messages up within a poll and exits cleanly on
SIGTERM or SIGINT.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import distinct, func, select

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db
from leadshare.notify.models import Notification
from leadshare.tenancy.models import Dealer, Group

from .. import TEST_SECRET_KEY
from ..webhook_receiver import Answer, Receiver
from .scratch import scratch_database

pytestmark = [pytest.mark.no_rollback, pytest.mark.slow]  # multi-process: `make test-slow`

REPO_ROOT = Path(__file__).resolve().parents[2]
DELIVERERS = 3
MESSAGES = 90


@pytest.fixture
def scratch(tmp_path) -> Iterator[str]:
    """An empty database of its own, migrated to head."""
    with scratch_database(tmp_path, "notifications") as url:
        app = _app(url)
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
            db.engine.dispose()
        yield url


@pytest.fixture
def receiver():
    with Receiver(default=Answer(delay=0.04)) as fake:
        yield fake


def _app(url: str):
    return create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url})


def _add_messages(url: str, webhook_url: str, count: int) -> list[str]:
    """A store with a webhook and `count` pending messages for it; returns their ids."""
    app = _app(url)
    with app.app_context():
        group = db.session.scalar(select(Group).where(Group.code == "NOTE"))
        if group is None:
            group = Group(name="Notify Group", code="NOTE")
            db.session.add(group)
            db.session.flush()
        dealer = Dealer(
            group_id=group.id,
            code=f"S{time.monotonic_ns()}",
            name="收件门店",
            latitude=23.1,
            longitude=113.3,
            webhook_url=webhook_url,
        )
        dealer.brands = ["奥迪"]
        db.session.add(dealer)
        db.session.flush()
        now = datetime.now(UTC).replace(tzinfo=None)
        ids = [f"msg_parallel_{dealer.id}_{n:04d}" for n in range(count)]
        db.session.add_all(
            Notification(
                message_id=message_id,
                group_id=group.id,
                dealer_id=dealer.id,
                event="claimed",
                payload={"lead_id": f"ld_{n:016x}", "lead_status": "accepted", "data": {}},
                occurred_at=now,
                status="pending",
                attempts=0,
                next_attempt_at=now,
            )
            for n, message_id in enumerate(ids)
        )
        db.session.commit()
        db.engine.dispose()
    return ids


def _statuses(url: str) -> Counter:
    app = _app(url)
    with app.app_context():
        found = Counter(db.session.scalars(select(Notification.status)))
        db.engine.dispose()
    return found


def _claimers(url: str) -> int:
    """How many deliverers hold a lease right now."""
    app = _app(url)
    with app.app_context():
        found = db.session.scalar(select(func.count(distinct(Notification.claimed_by))))
        db.session.commit()
        db.engine.dispose()
    return found


def _deliverer(url: str, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "ALLOW_PRIVATE_WEBHOOKS": "1",
        "LOG_LEVEL": "WARNING",
        "NOTIFY_TIMEOUT": "90",  # the gated receiver below must not time them out
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "leadshare", "deliver", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_parallel_deliverers_never_send_a_message_twice(scratch, receiver):
    ids = _add_messages(scratch, receiver.url(), MESSAGES)
    receiver.gate.clear()  # hold every answer until all deliverers have claimed a batch

    procs = [_deliverer(scratch, "--batch", "5") for _ in range(DELIVERERS)]
    deadline = time.monotonic() + 60
    while _claimers(scratch) < DELIVERERS and time.monotonic() < deadline:
        time.sleep(0.1)
    receiver.gate.set()
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]

    assert [proc.returncode for proc in procs] == [0] * DELIVERERS, outputs
    sent = [int(re.search(r"(\d+) sent", output).group(1)) for output in outputs]
    assert sum(sent) == MESSAGES, outputs
    assert all(sent), f"every deliverer took a share at the same time: {sent}"
    received = Counter(request.json["id"] for request in receiver.requests)
    assert received == Counter(ids)  # every message exactly once
    assert _statuses(scratch) == Counter({"sent": MESSAGES})


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_deliver_loop_picks_up_new_messages_and_stops_cleanly(scratch, receiver, signum):
    proc = _deliverer(scratch, "--loop", "--interval", "0.2")
    try:
        time.sleep(1)
        (message_id,) = _add_messages(scratch, receiver.url(), 1)
        deadline = time.monotonic() + 20
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [request.json["id"] for request in receiver.requests] == [message_id]
        proc.send_signal(signum)
        output = proc.communicate(timeout=15)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert "1 sent, 0 to retry, 0 dead, 0 cancelled." in output
    assert "Traceback" not in output
    assert _statuses(scratch) == Counter({"sent": 1})
