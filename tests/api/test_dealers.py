"""Dealers: group admins manage them, managers tune operating settings, the group reads them."""

import pytest

from leadshare.vocabulary import Role


def _payload(**kw):
    return {
        "code": "SZ-NS-01",
        "name": "深圳南山奥迪店",
        "brands": ["奥迪", "宝马"],
        "latitude": 22.53,
        "longitude": 113.93,
        **kw,
    }


def test_group_admin_creates_dealer_in_own_group(client, make, auth):
    group = make.group()
    headers = auth(make.user(Role.GROUP_ADMIN, group=group))
    response = client.post(
        "/api/v1/dealers",
        json=_payload(webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"),
        headers=headers,
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["group_id"] == group.id and body["brands"] == ["奥迪", "宝马"]
    assert (body["service_radius_km"], body["accepting_leads"], body["active"]) == (
        50.0,
        True,
        True,
    )
    assert body["geo_precision"] == "exact" and body["adcode"].startswith("4403")
    assert body["webhook_url"].endswith("key=abc")


def test_dealer_with_address_only_is_geocoded(client, make, auth):
    headers = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    payload = {
        "code": "GZ1",
        "name": "广州天河店",
        "brands": ["丰田"],
        "address": "广东省广州市天河区天河路208号",
    }
    response = client.post("/api/v1/dealers", json=payload, headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["geo_precision"] == "district" and body["adcode"] == "440106"
    assert abs(body["latitude"] - 23.12) < 0.1 and abs(body["longitude"] - 113.36) < 0.1


def test_dealer_whose_address_cannot_be_located_is_422(client, make, auth):
    headers = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    payload = {"code": "X1", "name": "Nowhere", "brands": ["丰田"], "address": "asdfghjkl"}
    response = client.post("/api/v1/dealers", json=payload, headers=headers)
    assert response.status_code == 422
    assert (
        response.json["reason"] == "address_not_found"
        and "address" in response.json["errors"]["json"]
    )


@pytest.mark.parametrize(
    "override, field",
    [
        ({"brands": []}, "brands"),
        ({"brands": [""]}, "brands"),
        ({"latitude": 95}, "latitude"),
        ({"longitude": None}, "longitude"),
        ({"service_radius_km": 0}, "service_radius_km"),
        ({"region_codes": ["44ab"]}, "region_codes"),
        ({"daily_capacity": -3}, "daily_capacity"),
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url"),
        ({"code": ""}, "code"),
        ({"accepting_leads": "maybe"}, "accepting_leads"),
    ],
)
def test_bad_dealer_fields_are_422(client, make, auth, override, field):
    headers = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    response = client.post("/api/v1/dealers", json=_payload(**override), headers=headers)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_dealer_without_any_location_is_422(client, make, auth):
    headers = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    payload = {"code": "X1", "name": "X", "brands": ["丰田"]}
    response = client.post("/api/v1/dealers", json=payload, headers=headers)
    assert response.status_code == 422 and "address" in response.json["errors"]["json"]


def test_latitude_without_longitude_is_422(client, make, auth):
    headers = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    payload = {"code": "X1", "name": "X", "brands": ["丰田"], "latitude": 22.5}
    response = client.post("/api/v1/dealers", json=payload, headers=headers)
    assert response.status_code == 422 and "latitude" in response.json["errors"]["json"]


def test_duplicate_dealer_code_in_group_is_409(client, make, auth):
    group = make.group()
    make.dealer(group, code="SZ-NS-01")
    headers = auth(make.user(Role.GROUP_ADMIN, group=group))
    response = client.post("/api/v1/dealers", json=_payload(), headers=headers)
    assert response.status_code == 409 and response.json["reason"] == "code_taken"


def test_same_dealer_code_in_another_group_is_fine(client, make, auth):
    make.dealer(make.group(), code="SZ-NS-01")
    headers = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    assert client.post("/api/v1/dealers", json=_payload(), headers=headers).status_code == 201


def test_group_admin_cannot_create_dealer_in_another_group(client, make, auth):
    other = make.group()
    headers = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    response = client.post("/api/v1/dealers", json=_payload(group_id=other.id), headers=headers)
    assert response.status_code == 422 and response.json["reason"] == "unknown_group"


def test_staff_may_not_create_dealers(client, make, auth):
    group = make.group()
    headers = auth(make.user(Role.STAFF, dealer=make.dealer(group)))
    assert client.post("/api/v1/dealers", json=_payload(), headers=headers).status_code == 403


def test_group_members_read_group_dealers_and_nothing_outside(client, make, auth):
    group, other = make.group(), make.group()
    mine, theirs = make.dealer(group, brands=["奥迪"]), make.dealer(other)
    make.dealer(group, brands=["丰田"], webhook_url="https://example.com/hook")
    headers = auth(make.user(Role.STAFF, dealer=mine))
    listing = client.get("/api/v1/dealers", headers=headers).json
    assert listing["total"] == 2
    assert all(d["group_id"] == group.id for d in listing["items"])
    assert all(d["webhook_url"] is None for d in listing["items"])  # only admins see hook keys
    assert client.get(f"/api/v1/dealers/{theirs.id}", headers=headers).status_code == 404
    filtered = client.get("/api/v1/dealers?brand=奥迪", headers=headers).json
    assert [d["id"] for d in filtered["items"]] == [mine.id]
    outside = client.get(f"/api/v1/dealers?group_id={other.id}", headers=headers).json
    assert outside["total"] == 0


def test_group_admin_of_group_a_sees_nothing_of_group_b(client, make, auth):
    a, b = make.group(), make.group()
    b_dealer = make.dealer(b)
    headers = auth(make.user(Role.GROUP_ADMIN, group=a))
    assert client.get(f"/api/v1/dealers/{b_dealer.id}", headers=headers).status_code == 404
    assert (
        client.patch(
            f"/api/v1/dealers/{b_dealer.id}", json={"name": "x"}, headers=headers
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/groups/{b.id}", headers=headers).status_code == 404


def test_manager_changes_operating_settings_of_own_store(client, make, auth):
    group = make.group()
    dealer = make.dealer(group)
    headers = auth(make.user(Role.MANAGER, dealer=dealer))
    response = client.patch(
        f"/api/v1/dealers/{dealer.id}",
        json={"accepting_leads": False, "daily_capacity": 5, "service_radius_km": 80},
        headers=headers,
    )
    assert response.status_code == 200
    assert (
        response.json["accepting_leads"],
        response.json["daily_capacity"],
        response.json["service_radius_km"],
    ) == (False, 5, 80)


def test_manager_may_not_change_other_fields_or_other_stores(client, make, auth):
    group = make.group()
    dealer, neighbour = make.dealer(group), make.dealer(group)
    headers = auth(make.user(Role.MANAGER, dealer=dealer))
    renamed = client.patch(
        f"/api/v1/dealers/{dealer.id}", json={"name": "Mine now"}, headers=headers
    )
    assert renamed.status_code == 403 and renamed.json["reason"] == "field_not_allowed"
    other = client.patch(
        f"/api/v1/dealers/{neighbour.id}", json={"accepting_leads": False}, headers=headers
    )
    assert other.status_code == 403


def test_staff_may_not_patch_dealer(client, make, auth):
    dealer = make.dealer(make.group())
    headers = auth(make.user(Role.STAFF, dealer=dealer))
    assert (
        client.patch(
            f"/api/v1/dealers/{dealer.id}", json={"accepting_leads": False}, headers=headers
        ).status_code
        == 403
    )


def test_group_admin_moves_dealer_by_address(client, make, auth):
    group = make.group()
    dealer = make.dealer(group)
    headers = auth(make.user(Role.GROUP_ADMIN, group=group))
    response = client.patch(
        f"/api/v1/dealers/{dealer.id}",
        json={"address": "上海市浦东新区世纪大道100号"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json["adcode"] == "310115" and response.json["geo_precision"] == "district"


def test_oem_auditor_may_not_list_dealers(client, make, auth):
    headers = auth(make.user(Role.OEM_AUDITOR, oem=make.oem()))
    assert client.get("/api/v1/dealers", headers=headers).status_code == 403
