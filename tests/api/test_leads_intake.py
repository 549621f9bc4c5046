"""Lead intake (SPEC 2): validation, consent, de-duplication, share reason, idempotency."""

import pytest
from sqlalchemy import func, select, update

from leadshare.extensions import db
from leadshare.leads.models import IdempotencyRecord, Lead
from leadshare.vocabulary import Role

from .lead_world import SZ_NANSHAN, build_world, lead_payload


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def _lead_count(app_ctx) -> int:
    with app_ctx:
        return db.session.scalar(select(func.count(Lead.id)))


def _lead_needing_location(client, world) -> dict:
    """A lead whose address cannot be placed: it waits as `needs_location`."""
    return client.post(
        "/api/v1/leads",
        json=lead_payload(location={"address": "不知道"}),
        headers=world.headers["referrer"],
    ).json


def test_out_of_region_lead_is_offered_to_the_nearest_store(client, world):
    response = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert response.status_code == 201, response.json
    lead = response.json
    assert lead["status"] == "offered" and lead["share_reason"] == "out_of_region"
    assert lead["referrer"] == {"id": world.referrer.id, "code": "SZ1", "name": "深圳南山奥迪"}
    assert lead["current_offer"]["dealer"]["id"] == world.tianhe.id
    assert lead["current_offer"]["distance_km"] < 1
    assert lead["customer"] == {
        "name": "张三",
        "phone": "+8613812345678",
        "wechat_id": None,
        "masked": False,
    }
    assert lead["source"] == {"channel": "livestream", "campaign": "双11直播"}
    assert lead["location"]["precision"] == "exact" and lead["location"]["adcode"].startswith(
        "4401"
    )
    assert lead["id"].startswith("ld_") and lead["holder"] is None


def test_address_only_lead_is_geocoded_then_routed(client, world):
    payload = lead_payload(location={"address": "广州天河体育西路"})
    response = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert response.status_code == 201
    assert response.json["location"]["precision"] == "district"
    assert response.json["location"]["district"] == "天河区"
    assert response.json["current_offer"]["dealer"]["id"] == world.tianhe.id


def test_brand_not_carried_is_shared_even_nearby(client, world):
    payload = lead_payload(
        brand="丰田", location={"latitude": SZ_NANSHAN[0], "longitude": SZ_NANSHAN[1] + 0.05}
    )
    response = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert response.status_code == 201
    assert response.json["share_reason"] == "brand_not_carried"
    assert response.json["current_offer"]["dealer"]["id"] == world.futian_toyota.id


def test_lead_the_store_can_serve_itself_is_409_not_shareable(client, world, app_ctx):
    payload = lead_payload(location={"latitude": SZ_NANSHAN[0], "longitude": SZ_NANSHAN[1]})
    response = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert response.status_code == 409 and response.json["reason"] == "not_shareable"
    assert _lead_count(app_ctx) == 0


@pytest.mark.parametrize("consent", [False, None, "no"])
def test_lead_without_consent_is_refused(client, world, app_ctx, consent):
    response = client.post(
        "/api/v1/leads",
        json=lead_payload(consent_to_share=consent),
        headers=world.headers["referrer"],
    )
    assert response.status_code == 422
    assert "consent_to_share" in response.json["errors"]["json"]
    assert _lead_count(app_ctx) == 0


@pytest.mark.parametrize(
    "override, path",
    [
        ({"customer": {"name": "张三", "phone": "12345"}}, ("customer", "phone")),
        ({"customer": {"name": "张三", "phone": "not a phone"}}, ("customer", "phone")),
        ({"customer": {"name": "张三"}}, ("customer", "phone")),
        ({"customer": {"name": "", "phone": "13812345678"}}, ("customer", "name")),
        ({"customer": {"name": "x" * 101, "phone": "13812345678"}}, ("customer", "name")),
        ({"location": {}}, ("location", "address")),
        ({"location": {"latitude": 23.1}}, ("location", "latitude")),
        ({"location": {"latitude": 123, "longitude": 113}}, ("location", "latitude")),
        ({"brand": ""}, ("brand",)),
        ({"timeframe": "soon"}, ("timeframe",)),
        ({"source": {"channel": "carrier_pigeon"}}, ("source", "channel")),
        ({"source": {}}, ("source", "channel")),
        ({"notes": "x" * 2001}, ("notes",)),
    ],
)
def test_bad_lead_fields_are_422_and_store_nothing(client, world, app_ctx, override, path):
    response = client.post(
        "/api/v1/leads", json=lead_payload(**override), headers=world.headers["referrer"]
    )
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    for key in path:
        assert key in errors, errors
        errors = errors[key]
    assert _lead_count(app_ctx) == 0


