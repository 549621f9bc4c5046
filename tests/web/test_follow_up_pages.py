"""Who follows a lead up, on the pages (issue 14 item 8): the lead page shows the consultant to
whoever sees the lead, the notes and the next appointment to the holder's and the referrer's
staff only, the note form to the holder and the hand-over select to its manager; "Our leads"
names the consultant once the timers are met, shows the manager a per-consultant summary, and
the inbox and "Our leads" show appointments that have come (an in-app line)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from leadshare.auth.models import User
from leadshare.clock import format_local, parse_iso, utcnow
from leadshare.extensions import db
from leadshare.hours import followup
from leadshare.privacy.models import ContactAccess
from leadshare.vocabulary import Role
from tests.api.lead_world import build_world
from tests.api.test_hours_offers import sweep
from tests.api.test_sla import contact_timer, held_lead, progress

from .pages import Browser

NOTE = "客户周六上午来店试驾，带家人"


def local_box(moment, world) -> str:
    """A datetime-local box's value for an instant, in the group's zone."""
    return format_local(moment, world.group.timezone, "%Y-%m-%dT%H:%M")


def shown(user) -> str:
    """How the pages name a person: their name, else their email."""
    return user.name or user.email


def note_texts(html: str) -> list[str]:
    return re.findall(r'<p class="note-text">([^<]*)</p>', html)


def test_the_consultant_records_a_follow_up_with_the_next_appointment(app, client, make, auth):
    world = build_world(make, auth)
    lead = held_lead(client, world)
    consultant = Browser(app, world.users["tianhe"])
    page = consultant.get(f"/leads/{lead}").text
    assert "跟进" in page and "尚无跟进记录" in page and 'type="datetime-local"' in page
    assert f"顾问：{shown(world.users['tianhe'])}" in page
    assert "转交给" not in page  # staff do not hand leads over
    ahead = utcnow() + timedelta(days=2)
    saved = consultant.post(f"/leads/{lead}/notes", text=NOTE, next_at=local_box(ahead, world))
    assert saved.status_code == 302, saved.text
    notes = client.get(f"/api/v1/leads/{lead}/notes", headers=world.headers["tianhe"]).json
    assert [n["text"] for n in notes["items"]] == [NOTE]
    shown_at = format_local(ahead, world.group.timezone, "%Y-%m-%d %H:%M")
    page = consultant.get(f"/leads/{lead}").text
    assert note_texts(page) == [NOTE]
    assert f"下次预约：{shown_at}" in page and "跟进记录已保存" in page


def test_a_note_form_refusal_is_a_422_beside_its_field(app, client, make, auth):
    world = build_world(make, auth)
    lead = held_lead(client, world)
    consultant = Browser(app, world.users["tianhe"])
    empty = consultant.post(f"/leads/{lead}/notes", text="  ", next_at="")
    assert empty.status_code == 422 and 'class="field has-error"' in empty.text
    garbled = consultant.post(f"/leads/{lead}/notes", text="回访", next_at="下周六")
    assert garbled.status_code == 422 and "请输入日期和时间" in garbled.text
    past = consultant.post(
        f"/leads/{lead}/notes", text="回访", next_at=local_box(utcnow() - timedelta(hours=2), world)
    )
    assert past.status_code == 422 and "下次预约时间必须晚于现在" in past.text
    assert re.search(r'has-error">\s*<label for="note-next_at"', past.text)
    assert client.get(f"/api/v1/leads/{lead}/notes", headers=world.headers["tianhe"]).json == {
        "items": []
    }


def test_notes_are_shown_to_holder_and_referrer_and_masked_for_everyone_else(
    app, client, make, auth, app_ctx
):
    world = build_world(make, auth)
    lead = held_lead(client, world)
    posted = client.post(
        f"/api/v1/leads/{lead}/notes", json={"text": NOTE}, headers=world.headers["tianhe"]
    )
    assert posted.status_code == 201
    colleague = make.user(Role.STAFF, dealer=world.tianhe)
    auditor = make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"]))
    readers = {
        "consultant": world.users["tianhe"],
        "other staff": colleague,
        "manager": world.users["tianhe2"],
        "referrer": world.users["referrer"],
    }
    for who, user in readers.items():
        page = Browser(app, user).get(f"/leads/{lead}")
        assert page.status_code == 200, who
        assert note_texts(page.text) == [NOTE], who
    form_for = {
        who: "记录跟进" in Browser(app, user).get(f"/leads/{lead}").text
        for who, user in readers.items()
    }
    assert form_for == {"consultant": True, "other staff": True, "manager": True, "referrer": False}
    for user in (world.users["admin"], auditor):
        page = Browser(app, user).get(f"/leads/{lead}")
        assert page.status_code == 200
        assert NOTE not in page.text and "跟进记录属于客户联系信息" in page.text
        assert f"顾问：{shown(world.users['tianhe'])}" in page.text
    assert Browser(app, world.users["baiyun"]).get(f"/leads/{lead}").status_code == 404
    referrer = Browser(app, world.users["referrer"])
    refused = referrer.post(f"/leads/{lead}/notes", text="我来跟进")
    assert refused.status_code == 403
    outsider = Browser(app, world.users["baiyun"]).post(f"/leads/{lead}/notes", text="抢单")
    assert outsider.status_code == 404
    client.get(f"/api/v1/leads/{lead}/notes", headers=world.headers["referrer"])
    with app_ctx:  # the API's reading of the notes is on the contact access log too
        logged = db.session.scalars(
            select(ContactAccess.user_id).where(ContactAccess.path == f"/api/v1/leads/{lead}/notes")
        ).all()
    assert logged == [world.users["referrer"].id]


def test_the_manager_hands_a_lead_to_another_member_of_the_store(app, client, make, auth):
    world = build_world(make, auth)
    colleague = make.user(Role.STAFF, dealer=world.tianhe, name="王顾问")
    gone = make.user(Role.STAFF, dealer=world.tianhe, name="离职顾问", is_active_user=False)
    lead = held_lead(client, world)
    manager = Browser(app, world.users["tianhe2"])
    page = manager.get(f"/leads/{lead}").text
    options = re.findall(r'<option[^>]*value="(\d+)"', page.split('id="consultant-user_id"')[1])
    assert str(colleague.id) in options and str(gone.id) not in options
    assert str(world.users["baiyun"].id) not in options
    handed = manager.post(f"/leads/{lead}/consultant", user_id=str(colleague.id))
    assert handed.status_code == 302, handed.text
    assert contact_timer(client, world, lead)["consultant"]["id"] == colleague.id
    page = manager.get(f"/leads/{lead}").text
    assert "顾问：王顾问" in page and "转交顾问" in page  # the trail's event, in words
    assert ">consultant_assigned<" not in page and "consultant_id" not in page
    for bad in (str(gone.id), str(world.users["baiyun"].id), "abc", ""):
        refused = manager.post(f"/leads/{lead}/consultant", user_id=bad)
        assert refused.status_code == 422, bad
        assert 'class="field has-error"' in refused.text
    assert contact_timer(client, world, lead)["consultant"]["id"] == colleague.id
    staff = Browser(app, world.users["tianhe"]).post(
        f"/leads/{lead}/consultant", user_id=str(colleague.id)
    )
    assert staff.status_code == 403
    other_manager = make.user(Role.MANAGER, dealer=world.baiyun)
    elsewhere = Browser(app, other_manager).post(
        f"/leads/{lead}/consultant", user_id=str(other_manager.id)
    )
    assert elsewhere.status_code == 404


def test_our_leads_names_the_consultant_after_the_contact_and_sums_up_per_consultant(
    app, client, make, auth
):
    world = build_world(make, auth)
    idle = make.user(Role.STAFF, dealer=world.tianhe, name="闲置顾问")
    contacted = held_lead(client, world)
    progress(client, world, contacted, status="contacted")  # the contact timer is met
    waiting = held_lead(client, world)
    client.post(
        f"/api/v1/leads/{waiting}/notes",
        json={"text": "约周六", "next_at": (utcnow() + timedelta(days=1)).isoformat() + "Z"},
        headers=world.headers["tianhe"],
    )
    name = shown(world.users["tianhe"])
    staff_page = Browser(app, world.users["tianhe"]).get("/held").text
    cards = staff_page.split('<article class="card lead">')[1:]
    assert len(cards) == 2 and all(f"顾问：{name}" in card for card in cards)
    assert "谁在跟进" not in staff_page  # the summary is the manager's
    page = Browser(app, world.users["tianhe2"]).get("/held").text
    assert "谁在跟进" in page
    figures = summary_row(page, world.users["tianhe"].id)
    assert figures["held"] == "2" and figures["in_time"] == "1" and figures["missed"] == "0"
    assert figures["overdue"] == "0" and figures["appointments"].startswith("1 · 最早")
    idle_figures = summary_row(page, idle.id)
    assert idle_figures == dict.fromkeys(
        ("held", "in_time", "missed", "overdue", "appointments"), "0"
    )


def summary_row(page: str, user_id: int) -> dict[str, str]:
    """One consultant's figures on the manager's summary, by name, as text."""
    row = page.split(f'data-consultant-row="{user_id}"')[1].split("</li>")[0]
    spans = re.findall(r'data-figure="([a-z_]+)"[^>]*>(.*?)</span>', row, re.S)
    texts = {name: re.sub(r"<[^>]+>", "", value).split(" ", 1)[-1].strip() for name, value in spans}
    return {name: re.sub(r"\s+", " ", text) for name, text in texts.items()}


def test_the_summary_counts_a_missed_contact_and_an_overdue_lead(app, client, make, auth):
    world = build_world(make, auth, contact_sla_minutes=30)
    lead = held_lead(client, world)
    due = contact_timer(client, world, lead)["due_at"]
    sweep(app, parse_iso(due) + timedelta(minutes=1))
    with app.app_context():
        rows = followup.consultant_summary(world.tianhe.id, parse_iso(due) + timedelta(minutes=2))
    mine = next(r for r in rows if r["id"] == world.users["tianhe"].id)
    figures = (mine["held"], mine["missed"], mine["overdue"], mine["contacted_in_time"])
    assert figures == (1, 1, 1, 0)
    page = Browser(app, world.users["tianhe2"]).get(f"/leads/{lead}").text
    assert "未在服务时限内完成" in page and "首次联系" in page and ">sla_missed<" not in page


def test_due_appointments_show_on_the_inbox_and_our_leads_without_a_webhook(
    app, client, make, auth, app_ctx
):
    world = build_world(make, auth)
    lead = held_lead(client, world)
    now = utcnow()
    with app_ctx:
        writer = db.session.get(User, world.users["tianhe"].id)
        followup.add_note(
            writer,
            lead,
            {"text": "回访电话", "next_at": now - timedelta(minutes=5)},
            now=now - timedelta(hours=1),
        )
    for path in ("/inbox", "/held"):
        page = Browser(app, world.users["tianhe"]).get(path).text
        assert "data-due-appointments" in page and "1 个跟进预约已到时间" in page, path
        assert f"/leads/{lead}#follow-up" in page and "回访电话" not in page  # no note text
    assert "预约已到时间" in Browser(app, world.users["tianhe"]).get(f"/leads/{lead}").text
    other = Browser(app, world.users["baiyun"]).get("/inbox").text
    assert "data-due-appointments" not in other
    # The follow-up recorded: a newer note stands for it, the line goes.
    client.post(
        f"/api/v1/leads/{lead}/notes", json={"text": "已回访"}, headers=world.headers["tianhe"]
    )
    assert "data-due-appointments" not in Browser(app, world.users["tianhe"]).get("/inbox").text
