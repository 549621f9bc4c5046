"""Stores' OEM dealer codes (issue 17 item 3, the first part): set by the group admin, one per
store and OEM, and an OEM's code names one store across every group."""

import pytest

from leadshare.vocabulary import Role

from .lead_world import build_world


@pytest.fixture
def world(make, auth):
    world = build_world(make, auth)
    world.oems = [
        make.oem(name="一汽-大众", brands=["奥迪"]),
        make.oem(name="广汽丰田", brands=["丰田"]),
    ]
    return world


def _put(client, world, dealer_id, codes, who="admin", headers=None):
    return client.put(
        f"/api/v1/dealers/{dealer_id}/oem-codes",
        json={"codes": codes},
        headers=headers or world.headers[who],
    )


def test_the_group_admin_sets_and_replaces_a_stores_oem_codes(client, world):
    audi, toyota = (oem.id for oem in world.oems)
    done = _put(
        client,
        world,
        world.tianhe.id,
        [{"oem_id": audi, "code": "FAW-GZ-0042"}, {"oem_id": toyota, "code": "GTMC9"}],
    )
    assert done.status_code == 200, done.json
    assert done.json["codes"] == [
        {"oem_id": audi, "oem": "一汽-大众", "code": "FAW-GZ-0042"},
        {"oem_id": toyota, "oem": "广汽丰田", "code": "GTMC9"},
    ]
    replaced = _put(client, world, world.tianhe.id, [{"oem_id": audi, "code": "FAW-GZ-0043"}])
    assert [row["code"] for row in replaced.json["codes"]] == ["FAW-GZ-0043"]
    read = client.get(
        f"/api/v1/dealers/{world.tianhe.id}/oem-codes", headers=world.headers["admin"]
    )
    assert read.json == replaced.json


def test_an_oems_code_names_one_store_only(client, world, make, auth):
    audi, toyota = (oem.id for oem in world.oems)
    assert _put(client, world, world.tianhe.id, [{"oem_id": audi, "code": "A1"}]).status_code == 200
    assert (
        _put(client, world, world.baiyun.id, [{"oem_id": toyota, "code": "B9"}]).status_code == 200
    )
    taken = _put(
        client,
        world,
        world.baiyun.id,
        [{"oem_id": toyota, "code": "B8"}, {"oem_id": audi, "code": "A1"}],
    )
    assert taken.status_code == 409 and taken.json["reason"] == "code_taken"
    other_group = make.group(name="另一集团")
    other_store = make.dealer(other_group, code="X1", brands=["奥迪"])
    other_admin = auth(make.user(Role.GROUP_ADMIN, group=other_group))
    across = _put(
        client, world, other_store.id, [{"oem_id": audi, "code": "A1"}], headers=other_admin
    )
    assert across.status_code == 409 and across.json["reason"] == "code_taken"
    # the refused store kept what it had, and another OEM may use the same text
    kept = client.get(
        f"/api/v1/dealers/{world.baiyun.id}/oem-codes", headers=world.headers["admin"]
    )
    assert [row["code"] for row in kept.json["codes"]] == ["B9"]
    assert (
        _put(client, world, world.baiyun.id, [{"oem_id": toyota, "code": "A1"}]).status_code == 200
    )


@pytest.mark.parametrize(
    "codes",
    [
        [{"oem_id": 1, "code": ""}],
        [{"oem_id": 1, "code": "has space"}],
        [{"code": "A1"}],
        "A1",
    ],
)
def test_bad_codes_are_422(client, world, codes):
    response = _put(client, world, world.tianhe.id, codes)
    assert response.status_code == 422


def test_one_code_per_oem_and_only_known_oems(client, world):
    audi = world.oems[0].id
    twice = _put(
        client,
        world,
        world.tianhe.id,
        [{"oem_id": audi, "code": "A"}, {"oem_id": audi, "code": "B"}],
    )
    assert twice.status_code == 422 and "codes" in twice.json["errors"]["json"]
    unknown = _put(client, world, world.tianhe.id, [{"oem_id": 999_999, "code": "A"}])
    assert unknown.status_code == 422 and unknown.json["reason"] == "unknown_oem"


def test_only_the_groups_admins_see_or_set_the_codes(client, world, make, auth):
    audi = world.oems[0].id
    for who in ("tianhe", "tianhe2"):
        assert _put(client, world, world.tianhe.id, [], who=who).status_code == 403
    outsider = auth(make.user(Role.GROUP_ADMIN, group=make.group(name="别的集团")))
    path = f"/api/v1/dealers/{world.tianhe.id}/oem-codes"
    assert client.get(path, headers=outsider).status_code == 404
    assert (
        _put(
            client, world, world.tianhe.id, [{"oem_id": audi, "code": "Z"}], headers=outsider
        ).status_code
        == 404
    )
    assert (
        client.get("/api/v1/dealers/999999/oem-codes", headers=world.headers["admin"]).status_code
        == 404
    )