def test_missing_required_blocks_are_422(client, world):
    response = client.post("/api/v1/leads", json={}, headers=world.headers["referrer"])
    assert response.status_code == 422
    assert {"customer", "location", "brand", "source", "consent_to_share"} <= set(
        response.json["errors"]["json"]
    )


def test_wechat_only_lead_is_accepted(client, world):
    payload = lead_payload(customer={"name": "李四", "wechat_id": "lisi_1990"})
    response = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert response.status_code == 201
    assert (
        response.json["customer"]["wechat_id"] == "lisi_1990"
        and response.json["customer"]["phone"] is None
    )


def test_same_phone_in_another_format_is_409_duplicate(client, world, app_ctx):
    first = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    again = lead_payload(customer={"name": "张先生", "phone": "+86 138-1234-5678"}, brand=" AUDI ")
    response = client.post("/api/v1/leads", json=again, headers=world.headers["baiyun"])
    assert response.status_code == 409
    assert (
        response.json["reason"] == "duplicate_lead"
        and response.json["duplicate_of"] == first.json["id"]
    )
    assert _lead_count(app_ctx) == 1


def test_same_wechat_is_409_duplicate(client, world):
    payload = lead_payload(customer={"name": "王五", "wechat_id": "wangwu"})
    client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    response = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert response.status_code == 409 and response.json["reason"] == "duplicate_lead"


def test_duplicate_window_and_withdrawn_leads_do_not_block(client, world, app_ctx):
    first = client.post(
        "/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"]
    ).json
    client.post(f"/api/v1/leads/{first['id']}/withdraw", json={}, headers=world.headers["referrer"])
    second = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert second.status_code == 201
    with app_ctx:
        db.session.execute(
            update(Lead)
            .where(Lead.public_id == second.json["id"])
            .values(created_at=func.datetime("now", "-91 days"))
            if db.engine.dialect.name == "sqlite"
            else update(Lead)
            .where(Lead.public_id == second.json["id"])
            .values(created_at=func.now() - func.make_interval(0, 0, 0, 91))
        )
        db.session.commit()
    third = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert third.status_code == 201


def test_duplicates_are_per_group(client, world, make, auth):
    client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    other = build_world(make, auth)
    response = client.post("/api/v1/leads", json=lead_payload(), headers=other.headers["referrer"])
    assert response.status_code == 201


def test_unlocatable_lead_is_kept_as_needs_location_then_fixed(client, world):
    payload = lead_payload(location={"address": "客户没说在哪"})
    response = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert response.status_code == 201
    lead = response.json
    assert lead["status"] == "needs_location" and lead["current_offer"] is None
    fixed = client.patch(
        f"/api/v1/leads/{lead['id']}/location",
        json={"address": "广州市天河区"},
        headers=world.headers["referrer"],
    )
    assert fixed.status_code == 200, fixed.json
    assert fixed.json["status"] == "offered" and fixed.json["share_reason"] == "out_of_region"
    again = client.patch(
        f"/api/v1/leads/{lead['id']}/location",
        json={"address": "广州市天河区"},
        headers=world.headers["referrer"],
    )
    assert again.status_code == 409 and again.json["reason"] == "location_already_set"


def test_fixing_location_with_garbage_is_422_and_keeps_the_lead(client, world):
    lead = _lead_needing_location(client, world)
    response = client.patch(
        f"/api/v1/leads/{lead['id']}/location",
        json={"address": "qwerty"},
        headers=world.headers["referrer"],
    )
    assert response.status_code == 422 and response.json["reason"] == "address_not_found"
    assert (
        client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"]).json["status"]
        == "needs_location"
    )


