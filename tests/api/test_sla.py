"""Service levels after a claim through the API and `sweep --as-of`: the contact clock counts the
store's open minutes, the holder is reminded once at the group's share, a miss goes on the trail
and to both stores' webhooks, a release routes the lead on without the holder (not counted toward
max offers, the referrer credited once), the visit clock only reminds, and offer reminders count
open minutes too."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from leadshare.clock import parse_iso, utcnow
from leadshare.extensions import db
from leadshare.hours.models import SlaTimer
from leadshare.hours.schedule import DAYS, Schedule, add_open_minutes, parse_weekly
from leadshare.leads.models import Lead
from leadshare.notify.models import Notification
from leadshare.rewards.models import RewardCredit
from leadshare.tenancy.models import Dealer

from .lead_world import build_world, lead_payload
from .test_hours_offers import every_day, minute_of_day, offer_of, post_lead, set_hours, sweep


@pytest.fixture
def hooked(app_ctx):
    """Give stores a webhook URL, so the outbox writes their messages."""

    def hook(*dealers):
        with app_ctx:
            for dealer in dealers:
                db.session.execute(
                    update(Dealer)
                    .where(Dealer.id == dealer.id)
                    .values(webhook_url=f"https://hooks.example.com/{dealer.id}")
                )
            db.session.commit()

    return hook


def claim(client, world, lead_id: str, who: str = "tianhe") -> None:
    answer = client.post(f"/api/v1/leads/{lead_id}/claim", headers=world.headers[who])
    assert answer.status_code == 200, answer.json


_phones = itertools.count(1)


def held_lead(client, world, who: str = "tianhe") -> str:
    """A new customer's lead, claimed by `who`."""
    payload = lead_payload(customer={"name": "李四", "phone": f"1370000{next(_phones):04d}"})
    posted = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert posted.status_code == 201, posted.json
    claim(client, world, posted.json["id"], who)
    return posted.json["id"]


def progress(client, world, lead_id: str, who: str = "tianhe", **body) -> dict:
    answer = client.post(f"/api/v1/leads/{lead_id}/progress", json=body, headers=world.headers[who])
    assert answer.status_code == 200, answer.json
    return answer.json


def timers(client, world, lead_id: str, who: str = "admin") -> list[dict]:
    answer = client.get(f"/api/v1/leads/{lead_id}/sla", headers=world.headers[who])
    assert answer.status_code == 200, answer.json
    return answer.json["items"]


def contact_timer(client, world, lead_id: str) -> dict:
    return next(t for t in timers(client, world, lead_id) if t["kind"] == "contact")


def messages(app_ctx, event: str) -> list[int]:
    """The dealers that got an outbox message of this event."""
    with app_ctx:
        return sorted(
            db.session.scalars(select(Notification.dealer_id).where(Notification.event == event))
        )


def trail_events(client, world, lead_id: str, kind: str) -> list[dict]:
    trail = client.get(f"/api/v1/leads/{lead_id}/trail", headers=world.headers["admin"]).json
    return [e for e in trail["events"] if e["type"] == kind]


def test_a_claim_starts_the_contact_clock_in_the_stores_open_minutes(client, make, auth):
    world = build_world(make, auth, contact_sla_minutes=60)
    tz = world.group.timezone
    weekly = every_day(minute_of_day(utcnow(), tz) + 120, 180)
    set_hours(client, world, world.tianhe, weekly)
    lead = held_lead(client, world)
    timer = contact_timer(client, world, lead)
    started = parse_iso(timer["started_at"])
    clock = Schedule(tz, parse_weekly(weekly))
    assert parse_iso(timer["due_at"]) == add_open_minutes(started, 60, clock)
    assert parse_iso(timer["remind_at"]) == add_open_minutes(started, 48, clock)  # 0.8 of it
    assert parse_iso(timer["due_at"]) - started > timedelta(minutes=120)  # not 60 wall minutes
    assert timer["state"] == "running" and timer["dealer"]["id"] == world.tianhe.id
    assert timer["consultant"]["id"] == world.users["tianhe"].id


