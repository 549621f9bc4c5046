"""Deliverers working at once keep a WeCom robot under its limit together: three threads, each its
own deliverer with its own connections, share 60 due messages to one robot; the robot gets at
most 20 requests in the minute, every message is sent once (alone or in a digest), and a batch a
deliverer found no room for waits less than the minute, on either database."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db
from leadshare.notify.deliver import deliver_pending
from leadshare.notify.models import Notification, RobotSend
from leadshare.notify.robots import ROBOT_PER_MINUTE
from leadshare.settings import current_settings

from .. import TEST_SECRET_KEY
from ..webhook_receiver import Answer, Receiver, to_localhost
from .scratch import scratch_database
from .test_notifications import _add_messages

pytestmark = pytest.mark.no_rollback

MESSAGES = 60


def test_three_deliverers_at_once_send_twenty_requests_to_one_robot(tmp_path):
    with (
        scratch_database(tmp_path, "robots") as url,
        Receiver(default=Answer(delay=0.02)) as receiver,
    ):
        app = create_app(
            {
                "SECRET_KEY": TEST_SECRET_KEY,
                "SQLALCHEMY_DATABASE_URI": url,
                "ALLOW_PRIVATE_WEBHOOKS": True,  # the fake robot listens on 127.0.0.1
            }
        )
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
            db.engine.dispose()
        _add_messages(url, receiver.wecom_url("busy-robot"), MESSAGES)
        reports, start = [], threading.Barrier(3)

        def deliverer(n: int) -> None:
            with app.app_context():
                start.wait()
                reports.append(
                    deliver_pending(
                        current_settings().notify, worker=f"w{n}", batch=5, resolver=to_localhost
                    )
                )
                db.session.remove()

        threads = [threading.Thread(target=deliverer, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        with app.app_context():
            waiting = list(
                db.session.scalars(select(Notification).where(Notification.status == "pending"))
            )
            first_send = db.session.scalar(select(func.min(RobotSend.sent_at)))
            in_first_minute = len(receiver.requests)
            # A deliverer that found the minute full put its batch back: not an attempt, and
            # not past the minute. Once the minute is over they go too.
            assert {(m.attempts, m.claimed_by) for m in waiting} <= {(0, None)}
            assert all(m.next_attempt_at <= first_send + timedelta(minutes=1) for m in waiting)
            later = deliver_pending(
                current_settings().notify,
                now=first_send + timedelta(minutes=1),
                resolver=to_localhost,
            )
            assert later.sent == len(waiting)
            statuses = Counter(db.session.scalars(select(Notification.status)))
            reserved = list(db.session.scalars(select(RobotSend.messages)))
            db.session.remove()
            db.engine.dispose()
    assert len(reports) == 3
    assert sum(r.sent for r in reports) == MESSAGES - len(waiting)
    assert statuses == Counter({"sent": MESSAGES})
    assert in_first_minute <= ROBOT_PER_MINUTE  # one minute, one robot, three senders
    assert len(reserved) == len(receiver.requests) and sum(reserved) == MESSAGES
    linked = sum(r.body.decode().count("/leads/") for r in receiver.requests)
    assert linked == MESSAGES  # each message named once, alone or in a digest
