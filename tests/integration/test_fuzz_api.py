"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis).

Every operation gets a bounded number of generated requests, each sent anonymously and as
every role; no answer may be a 5xx, and every answer must be one the document lists, with the
content type and body schema it documents. `make test-fuzz` runs it (on SQLite, or on
TEST_DATABASE_URL); `make test` leaves it out to stay under two minutes.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from leadshare.app import create_app
from leadshare.vocabulary import Role
from tests.api.lead_world import build_world, lead_payload

pytestmark = pytest.mark.fuzz

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 3


@pytest.fixture
def role_headers(make, auth, client):
    """A world with a user of every role, a lead, an OEM of its brand: each role's token."""
    world = build_world(make, auth)
    oem = make.oem(brands=["奥迪"])
    users = {
        "platform_admin": make.user(Role.PLATFORM_ADMIN),
        "oem_auditor": make.user(Role.OEM_AUDITOR, oem=oem),
    }
    headers = {name: auth(user) for name, user in users.items()}
    headers.update(
        group_admin=world.headers["admin"],
        manager=world.headers["tianhe2"],
        staff=world.headers["referrer"],
    )
    posted = client.post("/api/v1/leads", json=lead_payload(), headers=headers["staff"])
    assert posted.status_code == 201, posted.json
    return [{}, *headers.values()]


# The document is read from an app of its own at import; requests go to the test's app.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    create_app({"TESTING": True, "SECRET_KEY": "fuzz", "SQLALCHEMY_DATABASE_URI": "sqlite://"}),
)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_breaks_the_api_or_its_document(case, app, role_headers):
    for headers in role_headers:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k != "Authorization"}
        case.headers.update(headers)
        case.call_and_validate(checks=CHECKS, app=app)
