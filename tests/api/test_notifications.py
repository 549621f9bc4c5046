"""Notifications (issue 7): outbox rows in the change's transaction, both formats, retries,
dead messages and their retry by group admins, leases, URL safety; against a fake receiver."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads import intake as lead_service
from leadshare.leads.models import Lead, Offer
from leadshare.notify.deliver import Outcome, claim, deliver_pending, lease, record, send
from leadshare.notify.formats import verify
from leadshare.notify.models import Notification, WebhookSecret
from leadshare.settings import current_settings
from leadshare.vocabulary import Role

from ..webhook_receiver import Answer, Receiver, to_localhost
from .lead_world import build_world, lead_payload
from .test_rewards import create_program

VIN = "LSVAU2A31N2123456"
BASE = "https://leads.example.cn"
SECOND_CUSTOMER = {"name": "李四", "wechat_id": "lisi_wx"}


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


@pytest.fixture
def receiver():
    with Receiver() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _public_base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def shanghai(moment: datetime) -> str:
    return (
        moment.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    )


def ref(dealer) -> dict:
    return {"id": dealer.id, "code": dealer.code, "name": dealer.name}


def set_webhook(client, world, dealer, url):
    response = client.patch(
        f"/api/v1/dealers/{dealer.id}", json={"webhook_url": url}, headers=world.headers["admin"]
    )
    assert response.status_code == 200, response.json


def post_lead(client, world, **overrides) -> dict:
    response = client.post(
        "/api/v1/leads", json=lead_payload(**overrides), headers=world.headers["referrer"]
    )
    assert response.status_code == 201, response.json
    return response.json


def act(client, world, lead, action, who="tianhe", **payload):
    response = client.post(
        f"/api/v1/leads/{lead['id']}/{action}", json=payload or None, headers=world.headers[who]
    )
    assert response.status_code == 200, response.json
    return response.json


def deliver(app, **kwargs):
    with app.app_context():
        return deliver_pending(current_settings().notify, resolver=to_localhost, **kwargs)


def outbox(app_ctx, **filters) -> list[Notification]:
    with app_ctx:
        query = select(Notification).filter_by(**filters).order_by(Notification.id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def offer_of(app_ctx, lead) -> Offer:
    with app_ctx:
        offer = db.session.scalar(
            select(Offer).join(Lead).where(Lead.public_id == lead["id"]).order_by(Offer.id)
        )
        db.session.expunge(offer)
        return offer


def secret_of(client, world, dealer) -> str:
    """The store's secret; made with a POST when none is set yet (a GET never makes one)."""
    path = f"/api/v1/dealers/{dealer.id}/webhook-secret"
    response = client.get(path, headers=world.headers["admin"])
    if response.status_code == 404 and response.json["reason"] == "not_set":
        response = client.post(path, headers=world.headers["admin"])
    assert response.status_code == 200, response.json
    return response.json["secret"]


# --- the whole story, in both formats ---------------------------------------------------------


def _story(app, client, world):
    """Offer, reminder, claim, every progress stage, rewards; then a second lead that is lost."""
    create_program(client, world)
    first = post_lead(client, world)
    offer = offer_of(app.app_context(), first)
    remind_at = offer.offered_at + (offer.expires_at - offer.offered_at) * 0.8
    sweep = app.test_cli_runner().invoke(
        args=["leadshare", "sweep", "--as-of", (remind_at + timedelta(seconds=1)).isoformat()]
    )
    assert "1 reminders queued" in sweep.output, sweep.output
    assert deliver(app).sent == 2  # before the claim, which would cancel the reminder
    act(client, world, first, "claim")
    for stage in ("contacted", "visited"):
        act(client, world, first, "progress", status=stage)
    act(client, world, first, "progress", status="ordered", order_ref="SO-1")
    act(client, world, first, "progress", status="delivered", vin=VIN)
    second = post_lead(client, world, customer=SECOND_CUSTOMER)
    second_offer = offer_of(app.app_context(), second)
    act(client, world, second, "claim")
    act(client, world, second, "progress", status="lost", lost_reason="bought_elsewhere")
    return first, offer, second, second_offer


