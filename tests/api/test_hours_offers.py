"""The offer clock through the API: offers count the store's open minutes, the sweep expires them
at that instant and not before, a store closed too long is skipped, and edits re-count them."""

from __future__ import annotations

from datetime import datetime, timedelta

from leadshare.clock import local, parse_iso, utcnow
from leadshare.hours.calendar import day_kinds
from leadshare.hours.schedule import DAYS, DayKind, Schedule, add_open_minutes, parse_weekly

from .lead_world import build_world, lead_payload


def every_day(start: int, minutes: int) -> dict[str, list[list[str]]]:
    """The same hours every day: open `minutes` from `start` (minutes from local midnight),
    split at midnight when they run past it."""

    def hhmm(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"

    start %= 1440
    end = start + minutes
    if end <= 1440:
        intervals = [[hhmm(start), hhmm(end)]]
    else:
        intervals = [["00:00", hhmm(end - 1440)], [hhmm(start), "24:00"]]
    return {day: intervals for day in DAYS}


def minute_of_day(moment: datetime, timezone: str) -> int:
    wall = local(moment, timezone)
    return wall.hour * 60 + wall.minute


def post_lead(client, world) -> dict:
    response = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert response.status_code == 201, response.json
    return response.json


def offer_of(client, world, lead_id: str) -> dict:
    body = client.get(f"/api/v1/leads/{lead_id}", headers=world.headers["admin"]).json
    return body["current_offer"]


def offered_at_of(client, world, lead: dict) -> datetime:
    return parse_iso(offer_of(client, world, lead["id"])["offered_at"])


def set_hours(client, world, dealer, weekly, holidays=None) -> None:
    body = {"weekly": weekly, "holidays": holidays}
    response = client.put(
        f"/api/v1/dealers/{dealer.id}/hours", json=body, headers=world.headers["admin"]
    )
    assert response.status_code == 200, response.json


def sweep(app, moment: datetime) -> str:
    result = app.test_cli_runner().invoke(
        args=["leadshare", "sweep", "--as-of", moment.isoformat()]
    )
    assert result.exit_code == 0, result.output
    return result.output


def set_group_hours(client, world, weekly) -> None:
    """The group's default hours: these weekly hours, closed on statutory holidays."""
    body = {"opening_hours": {"weekly": weekly, "holidays": []}}
    patched = client.patch(
        f"/api/v1/groups/{world.group.id}", json=body, headers=world.headers["admin"]
    )
    assert patched.status_code == 200, patched.json


def group_hours_then_holidays(client, world, since: datetime, due, minutes: int = 60) -> Schedule:
    """Give the group hours opening in five hours, then make its next three days holidays;
    after each change `due()` reads the re-counted instant of `minutes` open minutes from
    `since`. Returns the final clock."""
    tz = world.group.timezone
    weekly = every_day(minute_of_day(utcnow(), tz) + 300, 60)
    set_group_hours(client, world, weekly)
    counted = add_open_minutes(since, minutes, closed_on_holidays(tz, weekly, set()))
    assert due() == counted
    today = local(since, tz).date()
    closed = {today + timedelta(days=n) for n in range(3)}
    put_holidays(client, world, closed)
    with_calendar = closed_on_holidays(tz, weekly, closed)
    recounted = add_open_minutes(since, minutes, with_calendar)
    assert recounted >= counted + timedelta(days=2)
    assert due() == recounted
    return with_calendar


def put_holidays(client, world, days) -> None:
    """Make these days the group's own holidays (one PUT per year they fall in)."""
    for year in sorted({day.year for day in days}):
        listed = [{"date": d.isoformat(), "kind": "holiday"} for d in days if d.year == year]
        url = f"/api/v1/groups/{world.group.id}/calendar?year={year}"
        put = client.put(url, json={"days": listed}, headers=world.headers["admin"])
        assert put.status_code == 200, put.json


def closed_on_holidays(tz: str, weekly, holidays) -> Schedule:
    """The clock of weekly hours closed on the built-in holidays and on these days."""
    built_in = day_kinds({})
    return Schedule(
        tz,
        parse_weekly(weekly),
        holidays=(),
        day_kind=lambda day: DayKind.HOLIDAY if day in holidays else built_in(day),
    )


def test_an_offer_made_out_of_hours_starts_its_clock_at_the_opening(client, make, auth):
    world = build_world(make, auth, offer_ttl_minutes=60)
    tz = world.group.timezone
    opens_in = 180
    weekly = every_day(minute_of_day(utcnow(), tz) + opens_in, 120)
    set_hours(client, world, world.tianhe, weekly)
    lead = post_lead(client, world)
    offer = offer_of(client, world, lead["id"])
    assert offer["dealer"]["id"] == world.tianhe.id
    offered_at = offered_at_of(client, world, lead)
    expected = add_open_minutes(offered_at, 60, Schedule(tz, parse_weekly(weekly)))
    assert parse_iso(offer["expires_at"]) == expected
    assert expected - offered_at > timedelta(minutes=opens_in)  # not 60 wall-clock minutes


def test_an_offer_made_in_hours_runs_on_the_wall_clock(client, make, auth):
    world = build_world(make, auth, offer_ttl_minutes=60)
    weekly = every_day(minute_of_day(utcnow(), world.group.timezone) - 60, 600)
    set_hours(client, world, world.tianhe, weekly)
    lead = post_lead(client, world)
    offer = offer_of(client, world, lead["id"])
    expires, offered = parse_iso(offer["expires_at"]), offered_at_of(client, world, lead)
    assert expires - offered == timedelta(minutes=60)


def test_the_sweep_expires_the_offer_at_the_counted_instant_and_not_before(app, client, make, auth):
    world = build_world(make, auth, offer_ttl_minutes=60)
    weekly = every_day(minute_of_day(utcnow(), world.group.timezone) + 120, 120)
    set_hours(client, world, world.tianhe, weekly)
    lead = post_lead(client, world)
    expires = parse_iso(offer_of(client, world, lead["id"])["expires_at"])
    wall_clock = offered_at_of(client, world, lead) + timedelta(minutes=60)
    assert "0 offers expired" in sweep(app, wall_clock)
    assert "0 offers expired" in sweep(app, expires - timedelta(seconds=1))
    assert offer_of(client, world, lead["id"])["dealer"]["id"] == world.tianhe.id
    assert "1 offers expired" in sweep(app, expires)
    trail = client.get(f"/api/v1/leads/{lead['id']}/trail", headers=world.headers["admin"]).json
    expired = [e for e in trail["events"] if e["type"] == "expired"]
    assert [e["dealer"]["id"] for e in expired] == [world.tianhe.id]


def test_a_store_closed_longer_than_the_group_allows_is_skipped(client, make, auth):
    world = build_world(make, auth, skip_closed_over_hours=24)
    today = local(utcnow(), world.group.timezone).date()
    closure = {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=3)).isoformat()}
    made = client.post(
        f"/api/v1/dealers/{world.tianhe.id}/closures", json=closure, headers=world.headers["admin"]
    )
    assert made.status_code == 201, made.json
    lead = post_lead(client, world)
    offer = offer_of(client, world, lead["id"])
    assert offer["dealer"]["id"] != world.tianhe.id
    trail = client.get(f"/api/v1/leads/{lead['id']}/trail", headers=world.headers["admin"]).json
    decision = next(e for e in trail["events"] if e["type"] == "offered")["data"]["decision"]
    assert decision["excluded"]["closed"] == 1


