"""Offers about to expire and missed service levels reach people by WeCom app message (issue 16
item 8): `offer_expiring` the offered store's members, `sla_missed` the timer's consultant and
the store's managers; the store's webhook keeps its messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from leadshare.clock import parse_iso
from leadshare.extensions import db
from leadshare.leads.models import Offer
from leadshare.notify.enums import NotificationStatus
from leadshare.vocabulary import Role

from .lead_world import build_world
from .test_hours_offers import sweep
from .test_rewards import claim
from .test_sla import contact_timer, held_lead
from .test_wecom_messages import app_rows, deliver, fake_wecom, post_lead, titled
from .wecom_world import CORP, configure, link

__all__ = ["fake_wecom"]  # the fixture, used by name

DOWN, DOWN_AGENT = "wwdownstore01", 5000017
EXPIRING, MISSED = "线索即将过期", "服务时限已超时"


@pytest.fixture
def world(app, make, auth, client, fake_wecom, monkeypatch):
    """Tianhe: staff zhangsan, manager lisi, and staff zhaoliu, all linked; Baiyun's wangwu."""
    monkeypatch.setitem(app.config, "NOTIFY_REMIND_AT", 0.5)
    world = build_world(make, auth, contact_sla_minutes=60)
    configure(client, world.group, world.headers["admin"])
    link(client, world.users["tianhe"], world.headers["admin"], "zhangsan")
    link(client, world.users["tianhe2"], world.headers["admin"], "lisi")
    link(client, world.users["baiyun"], world.headers["admin"], "wangwu")
    world.other = make.user(Role.STAFF, dealer=world.tianhe)
    link(client, world.other, world.headers["admin"], "zhaoliu")
    fake_wecom.members(CORP, "zhangsan", "lisi", "zhaoliu", "wangwu")
    return world


def halfway(app, lead_id: str):
    with app.app_context():
        offer = db.session.scalars(select(Offer).order_by(Offer.id.desc())).first()
        return offer.offered_at + (offer.expires_at - offer.offered_at) / 2


def test_an_offer_about_to_expire_reaches_the_stores_members_once(app, client, world, fake_wecom):
    lead_id = post_lead(client, world)
    deliver(app)
    at = halfway(app, lead_id)
    assert "0 reminders queued" in sweep(app, at - timedelta(minutes=1))
    assert "1 reminders queued" in sweep(app, at)  # the store has no webhook: its members only
    assert "0 reminders queued" in sweep(app, at + timedelta(minutes=5))
    deliver(app, now=at)
    [card] = titled(fake_wecom, EXPIRING)
    assert card["touser"] == "lisi|zhangsan|zhaoliu"
    assert card["textcard"]["url"].endswith(f"/leads/{lead_id}")
    assert "广州天河奥迪" in card["textcard"]["description"]


def test_an_offer_answered_before_its_reminder_goes_out_cancels_it(app, client, world, fake_wecom):
    lead_id = post_lead(client, world)
    deliver(app)
    at = halfway(app, lead_id)
    assert "1 reminders queued" in sweep(app, at)
    claim(client, world, lead_id, "tianhe")
    deliver(app, now=at)
    assert titled(fake_wecom, EXPIRING) == []
    [row] = [r for r in app_rows(app) if r.event == "offer_expiring"]
    assert row.status == NotificationStatus.CANCELLED and "answered" in row.last_error


def test_a_downstream_member_is_reminded_in_a_message_of_its_corp(app, client, world, fake_wecom):
    link(client, world.users["tianhe2"], world.headers["admin"], "th-li", corp_id=DOWN)
    fake_wecom.members(DOWN, "th-li")
    fake_wecom.share(DOWN, DOWN_AGENT)
    lead_id = post_lead(client, world)
    deliver(app)
    at = halfway(app, lead_id)
    assert "1 reminders queued" in sweep(app, at)
    deliver(app, now=at)
    cards = titled(fake_wecom, EXPIRING)
    assert sorted((c["agentid"], c["touser"]) for c in cards) == [
        (1000002, "zhangsan|zhaoliu"),
        (DOWN_AGENT, "th-li"),
    ]


def test_a_missed_sla_reaches_the_consultant_and_the_managers(app, client, world, fake_wecom):
    lead_id = held_lead(client, world, who="tianhe")  # zhangsan claims: the consultant
    deliver(app)
    due = parse_iso(contact_timer(client, world, lead_id)["due_at"])
    assert "1 missed" in sweep(app, due)
    deliver(app, now=due)
    [card] = [
        m for m in fake_wecom.messages if m.get("textcard", {}).get("title") != "新线索待接单"
    ]
    assert card["touser"] == "lisi|zhangsan"  # not zhaoliu, another consultant of the store
    assert card["textcard"]["url"].endswith(f"/leads/{lead_id}")
    assert "0 missed" in sweep(app, due + timedelta(minutes=5))
    deliver(app, now=due + timedelta(minutes=5))
    assert len(fake_wecom.messages) == 2  # the offer and the missed SLA, once each
