"""Store hours, closures and the SLA on the pages: the manager edits the store's hours and
closures on the settings page, the held-leads page shows the contact due time and the
consultant, the inbox the contact time and when a closed store's clocks start."""

from __future__ import annotations

from datetime import date, timedelta

from leadshare.clock import local_date, utcnow
from leadshare.hours import calendar
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


def test_the_group_admin_sees_the_built_in_holidays_and_types_in_next_years(
    app, client, make, auth
):
    world = build_world(make, auth)
    admin = Browser(app, world.users["admin"])
    known = admin.get("/admin/hours?year=2026").text
    assert "2026-02-17" in known and "春节" in known and "调休上班" in known
    unknown = admin.get("/admin/hours?year=2027").text
    assert "flash warning" in unknown and "2027" in unknown
    saved = admin.post(
        "/admin/calendar?year=2027", days="2027-01-01 holiday 元旦\n\n2027-02-06  workday"
    )
    assert saved.status_code == 302, saved.text
    calendar = client.get(
        f"/api/v1/groups/{world.group.id}/calendar?year=2027", headers=world.headers["admin"]
    ).json
    assert calendar["known"] is True
    assert [(d["date"], d["kind"]) for d in calendar["days"]] == [
        ("2027-01-01", "holiday"),
        ("2027-02-06", "workday"),
    ]
    page = admin.get("/admin/hours?year=2027").text
    assert "2027-01-01 放假 元旦" in page and "flash warning" not in page
    assert "来源：本集团录入的日期" in page


def test_the_calendar_source_is_said_in_words_not_the_package_name(app, make, auth):
    world = build_world(make, auth)
    admin = Browser(app, world.users["admin"])
    page = admin.get("/admin/hours?year=2026").text
    assert "来源：国家公布的法定节假日（内置）" in page
    assert "chinese-calendar" not in page and "package" not in page
    admin.post("/admin/calendar?year=2026", days="2026-12-31 放假 跨年")
    both = admin.get("/admin/hours?year=2026").text
    assert "来源：国家公布的法定节假日（内置）和本集团录入的日期" in both


def test_next_years_days_are_typed_as_the_notice_gives_them(app, client, make, auth):
    world = build_world(make, auth)
    admin = Browser(app, world.users["admin"])
    typed = "\n".join(
        (
            "2027年1月1日 放假 元旦",
            "2027-02-06 至 2027-02-12 放假 春节",
            "2027/2/20 上班",
            "2月14日～2月15日 补班",
            "2027-04-05 正常",
        )
    )
    saved = admin.post("/admin/calendar?year=2027", days=typed)
    assert saved.status_code == 302, saved.text
    calendar = client.get(
        f"/api/v1/groups/{world.group.id}/calendar?year=2027", headers=world.headers["admin"]
    ).json
    spring = [f"2027-02-{day:02d}" for day in range(6, 13)]
    assert [(d["date"], d["kind"], d["name"]) for d in calendar["days"]] == [
        ("2027-01-01", "holiday", "元旦"),
        *[(day, "holiday", "春节") for day in spring],
        ("2027-02-14", "workday", None),
        ("2027-02-15", "workday", None),
        ("2027-02-20", "workday", None),
    ]
    page = admin.get("/admin/hours?year=2027").text
    assert "2027-02-06 至 2027-02-12 放假 春节" in page
    assert "2027-02-14 至 2027-02-15 上班" in page and "2027-04-05 正常" in page
    backwards = admin.post("/admin/calendar?year=2027", days="2027-02-12 至 2027-02-06 放假")
    assert backwards.status_code == 422 and "第 1 行" in backwards.text


def test_a_bad_calendar_line_or_another_years_day_is_refused(app, client, make, auth):
    world = build_world(make, auth)
    admin = Browser(app, world.users["admin"])
    bad = admin.post("/admin/calendar?year=2027", days="2027-01-01 holiday\n2027-13-01 holiday")
    assert bad.status_code == 422 and "第 2 行" in bad.text
    other = admin.post("/admin/calendar?year=2027", days="2028-01-01 holiday 元旦")
    assert other.status_code == 422 and "另一年" in other.text
    calendar = client.get(
        f"/api/v1/groups/{world.group.id}/calendar?year=2027", headers=world.headers["admin"]
    ).json
    assert calendar["known"] is False


def test_the_group_admin_sets_the_groups_default_hours(app, client, make, auth):
    world = build_world(make, auth)
    admin = Browser(app, world.users["admin"])
    form = {day: "09:00-21:00" for day in WEEK} | {"holidays": "10:00-18:00"}
    assert admin.post("/admin/hours", **form).status_code == 302
    group = client.get(f"/api/v1/groups/{world.group.id}", headers=world.headers["admin"]).json
    assert group["opening_hours"]["weekly"]["sat"] == [["09:00", "21:00"]]
    assert group["opening_hours"]["holidays"] == [["10:00", "18:00"]]
    assert hours_of(client, world)["source"] == "group"
    manager = Browser(app, world.users["tianhe2"])
    assert manager.get("/admin/hours").status_code == 403


def test_the_hours_page_warns_of_a_year_no_source_knows_whichever_year_is_shown(
    app, make, auth, monkeypatch
):
    world = build_world(make, auth)
    monkeypatch.setattr(calendar, "built_in_years", frozenset)  # the package knows no year
    this_year = local_date(utcnow(), world.group.timezone).year
    admin = Browser(app, world.users["admin"])
    page = admin.get(f"/admin/hours?year={this_year - 1}").text
    assert f"还没有 {this_year} 年的节假日安排" in page
    assert f'href="/admin/hours?year={this_year}#calendar"' in page
    saved = admin.post(f"/admin/calendar?year={this_year}", days=f"{this_year}-01-01 放假 元旦")
    assert saved.status_code == 302, saved.text
    again = admin.get(f"/admin/hours?year={this_year - 1}").text
    assert f"还没有 {this_year} 年的节假日安排" not in again


def test_the_lead_page_says_in_words_that_a_store_closed_too_long_was_skipped(
    app, client, make, auth
):
    world = build_world(make, auth, skip_closed_over_hours=24)
    today = local_date(utcnow(), world.group.timezone)
    closure = {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=3)).isoformat()}
    made = client.post(
        f"/api/v1/dealers/{world.tianhe.id}/closures", json=closure, headers=world.headers["admin"]
    )
    assert made.status_code == 201, made.json
    posted = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert posted.status_code == 201, posted.json
    page = Browser(app, world.users["admin"]).get(f"/leads/{posted.json['id']}").text
    assert "1 家：停业时间过长（停业或节假日）" in page
