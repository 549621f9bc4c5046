"""Returns racing other writers, on both engines (issue 17: exactly one outcome, ledger balanced).

A scratch database of its own (a temp SQLite file, or `<dbname>_return_race` beside
TEST_DATABASE_URL's database on PostgreSQL), committed for real: each round two threads are
released together by a barrier. The holder's return races its own store's delivery of the same
lead (the delivery earns a credit): one wins, the other is refused with its reason, and the
lead, its return, its trail and its credits agree with the winner. The referrer's acceptance
races the sweep accepting the same return in silence: the lead is returned once, its credits
reversed once. After every round the ledger sums to zero, entry by entry and account by account.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads.disputes import sweep_returns
from leadshare.leads.models import Lead, LeadEvent, LeadReturn
from leadshare.rewards.models import RewardCredit

from ..api.lead_world import build_world, lead_payload
from ..factories import Factory, token_headers
from ..services.reward_world import assert_ledger_balanced
from .scratch import migrated_app

pytestmark = [pytest.mark.no_rollback]

ROUNDS = 4
VIN = "LSVAU2A31N2123456"


@pytest.fixture(scope="module")
def race(tmp_path_factory) -> Iterator[tuple[Flask, Any]]:
    """The app on a scratch database, with the lead world and a reward program."""
    with migrated_app(tmp_path_factory.mktemp("return_race"), "return_race", TESTING=True) as app:
        world = build_world(Factory(app), token_headers(app.test_client()))
        program = app.test_client().post(
            "/api/v1/reward-programs",
            json={
                "name": "退回竞争",
                "starts_on": (date.today() - timedelta(days=1)).isoformat(),
                "budget": "10000.00",
                "rules": [
                    {"event": "accepted", "amount": "10.00"},
                    {"event": "delivered", "amount": "30.00"},
                ],
            },
            headers=world.headers["admin"],
        )
        assert program.status_code == 201, program.json
        yield app, world


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at once; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(position: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[position] = call()
        except Exception as error:  # noqa: BLE001 - reported to the test as the outcome
            results[position] = error

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def held_lead(app: Flask, world, n: int) -> str:
    client = app.test_client()
    shared = client.post(
        "/api/v1/leads",
        json=lead_payload(customer={"name": f"竞争{n}", "phone": f"1390000{n:04d}"}),
        headers=world.headers["referrer"],
    )
    assert shared.status_code == 201, shared.json
    lead_id = shared.json["id"]
    claimed = client.post(f"/api/v1/leads/{lead_id}/claim", headers=world.headers["tianhe"])
    assert claimed.status_code == 200, claimed.json
    return lead_id


def post(app: Flask, world, path: str, who: str, body: dict | None = None):
    response = app.test_client().post(
        f"/api/v1/leads/{path}", json=body, headers=world.headers[who]
    )
    return response.status_code, response.get_json()


def assert_balanced(app: Flask) -> None:
    with app.app_context():
        assert_ledger_balanced()
        db.session.remove()


def lead_facts(app: Flask, lead_id: str) -> dict[str, Any]:
    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.public_id == lead_id))
        facts = {
            "status": lead.status,
            "return": db.session.scalar(
                select(LeadReturn.status).where(LeadReturn.lead_id == lead.id)
            ),
            "events": list(
                db.session.scalars(
                    select(LeadEvent.type)
                    .where(LeadEvent.lead_id == lead.id)
                    .order_by(LeadEvent.seq)
                )
            ),
            "credits": sorted(
                (credit.event, credit.reversal_entry_id is not None)
                for credit in db.session.scalars(
                    select(RewardCredit).where(RewardCredit.lead_id == lead.id)
                )
            ),
        }
        db.session.remove()
        return facts


def test_a_return_racing_a_delivery_has_exactly_one_outcome(race):
    app, world = race
    winners = set()
    for n in range(ROUNDS):
        lead_id = held_lead(app, world, n)
        returned, delivered = together(
            lambda lead_id=lead_id: post(
                app, world, f"{lead_id}/return", "tianhe", {"reason": "invalid_contact"}
            ),
            lambda lead_id=lead_id, n=n: post(
                app,
                world,
                f"{lead_id}/progress",
                "tianhe2",
                {"status": "delivered", "vin": VIN, "order_ref": f"SO-{n}"},
            ),
        )
        statuses = sorted([returned[0], delivered[0]])
        assert statuses in ([200, 409], [201, 409]), (returned, delivered)
        facts = lead_facts(app, lead_id)
        if returned[0] == 201:
            winners.add("return")
            assert delivered[1]["reason"] == "return_pending"
            assert facts["status"] == "accepted" and facts["return"] == "pending"
            assert facts["events"][-1] == "return_requested" and "delivered" not in facts["events"]
            assert facts["credits"] == [("accepted", False)]
            # the referrer accepts it, so no return is left open for the sweep of the next test
            assert post(app, world, f"{lead_id}/return/accept", "referrer")[0] == 200
        else:
            winners.add("delivery")
            assert returned[1]["reason"] == "not_returnable"
            assert facts["status"] == "delivered" and facts["return"] is None
            assert "return_requested" not in facts["events"]
            assert facts["credits"] == [("accepted", False), ("delivered", False)]
        assert_balanced(app)
    assert winners  # each round had exactly one winner; which one is up to the scheduler


def test_the_referrer_accepting_while_the_sweep_accepts_returns_the_lead_once(race):
    app, world = race
    for n in range(ROUNDS):
        lead_id = held_lead(app, world, 100 + n)
        status, _ = post(app, world, f"{lead_id}/return", "tianhe", {"reason": "spam"})
        assert status == 201
        late = utcnow() + timedelta(hours=73)

        def sweep(late=late) -> int:
            with app.app_context():
                try:
                    return sweep_returns(late)
                finally:
                    db.session.remove()

        accepted, swept = together(
            lambda lead_id=lead_id: post(app, world, f"{lead_id}/return/accept", "referrer"),
            sweep,
        )
        assert not isinstance(swept, Exception), swept
        if accepted[0] == 200:
            assert swept == 0
        else:
            assert (accepted[0], accepted[1]["reason"], swept) == (409, "return_decided", 1)
        facts = lead_facts(app, lead_id)
        assert facts["status"] == "returned" and facts["return"] == "accepted"
        assert facts["events"].count("returned") == 1
        assert facts["credits"] == [("accepted", True)]
        assert_balanced(app)
