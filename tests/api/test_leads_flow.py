"""Offers, claims, the board, expiry, progress, withdrawal, visibility and the trail (SPEC 3, 5)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from leadshare.extensions import db
from leadshare.leads.models import Lead, LeadEvent, Offer
from leadshare.vocabulary import Role

from .lead_world import build_world, lead_payload

VIN = "LSVAU2A31N2123456"


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def post(client, world, **overrides):
    response = client.post(
        "/api/v1/leads", json=lead_payload(**overrides), headers=world.headers["referrer"]
    )
    assert response.status_code == 201, response.json
    return response.json


def offered_to(lead) -> int | None:
    return lead["current_offer"]["dealer"]["id"] if lead["current_offer"] else None


def trail_types(client, world, lead_id, who="admin"):
    return [
        e["type"]
        for e in client.get(f"/api/v1/leads/{lead_id}/trail", headers=world.headers[who]).json[
            "events"
        ]
    ]


def expire_every_offer(app_ctx) -> None:
    """Move every offer's deadline a second into the past, as if its time had run out."""
    with app_ctx:
        db.session.execute(
            update(Offer).values(
                expires_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
            )
        )
        db.session.commit()


def test_decline_routes_to_next_nearest(client, world):
    lead = post(client, world)
    assert offered_to(lead) == world.tianhe.id
    declined = client.post(
        f"/api/v1/leads/{lead['id']}/decline",
        json={"reason": "no_stock"},
        headers=world.headers["tianhe"],
    )
    assert declined.status_code == 200
    assert offered_to(declined.json) == world.baiyun.id
    again = client.post(
        f"/api/v1/leads/{lead['id']}/decline",
        json={"reason": "too_far", "note": "太远"},
        headers=world.headers["baiyun"],
    )
    assert offered_to(again.json) == world.panyu.id and again.json["offers_made"] == 3
    last = client.post(
        f"/api/v1/leads/{lead['id']}/decline",
        json={"reason": "capacity"},
        headers=world.headers["panyu"],
    )
    assert last.json["status"] == "open" and last.json["current_offer"] is None
    assert trail_types(client, world, lead["id"]) == [
        "posted",
        "offered",
        "declined",
        "offered",
        "declined",
        "offered",
        "declined",
        "opened",
    ]


def test_decline_needs_a_known_reason(client, world):
    lead = post(client, world)
    response = client.post(
        f"/api/v1/leads/{lead['id']}/decline",
        json={"reason": "bored"},
        headers=world.headers["tianhe"],
    )
    assert response.status_code == 422 and "reason" in response.json["errors"]["json"]


def test_max_offers_per_lead_puts_the_lead_on_the_board(client, make, auth):
    world = build_world(make, auth, max_offers_per_lead=1)
    lead = post(client, world)
    declined = client.post(
        f"/api/v1/leads/{lead['id']}/decline",
        json={"reason": "other"},
        headers=world.headers["tianhe"],
    )
    assert declined.json["status"] == "open"
    board = client.get("/api/v1/board", headers=world.headers["panyu"]).json
    assert [item["id"] for item in board["items"]] == [lead["id"]]
    assert (
        client.get("/api/v1/board", headers=world.headers["tianhe"]).json["total"] == 0
    )  # offered before


def test_board_lists_nearest_first_and_claim_wins_once(client, world):
    far = post(client, world, location={"address": "新疆乌鲁木齐市天山区"})
    near = post(
        client,
        world,
        location={"address": "湖南省长沙市岳麓区"},
        customer={"name": "李", "phone": "13900000001"},
    )
    board = client.get("/api/v1/board", headers=world.headers["baiyun"]).json
    assert [item["id"] for item in board["items"]] == [near["id"], far["id"]]
    claimed = client.post(f"/api/v1/leads/{near['id']}/claim", headers=world.headers["baiyun"])
    assert claimed.status_code == 200
    assert claimed.json["status"] == "accepted" and claimed.json["holder"]["id"] == world.baiyun.id
    assert claimed.json["customer"]["phone"] == "+8613900000001"
    lost = client.post(f"/api/v1/leads/{near['id']}/claim", headers=world.headers["panyu"])
    assert lost.status_code == 409 and lost.json["reason"] == "already_claimed"


