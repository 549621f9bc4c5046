"""Ambiguous addresses ask (issue 15 item 7): 朝阳区 is in 北京 and in 长春; nothing is guessed."""

from __future__ import annotations

from .lead_world import build_world, lead_payload

BEIJING = {"province": "北京市", "city": "北京市", "district": "朝阳区", "adcode": "110105"}
CHANGCHUN = {"province": "吉林省", "city": "长春市", "district": "朝阳区", "adcode": "220104"}


def test_geocode_answers_ambiguous_with_the_candidates_and_no_coordinates(client, make, auth):
    world = build_world(make, auth)
    response = client.get("/api/v1/geocode?q=朝阳区建国路", headers=world.headers["referrer"])
    assert response.status_code == 200
    body = response.json
    assert body["precision"] == "ambiguous" and "latitude" not in body
    assert body["candidates"] == [BEIJING, CHANGCHUN]


def test_geocode_of_a_settled_address_is_unchanged(client, make, auth):
    world = build_world(make, auth)
    body = client.get(
        "/api/v1/geocode?q=北京市朝阳区建国路", headers=world.headers["referrer"]
    ).json
    assert body["precision"] == "district" and body["adcode"] == "110105"
    assert body["latitude"] and "candidates" not in body


def test_a_lead_with_an_ambiguous_address_waits_with_its_candidates(client, make, auth):
    world = build_world(make, auth)
    posted = client.post(
        "/api/v1/leads",
        json=lead_payload(location={"address": "朝阳区建国路88号"}),
        headers=world.headers["referrer"],
    )
    assert posted.status_code == 201, posted.json
    lead = posted.json
    assert lead["status"] == "needs_location" and lead["current_offer"] is None
    assert lead["location"]["candidates"] == [BEIJING, CHANGCHUN]
    assert lead["location"]["latitude"] is None
    shown = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"]).json
    assert shown["location"]["candidates"] == [BEIJING, CHANGCHUN]


def test_choosing_the_city_fixes_the_location_and_routes(client, make, auth):
    world = build_world(make, auth)
    waiting = client.post(
        "/api/v1/leads",
        json=lead_payload(
            location={"address": "鼓楼区中山路"}, customer={"name": "李四", "phone": "13900000002"}
        ),
        headers=world.headers["referrer"],
    ).json
    assert waiting["status"] == "needs_location"
    assert {c["city"] for c in waiting["location"]["candidates"]} >= {"南京市", "福州市"}
    again = client.patch(
        f"/api/v1/leads/{waiting['id']}/location",
        json={"address": "鼓楼区中山路"},
        headers=world.headers["referrer"],
    )
    assert again.status_code == 422 and again.json["reason"] == "ambiguous_address"
    assert len(again.json["candidates"]) == len(waiting["location"]["candidates"])
    fixed = client.patch(
        f"/api/v1/leads/{waiting['id']}/location",
        json={"address": "福建省福州市鼓楼区中山路"},
        headers=world.headers["referrer"],
    )
    assert fixed.status_code == 200, fixed.json
    assert fixed.json["location"]["adcode"] == "350102"
    assert fixed.json["location"]["candidates"] == []
    assert fixed.json["status"] == "open"  # no store within reach of 福州: on the board


def test_client_coordinates_are_never_ambiguous(client, make, auth):
    world = build_world(make, auth)
    posted = client.post(
        "/api/v1/leads",
        json=lead_payload(location={"address": "朝阳区", "latitude": 23.13, "longitude": 113.36}),
        headers=world.headers["referrer"],
    )
    assert posted.status_code == 201 and posted.json["status"] == "offered"