def _facts(world, lead, name, holder):
    location = lead["location"]
    return {
        "referrer": ref(world.referrer),
        "holder": holder,
        "brand": "奥迪",
        "model": "A6L",
        "customer_name": name,
        "province": location["province"],
        "city": location["city"],
        "district": location["district"],
    }


def _expected_json(app_ctx, world, first, offer, second, second_offer):
    """Every message as its receiver must get it, keyed by message id."""
    tianhe = ref(world.tianhe)
    one, two = _facts(world, first, "张*", None), _facts(world, second, "李*", None)
    held_one, held_two = {**one, "holder": tianhe}, {**two, "holder": tianhe}

    def offer_data(facts, offer_row):
        return {
            "dealer": tianhe,
            **facts,
            "distance_km": float(round(offer_row.distance_km)),
            "offered_at": iso(offer_row.offered_at),
            "expires_at": iso(offer_row.expires_at),
        }

    def reward(facts, amount, event):
        return {
            "amount": amount,
            "currency": "CNY",
            "program": "2026 转介绍奖励",
            "reward_event": event,
            **facts,
        }

    plan = {  # (lead, event, lead status) -> data
        (first["id"], "offered", "offered"): offer_data(one, offer),
        (first["id"], "offer_expiring", "offered"): offer_data(one, offer),
        (first["id"], "claimed", "accepted"): held_one,
        (first["id"], "reward_credited", "accepted"): reward(held_one, "80.00", "accepted"),
        (first["id"], "contacted", "contacted"): held_one,
        (first["id"], "visited", "visited"): held_one,
        (first["id"], "ordered", "ordered"): held_one,
        (first["id"], "delivered", "delivered"): held_one,
        (first["id"], "reward_credited", "delivered"): reward(held_one, "300.00", "delivered"),
        (second["id"], "offered", "offered"): offer_data(two, second_offer),
        (second["id"], "claimed", "accepted"): held_two,
        (second["id"], "reward_credited", "accepted"): reward(held_two, "80.00", "accepted"),
        (second["id"], "lost", "lost"): held_two,
    }
    expected = {}
    for row in outbox(app_ctx):
        key = (row.payload["lead_id"], row.event, row.payload["lead_status"])
        expected[row.message_id] = (
            row.dealer_id,
            {
                "id": row.message_id,
                "type": row.event,
                "occurred_at": iso(row.occurred_at),
                "lead": {
                    "id": key[0],
                    "status": key[2],
                    "url": f"{BASE}/leads/{key[0]}",
                },
                "data": plan.pop(key),
            },
        )
    assert plan == {}, f"never written: {list(plan)}"
    return expected


def test_every_event_reaches_its_store_as_signed_json(app, app_ctx, client, world, receiver):
    set_webhook(client, world, world.referrer, receiver.url("/referrer"))
    set_webhook(client, world, world.tianhe, receiver.url("/tianhe"))
    story = _story(app, client, world)
    expected = _expected_json(app_ctx, world, *story)

    report = deliver(app)

    assert (report.sent, report.retrying, report.dead, report.cancelled) == (11, 0, 0, 0)
    secrets = {world.referrer.id: secret_of(client, world, world.referrer)}
    secrets[world.tianhe.id] = secret_of(client, world, world.tianhe)
    assert secrets[world.referrer.id] != secrets[world.tianhe.id]
    paths = {world.referrer.id: "/referrer", world.tianhe.id: "/tianhe"}
    assert len(receiver.requests) == 13
    for request in receiver.requests:
        message_id = request.headers["X-Leadshare-Message-Id"]
        dealer_id, document = expected.pop(message_id)
        assert request.path == paths[dealer_id]
        assert (
            request.body == json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        )
        assert request.headers["Content-Type"] == "application/json; charset=utf-8"
        assert request.headers["X-Leadshare-Event"] == document["type"]
        assert verify(secrets[dealer_id], request.body, request.headers["X-Leadshare-Signature"])
    assert expected == {}
    assert {row.status for row in outbox(app_ctx)} == {"sent"}


