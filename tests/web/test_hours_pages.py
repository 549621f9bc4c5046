"""Store hours, closures and the SLA on the pages: the manager edits the store's hours and
closures on the settings page, the held-leads page shows the contact due time and the
consultant, the inbox the contact time and when a closed store's clocks start."""

from __future__ import annotations

from datetime import date, timedelta

from leadshare.vocabulary import Role
from tests.api.lead_world import build_world, lead_payload

from .pages import Browser

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def hours_of(client, world) -> dict:
    return client.get(
        f"/api/v1/dealers/{world.tianhe.id}/hours", headers=world.headers["admin"]
    ).json


def test_the_manager_saves_the_stores_hours_and_goes_back_to_the_groups(app, client, make, auth):
    world = build_world(make, auth)
    manager = Browser(app, world.users["tianhe2"])
    form = {day: "09:00-12:00， 13:00-21:00" for day in WEEK} | {"sun": "", "holidays": ""}
    saved = manager.post("/store/hours", **form, closed_on_holidays="y")
    assert saved.status_code == 302, saved.text
    hours = hours_of(client, world)
    assert hours["source"] == "store" and hours["holidays"] == []
    assert hours["weekly"]["mon"] == [["09:00", "12:00"], ["13:00", "21:00"]]
    assert hours["weekly"]["sun"] == []
    page = manager.get("/store/settings").text
    assert 'value="09:00-12:00, 13:00-21:00"' in page and "营业时间" in page
    back = manager.post("/store/hours", use_group="y")
    assert back.status_code == 302
    assert hours_of(client, world)["source"] == "group"


def test_bad_hours_are_refused_in_chinese_and_change_nothing(app, client, make, auth):
    world = build_world(make, auth)
    manager = Browser(app, world.users["tianhe2"])
    refused = manager.post("/store/hours", **{day: "25:00-26:00" for day in WEEK})
    assert refused.status_code == 422
    assert "HH:MM" in refused.text and "时间" in refused.text
    backwards = manager.post("/store/hours", **{day: "21:00-09:00" for day in WEEK})
    assert backwards.status_code == 422 and "结束" in backwards.text
    assert hours_of(client, world)["source"] == "group"


def test_the_manager_adds_and_removes_a_closure(app, client, make, auth):
    world = build_world(make, auth)
    manager = Browser(app, world.users["tianhe2"])
    starts = date.today() + timedelta(days=30)
    added = manager.post(
        "/store/closures",
        starts_on=starts.isoformat(),
        ends_on=(starts + timedelta(days=2)).isoformat(),
        reason="盘点",
    )
    assert added.status_code == 302, added.text
    closures = client.get(
        f"/api/v1/dealers/{world.tianhe.id}/closures", headers=world.headers["admin"]
    ).json
    assert [(c["starts_on"], c["reason"]) for c in closures] == [(starts.isoformat(), "盘点")]
    assert "盘点" in manager.get("/store/settings").text
    backwards = manager.post(
        "/store/closures",
        starts_on=starts.isoformat(),
        ends_on=(starts - timedelta(days=1)).isoformat(),
    )
    assert backwards.status_code == 422
    empty = manager.post("/store/closures", starts_on="", ends_on="")
    assert empty.status_code == 422
    removed = manager.post(f"/store/closures/{closures[0]['id']}/delete")
    assert removed.status_code == 302
    assert "盘点" not in manager.get("/store/settings").text


def test_staff_may_not_change_the_stores_hours(app, make, auth):
    world = build_world(make, auth)
    staff = Browser(app, world.users["tianhe"])
    assert staff.post("/store/hours", use_group="y").status_code == 403
    assert staff.post("/store/closures", starts_on="2027-01-01").status_code == 403


def test_held_leads_show_the_contact_due_time_and_the_consultant(app, client, make, auth):
    world = build_world(make, auth, contact_sla_minutes=45)
    consultant = make.user(Role.STAFF, dealer=world.tianhe, name="李顾问")
    staff = Browser(app, consultant)
    posted = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    inbox = staff.get("/inbox").text
    assert "45 分钟内联系客户" in inbox
    claimed = client.post(f"/api/v1/leads/{posted.json['id']}/claim", headers=auth(consultant))
    assert claimed.status_code == 200
    held = staff.get("/held").text
    assert "sla sla-running" in held and "顾问：李顾问" in held and "前联系客户" in held
