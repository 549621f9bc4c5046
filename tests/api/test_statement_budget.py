"""How many SQL statements a lead intake, a claim and a progress step send (issue 13).

Budgets, not a benchmark (bench/intake.py prints the figures): the whole request through the
test client with a Bearer token, the receiving store with a webhook (so the outbox row is in
it). A change that reads a row twice, or reads back after its commit what it just wrote, shows
here first. The test's own savepoints are not counted.
"""

from contextlib import contextmanager

import pytest
from sqlalchemy import event, update

from leadshare.extensions import db
from leadshare.tenancy.models import Dealer

from .lead_world import build_world, lead_payload

# 16, and one more: whether the group has a WeCom app (the offer's message to the members).
INTAKE_BUDGET = 17  # issue 13: the token check reads the store, its group and its regions with
# the user; a new lead, its events and its offer go in one flush (no UPDATE of the row just
# inserted); the brand catalogue reads each name once; routing reads the candidates' region
# codes in the candidates' query
CLAIM_BUDGET = 16  # the won offer learns what its conditional UPDATE wrote, not read back
PROGRESS_BUDGET = 12  # one UPDATE of the lead: its status is set before its events are appended


@pytest.fixture
def world(make, auth, app_ctx):
    world = build_world(make, auth)
    with app_ctx:
        for dealer in (world.tianhe, world.referrer):
            db.session.execute(
                update(Dealer)
                .where(Dealer.id == dealer.id)
                .values(webhook_url=f"https://hooks.example.com/{dealer.id}")
            )
        db.session.commit()
    return world


@contextmanager
def counted(app):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "SAVEPOINT" not in statement.upper():
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_intake_claim_and_progress_stay_within_their_statement_budgets(app, client, world):
    with counted(app) as intake:
        answer = client.post(
            "/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"]
        )
    assert answer.status_code == 201 and answer.json["status"] == "offered", answer.json
    lead = answer.json["id"]
    with counted(app) as claim:
        answer = client.post(f"/api/v1/leads/{lead}/claim", headers=world.headers["tianhe"])
    assert answer.status_code == 200, answer.json
    with counted(app) as progress:
        answer = client.post(
            f"/api/v1/leads/{lead}/progress",
            json={"status": "contacted"},
            headers=world.headers["tianhe"],
        )
    assert answer.status_code == 200, answer.json
    assert len(intake) <= INTAKE_BUDGET, intake
    assert len(claim) <= CLAIM_BUDGET, claim
    assert len(progress) <= PROGRESS_BUDGET, progress
    writes = [s for s in intake if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert sum(s.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS") for s in writes) == 1
