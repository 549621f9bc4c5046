"""Who follows a lead up: the claimer is its consultant, the store's manager hands it on, the
holder's staff record notes with a next appointment (read by the holder and the referrer only)
and the sweep reminds the store once when the appointment comes, without the note's text."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from leadshare.clock import parse_iso, utcnow
from leadshare.extensions import db
from leadshare.notify.models import Notification
from leadshare.vocabulary import Role

from .lead_world import build_world
from .test_hours_offers import sweep
from .test_sla import contact_timer, held_lead, hooked, trail_events  # noqa: F401 (fixture)


def test_the_manager_hands_the_lead_to_another_member_of_the_store(client, make, auth):
    world = build_world(make, auth)
    colleague = make.user(Role.STAFF, dealer=world.tianhe, name="王顾问")
    lead = held_lead(client, world)
    assert contact_timer(client, world, lead)["consultant"]["id"] == world.users["tianhe"].id
    url = f"/api/v1/leads/{lead}/consultant"
    handed = client.put(url, json={"user_id": colleague.id}, headers=world.headers["tianhe2"])
    assert handed.status_code == 200, handed.json
    assert handed.json["consultant"] == {"id": colleague.id, "name": "王顾问"}
    assert contact_timer(client, world, lead)["consultant"]["id"] == colleague.id
    assigned = trail_events(client, world, lead, "consultant_assigned")
    assert [e["data"]["consultant_id"] for e in assigned] == [colleague.id]


def test_handing_a_lead_on_is_refused_to_staff_and_to_outsiders(client, make, auth):
    world = build_world(make, auth)
    lead = held_lead(client, world)
    url = f"/api/v1/leads/{lead}/consultant"
    body = {"user_id": world.users["tianhe"].id}
    staff = client.put(url, json=body, headers=world.headers["tianhe"])
    assert staff.status_code == 403 and staff.json["reason"] == "role_not_allowed"
    stranger = client.put(
        url, json={"user_id": world.users["baiyun"].id}, headers=world.headers["tianhe2"]
    )
    assert stranger.status_code == 422 and stranger.json["reason"] == "not_store_member"
    nobody = client.put(url, json={"user_id": 999_999}, headers=world.headers["tianhe2"])
    assert nobody.status_code == 422 and nobody.json["reason"] == "not_store_member"
    malformed = client.put(url, json={"user": 1}, headers=world.headers["tianhe2"])
    assert malformed.status_code == 422


def test_notes_are_written_by_the_holder_and_read_by_holder_and_referrer_only(client, make, auth):
    world = build_world(make, auth)
    lead = held_lead(client, world)
    url = f"/api/v1/leads/{lead}/notes"
    next_at = (utcnow() + timedelta(days=1)).isoformat() + "Z"
    made = client.post(
        url, json={"text": "客户周六来店试驾", "next_at": next_at}, headers=world.headers["tianhe"]
    )
    assert made.status_code == 201, made.json
    assert made.json["author"]["id"] == world.users["tianhe"].id
    for who in ("tianhe", "tianhe2", "referrer"):
        notes = client.get(url, headers=world.headers[who])
        assert notes.status_code == 200, notes.json
        assert [n["text"] for n in notes.json["items"]] == ["客户周六来店试驾"]
    admin = client.get(url, headers=world.headers["admin"])
    assert admin.status_code == 403
    outsider = client.get(url, headers=world.headers["baiyun"])
    assert outsider.status_code == 404  # another store does not see the held lead at all


def test_notes_refuse_a_past_appointment_an_empty_text_and_the_referrer(client, make, auth):
    world = build_world(make, auth)
    lead = held_lead(client, world)
    url = f"/api/v1/leads/{lead}/notes"
    past = (utcnow() - timedelta(hours=1)).isoformat() + "Z"
    late = client.post(url, json={"text": "回访", "next_at": past}, headers=world.headers["tianhe"])
    assert late.status_code == 422 and late.json["reason"] == "next_at_in_past"
    empty = client.post(url, json={"text": ""}, headers=world.headers["tianhe"])
    assert empty.status_code == 422
    referrer = client.post(url, json={"text": "我来跟进"}, headers=world.headers["referrer"])
    assert referrer.status_code == 403 and referrer.json["reason"] == "not_holder"
    assert client.get(url, headers=world.headers["tianhe"]).json["items"] == []


def hooked_appointment(client, make, auth, hooked, text: str):  # noqa: F811
    """A world whose holder has a webhook, a held lead and a note with an appointment in 3 h."""
    world = build_world(make, auth)
    hooked(world.tianhe)
    lead = held_lead(client, world)
    next_at = (utcnow() + timedelta(hours=3)).isoformat() + "Z"
    made = client.post(
        f"/api/v1/leads/{lead}/notes",
        json={"text": text, "next_at": next_at},
        headers=world.headers["tianhe"],
    ).json
    return world, lead, parse_iso(made["next_at"])


def test_the_store_is_reminded_once_when_the_appointment_comes(
    app,
    client,
    make,
    auth,
    hooked,  # noqa: F811 - the fixture of test_sla
    app_ctx,
):
    world, lead, due = hooked_appointment(
        client, make, auth, hooked, "客户手机 13812345678，周六回访"
    )
    assert "0 appointments reminded" in sweep(app, due - timedelta(seconds=1))
    assert "1 appointments reminded" in sweep(app, due)
    assert "0 appointments reminded" in sweep(app, due + timedelta(minutes=1))
    with app_ctx:
        sent = db.session.scalars(
            select(Notification).where(Notification.event == "follow_up_due")
        ).all()
        assert [n.dealer_id for n in sent] == [world.tianhe.id]
        payload = json.dumps(sent[0].payload, ensure_ascii=False)
    assert "13812345678" not in payload and "回访" not in payload
    assert sent[0].payload["data"]["consultant"] == world.users["tianhe"].name


def test_an_appointment_of_a_lost_lead_is_not_reminded(app, client, make, auth, hooked):  # noqa: F811
    world, lead, due = hooked_appointment(client, make, auth, hooked, "周六回访")
    lost = client.post(
        f"/api/v1/leads/{lead}/progress",
        json={"status": "lost", "lost_reason": "bought_elsewhere"},
        headers=world.headers["tianhe"],
    )
    assert lost.status_code == 200, lost.json
    assert "0 appointments reminded" in sweep(app, due)
