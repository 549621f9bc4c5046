"""Sweepers at once on the contact-view alerts, in a database of their own (PostgreSQL when
TEST_DATABASE_URL points at it): each user over the group's daily threshold is told to the
admins once (one notice, one WeCom app message), however the sweepers interleave."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select, update

from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads.models import Lead
from leadshare.notify.enums import NotificationChannel
from leadshare.notify.models import AdminNotice, Notification
from leadshare.notify.notices import alert_contact_views
from leadshare.privacy.access_log import Shown, write_access
from leadshare.tenancy.models import Group
from leadshare.vocabulary import Role

from ..api.lead_world import build_world, lead_payload
from ..factories import Factory, token_headers
from .scratch import migrated_app

pytestmark = pytest.mark.no_rollback

USERS = 6
SWEEPERS = 3


@pytest.fixture
def scratch_app(tmp_path):
    with migrated_app(tmp_path, "notices", TESTING=True) as app:
        yield app


def test_sweepers_at_once_tell_each_user_over_the_threshold_once(scratch_app):
    app, client = scratch_app, scratch_app.test_client()
    make = Factory(app)
    world = build_world(make, token_headers(client))
    configured = client.put(
        f"/api/v1/groups/{world.group.id}/wecom",
        json={"corp_id": "wwcorp0001", "agent_id": 1000002},
        headers=world.headers["admin"],
    )
    assert configured.status_code == 200, configured.json
    leads = []
    for n in range(3):
        payload = lead_payload(customer={"name": f"客户{n}", "phone": f"1390000{n:04d}"})
        posted = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
        assert posted.status_code == 201, posted.json
        leads.append(posted.json["id"])
    staff = [make.user(Role.STAFF, dealer=world.baiyun) for _ in range(USERS)]
    with app.app_context():
        db.session.execute(
            update(Group).where(Group.id == world.group.id).values(contact_views_alert_per_day=2)
        )
        db.session.commit()
        lead_ids = db.session.scalars(select(Lead.id).where(Lead.public_id.in_(leads))).all()
        write_access(
            [
                Shown(world.group.id, lead_id, user.id, ("phone",), False, "api", None, None)
                for user in staff
                for lead_id in lead_ids
            ]
        )
    now = utcnow()
    start = threading.Barrier(SWEEPERS)
    made: list[int] = []
    failures: list[BaseException] = []

    def sweeper() -> None:
        with app.app_context():
            try:
                start.wait(timeout=10)
                made.append(alert_contact_views(now))
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
    told = {user.id for user in staff} | {world.users["referrer"].id}  # it saw 3 of them too
    assert sum(made) == len(told), made
    with app.app_context():
        keys = Counter(db.session.scalars(select(AdminNotice.key)))
        assert set(keys.values()) == {1} and len(keys) == len(told)
        messages = db.session.scalar(
            select(func.count()).where(Notification.channel == NotificationChannel.WECOM_APP)
        )
        offers = len(leads)  # each lead's offer to its store's members
        assert messages == len(told) + offers
        assert alert_contact_views(now) == 0  # nothing left for another sweep
