"""Messages in place: a colleague's claim is named as such, a decline says where the lead went,
and a refusal appears once, next to its field."""

from __future__ import annotations

import pytest

from tests.api.lead_world import build_world, lead_payload

from .pages import VALID_VIN, Browser

TYPO_VIN = "1M8GDM9A1KP042788"


def share(client, world) -> str:
    response = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_a_colleague_claiming_first_is_named_not_another_store(app, make, auth, client):
    world = build_world(make, auth)
    lead_id = share(client, world)
    staff, manager = Browser(app, world.users["tianhe"]), Browser(app, world.users["tianhe2"])
    inbox_card = staff.get("/inbox").text  # both see the offer on their phones
    assert f"/leads/{lead_id}/claim" in inbox_card
    assert manager.post(f"/leads/{lead_id}/claim").status_code == 302
    late = staff.post(f"/leads/{lead_id}/claim", follow_redirects=True, next="/inbox")
    assert "本店同事已先一步认领了这条线索" in late.text
    assert "其他门店已先一步认领" not in late.text
    assert f"/leads/{lead_id}/progress" in late.text  # it opens the lead, which is the store's


def test_another_store_claiming_first_still_says_another_store(app, make, auth, client):
    world = build_world(make, auth, max_offers_per_lead=1)
    lead_id = share(client, world)
    client.post(
        f"/api/v1/leads/{lead_id}/decline",
        json={"reason": "capacity"},
        headers=world.headers["tianhe"],
    )
    assert Browser(app, world.users["baiyun"]).post(f"/leads/{lead_id}/claim").status_code == 302
    late = Browser(app, world.users["panyu"]).post(f"/leads/{lead_id}/claim", follow_redirects=True)
    assert "其他门店已先一步认领了这条线索。" in late.text and "本店同事" not in late.text


NEXT_STORE = "已拒绝：线索将派给下一家门店。"
ON_THE_BOARD = "线索已进入线索公海"


@pytest.mark.parametrize(
    "max_offers, said, not_said",
    [(1, ON_THE_BOARD, NEXT_STORE), (5, NEXT_STORE, ON_THE_BOARD)],
    ids=["last store: the board", "stores left: the next one"],
)
def test_a_decline_says_where_the_lead_went(app, make, auth, client, max_offers, said, not_said):
    world = build_world(make, auth, max_offers_per_lead=max_offers)
    lead_id = share(client, world)
    page = Browser(app, world.users["tianhe"]).post(
        f"/leads/{lead_id}/decline", reason="capacity", follow_redirects=True
    )
    assert said in page.text and not_said not in page.text


def test_a_vin_typo_is_said_once_next_to_the_vin(app, make, auth, client):
    world = build_world(make, auth)
    lead_id = share(client, world)
    holder = Browser(app, world.users["tianhe"])
    assert holder.post(f"/leads/{lead_id}/claim").status_code == 302
    page = holder.post(
        f"/leads/{lead_id}/progress", status="delivered", order_ref="SO-1", vin=TYPO_VIN
    )
    assert page.status_code == 422
    assert page.text.count("校验位（第 9 位）是 1") == 1
    assert "请检查标红的内容。" in page.text
    done = holder.post(  # skipping stages is confirmed on the page first (issue 15)
        f"/leads/{lead_id}/progress",
        status="delivered",
        order_ref="SO-1",
        vin=VALID_VIN,
        confirmed="1",
    )
    assert done.status_code == 302


def test_a_store_form_refusal_is_said_once_next_to_its_field(app, make, auth):
    world = build_world(make, auth)
    admin = Browser(app, world.users["admin"])
    page = admin.post(
        "/admin/dealers/new",
        code="GZ1",
        name="重复编码",
        brands="奥迪",
        latitude="23.1",
        longitude="113.3",
        service_radius_km="30",
    )
    assert page.status_code == 409
    assert page.text.count("集团内已有门店使用该编码。") == 1
