"""Structured logs: one JSON line per request and per worker cycle, the request id carried from
the request into the worker's lines for the messages it caused, and no customer data anywhere."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from sqlalchemy import select

from leadshare.extensions import db
from leadshare.notify.models import Notification
from leadshare.observability.context import accepted_request_id
from leadshare.observability.logs import RequestIdFilter, json_formatter
from leadshare.settings import current_settings
from leadshare.worker import run_worker
from tests.api.lead_world import build_world, lead_payload
from tests.webhook_receiver import Receiver

CUSTOMER = {"name": "欧阳娜娜", "phone": "139 8765 4321", "wechat_id": "wx_nana_8888"}
STREET = "广州市天河区体育西路191号中石化大厦"
SECRETS = ("欧阳娜娜", "13987654321", "139 8765 4321", "8765", "wx_nana_8888", "体育西路", STREET)


@pytest.fixture
def logged(caplog):
    """Every record of the test at INFO and above, as the JSON line production would write."""
    caplog.set_level(logging.INFO)
    formatter, stamp = json_formatter(), RequestIdFilter()

    def lines() -> list[dict]:
        out = []
        for record in caplog.records:
            stamp.filter(record)
            out.append(json.loads(formatter.format(record)))
        return out

    return lines


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def test_a_well_formed_request_id_is_kept_and_any_other_is_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a:42.x_y"})
    assert kept.headers["X-Request-Id"] == "lb-7f3a:42.x_y"
    for bad in ("", "has space", "x" * 65, "<script>", "-starts-with-dash"):
        answer = client.get("/healthz", headers={"X-Request-Id": bad})
        made = answer.headers["X-Request-Id"]
        assert made != bad and len(made) == 32 and made == accepted_request_id(made)
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


def test_refusals_and_unknown_routes_answer_with_a_request_id_too(client):
    for answer in (
        client.get("/api/v1/leads"),  # 401 before any view
        client.get("/api/v1/no-such-thing"),
        client.get("/inbox"),  # a page: the sign-in redirect
    ):
        assert answer.status_code in (401, 404, 302)
        assert len(answer.headers["X-Request-Id"]) == 32


def test_each_request_writes_one_json_line_with_who_what_how_long_and_how_many_statements(
    client, world, logged
):
    posted = client.post(
        "/api/v1/leads",
        json=lead_payload(),
        headers={**world.headers["referrer"], "X-Request-Id": "req-one"},
    )
    assert posted.status_code == 201
    client.get(f"/api/v1/leads/{posted.json['id']}", headers=world.headers["referrer"])

    requests = [line for line in logged() if line["logger"] == "leadshare.request"]
    post, read = requests[-2:]
    referrer = world.users["referrer"]
    assert post["message"] == "request" and post["request_id"] == "req-one"
    assert (post["method"], post["route"], post["status"]) == ("POST", "/api/v1/leads", 201)
    assert (post["user_id"], post["role"]) == (referrer.id, "staff")
    assert post["statements"] > 5 and post["duration_ms"] > 0
    assert post["time"].endswith("+00:00")
    assert read["route"] == "/api/v1/leads/<string:lead_id>" and read["status"] == 200
    assert read["request_id"] != "req-one" and read["statements"] >= 1
    anonymous = client.get("/healthz")
    line = [x for x in logged() if x["logger"] == "leadshare.request"][-1]
    assert line["request_id"] == anonymous.headers["X-Request-Id"]
    assert line["user_id"] is None and line["role"] is None and line["statements"] >= 1


def test_a_full_lead_story_logs_no_customer_data_and_carries_request_ids_into_the_worker(
    app, client, world, logged
):
    with Receiver() as receiver:
        for store in (world.referrer, world.tianhe):
            hooked = client.patch(
                f"/api/v1/dealers/{store.id}",
                json={"webhook_url": f"http://127.0.0.1:{receiver.port}/{store.code}"},
                headers=world.headers["admin"],
            )
            assert hooked.status_code == 200, hooked.json
        payload = lead_payload(
            customer=CUSTOMER, location={"address": STREET, "latitude": 23.13, "longitude": 113.36}
        )
        posted = client.post(
            "/api/v1/leads",
            json=payload,
            headers={**world.headers["referrer"], "X-Request-Id": "story-post"},
        )
        assert posted.status_code == 201, posted.json
        lead = posted.json["id"]
        assert posted.json["current_offer"]["dealer"]["id"] == world.tianhe.id
        tianhe = world.headers["tianhe"]
        claimed = client.post(
            f"/api/v1/leads/{lead}/claim", headers={**tianhe, "X-Request-Id": "story-claim"}
        )
        assert claimed.status_code == 200, claimed.json
        for step in ("contacted", "visited"):
            moved = client.post(
                f"/api/v1/leads/{lead}/progress", json={"status": step}, headers=tianhe
            )
            assert moved.status_code == 200, moved.json
        with app.app_context():
            stamped = dict(
                db.session.execute(select(Notification.event, Notification.request_id)).all()
            )
            settings = current_settings().notify
            run_worker(threading.Event(), settings, sweep_every=60, deliver_every=60, rounds=1)
        assert len(receiver.requests) == 4
    assert stamped["offered"] == "story-post" and stamped["claimed"] == "story-claim"

    lines = logged()
    sent = {line["message_id"]: line for line in lines if line["message"] == "message sent"}
    assert len(sent) == 4
    assert {line["request_id"] for line in sent.values()} >= {"story-post", "story-claim"}
    [cycle] = [line for line in lines if line["message"] == "worker cycle"]
    assert cycle["jobs"] == ["sweep", "delivery", "retention"] and cycle["sent"] == 4
    assert cycle["statements"] > 0 and cycle["failed"] == []
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    assert "leadshare.request" in text  # the scan below reads the real lines
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, leaked