def test_the_holder_is_reminded_once_at_the_groups_share(app, client, make, auth, hooked, app_ctx):
    world = build_world(make, auth, contact_sla_minutes=60, sla_remind_at=0.5)
    hooked(world.tianhe, world.referrer)
    lead = held_lead(client, world)
    timer = contact_timer(client, world, lead)
    remind = parse_iso(timer["remind_at"])
    assert remind - parse_iso(timer["started_at"]) == timedelta(minutes=30)  # open all day
    assert "0 reminded" in sweep(app, remind - timedelta(seconds=1))
    assert "1 reminded, 0 missed" in sweep(app, remind)
    assert "0 reminded" in sweep(app, remind + timedelta(minutes=1))
    assert messages(app_ctx, "sla_reminder") == [world.tianhe.id]
    assert contact_timer(client, world, lead)["reminded_at"] is not None


def test_a_missed_contact_goes_on_the_trail_and_to_both_stores(
    app, client, make, auth, hooked, app_ctx
):
    world = build_world(make, auth, contact_sla_minutes=60)
    hooked(world.tianhe, world.referrer)
    lead = held_lead(client, world)
    due = parse_iso(contact_timer(client, world, lead)["due_at"])
    assert "0 missed" in sweep(app, due - timedelta(seconds=1))
    assert "1 missed, 0 released" in sweep(app, due)
    assert "0 missed" in sweep(app, due + timedelta(minutes=5))
    missed = trail_events(client, world, lead, "sla_missed")
    assert [(e["dealer"]["id"], e["data"]["sla"], e["data"]["released"]) for e in missed] == [
        (world.tianhe.id, "contact", False)
    ]
    assert messages(app_ctx, "sla_missed") == sorted([world.tianhe.id, world.referrer.id])
    body = client.get(f"/api/v1/leads/{lead}", headers=world.headers["tianhe"]).json
    assert body["holder"]["id"] == world.tianhe.id  # the group does not release
    progress(client, world, lead, status="contacted")  # late: the time is still recorded
    timer = contact_timer(client, world, lead)
    assert timer["state"] == "missed" and timer["met_at"] is not None


def test_a_contact_in_time_meets_the_clock_and_nothing_is_missed(app, client, make, auth):
    world = build_world(make, auth, contact_sla_minutes=60)
    lead = held_lead(client, world)
    progress(client, world, lead, status="contacted")
    timer = contact_timer(client, world, lead)
    assert timer["state"] == "met" and timer["met_at"] is not None
    assert "0 reminded, 0 missed" in sweep(app, parse_iso(timer["due_at"]) + timedelta(hours=1))


def test_a_release_routes_the_lead_on_without_the_holder_and_credits_once(
    app, client, make, auth, app_ctx
):
    world = build_world(make, auth, release_on_missed_contact=True, max_offers_per_lead=1)
    program = client.post(
        "/api/v1/reward-programs",
        json={
            "name": "转介绍",
            "starts_on": (date.today() - timedelta(days=30)).isoformat(),
            "budget": "1000.00",
            "rules": [{"event": "accepted", "amount": "50.00"}],
        },
        headers=world.headers["admin"],
    )
    assert program.status_code == 201, program.json
    lead = post_lead(client, world)["id"]
    assert offer_of(client, world, lead)["dealer"]["id"] == world.tianhe.id
    claim(client, world, lead)
    due = parse_iso(contact_timer(client, world, lead)["due_at"])
    assert "1 missed, 1 released" in sweep(app, due)

    body = client.get(f"/api/v1/leads/{lead}", headers=world.headers["admin"]).json
    assert body["status"] == "offered" and body["holder"] is None
    assert body["offers_made"] == 1  # max 1, yet offered again: a release does not count
    next_store = body["current_offer"]["dealer"]["id"]
    assert next_store not in (world.tianhe.id, world.referrer.id)
    assert trail_events(client, world, lead, "sla_missed")[0]["data"]["released"] is True
    who = next(name for name in ("baiyun", "panyu") if world.users[name].dealer_id == next_store)
    claim(client, world, lead, who)

    with app_ctx:
        lead_row = db.session.scalar(select(Lead).where(Lead.public_id == lead))
        credits = db.session.scalars(
            select(RewardCredit.event).where(RewardCredit.lead_id == lead_row.id)
        ).all()
    assert credits == ["accepted"]  # once per lead, whoever accepts
    kept = timers(client, world, lead)
    assert [(t["dealer"]["id"], t["state"], t["released"]) for t in kept] == [
        (world.tianhe.id, "missed", True),
        (next_store, "running", False),
    ]
    refused = client.post(
        f"/api/v1/leads/{lead}/progress",
        json={"status": "contacted"},
        headers=world.headers["tianhe"],
    )
    assert refused.status_code in (403, 404)  # the released store holds it no more


