"""Reward pages: programs, ledger, statements, payouts, voids and the earned column, per role."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.rewards.models import RewardProgram
from leadshare.vocabulary import Role
from tests.api.lead_world import build_world

from .pages import Browser, lead_form, lead_id_from

ADMIN_ONLY = ("/admin/programs", "/admin/ledger", "/admin/payouts")


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def program_body(**overrides):
    body = {
        "name": "转介绍奖励",
        "starts_on": "2020-01-01",
        "budget": "1000.00",
        "rules": [
            {"event": "accepted", "amount": "50.00"},
            {"event": "delivered", "amount": "800.00", "brand": "奥迪"},
        ],
        "hold_days": 0,  # available at once: these pages pay out what was credited
    }
    body.update(overrides)
    return body


def create_program(client, world, **overrides) -> int:
    response = client.post(
        "/api/v1/reward-programs", json=program_body(**overrides), headers=world.headers["admin"]
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def credited_lead(app, world) -> str:
    """A lead shared by SZ1 and claimed by GZ1 Tianhe: SZ1 earns the 50.00 accepted credit."""
    posted = Browser(app, world.users["referrer"]).post("/leads/new", **lead_form())
    lead_id = lead_id_from(posted.location)
    claimed = Browser(app, world.users["tianhe"]).post(f"/leads/{lead_id}/claim")
    assert claimed.status_code == 302
    return lead_id


def this_month() -> str:
    # The test group's time zone is Asia/Shanghai (UTC+8).
    from datetime import timedelta

    return (utcnow() + timedelta(hours=8)).strftime("%Y-%m")


def test_group_admin_opens_reward_pages_and_sees_them_in_the_nav(app, world):
    admin = Browser(app, world.users["admin"])
    for path in (*ADMIN_ONLY, "/admin/statements"):
        assert admin.get(path).status_code == 200, path
    nav = admin.get("/leads").text
    for path in (*ADMIN_ONLY, "/admin/statements"):
        assert f'href="{path}"' in nav


@pytest.mark.parametrize("path", (*ADMIN_ONLY, "/admin/statements", "/store/statement"))
def test_staff_may_not_open_reward_pages(app, world, path):
    response = Browser(app, world.users["tianhe"]).get(path)
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert "无权访问" in response.text


def test_manager_sees_only_the_own_statement(app, world):
    manager = Browser(app, world.users["tianhe2"])
    for path in ADMIN_ONLY:
        assert manager.get(path).status_code == 403, path
    assert manager.get("/inbox").text.count('href="/admin/statements"') == 1
    redirected = manager.get("/admin/statements?month=2026-01")
    assert redirected.status_code == 302
    assert redirected.location == "/store/statement?month=2026-01"
    page = manager.get("/store/statement?month=2026-01").text
    assert "期初余额" in page and "广州天河奥迪" in page and "dealer_id" not in page


def test_group_admin_creates_a_program_by_the_form(app, world):
    admin = Browser(app, world.users["admin"])
    form = {
        "name": "双11奖励",
        "starts_on": "2026-01-01",
        "ends_on": "",
        "budget": "5000.00",
        "per_dealer_monthly_cap": "1000",
        "rule-0-event": "accepted",
        "rule-0-amount": "50",
        "rule-1-event": "delivered",
        "rule-1-amount": "800.00",
        "rule-1-brand": "奥迪",
        "rule-1-channel": "livestream",
    }
    created = admin.post("/admin/programs", follow_redirects=True, **form)
    assert created.status_code == 200
    assert "已创建奖励方案" in created.text and "5000.00" in created.text
    with app.app_context():
        program = db.session.scalar(select(RewardProgram).where(RewardProgram.name == "双11奖励"))
        assert program.per_dealer_monthly_cap_minor == 100_000
        assert sorted((r.event, r.amount_minor, r.brand, r.channel) for r in program.rules) == [
            ("accepted", 5000, None, None),
            ("delivered", 80000, "奥迪", "livestream"),
        ]
    listed = admin.get("/admin/programs").text
    assert "双11奖励" in listed and "<progress" in listed


def test_program_form_refusals_are_shown_and_nothing_is_stored(app, world):
    admin = Browser(app, world.users["admin"])
    response = admin.post(
        "/admin/programs", name="", starts_on="2026-01-01", budget="1.005", **{"rule-0-event": ""}
    )
    assert response.status_code == 422
    assert "请检查标红的内容" in response.text
    with app.app_context():
        assert db.session.scalar(select(RewardProgram)) is None


def test_reward_forms_without_csrf_token_are_refused(app, world, client):
    program_id = create_program(client, world)
    admin = Browser(app, world.users["admin"])
    for path in ("/admin/programs", f"/admin/programs/{program_id}/fund", "/admin/payouts"):
        response = admin.client.post(path, data={"amount": "10", "name": "x"})
        assert response.status_code == 400, path
        assert "表单已过期或并非来自本站" in response.text
    page = admin.get(f"/admin/programs/{program_id}").text
    assert "1000.00" in page and "1010.00" not in page


def test_credit_shows_on_programs_ledger_statement_and_referrals(app, world, client, make):
    program_id = create_program(client, world)
    lead_id = credited_lead(app, world)
    admin = Browser(app, world.users["admin"])
    programs = admin.get("/admin/programs").text
    assert "50.00" in programs and "950.00" in programs and 'value="5"' in programs
    ledger = admin.get("/admin/ledger").text
    assert "深圳南山奥迪" in ledger and "50.00" in ledger and lead_id in ledger
    referrals = Browser(app, world.users["referrer"]).get("/referrals").text
    assert '<td data-label="奖励" class="money">50.00</td>' in referrals
    statement = admin.get(f"/admin/statements?dealer_id={world.referrer.id}&month={this_month()}")
    assert statement.status_code == 200 and lead_id in statement.text
    assert "期末余额" in statement.text and "50.00" in statement.text
    assert program_id


def test_manager_downloads_the_statement_as_csv_with_a_bom(app, world, client, make):
    create_program(client, world)
    lead_id = credited_lead(app, world)
    manager = Browser(app, make.user(Role.MANAGER, dealer=world.referrer))
    page = manager.get(f"/store/statement?month={this_month()}")
    assert page.status_code == 200 and lead_id in page.text and "format=csv" in page.text
    csv = manager.get(f"/store/statement?month={this_month()}&format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.data.startswith("\ufeff".encode())
    text = csv.data.decode("utf-8-sig")
    assert "opening_balance" in text and lead_id in text and "50.00" in text
    assert "attachment" in csv.headers["Content-Disposition"]


def test_bad_month_shows_a_message(app, world):
    page = Browser(app, world.users["tianhe2"]).get("/store/statement?month=2026-13")
    assert page.status_code == 200 and "YYYY-MM" in page.text and 'class="flash error"' in page.text


def test_payout_larger_than_the_balance_shows_the_message(app, world, client):
    create_program(client, world)
    credited_lead(app, world)
    admin = Browser(app, world.users["admin"])
    too_much = admin.post(
        "/admin/payouts", dealer_id=str(world.referrer.id), amount="60.00", confirmed="1"
    )
    assert too_much.status_code == 409
    assert "门店可提现余额（50.00）不足以支付这笔款项" in too_much.text
    asked = admin.post("/admin/payouts", dealer_id=str(world.referrer.id), amount="30")
    assert asked.status_code == 200 and "data-confirm-page" in asked.text
    assert "从 深圳南山奥迪 的奖励余额中支付 30.00" in asked.text
    paid = admin.post(
        "/admin/payouts",
        follow_redirects=True,
        dealer_id=str(world.referrer.id),
        amount="30",
        confirmed="1",
    )
    assert "已向 深圳南山奥迪 支付 30.00" in paid.text
    assert "20.00" in paid.text  # the balance left
    bad = admin.post("/admin/payouts", dealer_id="", amount="abc")
    assert bad.status_code == 422 and "请检查标红的内容" in bad.text


def test_fund_and_pause_a_program(app, world, client):
    program_id = create_program(client, world)
    admin = Browser(app, world.users["admin"])
    asked = admin.post(f"/admin/programs/{program_id}/fund", amount="500")
    assert "从集团资金池转入 500.00 到 转介绍奖励 的预算" in asked.text
    assert "1500.00" not in admin.get(f"/admin/programs/{program_id}").text  # not yet funded
    funded = admin.post(
        f"/admin/programs/{program_id}/fund", follow_redirects=True, amount="500", confirmed="1"
    )
    assert "预算已增加 500.00" in funded.text and "1500.00" in funded.text
    bad = admin.post(f"/admin/programs/{program_id}/fund", follow_redirects=True, amount="-1")
    assert 'class="flash error"' in bad.text
    saved = admin.post(f"/admin/programs/{program_id}", follow_redirects=True, ends_on="2030-12-31")
    assert "方案已保存" in saved.text
    with app.app_context():
        program = db.session.get(RewardProgram, program_id)
        assert program.is_active is False and str(program.ends_on) == "2030-12-31"
    backwards = admin.post(f"/admin/programs/{program_id}", active="y", ends_on="2019-01-01")
    assert backwards.status_code == 422


def test_voiding_a_lead_reverses_its_credit(app, world, client):
    create_program(client, world)
    lead_id = credited_lead(app, world)
    staff = Browser(app, world.users["referrer"])
    assert "/void" not in staff.get(f"/leads/{lead_id}").text
    assert staff.post(f"/leads/{lead_id}/void", reason="x").status_code == 403
    admin = Browser(app, world.users["admin"])
    assert f"/leads/{lead_id}/void" in admin.get(f"/leads/{lead_id}").text
    empty = admin.post(f"/leads/{lead_id}/void", follow_redirects=True, reason="")
    assert 'class="flash error"' in empty.text
    asked = admin.post(f"/leads/{lead_id}/void", reason="虚假客户")
    assert asked.status_code == 200
    assert "冲销 深圳南山奥迪 的奖励：转介绍奖励 50.00（线索被接收）。" in asked.text
    voided = admin.post(
        f"/leads/{lead_id}/void", follow_redirects=True, reason="虚假客户", confirmed="1"
    )
    assert "线索已作废" in voided.text and "虚假客户" in voided.text
    again = admin.post(
        f"/leads/{lead_id}/void", follow_redirects=True, reason="again", confirmed="1"
    )
    assert 'class="flash error"' in again.text
    referrals = staff.get("/referrals").text
    assert '<td data-label="奖励" class="money">0.00 <span class="void-reason">' in referrals
    assert "已作废：所有奖励都已冲销。" in referrals and "作废原因：虚假客户" in referrals
    ledger = admin.get("/admin/ledger").text
    assert "冲销" in ledger and "-50.00" in ledger
    accounts = client.get(
        "/api/v1/ledger/accounts?kind=dealer_rewards", headers=world.headers["admin"]
    )
    assert [a["balance"] for a in accounts.json["items"]] == ["0.00"]


def test_group_admin_of_another_group_sees_nothing_of_this_one(app, world, client, make):
    program_id = create_program(client, world)
    credited_lead(app, world)
    other = Browser(app, make.user(Role.GROUP_ADMIN, group=make.group()))
    assert "转介绍奖励" not in other.get("/admin/programs").text
    assert other.get(f"/admin/programs/{program_id}").status_code == 404
    ledger = other.get("/admin/ledger").text
    assert "深圳南山奥迪" not in ledger and "50.00" not in ledger
    statement = other.get(f"/admin/statements?dealer_id={world.referrer.id}&month=2026-01")
    assert statement.status_code == 404
    payout = other.post("/admin/payouts", dealer_id=str(world.referrer.id), amount="10")
    assert payout.status_code == 422 and "门店不存在" in payout.text
