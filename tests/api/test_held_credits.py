"""Held credits and budgets that warn through the API (issue 17 items 2 and 5): a program's
`hold_days` and `alert_below`, payouts from available money only, statements with pending and
available lines, the release in the sweep, the budget alerts group admins read."""

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from leadshare.extensions import db
from leadshare.rewards.holds import release_due_credits
from leadshare.rewards.models import RewardCredit
from leadshare.vocabulary import Role

from .lead_world import build_world
from .test_rewards import (  # noqa: F401 - the zero-sum check runs after every test here too
    _ledger_balances_after_every_test,
    claim,
    create_program,
    shared_lead,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROGRAM = {
    "name": "默认",
    "starts_on": "2026-01-01",
    "budget": "10.00",
    "rules": [{"event": "accepted", "amount": "1.00"}],
}


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def _month(at: datetime) -> str:
    """The statement month (group time) a UTC time falls in."""
    return at.replace(tzinfo=UTC).astimezone(SHANGHAI).strftime("%Y-%m")


def _statement(client, world, month: str, fmt: str | None = None):
    query = f"month={month}" + (f"&format={fmt}" if fmt else "")
    response = client.get(
        f"/api/v1/dealers/{world.referrer.id}/statement?{query}", headers=world.headers["admin"]
    )
    assert response.status_code == 200, response.data
    return response


def _held_until(app) -> datetime:
    with app.app_context():
        return db.session.scalar(select(RewardCredit.held_until))


def _release(app, at: datetime) -> int:
    with app.app_context():
        return release_due_credits(at)


def _pay(client, world, amount: str):
    return client.post(
        "/api/v1/payouts",
        json={"dealer_id": world.referrer.id, "amount": amount},
        headers=world.headers["admin"],
    )


def test_a_program_holds_credits_for_30_days_unless_it_says_otherwise(client, world):
    default = client.post("/api/v1/reward-programs", json=PROGRAM, headers=world.headers["admin"])
    assert default.status_code == 201
    assert default.json["hold_days"] == 30 and default.json["alert_below"] is None
    other = create_program(client, world, name="快速", hold_days=7, alert_below="100.00")
    assert (other["hold_days"], other["alert_below"]) == (7, "100.00")
    changed = client.patch(
        f"/api/v1/reward-programs/{other['id']}",
        json={"hold_days": 0, "alert_below": None},
        headers=world.headers["admin"],
    )
    assert changed.status_code == 200
    assert (changed.json["hold_days"], changed.json["alert_below"]) == (0, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [("hold_days", -1), ("hold_days", 366), ("hold_days", "30"), ("alert_below", "1.005")],
)
def test_a_bad_hold_or_alert_amount_is_422(client, world, field, value):
    response = client.post(
        "/api/v1/reward-programs", json={**PROGRAM, field: value}, headers=world.headers["admin"]
    )
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_a_payout_draws_only_on_available_money_until_the_sweep_releases(app, client, world):
    create_program(client, world, hold_days=30)
    claim(client, world, shared_lead(client, world))
    refused = _pay(client, world, "1.00")
    assert refused.status_code == 409
    assert refused.json["reason"] == "insufficient_balance"
    assert (refused.json["balance"], refused.json["pending"]) == ("0.00", "80.00")
    accounts = client.get("/api/v1/ledger/accounts", headers=world.headers["admin"]).json
    held = {
        a["kind"]: a["balance"] for a in accounts["items"] if a["owner_id"] == world.referrer.id
    }
    assert held["dealer_pending"] == "80.00" and held.get("dealer_rewards", "0.00") == "0.00"

    assert _release(app, _held_until(app)) == 1
    assert _release(app, _held_until(app)) == 0  # the sweep again releases nothing twice
    assert _pay(client, world, "80.00").status_code == 201
    assert _pay(client, world, "0.01").json["reason"] == "insufficient_balance"


def test_statements_show_pending_and_available_money_and_when_it_is_released(app, client, world):
    create_program(client, world, hold_days=40)  # released in a later month, whatever today is
    lead = shared_lead(client, world)
    claim(client, world, lead)
    due = _held_until(app)
    credited = _statement(client, world, _month(datetime.now(UTC).replace(tzinfo=None))).json
    assert (credited["opening_pending"], credited["opening_balance"]) == ("0.00", "0.00")
    assert (credited["closing_pending"], credited["closing_balance"]) == ("80.00", "0.00")
    [line] = credited["lines"]
    assert (line["kind"], line["account"], line["amount"], line["lead_id"]) == (
        "credit",
        "pending",
        "80.00",
        lead,
    )
    assert line["releases_at"] == due.replace(tzinfo=UTC).isoformat()

    _release(app, due)
    released = _statement(client, world, _month(due)).json
    assert (released["opening_pending"], released["opening_balance"]) == ("80.00", "0.00")
    assert (released["closing_pending"], released["closing_balance"]) == ("0.00", "80.00")
    assert [
        (x["kind"], x["account"], x["amount"], x["releases_at"]) for x in released["lines"]
    ] == [
        ("release", "pending", "-80.00", None),
        ("release", "available", "80.00", None),
    ]

    rows = list(
        csv.DictReader(
            io.StringIO(_statement(client, world, _month(due), "csv").text.lstrip("\ufeff"))
        )
    )
    assert [(r["kind"], r["account"], r["amount"]) for r in rows] == [
        ("opening_balance", "pending", "80.00"),
        ("opening_balance", "available", "0.00"),
        ("release", "pending", "-80.00"),
        ("release", "available", "80.00"),
        ("closing_balance", "pending", "0.00"),
        ("closing_balance", "available", "80.00"),
    ]


def test_the_statement_csv_says_when_a_pending_credit_is_released(app, client, world):
    create_program(client, world, hold_days=30)
    claim(client, world, shared_lead(client, world))
    month = _month(datetime.now(UTC).replace(tzinfo=None))
    rows = list(
        csv.DictReader(io.StringIO(_statement(client, world, month, "csv").text.lstrip("\ufeff")))
    )
    [credit] = [r for r in rows if r["kind"] == "credit"]
    assert credit["account"] == "pending"
    # the group's clock with its offset written (the world's group is in Asia/Shanghai)
    released = _held_until(app).replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    assert credit["releases_at"] == released.strftime("%Y-%m-%d %H:%M:%S+08:00")


def test_voiding_a_lead_cancels_its_pending_credit(app, client, world):
    program = create_program(client, world, hold_days=30)
    lead = shared_lead(client, world)
    claim(client, world, lead)
    voided = client.post(
        f"/api/v1/leads/{lead}/void", json={"reason": "刷单"}, headers=world.headers["admin"]
    )
    assert voided.status_code == 200
    accounts = client.get("/api/v1/ledger/accounts", headers=world.headers["admin"]).json["items"]
    mine = {a["kind"]: a["balance"] for a in accounts if a["owner_id"] == world.referrer.id}
    assert mine["dealer_pending"] == "0.00" and "dealer_rewards" not in mine
    view = client.get(f"/api/v1/reward-programs/{program['id']}", headers=world.headers["admin"])
    assert view.json["remaining"] == "1000.00"
    assert _release(app, _held_until(app)) == 0


def _alerts(client, world, who="admin", **query):
    return client.get("/api/v1/reward-alerts", query_string=query, headers=world.headers[who])


def test_admins_are_told_once_when_the_budget_falls_below_its_alert_amount(client, world):
    program = create_program(client, world, budget="240.00", alert_below="160.00", hold_days=0)
    claim(client, world, shared_lead(client, world, n=1))  # 240 -> 160: not below yet
    assert _alerts(client, world).json["items"] == []
    claim(client, world, shared_lead(client, world, n=2))  # 160 -> 80: below
    claim(client, world, shared_lead(client, world, n=3))  # 80 -> 0: still below, told before
    [low] = _alerts(client, world).json["items"]
    assert (low["kind"], low["program_id"], low["remaining"], low["alert_below"]) == (
        "budget_low",
        program["id"],
        "80.00",
        "160.00",
    )


def test_admins_are_told_when_a_credit_is_skipped_for_lack_of_budget(client, world):
    program = create_program(client, world, budget="100.00", hold_days=0)
    claim(client, world, shared_lead(client, world, n=1))
    lead = shared_lead(client, world, n=2)
    claim(client, world, lead)
    [skipped] = _alerts(client, world, kind="credit_skipped").json["items"]
    assert (skipped["lead_id"], skipped["amount"], skipped["remaining"]) == (lead, "80.00", "20.00")
    assert skipped["program"] == program["name"]
    assert _alerts(client, world, kind="budget_low").json["items"] == []


def test_only_the_groups_admins_read_its_budget_alerts(client, world, make, auth):
    create_program(client, world, budget="10.00", hold_days=0)
    claim(client, world, shared_lead(client, world))
    assert len(_alerts(client, world).json["items"]) == 1
    refused = _alerts(client, world, who="tianhe2")
    assert refused.status_code == 403 and refused.json["reason"] == "role_not_allowed"
    other = make.group(name="别的集团")
    outsider = auth(make.user(Role.GROUP_ADMIN, group=other))
    assert client.get("/api/v1/reward-alerts", headers=outsider).json["items"] == []
    assert _alerts(client, world, kind="nonsense").status_code == 422
