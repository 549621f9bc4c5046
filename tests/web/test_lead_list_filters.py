"""The lead list page's date boxes are days in the reader's group time zone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from leadshare.clock import local_date, local_midnight, utcnow
from leadshare.extensions import db
from leadshare.leads.models import Lead
from tests.api.lead_world import build_world, lead_payload

from .pages import Browser

SHANGHAI = "Asia/Shanghai"


def test_the_date_boxes_take_whole_local_days(app, client, make, auth):
    world = build_world(make, auth)
    response = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert response.status_code == 201, response.json
    today = local_date(utcnow(), SHANGHAI)
    first_minute = local_midnight(today, SHANGHAI) + timedelta(minutes=1)  # 00:01 in Shanghai
    with app.app_context():
        db.session.execute(update(Lead).values(created_at=first_minute))
        db.session.commit()
    admin = Browser(app, world.users["admin"])
    day, before = today.isoformat(), (today - timedelta(days=1)).isoformat()

    def listed(**dates: str) -> bool:
        return response.json["id"] in admin.get("/leads", query_string=dates).text

    assert listed(**{"from": day, "to": day})
    assert not listed(**{"from": before, "to": before})  # yesterday in UTC, today in Shanghai
    assert not listed(**{"from": (today + timedelta(days=1)).isoformat()})