def test_only_the_referrer_fixes_location(client, world):
    lead = _lead_needing_location(client, world)
    response = client.patch(
        f"/api/v1/leads/{lead['id']}/location",
        json={"address": "广州"},
        headers=world.headers["admin"],
    )
    assert response.status_code == 403


def test_brand_no_other_store_sells_is_unroutable(client, world):
    response = client.post(  # only the referrer (Futian) sells 丰田; the customer is in Guangzhou
        "/api/v1/leads", json=lead_payload(brand="丰田"), headers=world.headers["futian"]
    )
    assert response.status_code == 201
    assert response.json["status"] == "unroutable" and response.json["current_offer"] is None


def test_lead_no_store_reaches_goes_to_the_board(client, world):
    payload = lead_payload(location={"address": "新疆乌鲁木齐市天山区"})
    response = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert response.status_code == 201 and response.json["status"] == "open"
    board = client.get("/api/v1/board", headers=world.headers["panyu"]).json
    assert [item["id"] for item in board["items"]] == [response.json["id"]]
    assert board["items"][0]["customer"]["phone"] == "138****5678"


def test_group_admin_and_auditor_may_not_post_leads(client, world, make, auth):
    response = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["admin"])
    assert response.status_code == 403 and response.json["reason"] == "role_not_allowed"
    auditor = make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"]))
    assert (
        client.post("/api/v1/leads", json=lead_payload(), headers=auth(auditor)).status_code == 403
    )


def test_idempotent_retry_returns_the_first_answer_without_a_second_lead(client, world, app_ctx):
    headers = {**world.headers["referrer"], "Idempotency-Key": "retry-123"}
    first = client.post("/api/v1/leads", json=lead_payload(), headers=headers)
    second = client.post("/api/v1/leads", json=lead_payload(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_data() == second.get_data()
    assert _lead_count(app_ctx) == 1


def test_retry_after_the_answer_was_lost_rebuilds_it_from_the_committed_lead(
    client, world, app_ctx
):
    """The process died after committing the lead but before storing its answer."""
    headers = {**world.headers["referrer"], "Idempotency-Key": "crash-789"}
    first = client.post("/api/v1/leads", json=lead_payload(), headers=headers)
    assert first.status_code == 201
    with app_ctx:
        db.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "crash-789")
            .values(status_code=None, body=None)
        )
        db.session.commit()
    retry = client.post("/api/v1/leads", json=lead_payload(), headers=headers)
    assert retry.status_code == 201
    assert retry.json["id"] == first.json["id"] and retry.json["status"] == first.json["status"]
    assert retry.json["customer"] == first.json["customer"]  # the referrer sees the contact
    again = client.post("/api/v1/leads", json=lead_payload(), headers=headers)
    assert again.get_data() == retry.get_data()  # stored this time
    assert _lead_count(app_ctx) == 1


def test_idempotency_key_reused_for_another_body_is_refused(client, world):
    headers = {**world.headers["referrer"], "Idempotency-Key": "retry-456"}
    client.post("/api/v1/leads", json=lead_payload(), headers=headers)
    other = lead_payload(customer={"name": "赵六", "phone": "13900001111"})
    response = client.post("/api/v1/leads", json=other, headers=headers)
    assert response.status_code == 409 and response.json["reason"] == "idempotency_key_reused"


def test_idempotency_keys_are_per_user(client, world, app_ctx):
    client.post(
        "/api/v1/leads",
        json=lead_payload(),
        headers={**world.headers["referrer"], "Idempotency-Key": "k"},
    )
    other = lead_payload(
        customer={"name": "赵六", "phone": "13900001111"},
        location={"latitude": SZ_NANSHAN[0], "longitude": SZ_NANSHAN[1]},
    )
    response = client.post(
        "/api/v1/leads", json=other, headers={**world.headers["baiyun"], "Idempotency-Key": "k"}
    )
    assert response.status_code == 201
    assert _lead_count(app_ctx) == 2


def test_refused_request_is_not_replayed(client, world):
    headers = {**world.headers["referrer"], "Idempotency-Key": "bad-then-good"}
    bad = client.post("/api/v1/leads", json=lead_payload(consent_to_share=False), headers=headers)
    assert bad.status_code == 422
    good = client.post("/api/v1/leads", json=lead_payload(), headers=headers)
    assert good.status_code == 201
