"""Return pages (issue 17): the holder's return form, the referrer's accept and contest, the group
admin's disputes page with its decision, each shown only to its role."""

from __future__ import annotations

import pytest

from tests.api.lead_world import build_world

from .pages import Browser, lead_form, lead_id_from


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def held_lead(app, world, phone="138 1234 5678") -> str:
    """Shared by SZ1 through its page, claimed by GZ1 Tianhe through its page."""
    posted = Browser(app, world.users["referrer"]).post("/leads/new", **lead_form(phone=phone))
    lead_id = lead_id_from(posted.location)
    assert Browser(app, world.users["tianhe"]).post(f"/leads/{lead_id}/claim").status_code == 302
    return lead_id


def test_only_the_holder_sees_the_return_form_and_returns_with_a_reason(app, world):
    lead_id = held_lead(app, world)
    holder, referrer = Browser(app, world.users["tianhe"]), Browser(app, world.users["referrer"])
    page = holder.get(f"/leads/{lead_id}").text
    assert f'action="/leads/{lead_id}/return"' in page and "退回这条线索" in page
    assert 'value="duplicate_of_own_customer"' in page
    assert f'action="/leads/{lead_id}/return"' not in referrer.get(f"/leads/{lead_id}").text
    empty = holder.post(f"/leads/{lead_id}/return", follow_redirects=True, reason="")
    assert 'class="flash error"' in empty.text and "请选择退回原因" in empty.text
    done = holder.post(
        f"/leads/{lead_id}/return", follow_redirects=True, reason="invalid_contact", note="空号"
    )
    assert "已退回：分享门店可以接受或申诉。" in done.text
    assert 'data-return="pending"' in done.text and "空号" in done.text
    assert f'action="/leads/{lead_id}/return/accept"' not in done.text
    assert f'action="/leads/{lead_id}/progress"' not in done.text  # the lead stands still
    again = holder.post(f"/leads/{lead_id}/return", follow_redirects=True, reason="spam")
    assert "这条线索的退回正在等待回应。" in again.text


def test_the_referrer_accepts_the_return_from_its_lead_page(app, world):
    lead_id = held_lead(app, world)
    Browser(app, world.users["tianhe"]).post(f"/leads/{lead_id}/return", reason="spam")
    referrer = Browser(app, world.users["referrer"])
    page = referrer.get(f"/leads/{lead_id}").text
    assert f'action="/leads/{lead_id}/return/accept"' in page
    assert f'action="/leads/{lead_id}/return/contest"' in page
    done = referrer.post(f"/leads/{lead_id}/return/accept", follow_redirects=True)
    assert "已接受退回" in done.text and 'data-return="accepted"' in done.text
    assert "status-returned" in done.text
    assert f'action="/leads/{lead_id}/return/accept"' not in done.text
    staff = Browser(app, world.users["tianhe"])
    assert staff.post(f"/leads/{lead_id}/return/decide", outcome="kept").status_code == 403


def test_a_contest_goes_to_the_disputes_page_where_the_admin_decides(app, world):
    lead_id = held_lead(app, world)
    Browser(app, world.users["tianhe"]).post(f"/leads/{lead_id}/return", reason="already_bought")
    referrer = Browser(app, world.users["referrer"])
    blank = referrer.post(f"/leads/{lead_id}/return/contest", follow_redirects=True, note="")
    assert "请说明线索为何有效" in blank.text
    contested = referrer.post(
        f"/leads/{lead_id}/return/contest", follow_redirects=True, note="客户昨天还在看车"
    )
    assert "已申诉" in contested.text and 'data-return="contested"' in contested.text
    assert referrer.get("/disputes").status_code == 403
    admin = Browser(app, world.users["admin"])
    disputes = admin.get("/disputes").text
    assert f'data-dispute="{lead_id}"' in disputes and "客户昨天还在看车" in disputes
    assert f'action="/leads/{lead_id}/return/decide"' in disputes
    assert 'href="/disputes"' in disputes  # in the group admin's navigation
    bad = admin.post(f"/leads/{lead_id}/return/decide", follow_redirects=True, outcome="")
    assert "请选择裁定" in bad.text
    kept = admin.post(
        f"/leads/{lead_id}/return/decide", follow_redirects=True, outcome="kept", next="/disputes"
    )
    assert "已裁定" in kept.text and "没有需要显示的退回。" in kept.text
    page = Browser(app, world.users["tianhe"]).get(f"/leads/{lead_id}").text
    assert 'data-return="kept"' in page and "status-accepted" in page
    assert f'action="/leads/{lead_id}/progress"' in page  # back with its holder
    assert "退回被申诉" in page and "退回已裁定" in page  # on the timeline
    listed = admin.get("/disputes?status=kept").text
    assert f'data-dispute="{lead_id}"' in listed


def test_the_admin_may_decide_from_the_lead_page(app, world):
    lead_id = held_lead(app, world)
    Browser(app, world.users["tianhe"]).post(f"/leads/{lead_id}/return", reason="spam")
    Browser(app, world.users["referrer"]).post(f"/leads/{lead_id}/return/contest", note="真实")
    admin = Browser(app, world.users["admin"])
    page = admin.get(f"/leads/{lead_id}").text
    assert f'action="/leads/{lead_id}/return/decide"' in page
    done = admin.post(f"/leads/{lead_id}/return/decide", follow_redirects=True, outcome="returned")
    assert 'data-return="accepted"' in done.text and "status-returned" in done.text
