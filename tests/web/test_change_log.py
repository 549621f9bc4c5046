"""The change log page (issue 20, item 6): a group admin reads what the group's admins changed,
in Chinese words before and after, filters it by who, what kind and when, and downloads the
same changes as CSV; a platform admin reads every group's; nobody else opens it."""

from __future__ import annotations

from datetime import timedelta

from leadshare.clock import local, utcnow
from leadshare.vocabulary import Role
from tests.api.lead_world import build_world

from .pages import Browser

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cards(html: str) -> int:
    return html.count('<article class="card change">')


def test_the_group_admin_reads_filters_and_downloads_what_admins_changed(app, client, make, auth):
    world = build_world(make, auth)
    admin, headers = Browser(app, world.users["admin"]), world.headers["admin"]
    second = make.user(Role.GROUP_ADMIN, group=world.group, name="王二")
    patched = client.patch(
        f"/api/v1/dealers/{world.tianhe.id}", json={"daily_capacity": 7}, headers=headers
    )
    assert patched.status_code == 200, patched.json
    hours = {"weekly": {day: [["09:00", "21:00"]] for day in WEEK}, "holidays": []}
    put = client.put(f"/api/v1/dealers/{world.tianhe.id}/hours", json=hours, headers=auth(second))
    assert put.status_code == 200, put.json
    sla = client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"release_on_missed_contact": True},
        headers=headers,
    )
    assert sla.status_code == 200, sla.json

    page = admin.get("/privacy/changes")
    assert page.status_code == 200
    html = page.text
    assert cards(html) == 3
    assert "门店 修改" in html and "每日接单上限" in html
    assert '<span class="was">—</span> → <span class="now">7</span>' in html
    assert "广州天河奥迪" in html  # the store named, not its id
    assert "周一至周日 09:00-21:00" in html and "节假日营业时间" in html
    assert '<span class="was">否</span> → <span class="now">是</span>' in html
    assert 'href="/privacy/changes"' in admin.get("/admin/hours").text  # in the navigation
    assert "只显示最近" not in html

    days = "2027-02-06 至 2027-02-08 放假 春节"
    assert admin.post("/admin/calendar?year=2027", days=days).status_code == 302
    calendar = admin.get("/privacy/changes?kind=calendar_day").text
    assert cards(calendar) == 1 and "节假日日历 新建 ×3" in calendar  # one save, one card
    assert calendar.count("<tr>") == 4 and "2027-02-07" in calendar

    by_second = admin.get(f"/privacy/changes?who={second.id}").text
    assert cards(by_second) == 1 and "门店营业时间 新建" in by_second
    assert f'<option value="{second.id}" selected>王二</option>' in by_second
    only_group = admin.get("/privacy/changes?kind=group").text
    assert cards(only_group) == 1 and "集团设置 修改" in only_group
    today = local(utcnow(), world.group.timezone).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert cards(admin.get(f"/privacy/changes?from={tomorrow}").text) == 0
    assert cards(admin.get(f"/privacy/changes?to={today.isoformat()}").text) == 4

    link = only_group.split('class="button" href="')[1].split('"')[0].replace("&amp;", "&")
    csv = admin.get(link)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).strip().splitlines()
    assert len(lines) == 2 and "修改前" in lines[0] and "group.change" in lines[1]


def test_a_platform_admin_reads_every_group_and_others_may_not(app, client, make, auth):
    world = build_world(make, auth)
    other = make.group(name="另一集团")
    platform = make.user(Role.PLATFORM_ADMIN)
    for group_id, limit in ((world.group.id, 3), (other.id, 4)):
        changed = client.patch(
            f"/api/v1/groups/{group_id}",
            json={"max_offers_per_lead": limit},
            headers=auth(platform),
        )
        assert changed.status_code == 200, changed.json
    reader = Browser(app, platform)
    assert cards(reader.get("/privacy/changes").text) == 2
    one = reader.get(f"/privacy/changes?group={other.id}").text
    assert cards(one) == 1 and "每条线索最多派单次数" in one and "另一集团" in one
    assert 'href="/privacy/changes"' in reader.get("/platform/groups").text
    assert cards(Browser(app, world.users["admin"]).get("/privacy/changes").text) == 1
    staff = Browser(app, world.users["tianhe2"]).get("/privacy/changes")
    assert staff.status_code == 403