def test_store_not_selling_the_brand_cannot_see_or_claim_a_board_lead(client, world):
    lead = post(client, world, location={"address": "新疆乌鲁木齐市天山区"})
    assert (
        client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["futian"]).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["futian"]
        ).status_code
        == 404
    )


def test_offered_store_claims_and_others_get_409(client, world):
    lead = post(client, world)
    response = client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    assert response.status_code == 200 and response.json["holder"]["id"] == world.tianhe.id
    second = client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe2"])
    assert second.status_code == 409 and second.json["reason"] == "already_claimed"
    other = client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["baiyun"])
    assert other.status_code == 409 and other.json["reason"] == "already_claimed"


def test_claim_by_store_that_was_not_offered_is_409_not_offered(client, world):
    lead = post(client, world)
    response = client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["baiyun"])
    assert response.status_code == 409 and response.json["reason"] == "not_offered"


def test_sweep_as_of_expires_offers_and_routes_on(app, client, world):
    lead = post(client, world)
    expires = datetime.fromisoformat(lead["current_offer"]["expires_at"])
    runner = app.test_cli_runner()
    early = runner.invoke(
        args=["leadshare", "sweep", "--as-of", (expires - timedelta(minutes=1)).isoformat()]
    )
    assert "0 offers expired" in early.output
    result = runner.invoke(
        args=["leadshare", "sweep", "--as-of", (expires + timedelta(seconds=1)).isoformat()]
    )
    assert result.exit_code == 0 and "1 offers expired on 1 leads" in result.output
    after = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"]).json
    assert offered_to(after) == world.baiyun.id
    late = client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    assert late.status_code == 409 and late.json["reason"] == "offer_expired"
    assert trail_types(client, world, lead["id"]) == ["posted", "offered", "expired", "offered"]


def test_reading_a_lead_never_shows_a_stale_offer(app, client, world, app_ctx):
    lead = post(client, world)
    expire_every_offer(app_ctx)
    before = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"]).json
    assert before["current_offer"]["status"] == "expired" and before["routing_pending"] is True
    assert offered_to(before) == world.tianhe.id  # reads never write: the sweep routes it on
    assert "1 offers expired" in app.test_cli_runner().invoke(args=["leadshare", "sweep"]).output
    after = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"]).json
    assert after["status"] == "offered" and offered_to(after) == world.baiyun.id
    assert after["current_offer"]["status"] == "pending" and after["routing_pending"] is False
    late = client.post(
        f"/api/v1/leads/{lead['id']}/decline",
        json={"reason": "other"},
        headers=world.headers["tianhe"],
    )
    assert late.status_code == 409 and late.json["reason"] == "offer_expired"


def test_expired_offer_cannot_be_claimed_even_before_the_sweep(client, world, app_ctx):
    lead = post(client, world)
    expire_every_offer(app_ctx)
    response = client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    assert response.status_code == 409 and response.json["reason"] == "offer_expired"


def test_capacity_sends_the_lead_to_the_next_store(client, make, auth, world):
    first = post(client, world)
    assert offered_to(first) == world.tianhe.id
    client.patch(
        f"/api/v1/dealers/{world.tianhe.id}",
        json={"daily_capacity": 1},
        headers=world.headers["tianhe2"],
    )
    second = post(client, world, customer={"name": "钱七", "phone": "13700001111"})
    assert offered_to(second) == world.baiyun.id
    decision = client.get(
        f"/api/v1/leads/{second['id']}/trail", headers=world.headers["admin"]
    ).json["events"][1]["data"]["decision"]
    assert decision["excluded"]["capacity"] == 1
    assert decision["chosen"]["dealer_id"] == world.baiyun.id
    assert [c["dealer_id"] for c in decision["runners_up"]] == [world.panyu.id]


