"""The live inbox and the navigation that fits a phone: counts, the polled read, the tab bar."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from leadshare.vocabulary import Role
from leadshare.web import nav
from tests.api.lead_world import build_world, lead_payload

from .pages import Browser


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def share(client, world, **overrides) -> str:
    response = client.post(
        "/api/v1/leads", json=lead_payload(**overrides), headers=world.headers["referrer"]
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def tab_bar(html: str) -> str:
    match = re.search(r'<nav class="tabs".*?</nav>', html, re.S)
    assert match, "no navigation"
    return match.group(0)


def tabs_and_sheet(html: str) -> tuple[list[str], list[str]]:
    """The links of the phone's tab bar, and those in its "more" sheet."""
    bar = tab_bar(html)
    sheet = re.search(r'<div class="sheet">.*?</div>', bar, re.S)
    in_sheet = re.findall(r'href="([^"]+)"', sheet.group(0)) if sheet else []
    outside = re.sub(r'<div class="sheet">.*?</div>', "", bar, flags=re.S)
    return re.findall(r'href="([^"]+)"', outside), in_sheet


def current_links(html: str) -> set[str]:
    return set(re.findall(r'<a href="([^"]+)" aria-current="page"', html))


# --- the polled read ---------------------------------------------------------------------------


def test_live_read_lists_the_stores_waiting_offers_and_counts(app, client, world):
    tianhe = Browser(app, world.users["tianhe"])
    before = tianhe.get("/live")
    assert before.status_code == 200 and before.mimetype == "application/json"
    assert before.json["offers"] == [] and before.json["counts"] == {
        "offers": 0,
        "board": 0,
        "sla_due": 0,
    }
    lead_id = share(client, world)
    after = tianhe.get("/live").json
    assert after["offers"] == [lead_id]
    assert after["counts"]["offers"] == 1
    assert Browser(app, world.users["panyu"]).get("/live").json["offers"] == []  # not theirs


def test_live_read_carries_the_polling_interval_setting(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "INBOX_POLL_SECONDS", 2)
    tianhe = Browser(app, world.users["tianhe"])
    assert tianhe.get("/live").json["poll_seconds"] == 2
    assert 'data-poll-seconds="2.0"' in tianhe.get("/inbox").text


def test_live_read_is_for_stores_only(app, client, world):
    assert Browser(app, world.users["admin"]).get("/live").status_code == 403
    anonymous = client.get("/live", headers={"Accept": "application/json"})
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login")


def test_navigation_counts_offers_and_the_board(app, client, make, auth):
    world = build_world(make, auth, max_offers_per_lead=2)
    lead_id = share(client, world)
    inbox = Browser(app, world.users["tianhe"]).get("/inbox").text
    assert f'data-offer-id="{lead_id}"' in inbox
    assert '<span class="count" data-count="offers">1</span>' in inbox
    assert 'data-count="board" hidden>0<' in inbox
    assert 'data-live="/live"' in inbox
    for who, reason in (("tianhe", "no_stock"), ("baiyun", "capacity")):  # then the board
        response = client.post(
            f"/api/v1/leads/{lead_id}/decline", json={"reason": reason}, headers=world.headers[who]
        )
        assert response.status_code == 200, response.json
    panyu = Browser(app, world.users["panyu"])
    assert '<span class="count" data-count="board">1</span>' in panyu.get("/inbox").text
    assert panyu.get("/live").json["counts"] == {"offers": 0, "board": 1, "sla_due": 0}


def test_counts_of_other_roles_are_not_polled(app, world):
    page = Browser(app, world.users["admin"]).get("/leads").text
    assert "data-live=" not in page  # the admin's count of unread notices is shown, not polled
    assert set(re.findall(r'data-count="(\w+)"', page)) == {"notices"}


def test_held_leads_show_the_sla_count_once_a_counter_exists(app, world, monkeypatch):
    staff = Browser(app, world.users["tianhe"])
    nothing_due = staff.get("/inbox").text  # the SLA work's real count: none due, hidden
    assert '<span class="count" data-count="sla_due" hidden>0</span>' in nothing_due
    monkeypatch.setitem(nav.COUNTERS, "sla_due", lambda user: 3 if user.dealer_id else None)
    page = staff.get("/inbox").text
    assert '<span class="count" data-count="sla_due">3</span>' in page
    assert staff.get("/live").json["counts"]["sla_due"] == 3


def test_sla_counter_is_looked_up_where_the_sla_work_puts_it(app, world, monkeypatch):
    monkeypatch.setattr(nav, "SLA_DUE_COUNTER", ("leadshare.hours.no_such_module", "due_count"))
    assert nav.COUNTERS["sla_due"](world.users["tianhe"]) is None
    monkeypatch.setattr(nav, "SLA_DUE_COUNTER", ("leadshare.hours.service", "no_such_function"))
    assert nav.COUNTERS["sla_due"](world.users["tianhe"]) is None
    monkeypatch.setattr(nav, "SLA_DUE_COUNTER", ("tests.web.test_live_inbox", "_two_due"))
    assert nav.COUNTERS["sla_due"](world.users["tianhe"]) == 2


def _two_due(user) -> int:
    """Stands in for the SLA work's `due_count` in the lookup test."""
    return 2


# --- navigation that fits a phone --------------------------------------------------------------


@pytest.mark.parametrize("who", ["tianhe", "tianhe2", "admin"])
def test_phone_tab_bar_has_at_most_five_items_and_the_rest_in_more(app, world, who):
    user = world.users[who]
    page = Browser(app, user).get("/leads" if user.role == Role.GROUP_ADMIN else "/inbox").text
    tabs, sheet = tabs_and_sheet(page)
    more = 1 if sheet else 0
    assert len(tabs) + more <= 5
    assert ('class="more-tab"' in page) == bool(sheet)
    with app.test_request_context():
        every = [url_for(item.endpoint) for item in nav.nav_for(user)]
    assert tabs + sheet == every  # nothing lost, nothing twice: each page is a tab or in the sheet
    if user.role == Role.MANAGER:
        assert "/store/settings" in sheet and "/inbox" in tabs


def test_store_name_and_role_are_always_shown(app, world):
    page = Browser(app, world.users["tianhe2"]).get("/board").text
    assert "广州天河奥迪" in page and "店长" in page


def test_current_page_is_highlighted_also_in_the_more_sheet(app, world):
    manager = Browser(app, world.users["tianhe2"])
    page = manager.get("/store/settings").text
    assert "/store/settings" in current_links(page)
    assert re.search(r'class="more-tab"[^>]*aria-current="page"', page)  # "more" holds it


def test_managers_statement_tab_is_highlighted(app, world):
    manager = Browser(app, world.users["tianhe2"])
    response = manager.get("/admin/statements")
    assert response.status_code == 302 and response.location.startswith("/store/statement")
    page = manager.get("/store/statement").text
    assert current_links(page) == {"/admin/statements"}


def test_pages_under_an_item_highlight_it(app, world):
    admin = Browser(app, world.users["admin"])
    assert current_links(admin.get("/admin/users/new").text) == {"/admin/users"}
    assert current_links(admin.get("/admin/dealers/new").text) == {"/admin/dealers"}
    staff = Browser(app, world.users["tianhe"])
    assert current_links(staff.get("/leads/new").text) == {"/leads/new"}
