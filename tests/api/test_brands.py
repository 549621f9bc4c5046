"""Brands are a catalogue (issue 15 item 1): the group's brands with aliases, matched everywhere."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from leadshare.extensions import db
from leadshare.leads.models import Lead
from leadshare.vocabulary import Role

from .lead_world import build_world, lead_payload


def _world(make, auth):
    world = build_world(make, auth)
    bmw = make.dealer(
        world.group, code="GZ9", name="广州天河宝马", brands=["宝马"], at=(23.13, 113.36)
    )
    world.users["bmw"] = make.user(Role.STAFF, dealer=bmw)
    world.headers["bmw"] = auth(world.users["bmw"])
    world.bmw = bmw
    return world


def test_brands_lists_the_groups_catalogue_with_aliases(client, make, auth):
    world = _world(make, auth)
    response = client.get("/api/v1/brands", headers=world.headers["referrer"])
    assert response.status_code == 200
    items = {b["name"]: b["aliases"] for b in response.json["items"]}
    assert set(items) == {"奥迪", "大众", "丰田", "宝马"}
    assert "BMW" in items["宝马"] and {"VW", "Volkswagen"} <= set(items["大众"])


def test_typing_bmw_shares_a_baoma_lead_routed_to_the_baoma_store(client, make, auth):
    world = _world(make, auth)
    response = client.post(
        "/api/v1/leads", json=lead_payload(brand="ｂｍｗ"), headers=world.headers["referrer"]
    )
    assert response.status_code == 201, response.json
    assert response.json["brand"] == "宝马" and response.json["status"] == "offered"
    assert response.json["current_offer"]["dealer"]["id"] == world.bmw.id


def test_a_misspelt_bmw_is_refused_with_the_suggestion_and_nothing_is_stored(
    client, make, auth, app
):
    world = _world(make, auth)
    response = client.post(
        "/api/v1/leads", json=lead_payload(brand="BWM"), headers=world.headers["referrer"]
    )
    assert response.status_code == 422
    assert response.json["reason"] == "unknown_brand"
    assert response.json["suggestions"] == ["宝马"]
    assert "brand" in response.json["errors"]["json"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Lead.id))) == 0
    again = client.post(  # the customer is not blocked as a duplicate: nothing was stored
        "/api/v1/leads", json=lead_payload(brand="宝马"), headers=world.headers["referrer"]
    )
    assert again.status_code == 201 and again.json["brand"] == "宝马"


def test_a_brand_no_store_of_the_group_sells_is_unknown(client, make, auth):
    world = _world(make, auth)
    response = client.post(
        "/api/v1/leads", json=lead_payload(brand="保时捷"), headers=world.headers["referrer"]
    )
    assert response.status_code == 422 and response.json["reason"] == "unknown_brand"


def test_a_dealer_created_or_edited_with_an_alias_is_stored_under_the_catalogue_name(
    client, make, auth
):
    group = make.group()
    headers = auth(make.user(Role.GROUP_ADMIN, group=group))
    created = client.post(
        "/api/v1/dealers",
        json={
            "code": "D1",
            "name": "店",
            "brands": ["BMW", "Mercedes Benz", "极氪 Zeekr"],
            "latitude": 22.53,
            "longitude": 113.93,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.json
    assert created.json["brands"] == ["宝马", "奔驰", "极氪 Zeekr"]  # a new brand as written
    edited = client.patch(
        f"/api/v1/dealers/{created.json['id']}",
        json={"brands": ["vw", "极氪zeekr"]},
        headers=headers,
    )
    assert edited.status_code == 200, edited.json
    assert edited.json["brands"] == ["大众", "极氪 Zeekr"]  # the group's spelling wins


def test_group_admin_adds_an_alias_that_then_matches_everywhere(client, make, auth):
    world = _world(make, auth)
    admin = world.headers["admin"]
    added = client.post("/api/v1/brands/奥迪/aliases", json={"alias": "四个圈"}, headers=admin)
    assert added.status_code == 201, added.json
    assert added.json["name"] == "奥迪" and added.json["aliases"][-1] == "四个圈"
    listed = client.get("/api/v1/brands", headers=world.headers["tianhe"]).json["items"]
    assert "四个圈" in next(b["aliases"] for b in listed if b["name"] == "奥迪")
    shared = client.post(
        "/api/v1/leads", json=lead_payload(brand="四 个 圈"), headers=world.headers["referrer"]
    )
    assert shared.status_code == 201 and shared.json["brand"] == "奥迪"


def test_an_alias_of_another_brand_is_409_and_only_admins_add(client, make, auth):
    world = _world(make, auth)
    taken = client.post(
        "/api/v1/brands/audi/aliases", json={"alias": "BMW"}, headers=world.headers["admin"]
    )
    assert taken.status_code == 409 and taken.json["reason"] == "alias_taken"
    staff = client.post(
        "/api/v1/brands/奥迪/aliases", json={"alias": "A"}, headers=world.headers["referrer"]
    )
    assert staff.status_code == 403
    unknown = client.post(
        "/api/v1/brands/保时捷/aliases", json={"alias": "P"}, headers=world.headers["admin"]
    )
    assert unknown.status_code == 404 and unknown.json["reason"] == "unknown_brand"
    blank = client.post(
        "/api/v1/brands/奥迪/aliases", json={"alias": ""}, headers=world.headers["admin"]
    )
    assert blank.status_code == 422


def test_list_filters_match_through_aliases(client, make, auth):
    world = _world(make, auth)
    posted = client.post(
        "/api/v1/leads",
        json=lead_payload(brand="Volkswagen", customer={"name": "李四", "phone": "13900000001"}),
        headers=world.headers["referrer"],
    )
    assert posted.status_code == 201, posted.json
    admin = world.headers["admin"]
    for asked in ("Volkswagen", "大众", "ＶＷ"):
        listed = client.get(f"/api/v1/leads?brand={asked}", headers=admin).json
        assert [i["id"] for i in listed["items"]] == [posted.json["id"]], asked
        audited = client.get(f"/api/v1/audit/leads?brand={asked}", headers=admin).json
        assert [i["id"] for i in audited["items"]] == [posted.json["id"]], asked
    dealers = client.get("/api/v1/dealers?brand=volks wagen", headers=admin).json
    assert [d["code"] for d in dealers["items"]] == ["GZ2"]


def test_an_oem_auditor_filters_through_the_built_in_aliases(client, make, auth):
    world = _world(make, auth)
    oem = make.oem(brands=["宝马"])
    auditor = auth(make.user(Role.OEM_AUDITOR, oem=oem))
    posted = client.post(
        "/api/v1/leads", json=lead_payload(brand="宝马"), headers=world.headers["referrer"]
    )
    assert posted.status_code == 201
    brands = client.get("/api/v1/brands", headers=auditor).json["items"]
    assert [b["name"] for b in brands] == ["宝马"]
    found = client.get("/api/v1/audit/leads?brand=BMW", headers=auditor).json["items"]
    assert [i["id"] for i in found] == [posted.json["id"]]
    other = client.get("/api/v1/audit/leads?brand=奥迪", headers=auditor).json["items"]
    assert other == []


def test_an_oem_created_with_an_alias_stores_the_catalogue_name(client, make, auth):
    headers = auth(make.user(Role.PLATFORM_ADMIN))
    response = client.post(
        "/api/v1/oems", json={"name": "华晨", "brands": ["BMW"]}, headers=headers
    )
    assert response.status_code == 201 and response.json["brands"] == ["宝马"]


def test_reward_rules_take_catalogue_brands(client, make, auth):
    world = _world(make, auth)
    payload = {
        "name": "奖励",
        "starts_on": (date.today() - timedelta(days=1)).isoformat(),
        "budget": "100.00",
        "rules": [{"event": "accepted", "amount": "50.00", "brand": "audi"}],
    }
    ok = client.post("/api/v1/reward-programs", json=payload, headers=world.headers["admin"])
    assert ok.status_code == 201, ok.json
    assert ok.json["rules"][0]["brand"] == "奥迪"
    payload["rules"][0]["brand"] = "奥迪迪迪"
    bad = client.post("/api/v1/reward-programs", json=payload, headers=world.headers["admin"])
    assert bad.status_code == 422 and bad.json["reason"] == "unknown_brand"
    assert bad.json["suggestions"] == ["奥迪"]


def test_brands_are_read_by_members_only(client, make, auth):
    world = _world(make, auth)
    outsider = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    assert [b["name"] for b in client.get("/api/v1/brands", headers=outsider).json["items"]] == []
    other = client.get(f"/api/v1/brands?group_id={world.group.id}", headers=outsider)
    assert other.status_code == 404
    platform = auth(make.user(Role.PLATFORM_ADMIN))
    assert client.get("/api/v1/brands", headers=platform).json["reason"] == "group_required"
    named = client.get(f"/api/v1/brands?group_id={world.group.id}", headers=platform).json
    assert len(named["items"]) == 4
