"""Audit pages: the funnel and the flow matrix with its map, for OEM auditors and group admins."""

from __future__ import annotations

import re

import pytest

from leadshare.vocabulary import Role
from tests.api.lead_world import build_world

from .pages import Browser, lead_form, lead_id_from
from .test_charts import chart_data


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


@pytest.fixture
def auditor(app, make):
    return Browser(app, make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"])))


def shared_and_claimed(app, world) -> str:
    posted = Browser(app, world.users["referrer"]).post("/leads/new", **lead_form())
    lead_id = lead_id_from(posted.location)
    assert Browser(app, world.users["tianhe"]).post(f"/leads/{lead_id}/claim").status_code == 302
    return lead_id


def test_auditor_sees_the_funnel_with_bars_rates_and_time_to_accept(app, world, auditor):
    shared_and_claimed(app, world)
    page = auditor.get("/audit/funnel")
    assert page.status_code == 200
    html = page.text
    assert 'href="/audit/funnel"' in html and 'href="/audit/flows"' in html  # the nav
    assert "各阶段线索数" in html and "接收用时" in html and "中位数" in html
    assert re.search(r'class="fill stage-posted" width="100"', html)
    assert 'class="histogram"' in html and 'class="bin"' in html
    assert "/api/v1/audit/funnel?format=csv" in html
    assert "style=" not in html  # the CSP allows no inline styles
    assert "+8613812345678" not in html


def test_funnel_filters_by_brand(app, world, auditor):
    shared_and_claimed(app, world)
    html = auditor.get("/audit/funnel?brand=丰田&from=2020-01-01&to=bad").text
    assert re.search(r'class="fill stage-posted" width="0"', html)
    assert "brand=%E4%B8%B0%E7%94%B0" in html


def test_auditor_sees_the_flow_matrix_and_a_link_to_the_map(app, world, auditor):
    shared_and_claimed(app, world)
    page = auditor.get("/audit/flows")
    assert page.status_code == 200
    html = page.text
    assert "SZ1 深圳南山奥迪" in html and "GZ1 广州天河奥迪" in html
    assert 'class="heat-4"' in html
    assert "<svg" not in html and "style=" not in html  # the map is its own page now
    assert 'href="/audit/map"' in html
    assert "/api/v1/audit/flows?format=csv&amp;lang=zh&amp;level=dealer" in html
    by_province = auditor.get("/audit/flows?level=province").text
    assert 'aria-current="true">省份' in by_province
    assert "level=province" in by_province
    filtered = auditor.get("/audit/flows?brand=丰田").text
    assert 'href="/audit/map?brand=%E4%B8%B0%E7%94%B0"' in filtered


def test_csv_links_answer_with_the_session(app, world, auditor):
    shared_and_claimed(app, world)
    for path in ("/api/v1/audit/funnel?format=csv", "/api/v1/audit/flows?format=csv&level=dealer"):
        response = auditor.get(path)
        body = response.get_data()
        response.close()
        assert response.status_code == 200, path
        assert response.mimetype == "text/csv" and body.startswith("\ufeff".encode())


def test_group_admin_sees_the_funnel_and_flows(app, world):
    shared_and_claimed(app, world)
    admin = Browser(app, world.users["admin"])
    assert admin.get("/audit/funnel").status_code == 200
    flows = admin.get("/audit/flows").text
    assert "广州天河奥迪" in flows and 'class="heat-4"' in flows


def test_other_groups_admin_sees_nothing_of_this_group(app, world, make):
    shared_and_claimed(app, world)
    other = Browser(app, make.user(Role.GROUP_ADMIN, group=make.group()))
    flows = other.get("/audit/flows").text
    assert "广州天河奥迪" not in flows and "深圳南山奥迪" not in flows
    assert re.search(r'class="fill stage-posted" width="0"', other.get("/audit/funnel").text)


def test_the_map_places_no_store_outside_the_readers_scope(app, world, auditor):
    posted = Browser(app, world.users["futian"]).post("/leads/new", **lead_form())
    lead_id = lead_id_from(posted.location)  # a Toyota store shares an Audi lead
    assert Browser(app, world.users["tianhe"]).post(f"/leads/{lead_id}/claim").status_code == 302
    assert "SZ2 深圳福田丰田" in auditor.get("/audit/flows").text  # the matrix names the referrer
    placed = map_stores(auditor.get("/audit/map").text)
    assert "SZ2 深圳福田丰田" not in placed  # ... of an Audi lead, the Audi OEM's map places it not
    assert "GZ1 广州天河奥迪" in placed
    group = map_stores(Browser(app, world.users["admin"]).get("/audit/map").text)
    assert "SZ2 深圳福田丰田" in group  # a store of the admin's own group


def map_stores(html: str) -> set[str]:
    return {p["name"] for p in chart_data(html)["map"]["stores"]}


@pytest.mark.parametrize("who", ["tianhe", "tianhe2"])
@pytest.mark.parametrize("path", ["/audit/funnel", "/audit/flows"])
def test_store_people_may_not_open_audit_pages(app, world, who, path):
    response = Browser(app, world.users[who]).get(path)
    assert response.status_code == 403 and "无权访问" in response.text


def test_auditor_may_not_open_reward_pages(app, auditor):
    for path in ("/admin/programs", "/admin/ledger", "/admin/payouts", "/admin/statements"):
        assert auditor.get(path).status_code == 403, path
