"""GET /metrics: who may scrape it, what the counters count (once their transaction commits),
the database figures, multi-process mode, and the example alert rules."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads.enums import EventType
from leadshare.leads.events import append_event
from leadshare.leads.models import Lead, Offer
from leadshare.leads.offers import sweep
from leadshare.observability import metrics
from leadshare.uow import unit_of_work
from tests.api.lead_world import build_world, lead_payload

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(client, **kwargs) -> dict[str, float]:
    """The scrape's samples as {'name{labels}': value}."""
    answer = client.get("/metrics", **kwargs)
    assert answer.status_code == 200, answer.data
    assert answer.content_type.startswith("text/plain; version=0.0.4")
    samples = {}
    for line in answer.get_data(as_text=True).splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return samples


def test_loopback_may_scrape_by_default_and_other_addresses_are_refused(client, app):
    assert "leadshare_outbox_pending" in scraped(client)
    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert refused.status_code == 403
    assert refused.json["reason"] == "address_not_allowed" and refused.json["message"]


def test_the_token_or_the_allow_list_opens_it(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-secret-0123456789")
    monkeypatch.setitem(app.config, "METRICS_ALLOW", "192.168.0.0/16")
    outside = {"REMOTE_ADDR": "10.1.2.3"}
    missing = client.get("/metrics", environ_base=outside)
    assert missing.status_code == 401 and missing.json["reason"] == "unauthenticated"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json["reason"] == "invalid_token"
    right = {"Authorization": "Bearer scrape-secret-0123456789"}
    assert scraped(client, environ_base=outside, headers=right)
    assert scraped(client, environ_base={"REMOTE_ADDR": "192.168.7.7"})
    loopback_now_outside = client.get("/metrics")
    assert loopback_now_outside.status_code == 401


def test_requests_are_timed_by_route_template(client, world):
    posted = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    client.get(f"/api/v1/leads/{posted.json['id']}", headers=world.headers["referrer"])
    samples = scraped(client)
    key = (
        'leadshare_http_request_duration_seconds_count{method="GET",'
        'route="/api/v1/leads/<string:lead_id>",status="200"}'
    )
    assert samples[key] >= 1
    assert not [k for k in samples if posted.json["id"] in k]  # one series per route, not per lead


def test_intake_offers_claims_and_time_to_accept_are_counted(app, client, world):
    offered = sample("leadshare_leads_posted_total", outcome="offered")
    made = sample("leadshare_offers_made_total")
    declined = sample("leadshare_offers_resolved_total", outcome="declined", reason="too_far")
    accepted = sample("leadshare_offers_resolved_total", outcome="accepted", reason="")
    expired = sample("leadshare_offers_resolved_total", outcome="expired", reason="")
    claims = sample("leadshare_claims_total", via="offer")
    waits = sample("leadshare_time_to_accept_seconds_count")

    first = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    lead = first.json["id"]
    answer = client.post(
        f"/api/v1/leads/{lead}/decline", json={"reason": "too_far"}, headers=world.headers["tianhe"]
    )
    assert answer.json["current_offer"]["dealer"]["id"] == world.baiyun.id
    claimed = client.post(f"/api/v1/leads/{lead}/claim", headers=world.headers["baiyun"])
    assert claimed.status_code == 200
    second = client.post(
        "/api/v1/leads",
        json=lead_payload(customer={"name": "李四", "phone": "139 1111 2222"}),
        headers=world.headers["referrer"],
    )
    assert second.status_code == 201
    with app.app_context():
        db.session.execute(update(Offer).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert sweep().expired == 1

    assert sample("leadshare_leads_posted_total", outcome="offered") == offered + 2
    assert sample("leadshare_offers_made_total") == made + 4  # tianhe, baiyun; then 2nd lead x2
    assert (
        sample("leadshare_offers_resolved_total", outcome="declined", reason="too_far")
        == declined + 1
    )
    assert sample("leadshare_offers_resolved_total", outcome="accepted", reason="") == accepted + 1
    assert sample("leadshare_offers_resolved_total", outcome="expired", reason="") == expired + 1
    assert sample("leadshare_claims_total", via="offer") == claims + 1
    assert sample("leadshare_time_to_accept_seconds_count") == waits + 1


def test_a_transaction_that_rolls_back_counts_nothing(app, client, world):
    posted = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    before = sample("leadshare_offers_resolved_total", outcome="declined", reason="no_stock")
    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.public_id == posted.json["id"]))
        with pytest.raises(RuntimeError), unit_of_work():
            append_event(lead, EventType.DECLINED, at=utcnow(), data={"reason": "no_stock"})
            raise RuntimeError("the use case fails after the event")
        with unit_of_work():
            append_event(lead, EventType.DECLINED, at=utcnow(), data={"reason": "no_stock"})
    after = sample("leadshare_offers_resolved_total", outcome="declined", reason="no_stock")
    assert after == before + 1


def test_outbox_backlog_sweep_lag_and_the_pool_are_reported(app, client, world):
    hooked = client.patch(
        f"/api/v1/dealers/{world.tianhe.id}",
        json={"webhook_url": "http://127.0.0.1:9/hook"},
        headers=world.headers["admin"],
    )
    assert hooked.status_code == 200
    client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    with app.app_context():
        db.session.execute(update(Offer).values(expires_at=utcnow() - timedelta(seconds=200)))
        db.session.commit()
    samples = scraped(client)
    assert samples["leadshare_outbox_pending"] == 1 and samples["leadshare_outbox_due"] == 1
    assert 0 <= samples["leadshare_outbox_oldest_pending_age_seconds"] < 60
    assert 199 <= samples["leadshare_sweep_lag_seconds"] < 260
    assert samples["leadshare_workers_alive"] == 0
    assert samples['leadshare_advisory_check_ok{check="sweep"}'] == 0
    assert samples['leadshare_advisory_check_ok{check="outbox"}'] == 1
    assert samples["leadshare_db_pool_size"] >= 1 and "leadshare_db_pool_checked_out" in samples


COUNT_IN_A_CHILD = """
from leadshare.observability import metrics
metrics.LEADS_POSTED.labels("offered").inc({n})
metrics.DB_POOL_SIZE.set(5)
"""


def test_multi_process_mode_sums_every_process(tmp_path, monkeypatch):
    """Under gunicorn each worker writes its counters to PROMETHEUS_MULTIPROC_DIR; a scrape of
    any one of them reports the sum."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for n in (2, 3):
        subprocess.run(
            [sys.executable, "-c", COUNT_IN_A_CHILD.format(n=n)], env=env, cwd=ROOT, check=True
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    text = metrics.exposition([]).decode()
    assert 'leadshare_leads_posted_total{outcome="offered"} 5.0' in text


def test_the_alert_rules_use_only_metrics_the_service_exports(client, world):
    client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    exported = {re.sub(r"\{.*", "", key) for key in scraped(client)}
    rules = yaml.safe_load((ROOT / "deploy" / "alerts.yml").read_text())["groups"][0]["rules"]
    names = {rule["alert"] for rule in rules}
    assert {"LeadshareOutboxStuck", "LeadshareSweepLagging", "LeadshareExpiryShareHigh"} <= names
    for rule in rules:
        used = set(re.findall(r"\bleadshare_[a-z_]+", rule["expr"]))
        assert used and used <= exported, (rule["alert"], used - exported)
