"""OEMs: created by platform admins, each brand owned by one OEM."""

from leadshare.vocabulary import Role


def test_platform_admin_creates_oem_with_brands(client, make, auth):
    headers = auth(make.user(Role.PLATFORM_ADMIN))
    response = client.post(
        "/api/v1/oems", json={"name": "一汽-大众", "brands": ["大众", "捷达"]}, headers=headers
    )
    assert response.status_code == 201
    assert response.json["brands"] == ["大众", "捷达"]
    listing = client.get("/api/v1/oems", headers=headers).json
    assert "一汽-大众" in [o["name"] for o in listing["items"]]


def test_brand_owned_by_another_oem_is_409(client, make, auth):
    make.oem(brands=["丰田"])
    headers = auth(make.user(Role.PLATFORM_ADMIN))
    response = client.post(  # the built-in alias names the same brand
        "/api/v1/oems", json={"name": "Other", "brands": ["ＴＯＹＯＴＡ "]}, headers=headers
    )
    assert response.status_code == 409 and response.json["reason"] == "brand_taken"


def test_oem_without_brands_is_422(client, make, auth):
    headers = auth(make.user(Role.PLATFORM_ADMIN))
    response = client.post("/api/v1/oems", json={"name": "Empty", "brands": []}, headers=headers)
    assert response.status_code == 422 and "brands" in response.json["errors"]["json"]


def test_group_admin_may_not_touch_oems(client, make, auth):
    headers = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    assert client.get("/api/v1/oems", headers=headers).status_code == 403
    assert (
        client.post(
            "/api/v1/oems", json={"name": "X", "brands": ["X"]}, headers=headers
        ).status_code
        == 403
    )


def test_oem_auditor_sees_only_own_oem(client, make, auth):
    mine, _other = make.oem(), make.oem()
    headers = auth(make.user(Role.OEM_AUDITOR, oem=mine))
    listing = client.get("/api/v1/oems", headers=headers).json
    assert [o["id"] for o in listing["items"]] == [mine.id]
