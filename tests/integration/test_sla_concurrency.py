"""Two sweepers at once on the service-level timers, in a database of their own (PostgreSQL when
TEST_DATABASE_URL points at it): every missed contact is acted on once: one `sla_missed` event,
one release, one new offer and one message per store per lead, however the two interleave."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from leadshare.extensions import db
from leadshare.hours.models import SlaTimer
from leadshare.hours.sla import SlaSweep, sweep_slas
from leadshare.leads.enums import EventType, OfferStatus
from leadshare.leads.models import Lead, LeadEvent, Offer
from leadshare.notify.models import Notification
from leadshare.tenancy.models import Dealer

from ..api.lead_world import build_world, lead_payload
from ..factories import Factory, token_headers
from .scratch import migrated_app

pytestmark = pytest.mark.no_rollback

LEADS = 12
SWEEPERS = 2


@pytest.fixture
def scratch_app(tmp_path):
    with migrated_app(tmp_path, "sla", TESTING=True) as app:
        yield app


def test_two_sweepers_at_once_act_on_each_missed_contact_once(scratch_app):
    app, client = scratch_app, scratch_app.test_client()
    world = build_world(Factory(app), token_headers(client), release_on_missed_contact=True)
    with app.app_context():
        db.session.execute(update(Dealer).values(webhook_url="https://hooks.example.com/store"))
        db.session.commit()
    for n in range(LEADS):
        payload = lead_payload(customer={"name": f"客户{n}", "phone": f"1390000{n:04d}"})
        posted = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
        assert posted.status_code == 201, posted.json
        claimed = client.post(
            f"/api/v1/leads/{posted.json['id']}/claim", headers=world.headers["tianhe"]
        )
        assert claimed.status_code == 200, claimed.json
    with app.app_context():
        now = db.session.scalar(select(func.max(SlaTimer.due_at))) + timedelta(seconds=1)

    start = threading.Barrier(SWEEPERS)
    results: list[SlaSweep] = []
    failures: list[BaseException] = []

    def sweeper() -> None:
        with app.app_context():
            try:
                start.wait(timeout=10)
                results.append(sweep_slas(now, batch=1))  # one lead per transaction: interleave
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sweeper) for _ in range(SWEEPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert sum(r.missed for r in results) == LEADS, results
    assert sum(r.released for r in results) == LEADS, results

    with app.app_context():
        missed = Counter(
            db.session.scalars(
                select(LeadEvent.lead_id).where(LeadEvent.type == EventType.SLA_MISSED)
            )
        )
        assert sorted(missed.values()) == [1] * LEADS
        pending = Counter(
            db.session.scalars(select(Offer.lead_id).where(Offer.status == OfferStatus.PENDING))
        )
        assert sorted(pending.values()) == [1] * LEADS  # each released lead offered on once
        assert db.session.scalar(select(func.count()).where(Lead.holder_id.is_not(None))) == 0
        messages = Counter(
            db.session.execute(
                select(Notification.lead_id, Notification.dealer_id).where(
                    Notification.event == "sla_missed"
                )
            ).all()
        )
        assert len(messages) == 2 * LEADS and set(messages.values()) == {1}  # holder, referrer
        assert sweep_slas(now).missed == 0  # nothing left for a third