def test_every_event_reaches_its_store_as_wecom_markdown(app, app_ctx, client, world, receiver):
    set_webhook(client, world, world.referrer, receiver.wecom_url("referrer-key"))
    set_webhook(client, world, world.tianhe, receiver.wecom_url("tianhe-key"))
    first, offer, second, second_offer = _story(app, client, world)

    report = deliver(app)

    assert (report.sent, report.retrying, report.dead, report.cancelled) == (11, 0, 0, 0)
    loc1, loc2 = first["location"], second["location"]
    place1, place2 = loc1["city"] + loc1["district"], loc2["city"] + loc2["district"]
    link1, link2 = (
        f"[查看线索]({BASE}/leads/{first['id']})",
        f"[查看线索]({BASE}/leads/{second['id']})",
    )
    who1, who2 = (
        f"> 客户：张＊（{place1}）\n> 意向：奥迪 A6L",
        f"> 客户：李＊（{place2}）\n> 意向：奥迪 A6L",
    )

    def offered(who, row, link):
        return (
            f"**新线索待接单**\n> 门店：广州天河奥迪\n{who}\n"
            f"> 距离：{float(round(row.distance_km))} 公里\n"
            f"> 推荐门店：深圳南山奥迪\n"
            f'请于 <font color="warning">{shanghai(row.expires_at)}</font> 前接单，'
            "过期将转给下一家门店。\n"
            f"{link}"
        )

    def reward(amount, event_name, who, link):
        return (
            f'**推荐奖励到账**\n> 金额：<font color="info">¥{amount}</font>\n'
            f"> 奖励计划：2026 转介绍奖励\n> 奖励事件：{event_name}\n{who}\n{link}"
        )

    def stage(title, who, link):
        return f"**{title}**\n> 跟进门店：广州天河奥迪\n{who}\n{link}"

    expected = {
        "/cgi-bin/webhook/send?key=tianhe-key": [
            offered(who1, offer, link1),
            "**线索即将过期**\n> 门店：广州天河奥迪\n"
            f"{who1}\n"
            f'将于 <font color="warning">{shanghai(offer.expires_at)}</font> 过期，'
            "请尽快接单或婉拒。\n"
            f"{link1}",
            offered(who2, second_offer, link2),
        ],
        "/cgi-bin/webhook/send?key=referrer-key": [
            f"**您推荐的线索已被接单**\n> 接单门店：广州天河奥迪\n{who1}\n{link1}",
            reward("80.00", "接单", who1, link1),
            stage("线索进展：已联系客户", who1, link1),
            stage("线索进展：客户已到店", who1, link1),
            stage("线索进展：客户已下单", who1, link1),
            stage("线索进展：已交车", who1, link1),
            reward("300.00", "交车", who1, link1),
            f"**您推荐的线索已被接单**\n> 接单门店：广州天河奥迪\n{who2}\n{link2}",
            reward("80.00", "接单", who2, link2),
            stage("线索进展：已战败", who2, link2),
        ],
    }
    received: dict[str, list[str]] = {}
    for request in receiver.requests:
        assert request.headers["Host"] == f"qyapi.weixin.qq.com:{receiver.port}"
        assert "X-Leadshare-Signature" not in request.headers
        assert (
            set(request.json) == {"msgtype", "markdown"} and request.json["msgtype"] == "markdown"
        )
        assert (
            request.body
            == json.dumps(request.json, ensure_ascii=False, separators=(",", ":")).encode()
        )
        received.setdefault(request.path, []).append(request.json["markdown"]["content"])
    assert {path: sorted(texts) for path, texts in received.items()} == {
        path: sorted(texts) for path, texts in expected.items()
    }


def test_no_message_carries_contact_details(app, client, world, receiver):
    set_webhook(client, world, world.referrer, receiver.url("/referrer"))
    set_webhook(client, world, world.tianhe, receiver.wecom_url())
    _story(app, client, world)
    deliver(app)
    assert len(receiver.requests) == 13
    for request in receiver.requests:
        text = request.body.decode()
        for secret in (
            "张三",
            "李四",
            "13812345678",
            "1381234",
            "lisi_wx",
            "客户周末有空",
            "客户已在别处购车",
        ):
            assert secret not in text


def test_skipped_stages_send_one_message_for_the_stage_reached(app, client, world, receiver):
    set_webhook(client, world, world.referrer, receiver.url())
    lead = post_lead(client, world)
    act(client, world, lead, "claim")
    act(client, world, lead, "progress", status="ordered", order_ref="SO-9")
    deliver(app)
    assert [(r.json["type"], r.json["lead"]["status"]) for r in receiver.requests] == [
        ("claimed", "accepted"),
        ("ordered", "ordered"),
    ]


