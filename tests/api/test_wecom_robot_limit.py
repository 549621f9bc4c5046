"""A WeCom group robot takes at most 20 messages a minute (issue 19): a burst of 50 offers to one
store reaches its robot as 19 messages and one digest of the other 31, inside the minute; more in
the same minute wait for room (under a minute); WeCom's rate-limit errcode waits a minute and
tries again without counting as a failed attempt. Against the fake receiver."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.notify.models import Notification, RobotSend
from leadshare.notify.robots import ROBOT_PER_MINUTE, robot_key

from ..webhook_receiver import Answer
from . import test_notifications as notifications
from .test_notifications import deliver, outbox, post_lead, set_webhook

world, receiver = notifications.world, notifications.receiver  # the same fixtures


BURST = 50


def burst(client, world, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        post_lead(client, world, customer={"name": f"客户{n}", "wechat_id": f"wx_burst_{n}"})


def robot_requests(receiver, key: str) -> list[dict]:
    return [r.json for r in receiver.requests if r.path.endswith(f"key={key}")]


def test_a_burst_of_fifty_offers_is_twenty_messages_and_nothing_is_lost(
    app,
    app_ctx,
    client,
    world,
    receiver,
):
    set_webhook(client, world, world.tianhe, receiver.wecom_url("tianhe-robot"))
    burst(client, world, BURST)
    now = utcnow()
    report = deliver(app, now=now)
    assert (report.sent, report.retrying, report.dead) == (BURST, 0, 0)  # every row sent
    sent = robot_requests(receiver, "tianhe-robot")
    assert len(sent) == ROBOT_PER_MINUTE  # 19 on their own and one digest
    texts = [m["markdown"]["content"] for m in sent]
    digests = [t for t in texts if "合并发送" in t]
    assert len(digests) == 1 and digests[0].startswith(f"**{BURST - 19} 条线索通知")
    rows = outbox(app_ctx)
    assert len(rows) == BURST and {r.status for r in rows} == {"sent"}
    assert {r.attempts for r in rows} == {1}
    named = sum(t.count("/leads/") for t in texts)
    assert named == BURST  # each lead linked once: alone or in the digest
    with app_ctx:
        reserved = db.session.scalars(select(RobotSend.messages)).all()
    assert len(reserved) == ROBOT_PER_MINUTE and sum(reserved) == BURST

    # Five more in the same minute: no room, so they wait until the first send leaves it ...
    burst(client, world, 5, start=BURST)
    later = now + timedelta(seconds=20)
    assert deliver(app, now=later).sent == 0
    waiting = [r for r in outbox(app_ctx) if r.status == "pending"]
    assert len(waiting) == 5 and {r.attempts for r in waiting} == {0}
    assert {r.next_attempt_at for r in waiting} == {now + timedelta(minutes=1)}
    assert len(robot_requests(receiver, "tianhe-robot")) == ROBOT_PER_MINUTE
    # ... and then go at once, each on its own (the minute has room for 20 again)
    assert deliver(app, now=now + timedelta(minutes=1)).sent == 5
    assert len(robot_requests(receiver, "tianhe-robot")) == ROBOT_PER_MINUTE + 5


def test_the_limit_is_counted_by_a_hash_of_the_robot_url(app, app_ctx, client, world, receiver):
    url = receiver.wecom_url("secret-robot-key")
    set_webhook(client, world, world.tianhe, url)
    burst(client, world, 21)
    assert deliver(app, now=utcnow()).sent == 21
    assert len(robot_requests(receiver, "secret-robot-key")) == ROBOT_PER_MINUTE
    with app_ctx:
        keys = set(db.session.scalars(select(RobotSend.robot_key)))
    assert keys == {robot_key(url)}  # the URL (and its secret key) is never stored again


def test_plain_json_receivers_have_no_such_limit(app, client, world, receiver):
    set_webhook(client, world, world.tianhe, receiver.url())
    burst(client, world, 21)
    assert deliver(app, now=utcnow()).sent == 21
    assert len(receiver.requests) == 21


def test_wecom_rate_limit_waits_a_minute_and_is_not_a_failed_attempt(
    app,
    app_ctx,
    client,
    world,
    receiver,
):
    set_webhook(client, world, world.tianhe, receiver.wecom_url())
    receiver.answer(Answer(body=b'{"errcode":45009,"errmsg":"api freq out of limit"}'))
    post_lead(client, world)
    now = utcnow()
    assert deliver(app, now=now).retrying == 1
    (row,) = outbox(app_ctx)
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert row.last_error == "WeCom errcode 45009: api freq out of limit"
    assert deliver(app, now=now + timedelta(seconds=30)).sent == 0  # it waits the minute
    assert deliver(app, now=now + timedelta(minutes=1)).sent == 1
    (row,) = outbox(app_ctx)
    assert (row.status, row.attempts) == ("sent", 1)
    assert [json.loads(r.body)["msgtype"] for r in receiver.requests] == ["markdown"] * 2


def test_a_digest_that_fails_is_retried_as_one_and_recorded_for_each(
    app,
    app_ctx,
    client,
    world,
    receiver,
):
    set_webhook(client, world, world.tianhe, receiver.wecom_url("flaky"))
    burst(client, world, 22)  # 19 alone + a digest of 3
    receiver.answer(*[Answer()] * 19, Answer(status=502, body=b"bad gateway"))
    now = utcnow()
    report = deliver(app, now=now)
    assert (report.sent, report.retrying) == (19, 3)
    retrying = [r for r in outbox(app_ctx) if r.status == "pending"]
    assert len(retrying) == 3 and {r.attempts for r in retrying} == {1}
    assert {r.last_error for r in retrying} == {"HTTP 502: bad gateway"}
    again = max(r.next_attempt_at for r in retrying) + timedelta(minutes=1)
    assert deliver(app, now=again).sent == 3
    assert {r.status for r in outbox(app_ctx)} == {"sent"}
    with app_ctx:
        assert (
            db.session.scalar(select(Notification.attempts).order_by(Notification.id.desc())) == 2
        )