def test_store_not_accepting_leads_is_skipped(client, world):
    client.patch(
        f"/api/v1/dealers/{world.tianhe.id}",
        json={"accepting_leads": False},
        headers=world.headers["tianhe2"],
    )
    lead = post(client, world)
    assert offered_to(lead) == world.baiyun.id


def test_progress_with_skips_records_every_stage(client, world):
    lead = post(client, world)
    client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    ordered = client.post(
        f"/api/v1/leads/{lead['id']}/progress",
        json={"status": "ordered", "order_ref": "SO-1"},
        headers=world.headers["tianhe"],
    )
    assert ordered.status_code == 200 and ordered.json["status"] == "ordered"
    events = client.get(f"/api/v1/leads/{lead['id']}/trail", headers=world.headers["tianhe"]).json[
        "events"
    ]
    stages = [
        (e["type"], e["data"].get("skipped"))
        for e in events
        if e["type"] in ("contacted", "visited", "ordered")
    ]
    assert stages == [("contacted", True), ("visited", True), ("ordered", False)]
    delivered = client.post(
        f"/api/v1/leads/{lead['id']}/progress",
        json={"status": "delivered", "vin": VIN.lower()},
        headers=world.headers["tianhe"],
    )
    assert delivered.status_code == 200
    assert (
        delivered.json["status"] == "delivered"
        and delivered.json["vin"] == VIN
        and delivered.json["order_ref"] == "SO-1"
    )


@pytest.mark.parametrize(
    "payload, status, field",
    [
        ({"status": "ordered"}, 422, "order_ref"),
        ({"status": "delivered", "vin": VIN}, 422, "order_ref"),
        ({"status": "delivered", "vin": "LSVAU2A31N2123457", "order_ref": "SO-2"}, 422, "vin"),
        ({"status": "delivered", "vin": "SHORT", "order_ref": "SO-2"}, 422, "vin"),
        ({"status": "lost"}, 422, "lost_reason"),
        ({"status": "accepted"}, 422, "status"),
    ],
)
def test_progress_without_its_fields_is_refused(client, world, payload, status, field):
    lead = post(client, world)
    client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    response = client.post(
        f"/api/v1/leads/{lead['id']}/progress", json=payload, headers=world.headers["tianhe"]
    )
    assert response.status_code == status
    assert field in response.json["errors"]["json"]


def test_backwards_and_after_delivery_moves_are_409_invalid_transition(client, world):
    lead = post(client, world)
    client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    client.post(
        f"/api/v1/leads/{lead['id']}/progress",
        json={"status": "visited"},
        headers=world.headers["tianhe"],
    )
    back = client.post(
        f"/api/v1/leads/{lead['id']}/progress",
        json={"status": "contacted"},
        headers=world.headers["tianhe"],
    )
    assert back.status_code == 409 and back.json["reason"] == "invalid_transition"
    client.post(
        f"/api/v1/leads/{lead['id']}/progress",
        json={"status": "delivered", "vin": VIN, "order_ref": "SO-9"},
        headers=world.headers["tianhe"],
    )
    lost = client.post(
        f"/api/v1/leads/{lead['id']}/progress",
        json={"status": "lost", "lost_reason": "bought_elsewhere"},
        headers=world.headers["tianhe"],
    )
    assert lost.status_code == 409 and lost.json["reason"] == "invalid_transition"


def test_lost_after_ordered_is_allowed(client, world):
    lead = post(client, world)
    client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    client.post(
        f"/api/v1/leads/{lead['id']}/progress",
        json={"status": "ordered", "order_ref": "SO-3"},
        headers=world.headers["tianhe"],
    )
    lost = client.post(
        f"/api/v1/leads/{lead['id']}/progress",
        json={"status": "lost", "lost_reason": "financing_declined"},
        headers=world.headers["tianhe"],
    )
    assert (
        lost.status_code == 200
        and lost.json["status"] == "lost"
        and lost.json["lost_reason"] == "financing_declined"
    )


