"""Groups: platform admins manage them; group admins read their own; others see nothing."""

import pytest

from leadshare.vocabulary import Role


def test_platform_admin_creates_group_with_defaults(client, make, auth):
    admin = make.user(Role.PLATFORM_ADMIN)
    response = client.post(
        "/api/v1/groups", json={"name": "华南汽车集团", "code": "HN"}, headers=auth(admin)
    )
    assert response.status_code == 201
    body = response.json
    assert body["name"] == "华南汽车集团"
    assert (body["timezone"], body["offer_ttl_minutes"], body["max_offers_per_lead"]) == (
        "Asia/Shanghai",
        120,
        5,
    )
    assert (body["dedup_window_days"], body["currency"]) == (90, "CNY")


def test_duplicate_group_code_is_409(client, make, auth):
    admin = make.user(Role.PLATFORM_ADMIN)
    make.group(code="DUP")
    response = client.post(
        "/api/v1/groups", json={"name": "Again", "code": "DUP"}, headers=auth(admin)
    )
    assert response.status_code == 409
    assert response.json["reason"] == "code_taken"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"code": "X"}, "name"),
        ({"name": "X"}, "code"),
        ({"name": "X", "code": "has space"}, "code"),
        ({"name": "X", "code": "X", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "X", "code": "X", "offer_ttl_minutes": 0}, "offer_ttl_minutes"),
        ({"name": "X", "code": "X", "max_offers_per_lead": "many"}, "max_offers_per_lead"),
        ({"name": "X", "code": "X", "dedup_window_days": -1}, "dedup_window_days"),
        ({"name": "X", "code": "X", "currency": "yuan"}, "currency"),
        ({"name": "", "code": "X"}, "name"),
    ],
)
def test_bad_group_fields_are_422(client, make, auth, payload, field):
    admin = make.user(Role.PLATFORM_ADMIN)
    response = client.post("/api/v1/groups", json=payload, headers=auth(admin))
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert response.json["code"] == 422 and response.json["message"]


def test_group_admin_reads_only_own_group(client, make, auth):
    mine, other = make.group(), make.group()
    admin = make.user(Role.GROUP_ADMIN, group=mine)
    headers = auth(admin)
    listing = client.get("/api/v1/groups", headers=headers).json
    assert [g["id"] for g in listing["items"]] == [mine.id]
    assert (listing["page"], listing["per_page"], listing["total"]) == (1, 20, 1)
    assert client.get(f"/api/v1/groups/{mine.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/groups/{other.id}", headers=headers).status_code == 404


def test_group_admin_may_not_create_or_patch_groups(client, make, auth):
    mine = make.group()
    headers = auth(make.user(Role.GROUP_ADMIN, group=mine))
    created = client.post("/api/v1/groups", json={"name": "X", "code": "NEW"}, headers=headers)
    assert created.status_code == 403 and created.json["reason"] == "role_not_allowed"
    patched = client.patch(
        f"/api/v1/groups/{mine.id}", json={"offer_ttl_minutes": 30}, headers=headers
    )
    assert patched.status_code == 403


def test_platform_admin_patches_group_settings(client, make, auth):
    group = make.group()
    headers = auth(make.user(Role.PLATFORM_ADMIN))
    response = client.patch(
        f"/api/v1/groups/{group.id}",
        json={"offer_ttl_minutes": 30, "timezone": "Asia/Urumqi"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json["offer_ttl_minutes"] == 30 and response.json["timezone"] == "Asia/Urumqi"


def test_unknown_group_is_404_with_reason(client, make, auth):
    response = client.get("/api/v1/groups/999999", headers=auth(make.user(Role.PLATFORM_ADMIN)))
    assert response.status_code == 404
    assert response.json["reason"] == "not_found"


def test_oem_auditor_may_not_list_groups(client, make, auth):
    auditor = make.user(Role.OEM_AUDITOR, oem=make.oem())
    assert client.get("/api/v1/groups", headers=auth(auditor)).status_code == 403


def test_pagination_envelope_and_bad_page(client, make, auth):
    headers = auth(make.user(Role.PLATFORM_ADMIN))
    for _ in range(3):
        make.group()
    page = client.get("/api/v1/groups?per_page=2&page=2", headers=headers).json
    assert page["page"] == 2 and page["per_page"] == 2 and page["total"] >= 3
    assert len(page["items"]) <= 2
    bad = client.get("/api/v1/groups?page=0", headers=headers)
    assert bad.status_code == 422 and "page" in bad.json["errors"]["query"]