def test_the_visit_clock_counts_days_after_the_contact_and_never_releases(app, client, make, auth):
    world = build_world(make, auth, visit_sla_days=2, release_on_missed_contact=True)
    lead = held_lead(client, world)
    progress(client, world, lead, status="contacted")
    visit = next(t for t in timers(client, world, lead) if t["kind"] == "visit")
    due = parse_iso(visit["due_at"])
    assert due - parse_iso(visit["started_at"]) == timedelta(days=2)  # open around the clock
    assert "0 missed" in sweep(app, due - timedelta(seconds=1))
    assert "1 missed, 0 released" in sweep(app, due)
    body = client.get(f"/api/v1/leads/{lead}", headers=world.headers["admin"]).json
    assert body["status"] == "contacted" and body["holder"]["id"] == world.tianhe.id
    assert [e["data"]["sla"] for e in trail_events(client, world, lead, "sla_missed")] == ["visit"]


def test_a_lost_lead_closes_its_clock(app, client, make, auth):
    world = build_world(make, auth)
    lead = held_lead(client, world)
    progress(client, world, lead, status="lost", lost_reason="bought_elsewhere")
    timer = contact_timer(client, world, lead)
    assert timer["state"] == "closed"
    assert "0 missed" in sweep(app, parse_iso(timer["due_at"]) + timedelta(hours=1))


def test_an_offer_reminder_counts_the_stores_open_minutes(app, client, make, auth, hooked):
    world = build_world(make, auth, offer_ttl_minutes=60)
    hooked(world.tianhe)
    tz = world.group.timezone
    weekly = every_day(minute_of_day(utcnow(), tz) + 120, 120)
    set_hours(client, world, world.tianhe, weekly)
    lead = post_lead(client, world)["id"]
    offer = offer_of(client, world, lead)
    offered, expires = parse_iso(offer["offered_at"]), parse_iso(offer["expires_at"])
    wall_clock = offered + (expires - offered) * 0.8
    counted = add_open_minutes(offered, 48, Schedule(tz, parse_weekly(weekly)))
    assert wall_clock < counted < expires
    assert "0 reminders queued" in sweep(app, wall_clock)
    assert "0 reminders queued" in sweep(app, counted - timedelta(seconds=1))
    assert "1 reminders queued" in sweep(app, counted)


def test_the_timers_are_seen_only_by_who_sees_the_lead(client, make, auth):
    world = build_world(make, auth)
    lead = held_lead(client, world)
    assert len(timers(client, world, lead, who="referrer")) == 1
    assert len(timers(client, world, lead, who="tianhe")) == 1
    hidden = client.get(f"/api/v1/leads/{lead}/sla", headers=world.headers["futian"])
    assert hidden.status_code == 404 and hidden.json["reason"]
    missing = client.get("/api/v1/leads/ld_nothing/sla", headers=world.headers["admin"])
    assert missing.status_code == 404


