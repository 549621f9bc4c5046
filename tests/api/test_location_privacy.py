"""Exact location is contact data (security issue item 2): the referrer and the holder only.

Everyone else who may see the lead gets its administrative area, a point no finer than the
district centroid, and distances in whole kilometres, in the lead, lists, trail, pages and CSV.
"""

from __future__ import annotations

import pytest

from leadshare.routing.geocode.gazetteer import Gazetteer
from leadshare.vocabulary import Role

from ..web.pages import Browser
from .lead_world import CUSTOMER_IN_TIANHE, build_world, lead_payload

STREET = "广州市天河区珠江新城花城大道88号"
EXACT = (CUSTOMER_IN_TIANHE["latitude"], CUSTOMER_IN_TIANHE["longitude"])


@pytest.fixture
def world(make, auth):
    world = build_world(make, auth)
    world.headers["auditor"] = auth(make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"])))
    return world


def share(client, world, **overrides):
    payload = lead_payload(location={**CUSTOMER_IN_TIANHE, "address": STREET}, **overrides)
    response = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert response.status_code == 201, response.json
    return response.json


def assert_exact(location):
    assert (location["latitude"], location["longitude"]) == EXACT
    assert location["address"] == STREET and location["precision"] == "exact"


def assert_coarse(location):
    """The district's own centroid (the gazetteer's point for the adcode), never the customer's."""
    centroid = Gazetteer.default().by_adcode(location["adcode"])
    assert location["district"] == "天河区" and location["address"] is None
    assert (location["latitude"], location["longitude"]) == (centroid.latitude, centroid.longitude)
    assert (location["latitude"], location["longitude"]) != EXACT
    assert location["precision"] == "district"


def whole(km):
    return km is None or float(km).is_integer()


def test_referrer_and_holder_see_the_exact_point_and_street(client, world):
    lead = share(client, world)
    assert_exact(lead["location"])
    assert not whole(lead["current_offer"]["distance_km"])  # the referrer sees it exactly
    claimed = client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    assert claimed.status_code == 200
    assert_exact(claimed.json["location"])


@pytest.mark.parametrize("who", ["tianhe", "admin", "auditor"])
def test_everyone_else_sees_the_district_and_whole_kilometres(client, world, who):
    lead = share(client, world)
    assert lead["current_offer"]["dealer"]["id"] == world.tianhe.id
    shown = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers[who])
    assert shown.status_code == 200, shown.json
    assert_coarse(shown.json["location"])
    assert whole(shown.json["current_offer"]["distance_km"])
    assert STREET not in shown.get_data(as_text=True)

    trail = client.get(f"/api/v1/leads/{lead['id']}/trail", headers=world.headers[who])
    assert trail.status_code == 200
    assert_coarse(trail.json["lead"]["location"])
    assert all(whole(o["distance_km"]) for o in trail.json["offers"])
    (offered,) = [e for e in trail.json["events"] if e["type"] == "offered"]
    decision = offered["data"]["decision"]
    assert whole(offered["data"]["distance_km"]) and whole(decision["chosen"]["distance_km"])
    assert decision["runners_up"] and all(whole(c["distance_km"]) for c in decision["runners_up"])
    assert STREET not in trail.get_data(as_text=True)


def test_lists_and_the_board_show_the_district_only(client, make, auth):
    world = build_world(make, auth, max_offers_per_lead=1)
    lead = share(client, world)
    listed = client.get("/api/v1/leads", headers=world.headers["admin"]).json["items"]
    assert_coarse(next(item for item in listed if item["id"] == lead["id"])["location"])
    declined = client.post(
        f"/api/v1/leads/{lead['id']}/decline",
        json={"reason": "capacity"},
        headers=world.headers["tianhe"],
    )
    assert declined.status_code == 200 and declined.json["status"] == "open"
    board = client.get("/api/v1/board", headers=world.headers["baiyun"]).json["items"]
    assert [item["id"] for item in board] == [lead["id"]]
    assert_coarse(board[0]["location"])


def test_pages_and_csv_never_carry_the_street_to_others(app, client, world):
    lead = share(client, world)
    for who in ("admin", "tianhe"):
        page = Browser(app, world.users[who]).get(f"/leads/{lead['id']}")
        assert page.status_code == 200
        assert "天河区" in page.text and STREET not in page.text
    own = Browser(app, world.users["referrer"]).get(f"/leads/{lead['id']}")
    assert STREET in own.text
    csv = client.get("/api/v1/audit/leads?format=csv", headers=world.headers["admin"])
    assert csv.status_code == 200 and STREET not in csv.get_data(as_text=True)