def test_stores_without_a_webhook_get_no_outbox_rows(app_ctx, client, world):
    lead = post_lead(client, world)
    act(client, world, lead, "claim")
    act(client, world, lead, "progress", status="contacted")
    assert outbox(app_ctx) == []


def test_a_rolled_back_change_sends_nothing(app, app_ctx, client, world, receiver, monkeypatch):
    set_webhook(client, world, world.tianhe, receiver.url())
    route_next = lead_service.route_next
    written = []

    def route_then_fail(lead, now):
        route_next(lead, now)
        written.append(db.session.scalar(select(func.count()).select_from(Notification)))
        raise RuntimeError("the process dies before the commit")

    monkeypatch.setattr(lead_service, "route_next", route_then_fail)
    response = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert response.status_code == 500
    assert written == [1]  # the offer's outbox row was in the transaction...
    assert outbox(app_ctx) == []  # ...and went with its rollback
    assert deliver(app).sent == 0 and receiver.requests == []


def test_a_slow_receiver_never_slows_the_request(client, world, receiver):
    receiver.default = Answer(delay=5)
    set_webhook(client, world, world.tianhe, receiver.url())
    started = time.monotonic()
    post_lead(client, world)
    assert time.monotonic() - started < 2
    assert receiver.requests == []  # delivery happens only in the deliverer


# --- failures, retries, dead messages -----------------------------------------------------------