def test_only_the_holder_records_progress(client, world):
    lead = post(client, world)
    before = client.post(
        f"/api/v1/leads/{lead['id']}/progress",
        json={"status": "contacted"},
        headers=world.headers["tianhe"],
    )
    assert before.status_code == 403 and before.json["reason"] == "not_holder"
    client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    referrer = client.post(
        f"/api/v1/leads/{lead['id']}/progress",
        json={"status": "contacted"},
        headers=world.headers["referrer"],
    )
    assert referrer.status_code == 403
    outsider = client.post(
        f"/api/v1/leads/{lead['id']}/progress",
        json={"status": "contacted"},
        headers=world.headers["futian"],
    )
    assert outsider.status_code == 404


def test_referrer_withdraws_before_acceptance_only(client, world, app_ctx):
    lead = post(client, world)
    other = client.post(
        f"/api/v1/leads/{lead['id']}/withdraw", json={}, headers=world.headers["tianhe"]
    )
    assert other.status_code == 403 and other.json["reason"] == "not_referrer"
    response = client.post(
        f"/api/v1/leads/{lead['id']}/withdraw",
        json={"reason": "客户改主意"},
        headers=world.headers["referrer"],
    )
    assert response.status_code == 200 and response.json["status"] == "withdrawn"
    assert response.json["current_offer"] is None
    late_claim = client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    assert late_claim.status_code == 409
    second = post(client, world, customer={"name": "周", "phone": "13600001111"})
    client.post(f"/api/v1/leads/{second['id']}/claim", headers=world.headers["tianhe"])
    refused = client.post(
        f"/api/v1/leads/{second['id']}/withdraw", json={}, headers=world.headers["referrer"]
    )
    assert refused.status_code == 409 and refused.json["reason"] == "invalid_transition"


def test_contact_is_masked_for_everyone_but_holder_and_referrer(client, world, make, auth):
    lead = post(
        client, world, customer={"name": "张三丰", "phone": "13812345678", "wechat_id": "zsf"}
    )
    lead_url = f"/api/v1/leads/{lead['id']}"
    offered = client.get(lead_url, headers=world.headers["tianhe"]).json["customer"]
    assert offered == {"name": "张**", "phone": "138****5678", "wechat_id": "***", "masked": True}
    admin = client.get(lead_url, headers=world.headers["admin"]).json
    assert admin["customer"]["phone"] == "138****5678" and admin["notes"] is None
    assert client.get(lead_url, headers=world.headers["baiyun"]).status_code == 404
    assert client.get(lead_url, headers=world.headers["futian"]).status_code == 404
    outsider = make.user(Role.GROUP_ADMIN, group=make.group())
    assert client.get(lead_url, headers=auth(outsider)).status_code == 404
    client.post(f"{lead_url}/claim", headers=world.headers["tianhe"])
    holder = client.get(lead_url, headers=world.headers["tianhe"]).json
    assert holder["customer"] == {
        "name": "张三丰",
        "phone": "+8613812345678",
        "wechat_id": "zsf",
        "masked": False,
    }
    assert (
        client.get(lead_url, headers=world.headers["referrer"]).json["customer"]["masked"] is False
    )
    trail = client.get(f"{lead_url}/trail", headers=world.headers["admin"]).json
    assert "13812345678" not in str(trail) and "zsf" not in str(trail)