def test_a_short_closure_is_waited_for_not_skipped(client, make, auth):
    world = build_world(make, auth, skip_closed_over_hours=24 * 5)
    today = local(utcnow(), world.group.timezone).date()
    closure = {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=1)).isoformat()}
    client.post(
        f"/api/v1/dealers/{world.tianhe.id}/closures", json=closure, headers=world.headers["admin"]
    )
    lead = post_lead(client, world)
    offer = offer_of(client, world, lead["id"])
    assert offer["dealer"]["id"] == world.tianhe.id
    assert parse_iso(offer["expires_at"]) > offered_at_of(client, world, lead) + timedelta(days=1)


def test_a_change_of_hours_or_closures_recounts_the_pending_offer(client, make, auth):
    world = build_world(make, auth, offer_ttl_minutes=60, skip_closed_over_hours=None)
    lead = post_lead(client, world)
    offered = offered_at_of(client, world, lead)
    assert parse_iso(offer_of(client, world, lead["id"])["expires_at"]) == offered + timedelta(
        minutes=60
    )
    weekly = every_day(minute_of_day(utcnow(), world.group.timezone) + 240, 120)
    set_hours(client, world, world.tianhe, weekly)
    tz = world.group.timezone
    built_in_kinds = day_kinds({})
    group_clock = Schedule(tz, parse_weekly(weekly), (), day_kind=built_in_kinds)
    counted = add_open_minutes(offered, 60, group_clock)
    assert parse_iso(offer_of(client, world, lead["id"])["expires_at"]) == counted
    today = local(offered, tz).date()
    closure = {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=2)).isoformat()}
    url = f"/api/v1/dealers/{world.tianhe.id}/closures"
    made = client.post(url, json=closure, headers=world.headers["tianhe2"]).json
    assert parse_iso(offer_of(client, world, lead["id"])["expires_at"]) > counted + timedelta(
        days=1
    )
    client.delete(f"{url}/{made['id']}", headers=world.headers["tianhe2"])
    set_hours(client, world, world.tianhe, None)
    assert parse_iso(offer_of(client, world, lead["id"])["expires_at"]) == offered + timedelta(
        minutes=60
    )


def test_group_hours_and_calendar_changes_recount_pending_offers(client, make, auth):
    world = build_world(make, auth, offer_ttl_minutes=60)
    lead = post_lead(client, world)
    offered = offered_at_of(client, world, lead)

    def expiry():
        return parse_iso(offer_of(client, world, lead["id"])["expires_at"])

    group_hours_then_holidays(client, world, offered, expiry)
