"""The worker: the sweep and the deliverer in one process, stopped cleanly by a signal."""

from __future__ import annotations

import os
import signal
import threading

import pytest
from sqlalchemy import update

from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads.models import Offer
from leadshare.worker import run_worker, stopping_on_signals
from tests.api.lead_world import build_world, lead_payload
from tests.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as fake:
        yield fake


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def _lead(client, world) -> dict:
    response = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert response.status_code == 201, response.json
    return response.json


def _run_out_every_offer(app) -> None:
    with app.app_context():
        db.session.execute(update(Offer).values(expires_at=utcnow()))
        db.session.commit()


def test_one_round_of_the_worker_routes_an_expired_offer_on_and_tells_the_next_store(
    app, client, world, receiver
):
    hook = f"http://127.0.0.1:{receiver.port}/baiyun"
    patched = client.patch(
        f"/api/v1/dealers/{world.baiyun.id}",
        json={"webhook_url": hook},
        headers=world.headers["admin"],
    )
    assert patched.status_code == 200, patched.json
    lead = _lead(client, world)
    assert lead["current_offer"]["dealer"]["id"] == world.tianhe.id
    _run_out_every_offer(app)

    result = app.test_cli_runner().invoke(args=["leadshare", "worker", "--rounds", "1"])

    assert result.exit_code == 0, result.output
    assert "1 rounds: 1 offers expired in 1 sweeps; 1 sent" in result.output
    after = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"]).json
    assert after["current_offer"]["dealer"]["id"] == world.baiyun.id
    assert after["current_offer"]["status"] == "pending" and after["routing_pending"] is False
    [message] = receiver.requests
    assert message.path == "/baiyun" and lead["id"] in message.body.decode()


def test_later_rounds_deliver_often_and_sweep_only_when_the_sweep_is_due(
    app, client, world, settings
):
    _lead(client, world)
    _run_out_every_offer(app)
    with app.app_context():
        report = run_worker(
            threading.Event(), settings.notify, sweep_every=3600, deliver_every=0.01, rounds=3
        )
    assert (report.rounds, report.sweeps, report.expired) == (3, 1, 1)


def test_sigterm_stops_the_worker_cleanly_and_the_old_handler_comes_back(app, settings):
    before = signal.getsignal(signal.SIGTERM)
    with app.app_context(), stopping_on_signals() as stop:
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
        report = run_worker(stop, settings.notify, sweep_every=3600, deliver_every=0.05)
    assert stop.is_set() and report.rounds >= 1 and report.sweeps == 1
    assert signal.getsignal(signal.SIGTERM) is before