def test_oem_auditor_reads_its_brand_masked_and_nothing_else(client, world, make, auth):
    lead = post(client, world)
    toyota = post(client, world, brand="丰田", customer={"name": "孙", "phone": "13500001111"})
    auditor = auth(make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"])))
    mine = client.get(f"/api/v1/leads/{lead['id']}", headers=auditor)
    assert mine.status_code == 200 and mine.json["customer"]["masked"] is True
    assert client.get(f"/api/v1/leads/{toyota['id']}", headers=auditor).status_code == 404
    assert client.get(f"/api/v1/leads/{lead['id']}/verify", headers=auditor).json["ok"] is True
    assert client.post(f"/api/v1/leads/{lead['id']}/claim", headers=auditor).status_code == 403


def test_list_views_for_a_store(client, world):
    posted = post(client, world)
    assert (
        client.get("/api/v1/leads?view=posted", headers=world.headers["referrer"]).json["total"]
        == 1
    )
    inbox = client.get("/api/v1/leads?view=offered", headers=world.headers["tianhe"]).json
    assert [item["id"] for item in inbox["items"]] == [posted["id"]]
    assert client.get("/api/v1/leads?view=held", headers=world.headers["tianhe"]).json["total"] == 0
    client.post(f"/api/v1/leads/{posted['id']}/claim", headers=world.headers["tianhe"])
    assert (
        client.get("/api/v1/leads?view=offered", headers=world.headers["tianhe"]).json["total"] == 0
    )
    held = client.get(
        "/api/v1/leads?view=held&status=accepted", headers=world.headers["tianhe"]
    ).json
    assert [item["id"] for item in held["items"]] == [posted["id"]]
    assert client.get("/api/v1/leads", headers=world.headers["baiyun"]).json["total"] == 0
    assert client.get("/api/v1/leads", headers=world.headers["admin"]).json["total"] == 1
    bad = client.get("/api/v1/leads?view=everything", headers=world.headers["tianhe"])
    assert bad.status_code == 422


def test_list_filters_by_created_date(client, world):
    post(client, world)
    future = client.get(
        "/api/v1/leads?created_from=2999-01-01T00:00:00Z", headers=world.headers["admin"]
    ).json
    assert future["total"] == 0
    past = client.get(
        "/api/v1/leads?created_from=2000-01-01T00:00:00%2B08:00", headers=world.headers["admin"]
    ).json
    assert past["total"] == 1


def test_trail_shows_routing_decisions_and_chain_verifies(client, world):
    lead = post(client, world)
    trail = client.get(f"/api/v1/leads/{lead['id']}/trail", headers=world.headers["referrer"]).json
    offered = trail["events"][1]
    assert offered["type"] == "offered" and offered["dealer"]["id"] == world.tianhe.id
    decision = offered["data"]["decision"]
    assert decision["chosen"]["dealer_id"] == world.tianhe.id
    assert [c["dealer_id"] for c in decision["runners_up"]] == [world.baiyun.id, world.panyu.id]
    assert (
        decision["considered"] == 3 and decision["excluded"]["area"] == 1
    )  # the referrer, far away
    assert trail["offers"][0]["status"] == "pending"
    verify = client.get(
        f"/api/v1/leads/{lead['id']}/verify", headers=world.headers["referrer"]
    ).json
    assert verify == {"ok": True, "events": 2, "broken_at": None, "reason": None}


def test_verify_detects_an_event_altered_in_the_database(client, world, app_ctx):
    lead = post(client, world)
    client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    with app_ctx:
        lead_row = db.session.scalar(select(Lead).where(Lead.public_id == lead["id"]))
        event = db.session.scalar(
            select(LeadEvent).where(LeadEvent.lead_id == lead_row.id, LeadEvent.seq == 2)
        )
        event.data = {**event.data, "distance_km": 0.001}
        db.session.commit()
    verify = client.get(f"/api/v1/leads/{lead['id']}/verify", headers=world.headers["admin"]).json
    assert (
        verify["ok"] is False and verify["broken_at"] == 2 and verify["reason"] == "hash_mismatch"
    )


def test_unknown_lead_is_404(client, world):
    assert client.get("/api/v1/leads/ld_nope", headers=world.headers["admin"]).status_code == 404
    assert (
        client.post("/api/v1/leads/ld_nope/claim", headers=world.headers["tianhe"]).status_code
        == 404
    )
