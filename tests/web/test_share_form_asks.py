"""The share form offers the group's brands, and an ambiguous address asks "which city?"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from leadshare.extensions import db
from leadshare.leads.models import Lead

from ..api.lead_world import build_world
from .pages import Browser, lead_form, lead_id_from


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def test_the_share_form_offers_a_select_of_the_groups_brands(app, world):
    page = Browser(app, world.users["referrer"], lang="zh").get("/leads/new").text
    select_html = re.search(r'<select[^>]*name="brand".*?</select>', page, re.S).group(0)
    options = re.findall(r'<option[^>]*value="([^"]*)"', select_html)
    assert options == ["", "丰田", "大众", "奥迪"]
    assert "选择品牌" in select_html


def test_a_brand_outside_the_catalogue_is_refused_with_the_suggestion(app, world):
    response = Browser(app, world.users["referrer"], lang="zh").post(
        "/leads/new", **lead_form(brand="奥迪迪")
    )
    assert response.status_code == 422
    assert "您所在集团没有门店销售该品牌" in response.text and "奥迪" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Lead.id))) == 0


def test_an_alias_typed_into_the_form_is_shared_under_the_catalogue_name(app, world):
    response = Browser(app, world.users["referrer"]).post("/leads/new", **lead_form(brand="Audi"))
    assert response.status_code == 302
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert lead.brand == "奥迪" and lead.public_id == lead_id_from(response.location)


def test_the_lead_page_asks_which_city_and_one_tap_routes_it(app, world):
    referrer = Browser(app, world.users["referrer"], lang="zh")
    posted = referrer.post("/leads/new", follow_redirects=True, **lead_form(address="朝阳区建国路"))
    assert posted.status_code == 200
    assert "哪个城市" in posted.text
    taps = re.findall(r'name="address" value="([^"]+)"', posted.text)
    assert taps == ["北京市朝阳区建国路", "吉林省长春市朝阳区建国路"]
    lead_id = re.search(r"/leads/(ld_[0-9a-f]+)/location", posted.text).group(1)
    tapped = referrer.post(f"/leads/{lead_id}/location", address=taps[1])
    assert tapped.status_code == 302
    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.public_id == lead_id))
        assert (lead.city, lead.adcode, lead.location_candidates) == ("长春市", "220104", None)
        assert lead.status == "open"
    assert "哪个城市" not in referrer.get(f"/leads/{lead_id}").text
