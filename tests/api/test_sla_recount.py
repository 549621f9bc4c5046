"""Running service-level timers follow the clock they count: a change of a store's hours or
closures, or of the group's hours, calendar or SLA settings, re-counts a running timer's reminder
and due instants from its start (as it does a pending offer's expiry), and `sweep --as-of` acts
at the new instants and not before; met timers keep theirs."""

from __future__ import annotations

from datetime import timedelta

from leadshare.clock import local, parse_iso, utcnow
from leadshare.hours.calendar import day_kinds
from leadshare.hours.schedule import Schedule, add_open_minutes, next_opening, parse_weekly

from .lead_world import build_world
from .test_hours_offers import (
    every_day,
    group_hours_then_holidays,
    minute_of_day,
    set_hours,
    sweep,
)
from .test_sla import contact_timer, held_lead, progress, timers


def instants(timer: dict) -> tuple:
    return parse_iso(timer["started_at"]), parse_iso(timer["remind_at"]), parse_iso(timer["due_at"])


def test_new_store_hours_move_a_running_contact_timer_and_the_sweep_follows(
    app, client, make, auth
):
    world = build_world(make, auth, contact_sla_minutes=60, sla_remind_at=0.5)
    lead = held_lead(client, world)
    met = held_lead(client, world)
    progress(client, world, met, status="contacted")
    met_due = contact_timer(client, world, met)["due_at"]
    started, old_remind, old_due = instants(contact_timer(client, world, lead))
    assert old_due - started == timedelta(minutes=60)  # open around the clock

    tz = world.group.timezone
    weekly = every_day(minute_of_day(utcnow(), tz) + 120, 180)  # closed now, opens in two hours
    set_hours(client, world, world.tianhe, weekly)
    clock = Schedule(tz, parse_weekly(weekly), day_kind=day_kinds({}))
    _, remind, due = instants(contact_timer(client, world, lead))
    assert due == add_open_minutes(started, 60, clock)
    assert remind == add_open_minutes(started, 30, clock)
    assert due > old_due + timedelta(hours=1)
    assert contact_timer(client, world, met)["due_at"] == met_due  # met: left as it was

    assert "0 reminded, 0 missed" in sweep(app, old_due)
    assert "0 reminded" in sweep(app, remind - timedelta(seconds=1))
    assert "1 reminded, 0 missed" in sweep(app, remind)
    assert "0 missed" in sweep(app, due - timedelta(seconds=1))
    assert "1 missed" in sweep(app, due)
    assert contact_timer(client, world, lead)["state"] == "missed"


def test_a_closure_moves_the_timer_and_removing_it_moves_it_back(app, client, make, auth):
    world = build_world(make, auth, contact_sla_minutes=60)
    lead = held_lead(client, world)
    started, _, old_due = instants(contact_timer(client, world, lead))
    today = local(started, world.group.timezone).date()
    closure = {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=1)).isoformat()}
    url = f"/api/v1/dealers/{world.tianhe.id}/closures"
    made = client.post(url, json=closure, headers=world.headers["tianhe2"])  # the manager
    assert made.status_code == 201, made.json
    clock = Schedule(world.group.timezone, closures=((today, today + timedelta(days=1)),))
    due = parse_iso(contact_timer(client, world, lead)["due_at"])
    assert due == add_open_minutes(started, 60, clock) and due > old_due + timedelta(hours=12)
    assert "0 missed" in sweep(app, old_due)

    gone = client.delete(f"{url}/{made.json['id']}", headers=world.headers["tianhe2"])
    assert gone.status_code == 204
    assert parse_iso(contact_timer(client, world, lead)["due_at"]) == old_due
    assert "1 missed" in sweep(app, old_due)


def test_group_hours_calendar_and_sla_minutes_move_running_timers(app, client, make, auth):
    world = build_world(make, auth, contact_sla_minutes=60)
    lead = held_lead(client, world)
    started, _, _ = instants(contact_timer(client, world, lead))

    def due_at():
        return parse_iso(contact_timer(client, world, lead)["due_at"])

    clock = group_hours_then_holidays(client, world, started, due_at)
    counted = add_open_minutes(started, 60, clock)
    assert "0 missed" in sweep(app, counted - timedelta(seconds=1))

    longer = client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"contact_sla_minutes": 90},
        headers=world.headers["admin"],
    )
    assert longer.status_code == 200, longer.json
    assert due_at() == add_open_minutes(started, 90, clock)
    assert "0 missed" in sweep(app, counted)
    assert "1 missed" in sweep(app, due_at())


def test_new_hours_move_a_running_visit_timer_to_the_next_opening(app, client, make, auth):
    world = build_world(make, auth, visit_sla_days=1)
    lead = held_lead(client, world)
    progress(client, world, lead, status="contacted")
    visit = next(t for t in timers(client, world, lead) if t["kind"] == "visit")
    started, old_due = parse_iso(visit["started_at"]), parse_iso(visit["due_at"])
    assert old_due - started == timedelta(days=1)
    tz = world.group.timezone
    weekly = every_day(minute_of_day(utcnow(), tz) + 120, 180)
    set_hours(client, world, world.tianhe, weekly)
    clock = Schedule(tz, parse_weekly(weekly), day_kind=day_kinds({}))
    visit = next(t for t in timers(client, world, lead) if t["kind"] == "visit")
    due = parse_iso(visit["due_at"])
    assert due == next_opening(started + timedelta(days=1), clock) and due > old_due
    assert "0 missed" in sweep(app, old_due)
    assert "1 missed" in sweep(app, due)


def test_a_group_that_drops_its_visit_sla_closes_the_running_visit_timers(app, client, make, auth):
    world = build_world(make, auth, visit_sla_days=2)
    lead = held_lead(client, world)
    progress(client, world, lead, status="contacted")
    visit = next(t for t in timers(client, world, lead) if t["kind"] == "visit")
    dropped = client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"visit_sla_days": None},
        headers=world.headers["admin"],
    )
    assert dropped.status_code == 200, dropped.json
    closed = next(t for t in timers(client, world, lead) if t["kind"] == "visit")
    assert closed["state"] == "closed" and closed["due_at"] == visit["due_at"]
    assert "0 missed" in sweep(app, parse_iso(visit["due_at"]) + timedelta(days=1))