def test_a_500_is_retried_with_backoff_and_the_same_message(app, app_ctx, client, world, receiver):
    set_webhook(client, world, world.tianhe, receiver.url())
    receiver.answer(Answer(status=500, body=b"boom"))
    post_lead(client, world)
    first = deliver(app)
    assert (first.sent, first.retrying) == (0, 1)
    (row,) = outbox(app_ctx)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert row.last_error == "HTTP 500: boom" and row.claimed_by is None
    wait = (row.next_attempt_at - utcnow()).total_seconds()
    assert 2 < wait <= 7.5  # ~5 s, jittered
    assert deliver(app).sent == 0  # not due yet
    assert deliver(app, now=row.next_attempt_at + timedelta(seconds=1)).sent == 1
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert (
        receiver.requests[0].headers["X-Leadshare-Signature"]
        == receiver.requests[1].headers["X-Leadshare-Signature"]
    )
    (row,) = outbox(app_ctx)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_timeout_is_retried(app, app_ctx, client, world, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_TIMEOUT", 0.5)
    set_webhook(client, world, world.tianhe, receiver.url())
    receiver.answer(Answer(delay=3))
    post_lead(client, world)
    started = time.monotonic()
    report = deliver(app)
    assert time.monotonic() - started < 2.5
    assert report.retrying == 1
    (row,) = outbox(app_ctx)
    assert row.last_error == "Timed out after 0.5 s." and row.last_status_code is None
    assert deliver(app, now=row.next_attempt_at).sent == 1


def test_a_trickling_receiver_is_cut_off_at_the_timeout(app, client, world, monkeypatch):
    """A server that accepts and never answers does not hold the deliverer past NOTIFY_TIMEOUT."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        set_webhook(client, world, world.tianhe, f"http://127.0.0.1:{listener.getsockname()[1]}/x")
        monkeypatch.setitem(app.config, "NOTIFY_TIMEOUT", 0.5)
        post_lead(client, world)
        started = time.monotonic()
        assert deliver(app).retrying == 1
        assert time.monotonic() - started < 2
    finally:
        listener.close()


def test_wecom_errcode_in_a_200_is_a_failure(app, app_ctx, client, world, receiver):
    set_webhook(client, world, world.tianhe, receiver.wecom_url())
    receiver.answer(
        Answer(body=b'{"errcode":93000,"errmsg":"invalid webhook url"}'),
        Answer(body=b"<html>gateway</html>"),
    )
    post_lead(client, world)
    assert deliver(app).retrying == 1
    (row,) = outbox(app_ctx)
    assert (row.last_status_code, row.last_error) == (
        200,
        "WeCom errcode 93000: invalid webhook url",
    )
    assert deliver(app, now=row.next_attempt_at).retrying == 1
    (row,) = outbox(app_ctx)
    assert row.last_error.startswith("WeCom answered something that is not JSON")
    assert deliver(app, now=row.next_attempt_at).sent == 1
    assert outbox(app_ctx)[0].attempts == 3


def test_an_errcode_means_nothing_to_a_plain_json_receiver(app, client, world, receiver):
    set_webhook(client, world, world.tianhe, receiver.url())
    receiver.answer(Answer(status=202, body=b'{"errcode":7}'))
    post_lead(client, world)
    assert deliver(app).sent == 1


def test_dead_after_the_last_attempt_then_an_admin_retries_it(
    app, app_ctx, client, world, receiver, make, auth, monkeypatch
):
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 3)
    receiver.default = Answer(status=503, body=b"")
    set_webhook(client, world, world.tianhe, receiver.url())
    lead = post_lead(client, world)
    now = utcnow()
    outcomes = []
    for _ in range(4):
        report = deliver(app, now=now)
        outcomes.append((report.sent, report.retrying, report.dead))
        now += timedelta(hours=2)
    assert outcomes == [(0, 1, 0), (0, 1, 0), (0, 0, 1), (0, 0, 0)]
    assert len(receiver.requests) == 3

    admin = world.headers["admin"]
    dead = client.get("/api/v1/notifications?status=dead", headers=admin).json
    assert (dead["page"], dead["per_page"], dead["total"]) == (1, 20, 1)
    (item,) = dead["items"]
    assert item["event"] == "offered" and item["lead_id"] == lead["id"]
    assert item["dealer"] == ref(world.tianhe)
    assert (item["status"], item["attempts"], item["last_status_code"]) == ("dead", 3, 503)
    assert item["last_error"] == "HTTP 503" and item["dead_at"]
    assert client.get("/api/v1/notifications?status=pending", headers=admin).json["total"] == 0

    staff = client.get("/api/v1/notifications?status=dead", headers=world.headers["tianhe"])
    assert staff.status_code == 403 and staff.json["reason"] == "role_not_allowed"
    stranger = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    assert client.get("/api/v1/notifications?status=dead", headers=stranger).json["total"] == 0
    assert (
        client.post(f"/api/v1/notifications/{item['id']}/retry", headers=stranger).status_code
        == 404
    )
    assert client.get(f"/api/v1/notifications/{item['id']}", headers=stranger).status_code == 404

    receiver.default = Answer()
    retried = client.post(f"/api/v1/notifications/{item['id']}/retry", headers=admin)
    assert retried.status_code == 200, retried.json
    assert (retried.json["status"], retried.json["attempts"]) == ("pending", 0)
    assert deliver(app).sent == 1
    assert receiver.requests[-1].json["id"] == item["id"]
    again = client.post(f"/api/v1/notifications/{item['id']}/retry", headers=admin)
    assert again.status_code == 409 and again.json["reason"] == "not_retryable"
    sent = client.get(f"/api/v1/notifications/{item['id']}", headers=admin).json
    assert sent["status"] == "sent" and sent["sent_at"]


# --- leases: a crashed deliverer loses nothing, a stopped one gives its batch back -------------


def test_a_deliverer_killed_mid_batch_loses_nothing(app, app_ctx, client, world, receiver):
    set_webhook(client, world, world.tianhe, receiver.url())
    for n in range(3):
        post_lead(client, world, customer={"name": f"客户{n}", "wechat_id": f"wx{n}"})
    now = utcnow()
    with app.app_context():
        settings = current_settings().notify
        batch, cancelled = claim("crashed-worker", now, settings)
        assert (len(batch), cancelled) == (3, 0)
        # It sent the first message, then died before recording anything.
        assert send(batch[0], timeout=2, allow_private=True, resolver=to_localhost).ok
    assert len(receiver.requests) == 1
    assert all(row.claimed_by == "crashed-worker" for row in outbox(app_ctx))

    assert deliver(app, now=now + timedelta(seconds=5)).sent == 0  # the lease still holds

    after_lease = now + lease(settings, 10) + timedelta(seconds=1)
    assert deliver(app, worker="next-worker", now=after_lease).sent == 3
    ids = [request.json["id"] for request in receiver.requests]
    assert len(ids) == 4 and len(set(ids)) == 3  # at least once; the repeat has the same id
    assert ids.count(batch[0].message_id) == 2
    assert {row.status for row in outbox(app_ctx)} == {"sent"}
    with app.app_context():  # a worker that lost its lease cannot overwrite the new record
        record(batch[1], Outcome(False, 500, "late"), "crashed-worker", after_lease, settings)
    assert [(row.status, row.last_error) for row in outbox(app_ctx)] == [("sent", None)] * 3


def test_a_stopped_deliverer_gives_back_what_it_did_not_send(app, app_ctx, client, world, receiver):
    set_webhook(client, world, world.tianhe, f"http://hooks.example.com:{receiver.port}/hook")
    for n in range(3):
        post_lead(client, world, customer={"name": f"客户{n}", "wechat_id": f"wx{n}"})
    stop = threading.Event()

    def resolve_then_stop(host, port):  # SIGTERM arrives while the first message is in flight
        stop.set()
        return ["127.0.0.1"]

    with app.app_context():
        report = deliver_pending(current_settings().notify, resolver=resolve_then_stop, stop=stop)
    assert report.sent == 1
    rows = outbox(app_ctx)
    assert sorted(row.status for row in rows) == ["pending", "pending", "sent"]
    assert all(row.claimed_by is None for row in rows)
    assert deliver(app).sent == 2


# --- webhook URLs and secrets ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://10.0.0.8/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest",
    ],
)
def test_private_webhook_urls_are_refused_in_production(app, client, world, monkeypatch, url):
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)
    response = client.patch(
        f"/api/v1/dealers/{world.tianhe.id}",
        json={"webhook_url": url},
        headers=world.headers["admin"],
    )
    assert response.status_code == 422
    assert "webhook_url" in response.json["errors"]["json"]


def test_public_and_wecom_urls_are_accepted_and_other_schemes_never(
    app, client, world, monkeypatch
):
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)
    for url in (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        "https://crm.example.cn/h",
    ):
        set_webhook(client, world, world.tianhe, url)
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", True)
    response = client.patch(
        f"/api/v1/dealers/{world.tianhe.id}",
        json={"webhook_url": "ftp://crm.example.cn/h"},
        headers=world.headers["admin"],
    )
    assert response.status_code == 422


def test_a_name_rebound_to_a_private_address_is_refused_at_send_time(
    app, app_ctx, client, world, receiver, monkeypatch
):
    set_webhook(client, world, world.tianhe, f"http://hooks.example.com:{receiver.port}/x")
    post_lead(client, world)
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)
    report = deliver(app)  # the name now answers 127.0.0.1 (the fake resolver)
    assert report.retrying == 1 and receiver.requests == []
    (row,) = outbox(app_ctx)
    assert (
        row.last_error
        == "Refused: The host hooks.example.com resolves to a private address (127.0.0.1)."
    )


def test_only_group_admins_read_and_rotate_the_signing_secret(
    app, client, world, receiver, make, auth
):
    path = f"/api/v1/dealers/{world.tianhe.id}/webhook-secret"
    unset = client.get(path, headers=world.headers["admin"])
    assert unset.status_code == 404 and unset.json["reason"] == "not_set"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookSecret)) == 0
    first = secret_of(client, world, world.tianhe)
    assert first.startswith("whsec_") and secret_of(client, world, world.tianhe) == first
    body = client.get(
        f"/api/v1/dealers/{world.tianhe.id}/webhook-secret", headers=world.headers["admin"]
    ).json
    assert body["algorithm"] == "hmac-sha256" and body["header"] == "X-Leadshare-Signature"
    for who in ("tianhe", "tianhe2", "referrer"):
        response = client.get(path, headers=world.headers[who])
        assert response.status_code == 403 and response.json["reason"] == "role_not_allowed"
    stranger = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    assert client.get(path, headers=stranger).status_code == 404
    dealer = client.get(f"/api/v1/dealers/{world.tianhe.id}", headers=world.headers["admin"]).json
    assert "webhook_secret" not in dealer and first not in json.dumps(dealer)

    rotated = client.post(path, headers=world.headers["admin"]).json["secret"]
    assert rotated != first
    set_webhook(client, world, world.tianhe, receiver.url())
    post_lead(client, world)
    deliver(app)
    (request,) = receiver.requests
    assert verify(rotated, request.body, request.headers["X-Leadshare-Signature"])
    assert not verify(first, request.body, request.headers["X-Leadshare-Signature"])


# --- reminders ---------------------------------------------------------------------------------


def test_a_reminder_is_queued_once_when_most_of_the_offer_time_has_passed(
    app, app_ctx, client, world, receiver, monkeypatch
):
    monkeypatch.setitem(app.config, "NOTIFY_REMIND_AT", 0.5)
    set_webhook(client, world, world.tianhe, receiver.url())
    lead = post_lead(client, world)
    offer = offer_of(app_ctx, lead)
    halfway = offer.offered_at + (offer.expires_at - offer.offered_at) / 2
    runner = app.test_cli_runner()

    def sweep(at):
        return runner.invoke(args=["leadshare", "sweep", "--as-of", at.isoformat()]).output

    assert "0 reminders queued" in sweep(halfway - timedelta(minutes=1))
    assert "1 reminders queued" in sweep(halfway)
    assert "0 reminders queued" in sweep(halfway + timedelta(minutes=5))
    assert [row.event for row in outbox(app_ctx)] == ["offered", "offer_expiring"]
    deliver(app)
    assert [request.json["type"] for request in receiver.requests] == ["offered", "offer_expiring"]


def test_a_reminder_for_an_offer_claimed_meanwhile_is_cancelled(
    app, app_ctx, client, world, receiver
):
    set_webhook(client, world, world.tianhe, receiver.url())
    lead = post_lead(client, world)
    offer = offer_of(app_ctx, lead)
    runner = app.test_cli_runner()
    late = offer.expires_at - timedelta(minutes=1)
    assert (
        "1 reminders queued"
        in runner.invoke(args=["leadshare", "sweep", "--as-of", late.isoformat()]).output
    )
    act(client, world, lead, "claim")
    report = deliver(app)
    assert (report.sent, report.cancelled) == (1, 1)
    reminder = outbox(app_ctx, event="offer_expiring")[0]
    assert reminder.status == "cancelled" and "answered or expired" in reminder.last_error


def test_reminders_can_be_switched_off(app, app_ctx, client, world, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_REMIND_AT", 0)
    set_webhook(client, world, world.tianhe, receiver.url())
    lead = post_lead(client, world)
    late = offer_of(app_ctx, lead).expires_at - timedelta(minutes=1)
    output = (
        app.test_cli_runner()
        .invoke(args=["leadshare", "sweep", "--as-of", late.isoformat()])
        .output
    )
    assert "0 reminders queued" in output


# --- the command ---------------------------------------------------------------------------------


def test_deliver_command_sends_what_is_pending_and_exits(app, app_ctx, client, world, receiver):
    set_webhook(client, world, world.tianhe, receiver.url())
    post_lead(client, world)
    result = app.test_cli_runner().invoke(args=["leadshare", "deliver"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 to retry, 0 dead, 0 cancelled." in result.output
    assert len(receiver.requests) == 1
    with app_ctx:
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_typed_names_and_models_arrive_in_wecom_markdown_inert(app, client, world, receiver):
    set_webhook(client, world, world.tianhe, receiver.wecom_url("tianhe-key"))
    renamed = client.patch(
        f"/api/v1/dealers/{world.referrer.id}",
        json={"name": "<@zhangsan>**置顶**"},
        headers=world.headers["admin"],
    )
    assert renamed.status_code == 200, renamed.json
    post_lead(client, world, model="[点我](http://evil.example/x) `A6L`")
    assert deliver(app).sent == 1
    (request,) = receiver.requests
    content = request.json["markdown"]["content"]
    assert "> 意向：奥迪 ［点我］（http：//evil.example/x） ｀A6L｀" in content
    assert "> 推荐门店：＜@zhangsan＞＊＊置顶＊＊" in content
    assert content.count("](") == 1 and content.endswith(")")  # the one link is the lead page
    assert "<@" not in content and "http://evil" not in content
