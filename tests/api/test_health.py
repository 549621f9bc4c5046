"""/healthz stays liveness; /readyz is 503 only when the database or the schema is not ready,
and reports the worker, the outbox, the sweep and any added check without failing on them."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import update

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads.models import Offer
from leadshare.notify.models import Notification
from leadshare.observability import health
from leadshare.observability.models import WorkerHeartbeat
from leadshare.settings import current_settings
from leadshare.worker import run_worker
from tests import TEST_SECRET_KEY
from tests.api.lead_world import build_world, lead_payload
from tests.integration.scratch import scratch_database


def ready(client, status: int = 200) -> dict:
    answer = client.get("/readyz")
    assert answer.status_code == status, answer.json
    assert answer.headers["Cache-Control"] == "no-store" and answer.headers["X-Request-Id"]
    return answer.json


def test_a_migrated_database_is_ready_even_with_no_worker(client):
    body = ready(client)
    assert body["status"] == "ready" and body["failed"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["head"]
    assert body["advisories"]["worker"] == {
        "ok": False,
        "detail": "no worker has ever reported",
        "last_beat_at": None,
        "last_beat_age_seconds": None,
        "alive": 0,
    }
    assert "worker" in body["warnings"]


def test_a_worker_round_beats_and_a_silent_worker_is_reported_not_fatal(app, client):
    with app.app_context():
        run_worker(threading.Event(), current_settings().notify, rounds=1)
    body = ready(client)
    assert body["advisories"]["worker"]["ok"] and body["advisories"]["worker"]["alive"] == 1
    assert "worker" not in body["warnings"]
    with app.app_context():
        db.session.execute(update(WorkerHeartbeat).values(beat_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    body = ready(client)
    worker = body["advisories"]["worker"]
    assert not worker["ok"] and worker["detail"].startswith("no worker has reported for 6")
    assert body["status"] == "ready"


def test_an_old_outbox_message_and_a_lagging_sweep_are_warnings(app, client, make, auth):
    world = build_world(make, auth)
    client.patch(
        f"/api/v1/dealers/{world.tianhe.id}",
        json={"webhook_url": "http://127.0.0.1:9/hook"},
        headers=world.headers["admin"],
    )
    client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    with app.app_context():
        an_hour_ago = utcnow() - timedelta(hours=1)
        db.session.execute(update(Notification).values(created_at=an_hour_ago))
        db.session.execute(update(Offer).values(expires_at=an_hour_ago))
        db.session.commit()
    body = ready(client)
    assert body["status"] == "ready"
    assert {"outbox", "sweep"} <= set(body["warnings"])
    assert body["advisories"]["outbox"]["pending"] == 1
    assert body["advisories"]["outbox"]["oldest_pending_age_seconds"] >= 3600
    assert body["advisories"]["sweep"]["lag_seconds"] >= 3600


def test_an_added_advisory_check_is_reported_and_one_that_breaks_never_fails_readiness(
    client, monkeypatch
):
    def calendar_year(session, now, limits):
        return health.Check("calendar", False, f"no calendar for {now.year}", {"year": now.year})

    def broken(session, now, limits):
        raise KeyError("boom")

    monkeypatch.setattr(health, "ADVISORY_CHECKS", [*health.ADVISORY_CHECKS])
    health.advisory(calendar_year)
    health.advisory(broken)
    body = ready(client)
    assert body["advisories"]["calendar"]["detail"].startswith("no calendar for 20")
    assert body["advisories"]["broken"] == {"ok": False, "detail": "could not run: KeyError"}
    assert {"calendar", "broken"} <= set(body["warnings"]) and body["status"] == "ready"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'leadshare_advisory_check_ok{check="calendar"} 0.0' in metrics


def test_an_unreachable_database_is_not_ready_and_says_so():
    app = create_app(
        {
            "SECRET_KEY": TEST_SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )
    body = ready(app.test_client(), 503)
    assert body["status"] == "unready" and body["failed"] == ["database"]
    assert body["checks"]["database"]["detail"].startswith("the database does not answer")
    assert body["advisories"] == {}
    assert app.test_client().get("/healthz").status_code == 503


@pytest.mark.no_rollback
def test_a_schema_behind_the_migrations_is_not_ready(tmp_path):
    with scratch_database(tmp_path, "readyz") as url:
        app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url})
        client = app.test_client()
        body = ready(client, 503)
        assert body["checks"]["migrations"]["detail"].startswith("the database has no schema")
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR), revision="0008_sign_in_security")
        body = ready(client, 503)
        assert body["failed"] == ["migrations"]
        assert body["checks"]["migrations"]["current"] == ["0008_sign_in_security"]
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
        assert ready(client)["status"] == "ready"
        with app.app_context():
            db.engine.dispose()
