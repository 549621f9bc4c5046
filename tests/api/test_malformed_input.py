"""No input causes a 5xx, and the OpenAPI document tells the truth (security items 5 and 12)."""

from __future__ import annotations

import json

import marshmallow as ma
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from leadshare.api.errors import log_unexpected
from leadshare.extensions import db
from leadshare.leads.schemas import LeadCreateSchema

from .lead_world import build_world, lead_payload


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def refused(response, status: int, reason: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.json
    assert {"code", "status", "message", "reason"} <= body.keys()
    assert body["code"] == status
    if reason:
        assert body["reason"] == reason, body
    return body


def post_raw(client, url, text: str | bytes, headers):
    return client.post(url, data=text, content_type="application/json", headers=headers)


# --- item 5: bounded integers, dates and months ---------------------------------------------


def test_a_page_of_ten_to_the_eighteen_is_refused(client, world):
    body = refused(
        client.get("/api/v1/leads?page=" + "1" + "0" * 18, headers=world.headers["admin"]), 422
    )
    assert "page" in body["errors"]["query"]


def test_an_id_beyond_the_database_integer_is_not_found(client, world):
    for url in (f"/api/v1/dealers/{2**63}", f"/api/v1/groups/{2**31}", f"/api/v1/users/{2**40}"):
        refused(client.get(url, headers=world.headers["admin"]), 404)


def test_an_id_filter_beyond_the_database_integer_is_refused(client, world):
    body = refused(
        client.get(f"/api/v1/dealers?group_id={2**40}", headers=world.headers["admin"]), 422
    )
    assert "group_id" in body["errors"]["query"]
    payout = {"dealer_id": 2**63, "amount": "1.00"}
    body = refused(client.post("/api/v1/payouts", json=payout, headers=world.headers["admin"]), 422)
    assert "dealer_id" in body["errors"]["json"]


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1999-12", "2101-01"])
def test_statement_months_outside_2000_to_2100_are_refused(client, world, month):
    url = f"/api/v1/dealers/{world.referrer.id}/statement?month={month}"
    body = refused(client.get(url, headers=world.headers["admin"]), 422)
    assert "month" in body["errors"]["query"]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_dates_at_the_edge_of_the_calendar_are_refused(client, world, day):
    program = {
        "name": "edge",
        "starts_on": day,
        "budget": "10.00",
        "rules": [{"event": "accepted", "amount": "1.00"}],
    }
    admin = world.headers["admin"]
    body = refused(client.post("/api/v1/reward-programs", json=program, headers=admin), 422)
    assert "starts_on" in body["errors"]["json"]
    moment = f"{day}T23:59:00-08:00" if day.startswith("9") else f"{day}T00:00:00+08:00"
    body = refused(client.get(f"/api/v1/leads?created_from={moment}", headers=admin), 422)
    assert "created_from" in body["errors"]["query"]


# --- item 5: strings, nesting, size, bounded errors ---------------------------------------------


def test_a_nul_in_any_string_is_refused_naming_the_field(client, world):
    payload = lead_payload(customer={"name": "张\x00三", "phone": "138 1234 5678"})
    body = refused(
        client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"]),
        422,
        "invalid_characters",
    )
    assert body["errors"]["json"] == {
        "customer": {"name": [body["errors"]["json"]["customer"]["name"][0]]}
    }
    body = refused(client.get("/api/v1/leads?brand=a%00b", headers=world.headers["admin"]), 422)
    assert "brand" in body["errors"]["query"]
    refused(client.get("/api/v1/leads/a%00b", headers=world.headers["admin"]), 422)


def test_the_input_schemas_refuse_nul_for_the_web_forms_too(app):
    with app.test_request_context(), pytest.raises(ma.ValidationError) as refusal:
        LeadCreateSchema().load(lead_payload(notes="a\x00b"))
    assert "notes" in refusal.value.messages


def test_a_lone_surrogate_sent_as_a_json_escape_is_refused(client, world):
    text = json.dumps(lead_payload()).replace('"A6L"', '"\\ud800"')
    body = refused(
        post_raw(client, "/api/v1/leads", text, world.headers["referrer"]),
        422,
        "invalid_characters",
    )
    assert "model" in body["errors"]["json"]


def test_json_nested_a_hundred_thousand_deep_is_a_400(client, world):
    deep = "[" * 100_000 + "]" * 100_000
    body = refused(
        post_raw(client, "/api/v1/leads", deep, world.headers["referrer"]), 400, "too_deep"
    )
    assert "64" in body["message"]


def test_malformed_json_is_a_400(client, world):
    refused(
        post_raw(client, "/api/v1/leads", '{"brand": ', world.headers["referrer"]),
        400,
        "malformed_json",
    )
    refused(
        post_raw(client, "/api/v1/leads", b"\xff\xfe{}", world.headers["referrer"]),
        400,
        "malformed_json",
    )


def test_a_body_over_the_limit_is_a_413_before_it_is_read(client, world):
    big = '{"notes": "' + "x" * (2 * 1024 * 1024) + '"}'
    refused(post_raw(client, "/api/v1/leads", big, world.headers["referrer"]), 413, "too_large")
    refused(post_raw(client, "/api/v1/leads", big, {}), 413, "too_large")


def test_an_error_answer_lists_a_bounded_number_of_fields(client, world):
    payload = {f"unknown_{n}": n for n in range(5000)}
    body = refused(
        client.post("/api/v1/dealers", json=payload, headers=world.headers["admin"]), 422
    )
    assert len(body["errors"]["json"]) <= 20
    assert len(json.dumps(body)) < 5000


def test_a_failed_statement_does_not_log_its_values(app, caplog):
    """A failed INSERT (here: no password hash) logs no bound value, e.g. a customer's phone."""
    phone = "+8613812345678"
    with app.test_request_context("/api/v1/users", method="POST"):
        users = sa.table("users", sa.column("email"))
        with pytest.raises(IntegrityError) as failure:
            db.session.execute(sa.insert(users).values(email=phone))
        db.session.rollback()
        log_unexpected(failure.value)
    assert "hidden due to hide_parameters" in str(failure.value)
    assert "INSERT INTO users" in caplog.text and phone not in caplog.text


# --- item 12: authentication first, bodies, strict types, 405 -------------------------------------


def test_no_token_and_a_bad_body_is_a_401_not_a_422(client):
    refused(client.post("/api/v1/leads", json={"brand": 5}), 401, "unauthenticated")
    refused(client.patch("/api/v1/dealers/1", json={"active": 0}), 401)
    refused(client.get("/api/v1/leads?page=0"), 401)


def test_the_token_endpoint_and_the_document_are_public(client):
    refused(client.post("/api/v1/auth/token", json={"email": "x"}), 422)
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def test_a_patch_with_no_body_is_refused(client, world):
    url = f"/api/v1/dealers/{world.tianhe.id}"
    body = refused(client.patch(url, headers=world.headers["admin"]), 422, "body_required")
    assert body["errors"]["json"]
    own = f"/api/v1/users/{world.users['admin'].id}"
    refused(client.patch(own, headers=world.headers["admin"]), 422, "body_required")


def test_a_withdraw_without_a_body_still_works(client, world):
    lead = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"]).json
    response = client.post(
        f"/api/v1/leads/{lead['id']}/withdraw", headers=world.headers["referrer"]
    )
    assert response.status_code == 200 and response.json["status"] == "withdrawn"


def test_booleans_and_integers_are_strict_in_json(client, world):
    url = f"/api/v1/dealers/{world.tianhe.id}"
    admin = world.headers["admin"]
    body = refused(client.patch(url, json={"active": 0}, headers=admin), 422)
    assert "active" in body["errors"]["json"]
    body = refused(client.patch(url, json={"daily_capacity": 5.9}, headers=admin), 422)
    assert "daily_capacity" in body["errors"]["json"]
    assert client.patch(url, json={"daily_capacity": 5}, headers=admin).json["daily_capacity"] == 5
    assert client.get("/api/v1/dealers?active=true", headers=admin).status_code == 200
    refused(client.get("/api/v1/dealers?active=1", headers=admin), 422)


def test_a_405_says_which_methods_are_allowed(client, world):
    response = client.delete("/api/v1/leads", headers=world.headers["admin"])
    refused(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.mimetype == "application/json"


# --- item 12: the document ------------------------------------------------------------------------


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").json


def test_the_error_schema_has_reason_and_allows_extra_fields(spec):
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "status", "message", "reason"}
    assert error["additionalProperties"] is True


def test_every_operation_lists_its_statuses_and_no_catch_all(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            statuses = set(operation["responses"])
            assert "default" not in statuses, (method, path)
            if operation.get("security") != []:
                assert {"401", "403"} <= statuses, (method, path)
            if "{" in path:
                assert "404" in statuses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= statuses, (method, path)
    token = spec["paths"]["/api/v1/auth/token"]["post"]
    assert {"401", "429"} <= set(token["responses"]) and token["security"] == []
    claim = spec["paths"]["/api/v1/leads/{lead_id}/claim"]["post"]
    assert "already_claimed" in claim["responses"]["409"]["description"]


def test_money_fields_are_typed_and_csv_answers_documented(spec):
    fund = spec["components"]["schemas"]["Fund"]["properties"]["amount"]
    assert fund["type"] == "string" and fund["pattern"]
    statement = spec["paths"]["/api/v1/dealers/{dealer_id}/statement"]["get"]
    assert "text/csv" in statement["responses"]["200"]["content"]
