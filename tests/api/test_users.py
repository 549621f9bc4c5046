"""Users: platform admins create anyone; group admins create their group's people only."""

import pytest

from leadshare.vocabulary import Role


def test_platform_admin_creates_users_of_every_role(client, make, auth):
    group, oem = make.group(), make.oem()
    dealer = make.dealer(group)
    headers = auth(make.user(Role.PLATFORM_ADMIN))
    cases = [
        {"role": "staff", "dealer_id": dealer.id},
        {"role": "manager", "dealer_id": dealer.id},
        {"role": "group_admin", "group_id": group.id},
        {"role": "oem_auditor", "oem_id": oem.id},
        {"role": "platform_admin"},
    ]
    for n, place in enumerate(cases):
        payload = {"email": f"New{n}@Example.com", "password": "long-enough", **place}
        response = client.post("/api/v1/users", json=payload, headers=headers)
        assert response.status_code == 201, response.json
        assert response.json["email"] == f"new{n}@example.com"
        assert "password" not in response.json and "password_hash" not in response.json
    staff = client.get("/api/v1/users?role=staff", headers=headers).json["items"]
    assert any(u["dealer_id"] == dealer.id and u["group_id"] == group.id for u in staff)


def test_group_admin_creates_staff_for_own_dealers_only(client, make, auth):
    group, other = make.group(), make.group()
    mine, theirs = make.dealer(group), make.dealer(other)
    headers = auth(make.user(Role.GROUP_ADMIN, group=group))
    ok = client.post(
        "/api/v1/users",
        json={"email": "a@x.cn", "password": "long-enough", "role": "staff", "dealer_id": mine.id},
        headers=headers,
    )
    assert ok.status_code == 201
    outside = client.post(
        "/api/v1/users",
        json={
            "email": "b@x.cn",
            "password": "long-enough",
            "role": "staff",
            "dealer_id": theirs.id,
        },
        headers=headers,
    )
    assert outside.status_code == 422 and outside.json["reason"] == "unknown_dealer"


@pytest.mark.parametrize("role, place", [("platform_admin", {}), ("oem_auditor", {"oem_id": 1})])
def test_group_admin_may_not_create_platform_roles(client, make, auth, role, place):
    headers = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    payload = {"email": "c@x.cn", "password": "long-enough", "role": role, **place}
    assert client.post("/api/v1/users", json=payload, headers=headers).status_code == 403


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"email": "not-an-email", "password": "long-enough", "role": "platform_admin"}, "email"),
        ({"email": "d@x.cn", "password": "short", "role": "platform_admin"}, "password"),
        ({"email": "d@x.cn", "password": "long-enough", "role": "king"}, "role"),
        ({"email": "d@x.cn", "password": "long-enough", "role": "staff"}, "dealer_id"),
        ({"email": "d@x.cn", "password": "long-enough", "role": "group_admin"}, "group_id"),
        ({"email": "d@x.cn", "password": "long-enough", "role": "oem_auditor"}, "oem_id"),
    ],
)
def test_bad_user_fields_are_422(client, make, auth, payload, field):
    headers = auth(make.user(Role.PLATFORM_ADMIN))
    response = client.post("/api/v1/users", json=payload, headers=headers)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_duplicate_email_is_409(client, make, auth):
    existing = make.user(Role.PLATFORM_ADMIN)
    headers = auth(existing)
    payload = {"email": existing.email.upper(), "password": "long-enough", "role": "platform_admin"}
    response = client.post("/api/v1/users", json=payload, headers=headers)
    assert response.status_code == 409 and response.json["reason"] == "email_taken"


def test_group_admin_lists_only_own_group_users(client, make, auth):
    group, other = make.group(), make.group()
    mine = make.user(Role.STAFF, dealer=make.dealer(group))
    theirs = make.user(Role.STAFF, dealer=make.dealer(other))
    headers = auth(make.user(Role.GROUP_ADMIN, group=group))
    ids = [u["id"] for u in client.get("/api/v1/users?per_page=200", headers=headers).json["items"]]
    assert mine.id in ids and theirs.id not in ids
    assert client.get(f"/api/v1/users/{theirs.id}", headers=headers).status_code == 404


def test_staff_may_not_list_or_create_users(client, make, auth):
    staff = make.user(Role.STAFF, dealer=make.dealer(make.group()))
    headers = auth(staff)
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    payload = {
        "email": "e@x.cn",
        "password": "long-enough",
        "role": "staff",
        "dealer_id": staff.dealer_id,
    }
    assert client.post("/api/v1/users", json=payload, headers=headers).status_code == 403
    assert client.get(f"/api/v1/users/{staff.id}", headers=headers).status_code == 200
