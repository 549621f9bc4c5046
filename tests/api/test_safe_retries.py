"""Safe retries (security issue item 11): a repeated claim, a database that does not answer."""

from __future__ import annotations

from sqlalchemy import func, select

from leadshare.app import create_app
from leadshare.auth.models import User
from leadshare.auth.tokens import issue_token
from leadshare.extensions import db
from leadshare.leads.models import LeadEvent

from .lead_world import build_world, lead_payload

LONG_KEY = "a-secret-key-of-at-least-32-characters-for-this-test"


def test_a_holder_repeating_its_own_claim_gets_the_lead_again(client, app_ctx, make, auth):
    world = build_world(make, auth)
    lead = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"]).json
    path = f"/api/v1/leads/{lead['id']}/claim"
    first = client.post(path, headers=world.headers["tianhe"])
    again = client.post(path, headers=world.headers["tianhe"])
    assert first.status_code == again.status_code == 200
    assert again.json["holder"]["id"] == world.tianhe.id and again.json["status"] == "accepted"
    with app_ctx:
        claims = db.session.scalar(
            select(func.count()).select_from(LeadEvent).where(LeadEvent.type == "claimed")
        )
    assert claims == 1
    colleague = client.post(path, headers=world.headers["tianhe2"])  # not its own claim
    assert colleague.status_code == 409 and colleague.json["reason"] == "already_claimed"


def _app_without_database(tmp_path):
    """PostgreSQL on a port where nothing listens: every statement fails to connect."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": LONG_KEY,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:9/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
            "WTF_CSRF_ENABLED": False,
        }
    )


def test_a_database_that_does_not_answer_is_a_503_with_retry_after(tmp_path):
    app = _app_without_database(tmp_path)
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"email": "a@example.com", "password": "password123"}
    )
    assert token.status_code == 503, token.get_data(as_text=True)
    assert token.json["reason"] == "database_unavailable"
    assert int(token.headers["Retry-After"]) > 0
    bearer, _ = issue_token(User(id=1, password_hash="x"), LONG_KEY, 600)  # well signed
    signed = client.get("/api/v1/leads", headers={"Authorization": f"Bearer {bearer}"})
    assert signed.status_code == 503 and signed.json["reason"] == "database_unavailable"
    page = client.post("/login", data={"email": "a@example.com", "password": "password123"})
    assert page.status_code == 503 and "Retry-After" in page.headers
    assert "<html" in page.get_data(as_text=True).lower()
