"""Rewards (SPEC 6): programs, all-or-nothing credits, reversals, voids, payouts, statements."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadshare.vocabulary import Role

from ..services.reward_world import assert_ledger_balanced
from .lead_world import SZ_NANSHAN, build_world, lead_payload

VIN = "LSVAU2A31N2123456"
MONTH = datetime.now(UTC).strftime("%Y-%m")


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


@pytest.fixture(autouse=True)
def _ledger_balances_after_every_test(app, request):
    """The zero-sum invariant, checked over the whole database after each scenario."""
    yield
    if "world" not in request.fixturenames:
        return
    with app.app_context():
        assert_ledger_balanced()


def create_program(client, world, **overrides):
    payload = {
        "name": "2026 转介绍奖励",
        "starts_on": (date.today() - timedelta(days=30)).isoformat(),
        "budget": "1000.00",
        "rules": [
            {"event": "accepted", "amount": "50.00"},
            {"event": "accepted", "amount": "80.00", "channel": "livestream"},
            {"event": "delivered", "amount": "200.00"},
            {"event": "delivered", "amount": "300.00", "brand": "奥迪"},
        ],
        "hold_days": 0,  # available at once; held credits are tests/api/test_held_credits.py
        **overrides,
    }
    response = client.post("/api/v1/reward-programs", json=payload, headers=world.headers["admin"])
    assert response.status_code == 201, response.json
    return response.json


def shared_lead(client, world, n=0, **overrides):
    payload = lead_payload(customer={"name": f"客户{n}", "phone": f"1380000{n:04d}"}, **overrides)
    response = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert response.status_code == 201, response.json
    return response.json["id"]


def claim(client, world, lead_id, who="tianhe"):
    response = client.post(f"/api/v1/leads/{lead_id}/claim", headers=world.headers[who])
    assert response.status_code == 200, response.json


def progress(client, world, lead_id, who="tianhe", **payload):
    return client.post(
        f"/api/v1/leads/{lead_id}/progress", json=payload, headers=world.headers[who]
    )


def balance(client, world, dealer_id) -> str:
    accounts = client.get(
        "/api/v1/ledger/accounts?kind=dealer_rewards", headers=world.headers["admin"]
    ).json["items"]
    return next((a["balance"] for a in accounts if a["owner_id"] == dealer_id), "0.00")


def test_full_story_credits_the_referrer_and_the_statement_adds_up(client, world):
    program = create_program(client, world)
    assert (program["budget"], program["remaining"], program["used"]) == (
        "1000.00",
        "1000.00",
        "0.00",
    )
    lead_id = shared_lead(client, world)
    claim(client, world, lead_id)
    assert (
        balance(client, world, world.referrer.id) == "80.00"
    )  # livestream rule beats the plain one
    response = progress(client, world, lead_id, status="delivered", vin=VIN, order_ref="SO-1")
    assert response.status_code == 200
    assert balance(client, world, world.referrer.id) == "380.00"  # brand rule beats the plain one
    program = client.get(
        f"/api/v1/reward-programs/{program['id']}", headers=world.headers["admin"]
    ).json
    assert (program["remaining"], program["used"], program["credits"]) == ("620.00", "380.00", 2)
    statement = client.get(
        f"/api/v1/dealers/{world.referrer.id}/statement?month={MONTH}",
        headers=world.headers["admin"],
    ).json
    assert statement["opening_balance"] == "0.00" and statement["closing_balance"] == "380.00"
    assert [(line["kind"], line["event"], line["amount"]) for line in statement["lines"]] == [
        ("credit", "accepted", "80.00"),
        ("credit", "delivered", "300.00"),
    ]
    assert all(
        line["lead_id"] == lead_id and line["program"] == "2026 转介绍奖励"
        for line in statement["lines"]
    )


def test_statement_csv_opens_in_excel_with_chinese_intact(client, world):
    create_program(client, world)
    claim(client, world, shared_lead(client, world))
    response = client.get(
        f"/api/v1/dealers/{world.referrer.id}/statement?month={MONTH}&format=csv",
        headers=world.headers["admin"],
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    text = response.data.decode("utf-8-sig")
    assert (
        text.splitlines()[0]
        == "date,kind,account,lead,customer,program,event,amount,releases_at,memo"
    )
    assert (
        "2026 转介绍奖励" in text
        and "80.00" in text
        and "attachment" in response.headers["Content-Disposition"]
    )


def test_a_credit_that_does_not_fit_the_budget_is_skipped_whole(client, world):
    program = create_program(
        client, world, budget="100.00", rules=[{"event": "accepted", "amount": "80.00"}]
    )
    first, second = shared_lead(client, world, 1), shared_lead(client, world, 2)
    claim(client, world, first)
    claim(client, world, second)
    assert balance(client, world, world.referrer.id) == "80.00"
    program = client.get(
        f"/api/v1/reward-programs/{program['id']}", headers=world.headers["admin"]
    ).json
    assert program["remaining"] == "20.00" and program["skips"] == {"budget_exhausted": 1}
    skips = client.get(
        f"/api/v1/reward-programs/{program['id']}/skips", headers=world.headers["admin"]
    ).json
    assert [(s["lead_id"], s["event"], s["amount"], s["reason"]) for s in skips["items"]] == [
        (second, "accepted", "80.00", "budget_exhausted")
    ]


def test_funding_lets_later_credits_through(client, world):
    program = create_program(
        client, world, budget="50.00", rules=[{"event": "accepted", "amount": "80.00"}]
    )
    claim(client, world, shared_lead(client, world, 1))
    funded = client.post(
        f"/api/v1/reward-programs/{program['id']}/fund",
        json={"amount": "500"},
        headers=world.headers["admin"],
    )
    assert funded.status_code == 200 and funded.json["budget"] == "550.00"
    claim(client, world, shared_lead(client, world, 2))
    assert balance(client, world, world.referrer.id) == "80.00"
    entries = client.get("/api/v1/ledger/entries?kind=funding", headers=world.headers["admin"]).json
    assert entries["total"] == 2


def test_dealer_monthly_cap_skips_the_credit_that_would_pass_it(client, world):
    program = create_program(
        client,
        world,
        per_dealer_monthly_cap="100.00",
        rules=[{"event": "accepted", "amount": "60.00"}],
    )
    claim(client, world, shared_lead(client, world, 1))
    claim(client, world, shared_lead(client, world, 2))
    assert balance(client, world, world.referrer.id) == "60.00"
    program = client.get(
        f"/api/v1/reward-programs/{program['id']}", headers=world.headers["admin"]
    ).json
    assert (
        program["skips"] == {"dealer_cap_reached": 1}
        and program["per_dealer_monthly_cap"] == "100.00"
    )


def test_skipped_stages_are_credited(client, world):
    create_program(
        client,
        world,
        rules=[{"event": "visited", "amount": "30.00"}, {"event": "ordered", "amount": "70.00"}],
    )
    lead_id = shared_lead(client, world)
    claim(client, world, lead_id)
    assert progress(client, world, lead_id, status="ordered", order_ref="SO-7").status_code == 200
    assert balance(client, world, world.referrer.id) == "100.00"


def test_lost_after_ordered_reverses_ordered_credits_only(client, world):
    create_program(
        client,
        world,
        rules=[{"event": "accepted", "amount": "10.00"}, {"event": "ordered", "amount": "100.00"}],
    )
    lead_id = shared_lead(client, world)
    claim(client, world, lead_id)
    progress(client, world, lead_id, status="ordered", order_ref="SO-8")
    assert balance(client, world, world.referrer.id) == "110.00"
    assert (
        progress(
            client, world, lead_id, status="lost", lost_reason="financing_declined"
        ).status_code
        == 200
    )
    assert balance(client, world, world.referrer.id) == "10.00"
    reversals = client.get(
        f"/api/v1/ledger/entries?kind=reversal&lead_id={lead_id}", headers=world.headers["admin"]
    ).json
    assert reversals["total"] == 1 and reversals["items"][0]["event"] == "ordered"
    assert reversals["items"][0]["reverses_id"] is not None


def test_void_reverses_every_credit_once_and_stops_new_ones(client, world, make, auth):
    create_program(
        client,
        world,
        rules=[
            {"event": "accepted", "amount": "10.00"},
            {"event": "visited", "amount": "20.00"},
            {"event": "delivered", "amount": "30.00"},
        ],
    )
    lead_id = shared_lead(client, world)
    claim(client, world, lead_id)
    progress(client, world, lead_id, status="visited")
    assert balance(client, world, world.referrer.id) == "30.00"
    assert (
        client.post(
            f"/api/v1/leads/{lead_id}/void",
            json={"reason": "刷单"},
            headers=world.headers["tianhe"],
        ).status_code
        == 403
    )
    outsider = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    assert (
        client.post(
            f"/api/v1/leads/{lead_id}/void", json={"reason": "x"}, headers=outsider
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/leads/{lead_id}/void", json={}, headers=world.headers["admin"]
        ).status_code
        == 422
    )
    voided = client.post(
        f"/api/v1/leads/{lead_id}/void", json={"reason": "刷单"}, headers=world.headers["admin"]
    )
    assert voided.status_code == 200
    assert balance(client, world, world.referrer.id) == "0.00"
    again = client.post(
        f"/api/v1/leads/{lead_id}/void", json={"reason": "刷单"}, headers=world.headers["admin"]
    )
    assert again.status_code == 409 and again.json["reason"] == "already_voided"
    progress(client, world, lead_id, status="delivered", vin=VIN, order_ref="SO-9")
    assert balance(client, world, world.referrer.id) == "0.00"
    reversals = client.get(
        f"/api/v1/ledger/entries?kind=reversal&lead_id={lead_id}", headers=world.headers["admin"]
    ).json
    assert reversals["total"] == 2


def test_payouts_move_money_and_never_more_than_the_balance(client, world):
    create_program(client, world)
    claim(client, world, shared_lead(client, world))
    paid = client.post(
        "/api/v1/payouts",
        json={"dealer_id": world.referrer.id, "amount": "50.00"},
        headers=world.headers["admin"],
    )
    assert paid.status_code == 201 and paid.json["kind"] == "payout"
    assert sorted(p["amount"] for p in paid.json["postings"]) == ["-50.00", "50.00"]
    assert balance(client, world, world.referrer.id) == "30.00"
    too_much = client.post(
        "/api/v1/payouts",
        json={"dealer_id": world.referrer.id, "amount": "30.01"},
        headers=world.headers["admin"],
    )
    assert too_much.status_code == 409 and too_much.json["reason"] == "insufficient_balance"
    statement = client.get(
        f"/api/v1/dealers/{world.referrer.id}/statement?month={MONTH}",
        headers=world.headers["admin"],
    ).json
    assert [line["amount"] for line in statement["lines"]] == ["80.00", "-50.00"]
    assert statement["closing_balance"] == "30.00"
    staff = client.post(
        "/api/v1/payouts",
        json={"dealer_id": world.referrer.id, "amount": "1"},
        headers=world.headers["referrer"],
    )
    assert staff.status_code == 403


def test_editing_a_program_never_rewrites_past_credits(client, world):
    program = create_program(client, world, rules=[{"event": "accepted", "amount": "80.00"}])
    claim(client, world, shared_lead(client, world, 1))
    patched = client.patch(
        f"/api/v1/reward-programs/{program['id']}",
        json={"rules": [{"event": "accepted", "amount": "5.00"}]},
        headers=world.headers["admin"],
    )
    assert patched.status_code == 200 and patched.json["rules"][0]["amount"] == "5.00"
    claim(client, world, shared_lead(client, world, 2))
    credits = client.get("/api/v1/ledger/entries?kind=credit", headers=world.headers["admin"]).json[
        "items"
    ]
    assert sorted(max(p["amount"] for p in e["postings"]) for e in credits) == ["5.00", "80.00"]


def test_program_covers_only_leads_created_within_its_dates(client, world):
    # Tomorrow in the group's time zone (Asia/Shanghai), whatever the machine's clock says.
    tomorrow = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    create_program(client, world, starts_on=tomorrow.isoformat())
    claim(client, world, shared_lead(client, world))
    assert balance(client, world, world.referrer.id) == "0.00"


def test_inactive_program_credits_nothing(client, world):
    program = create_program(client, world)
    client.patch(
        f"/api/v1/reward-programs/{program['id']}",
        json={"active": False},
        headers=world.headers["admin"],
    )
    claim(client, world, shared_lead(client, world))
    assert balance(client, world, world.referrer.id) == "0.00"


@pytest.mark.parametrize(
    "override, field",
    [
        ({"budget": "-5"}, "budget"),
        ({"budget": "0"}, "budget"),
        ({"budget": "1.005"}, "budget"),
        ({"budget": 12.5}, "budget"),
        ({"budget": "lots"}, "budget"),
        ({"rules": []}, "rules"),
        ({"rules": [{"event": "contacted", "amount": "1"}]}, "rules"),
        ({"rules": [{"event": "accepted", "amount": "0.001"}]}, "rules"),
        ({"per_dealer_monthly_cap": "-1"}, "per_dealer_monthly_cap"),
        ({"ends_on": "2000-01-01"}, "ends_on"),
    ],
)
def test_bad_program_fields_are_422(client, world, override, field):
    payload = {
        "name": "P",
        "starts_on": "2026-01-01",
        "budget": "100",
        "rules": [{"event": "accepted", "amount": "1"}],
        **override,
    }
    response = client.post("/api/v1/reward-programs", json=payload, headers=world.headers["admin"])
    assert response.status_code == 422 and field in response.json["errors"]["json"]


def test_budget_changes_only_through_funding(client, world):
    program = create_program(client, world)
    response = client.patch(
        f"/api/v1/reward-programs/{program['id']}",
        json={"budget": "5000"},
        headers=world.headers["admin"],
    )
    assert response.status_code == 422 and "budget" in response.json["errors"]["json"]
    bad = client.post(
        f"/api/v1/reward-programs/{program['id']}/fund",
        json={"amount": "-1"},
        headers=world.headers["admin"],
    )
    assert bad.status_code == 422


def test_reward_scope(client, world, make, auth):
    program = create_program(client, world)
    claim(client, world, shared_lead(client, world))
    assert (
        client.get("/api/v1/reward-programs", headers=world.headers["referrer"]).status_code == 403
    )
    assert (
        client.get(
            f"/api/v1/reward-programs/{program['id']}", headers=world.headers["referrer"]
        ).status_code
        == 403
    )
    outsider = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    assert (
        client.get(f"/api/v1/reward-programs/{program['id']}", headers=outsider).status_code == 404
    )
    assert client.get("/api/v1/ledger/accounts", headers=outsider).json["total"] == 0
    assert (
        client.get(
            f"/api/v1/dealers/{world.referrer.id}/statement?month={MONTH}", headers=outsider
        ).status_code
        == 404
    )
    assert (
        client.get("/api/v1/ledger/accounts", headers=world.headers["referrer"]).status_code == 403
    )
    manager = auth(make.user(Role.MANAGER, dealer=world.referrer))
    mine = client.get("/api/v1/ledger/accounts", headers=manager).json
    assert [a["key"] for a in mine["items"]] == [f"dealer_rewards:{world.referrer.id}"]
    assert (
        client.get(
            f"/api/v1/dealers/{world.referrer.id}/statement?month={MONTH}", headers=manager
        ).json["closing_balance"]
        == "80.00"
    )
    assert (
        client.get(
            f"/api/v1/dealers/{world.tianhe.id}/statement?month={MONTH}", headers=manager
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/dealers/{world.referrer.id}/statement?month={MONTH}",
            headers=world.headers["referrer"],
        ).status_code
        == 403
    )
    assert (
        client.get(
            f"/api/v1/dealers/{world.referrer.id}/statement?month=2026-13", headers=manager
        ).status_code
        == 422
    )
    entries = client.get("/api/v1/ledger/entries", headers=manager).json
    assert entries["total"] == 1 and entries["items"][0]["kind"] == "credit"


def test_wechat_lead_near_home_brand_credit_uses_brand_rule(client, world):
    create_program(client, world, rules=[{"event": "accepted", "amount": "20.00", "brand": "丰田"}])
    payload = lead_payload(
        brand="丰田",
        customer={"name": "吴", "wechat_id": "wu_2026"},
        location={"latitude": SZ_NANSHAN[0], "longitude": SZ_NANSHAN[1] + 0.05},
    )
    lead_id = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"]).json[
        "id"
    ]
    claim(client, world, lead_id, who="futian")
    assert balance(client, world, world.referrer.id) == "20.00"
    with_entries = client.get(
        f"/api/v1/ledger/entries?lead_id={lead_id}", headers=world.headers["admin"]
    ).json
    assert with_entries["total"] == 1


def test_statement_csv_keeps_typed_formulas_inert_and_amounts_as_numbers(client, world):
    formula = '=HYPERLINK("http://evil.example","点我")'
    create_program(client, world, name=formula)
    claim(client, world, shared_lead(client, world))
    paid = client.post(
        "/api/v1/payouts",
        json={"dealer_id": world.referrer.id, "amount": "20.00", "memo": "@SUM(1+1)"},
        headers=world.headers["admin"],
    )
    assert paid.status_code == 201, paid.json
    response = client.get(
        f"/api/v1/dealers/{world.referrer.id}/statement?month={MONTH}&format=csv",
        headers=world.headers["admin"],
    )
    assert response.data.startswith("\ufeff".encode()) and b"\xef\xbb\xbf" not in response.data[3:]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    credit = next(r for r in rows if r["kind"] == "credit")
    assert credit["program"] == "'" + formula and credit["memo"].startswith("'" + formula)
    payout = next(r for r in rows if r["kind"] == "payout")
    assert payout["amount"] == "-20.00" and payout["memo"] == "'@SUM(1+1)"
    assert not any(value.startswith("=") for row in rows for value in row.values())
