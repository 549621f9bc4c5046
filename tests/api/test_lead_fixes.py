"""Issue 15 through the API: correcting and withdrawing unheld leads, re-shares, lost reasons,
undoing a step, voided leads shown as void, refused duplicates counted."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from leadshare.extensions import db
from leadshare.leads.models import DuplicateRefusal, Lead, LeadEvent
from leadshare.rewards.models import RewardCredit

from .lead_world import SZ_FUTIAN, build_world, lead_payload

FUTIAN = {"latitude": SZ_FUTIAN[0] + 0.01, "longitude": SZ_FUTIAN[1]}


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def share(client, world, who="referrer", **overrides):
    response = client.post(
        "/api/v1/leads", json=lead_payload(**overrides), headers=world.headers[who]
    )
    assert response.status_code == 201, response.json
    return response.json


def unroutable_lead(client, world):
    """广州白云 shares a 大众 customer in Shenzhen: no other store of the group sells 大众."""
    lead = share(client, world, "baiyun", brand="大众", location=FUTIAN)
    assert lead["status"] == "unroutable"
    return lead


def held_lead(client, world, **overrides):
    lead = share(client, world, **overrides)
    claimed = client.post(f"/api/v1/leads/{lead['id']}/claim", headers=world.headers["tianhe"])
    assert claimed.status_code == 200, claimed.json
    return lead["id"]


def step(client, world, lead_id, who="tianhe", **body):
    return client.post(f"/api/v1/leads/{lead_id}/progress", json=body, headers=world.headers[who])


def events(client, world, lead_id):
    trail = client.get(f"/api/v1/leads/{lead_id}/trail", headers=world.headers["admin"]).json
    return trail["events"]


# --- item 2: a shared lead can be put right --------------------------------------------------


def test_unroutable_lead_corrected_to_a_sold_brand_is_routed_and_the_trail_says_so(client, world):
    lead = unroutable_lead(client, world)
    fixed = client.patch(
        f"/api/v1/leads/{lead['id']}", json={"brand": "奥迪"}, headers=world.headers["baiyun"]
    )
    assert fixed.status_code == 200, fixed.json
    assert fixed.json["brand"] == "奥迪" and fixed.json["status"] == "offered"
    corrected = [e for e in events(client, world, lead["id"]) if e["type"] == "corrected"]
    assert corrected[0]["data"]["changes"]["brand"] == {"from": "大众", "to": "奥迪"}
    assert [e["type"] for e in events(client, world, lead["id"])][-2:] == ["corrected", "offered"]


def test_needs_location_lead_corrected_with_a_location_and_model_is_routed(client, world):
    lead = share(client, world, location={"address": "无法识别的地方"})
    assert lead["status"] == "needs_location"
    fixed = client.patch(
        f"/api/v1/leads/{lead['id']}",
        json={"model": "Q5L", "location": {"latitude": 23.13, "longitude": 113.36}},
        headers=world.headers["referrer"],
    )
    assert fixed.status_code == 200, fixed.json
    assert fixed.json["model"] == "Q5L" and fixed.json["status"] == "offered"
    types = [e["type"] for e in events(client, world, lead["id"])]
    assert types[-3:] == ["corrected", "located", "offered"]


def test_correcting_a_held_lead_is_409_lead_held_and_changes_nothing(client, world):
    lead_id = held_lead(client, world)
    refused = client.patch(
        f"/api/v1/leads/{lead_id}", json={"model": "A4L"}, headers=world.headers["referrer"]
    )
    assert refused.status_code == 409 and refused.json["reason"] == "lead_held"
    shown = client.get(f"/api/v1/leads/{lead_id}", headers=world.headers["referrer"]).json
    assert shown["model"] == "A6L"


def test_correcting_an_offered_lead_is_409_not_correctable(client, world):
    lead = share(client, world)
    refused = client.patch(
        f"/api/v1/leads/{lead['id']}", json={"model": "A4L"}, headers=world.headers["referrer"]
    )
    assert refused.status_code == 409 and refused.json["reason"] == "not_correctable"
    assert (refused.json["code"], refused.json["lead_status"]) == (409, "offered")
    offered_store = client.patch(
        f"/api/v1/leads/{lead['id']}", json={"model": "A4L"}, headers=world.headers["tianhe"]
    )
    assert offered_store.status_code == 403 and offered_store.json["reason"] == "not_referrer"


@pytest.mark.parametrize(
    ("who", "body", "status", "reason"),
    [
        ("admin", {"model": "A4L"}, 403, "role_not_allowed"),
        ("baiyun", {}, 422, "validation_error"),
        ("baiyun", {"brand": ""}, 422, "validation_error"),
        ("baiyun", {"brand": "大众"}, 422, "nothing_to_correct"),
    ],
)
def test_bad_corrections_are_refused_with_a_reason(client, world, who, body, status, reason):
    lead = unroutable_lead(client, world)
    refused = client.patch(f"/api/v1/leads/{lead['id']}", json=body, headers=world.headers[who])
    assert refused.status_code == status and refused.json["reason"] == reason
    assert [e["type"] for e in events(client, world, lead["id"])][-1] == "unroutable"


def test_unroutable_lead_can_be_withdrawn_and_the_customer_shared_again(client, world):
    lead = unroutable_lead(client, world)
    withdrawn = client.post(f"/api/v1/leads/{lead['id']}/withdraw", headers=world.headers["baiyun"])
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    again = share(client, world)  # the same phone, from another store
    assert again["status"] == "offered"


def test_an_unroutable_lead_never_blocks_a_new_share_of_its_customer(client, world):
    unroutable_lead(client, world)
    again = share(client, world)
    assert again["status"] == "offered"


# --- item 3: reasons people can count --------------------------------------------------------


def test_lost_takes_a_reason_from_the_list_and_other_needs_a_note(client, world):
    lead_id = held_lead(client, world)
    unknown = step(client, world, lead_id, status="lost", lost_reason="太贵了")
    assert unknown.status_code == 422 and "lost_reason" in unknown.json["errors"]["json"]
    bare = step(client, world, lead_id, status="lost", lost_reason="other")
    assert bare.status_code == 422 and "lost_note" in bare.json["errors"]["json"]
    lost = step(client, world, lead_id, status="lost", lost_reason="other", lost_note="搬家了")
    assert lost.status_code == 200, lost.json
    assert (lost.json["lost_reason"], lost.json["lost_note"]) == ("other", "搬家了")
    assert lost.json["lost_without_contact"] is True


def test_lost_after_contact_is_not_lost_without_contact(client, world):
    lead_id = held_lead(client, world)
    assert step(client, world, lead_id, status="contacted").status_code == 200
    lost = step(client, world, lead_id, status="lost", lost_reason="price")
    assert lost.json["lost_without_contact"] is False
    assert events(client, world, lead_id)[-1]["data"]["lost_reason"] == "price"


def test_funnel_groups_losses_by_reason_and_lists_lost_without_contact_per_store(client, world):
    for phone, body in (
        ("13800000001", {"lost_reason": "price"}),
        ("13800000002", {"lost_reason": "price"}),
        ("13800000003", {"lost_reason": "unreachable"}),
    ):
        lead_id = held_lead(client, world, customer={"name": "李四", "phone": phone})
        assert step(client, world, lead_id, status="lost", **body).status_code == 200
    funnel = client.get("/api/v1/audit/funnel", headers=world.headers["admin"]).json
    reasons = {r["reason"]: r["count"] for r in funnel["total"]["lost_reasons"]}
    assert reasons == {"price": 2, "unreachable": 1}
    (tianhe,) = funnel["lost_by_holder"]
    assert tianhe["holder"]["id"] == world.tianhe.id and tianhe["lost_without_contact"] == 3


# --- item 10: undo a mistaken step -----------------------------------------------------------


def test_holder_undoes_a_skipped_step_and_its_credits_are_reversed(client, world, app_ctx):
    program = client.post(
        "/api/v1/reward-programs",
        json={
            "name": "推荐奖",
            "starts_on": (date.today() - timedelta(days=30)).isoformat(),
            "budget": "1000.00",
            "rules": [{"event": "ordered", "amount": "100.00"}],
        },
        headers=world.headers["admin"],
    )
    assert program.status_code == 201, program.json
    lead_id = held_lead(client, world)
    ordered = step(client, world, lead_id, status="ordered", order_ref="PO-1")
    assert ordered.status_code == 200, ordered.json
    undone = client.post(
        f"/api/v1/leads/{lead_id}/progress/undo",
        json={"reason": "点错了"},
        headers=world.headers["tianhe"],
    )
    assert undone.status_code == 200, undone.json
    assert undone.json["status"] == "accepted" and undone.json["order_ref"] is None
    types = [e["type"] for e in events(client, world, lead_id)]
    assert types[-5:] == ["claimed", "contacted", "visited", "ordered", "progress_undone"]
    assert events(client, world, lead_id)[-1]["data"]["undone"] == [
        "contacted",
        "visited",
        "ordered",
    ]
    with app_ctx:
        credits = db.session.scalars(select(RewardCredit)).all()
    assert len(credits) == 1 and credits[0].reversal_entry_id is not None
    again = client.post(
        f"/api/v1/leads/{lead_id}/progress/undo",
        json={"reason": "再撤一次"},
        headers=world.headers["tianhe"],
    )
    assert again.status_code == 409 and again.json["reason"] == "nothing_to_undo"


def test_undo_of_a_loss_brings_the_lead_back_to_its_stage(client, world):
    lead_id = held_lead(client, world)
    step(client, world, lead_id, status="contacted")
    step(client, world, lead_id, status="lost", lost_reason="price")
    undone = client.post(
        f"/api/v1/leads/{lead_id}/progress/undo",
        json={"reason": "客户又回来了"},
        headers=world.headers["tianhe"],
    )
    assert undone.status_code == 200
    assert (undone.json["status"], undone.json["lost_reason"]) == ("contacted", None)
    # older steps stay: the second undo is refused, contacted is kept
    again = client.post(
        f"/api/v1/leads/{lead_id}/progress/undo",
        json={"reason": "x"},
        headers=world.headers["tianhe"],
    )
    assert again.status_code == 409


def test_undo_after_24_hours_is_409_undo_too_late(client, world, app_ctx):
    lead_id = held_lead(client, world)
    step(client, world, lead_id, status="contacted")
    with app_ctx:
        lead = db.session.scalar(select(Lead).where(Lead.public_id == lead_id))
        db.session.execute(
            update(LeadEvent)
            .where(LeadEvent.lead_id == lead.id)
            .values(at=datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=25))
        )
        db.session.commit()
    late = client.post(
        f"/api/v1/leads/{lead_id}/progress/undo",
        json={"reason": "太晚了"},
        headers=world.headers["tianhe"],
    )
    assert late.status_code == 409 and late.json["reason"] == "undo_too_late"


@pytest.mark.parametrize(
    ("who", "body", "status", "reason"),
    [
        ("referrer", {"reason": "x"}, 403, "not_holder"),
        ("tianhe", {}, 422, "validation_error"),
        ("tianhe", {"reason": "x"}, 409, "nothing_to_undo"),
    ],
)
def test_bad_undos_are_refused(client, world, who, body, status, reason):
    lead_id = held_lead(client, world)
    refused = client.post(
        f"/api/v1/leads/{lead_id}/progress/undo", json=body, headers=world.headers[who]
    )
    assert refused.status_code == status and refused.json["reason"] == reason


# --- item 5: void shows as void -------------------------------------------------------------


def test_a_voided_lead_carries_its_void_and_reason(client, world):
    lead = share(client, world)
    voided = client.post(
        f"/api/v1/leads/{lead['id']}/void",
        json={"reason": "虚假线索"},
        headers=world.headers["admin"],
    )
    assert voided.status_code == 200, voided.json
    shown = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"]).json
    assert shown["void_reason"] == "虚假线索" and shown["voided_at"] is not None


# --- item 11: count what was refused ---------------------------------------------------------


def test_a_refused_duplicate_stores_no_customer_but_is_counted_once_per_customer(
    client, world, app_ctx
):
    share(client, world)
    for _ in range(2):
        refused = client.post(
            "/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"]
        )
        assert refused.status_code == 409 and refused.json["reason"] == "duplicate_lead"
    other = client.post(
        "/api/v1/leads",
        json=lead_payload(customer={"name": "王五", "phone": "13900000000"}),
        headers=world.headers["referrer"],
    )
    assert other.status_code == 201
    again = client.post(
        "/api/v1/leads",
        json=lead_payload(customer={"name": "王五", "phone": "13900000000"}),
        headers=world.headers["referrer"],
    )
    assert again.status_code == 409
    with app_ctx:
        rows = db.session.scalars(select(DuplicateRefusal)).all()
        leads = db.session.scalar(select(func.count()).select_from(Lead))
    assert leads == 2
    assert len(rows) == 2 and {r.dealer_id for r in rows} == {world.referrer.id}
    assert all("1381234" not in r.customer_key and len(r.customer_key) == 64 for r in rows)
    funnel = client.get("/api/v1/audit/funnel", headers=world.headers["admin"]).json
    assert funnel["duplicates"] == [
        {
            "dealer": {"id": world.referrer.id, "code": "SZ1", "name": "深圳南山奥迪"},
            "channel": "livestream",
            "customers": 2,
        }
    ]
    assert funnel["duplicates_total"] == 2