def test_the_speed_report_gives_first_contact_in_open_and_wall_minutes_per_store(
    app, client, make, auth, app_ctx
):
    world = build_world(make, auth, contact_sla_minutes=60)
    set_hours(client, world, world.tianhe, {day: [["09:00", "21:00"]] for day in DAYS})
    in_time, missed = held_lead(client, world), held_lead(client, world)
    progress(client, world, in_time, status="contacted")
    due = parse_iso(contact_timer(client, world, missed)["due_at"])
    assert "1 missed" in sweep(app, due)
    # Backdate the contact: claimed 20:30, contacted 10:30 the next day (Shanghai).
    started = datetime(2026, 11, 2, 12, 30)  # 20:30 in Shanghai
    with app_ctx:
        lead_id = db.session.scalar(select(Lead.id).where(Lead.public_id == in_time))
        db.session.execute(
            update(SlaTimer)
            .where(SlaTimer.lead_id == lead_id)
            .values(started_at=started, met_at=started + timedelta(hours=14), open_minutes=None)
        )
        db.session.commit()
    sweep(app, due)  # the sweep counts the met timer's open minutes
    body = client.get("/api/v1/audit/speed", headers=world.headers["admin"]).json
    store = next(s for s in body["stores"] if s["store"]["id"] == world.tianhe.id)
    assert (store["claimed"], store["contacted_in_sla"], store["missed_sla"]) == (2, 1, 1)
    assert store["share_in_sla"] == 0.5
    contact = store["speeds"]["to_contact"]
    assert contact["open"]["median_minutes"] == 120.0  # 30 that evening, 90 the next morning
    assert contact["wall"]["median_minutes"] == 840.0
    assert body["to_contact"]["leads"] == 1 and body["to_contact"]["median_minutes"] == 840.0
    assert body["speeds"]["to_accept"]["open"]["median_minutes"] is not None


def test_our_leads_tab_counts_the_held_leads_whose_follow_up_is_due(app_ctx, client, make, auth):
    from leadshare.hours.sla import due_count
    from leadshare.web import nav

    world = build_world(make, auth, contact_sla_minutes=60)

    fresh, reminded, missed = (held_lead(client, world) for _ in range(3))
    now = utcnow()
    with app_ctx:
        by_lead = {
            lead.public_id: lead.id
            for lead in db.session.scalars(
                select(Lead).where(Lead.public_id.in_([reminded, missed]))
            )
        }
        db.session.execute(
            update(SlaTimer)
            .where(SlaTimer.lead_id == by_lead[reminded])
            .values(remind_at=now - timedelta(minutes=1))
        )
        db.session.execute(
            update(SlaTimer)
            .where(SlaTimer.lead_id == by_lead[missed])
            .values(state="missed", missed_at=now)
        )
        db.session.commit()
        staff = db.session.get(type(world.users["tianhe"]), world.users["tianhe"].id)
        assert due_count(staff, now) == 2  # not the fresh one, whose reminder is ahead
        assert nav.COUNTERS["sla_due"](staff) == 2  # the navigation finds it
        assert due_count(db.session.get(type(staff), world.users["admin"].id)) is None
    progress(client, world, reminded, status="contacted")  # met: no longer due
    with app_ctx:
        staff = db.session.get(type(world.users["tianhe"]), world.users["tianhe"].id)
        assert due_count(staff) == 1
    assert fresh


def test_the_store_league_shows_each_stores_first_contact(app, app_ctx, client, make, auth):
    world = build_world(make, auth, contact_sla_minutes=60)
    set_hours(client, world, world.tianhe, every_day(0, 24 * 60))  # open around the clock
    contacted, missed = held_lead(client, world), held_lead(client, world)
    progress(client, world, contacted, status="contacted")
    with app_ctx:
        lead_id = db.session.scalar(select(Lead.id).where(Lead.public_id == missed))
        db.session.execute(
            update(SlaTimer).where(SlaTimer.lead_id == lead_id).values(state="missed")
        )
        db.session.commit()
    sweep(app, utcnow())  # counts the open minutes to contact of the met timer
    league = client.get("/api/v1/audit/league", headers=world.headers["admin"])
    assert league.status_code == 200, league.json
    row = next(r for r in league.json["rows"] if r["store"]["id"] == world.tianhe.id)
    assert row["contacted_in_sla_rate"] == 0.5  # one met, one missed
    assert row["median_open_minutes_to_contact"] is not None
    assert 0 <= row["median_open_minutes_to_contact"] < 5
    others = [r for r in league.json["rows"] if r["store"]["id"] != world.tianhe.id]
    assert all(r["contacted_in_sla_rate"] is None for r in others)  # they claimed nothing
    csv = client.get("/api/v1/audit/league?format=csv", headers=world.headers["admin"])
    assert "contacted_in_sla_rate" in csv.get_data(as_text=True).splitlines()[0]
