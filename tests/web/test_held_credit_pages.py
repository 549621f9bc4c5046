"""Reward pages for held credits and budgets that warn (issue 17 items 2 and 5): the hold and
alert amount on the program forms, pending money on the statement and payouts pages, and the
budget banners group admins see."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadshare.extensions import db
from leadshare.rewards.models import RewardProgram
from tests.api.lead_world import build_world

from .pages import Browser
from .test_reward_pages import create_program, credited_lead, this_month

FORM = {
    "name": "冻结奖励",
    "starts_on": "2026-01-01",
    "budget": "5000.00",
    "rule-0-event": "accepted",
    "rule-0-amount": "50",
}


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def _program(app, name: str) -> RewardProgram | None:
    with app.app_context():
        return db.session.scalar(select(RewardProgram).where(RewardProgram.name == name))


def test_the_program_form_sets_the_hold_and_the_alert_amount(app, world):
    admin = Browser(app, world.users["admin"])
    created = admin.post(
        "/admin/programs", follow_redirects=True, **FORM, hold_days="14", alert_below="800"
    )
    assert created.status_code == 200 and "奖励冻结期" in created.text and "14 天" in created.text
    program = _program(app, "冻结奖励")
    assert (program.hold_days, program.alert_below_minor) == (14, 80_000)
    saved = admin.post(
        f"/admin/programs/{program.id}", follow_redirects=True, active="y", hold_days="0"
    )
    assert "方案已保存" in saved.text
    program = _program(app, "冻结奖励")
    assert (program.hold_days, program.alert_below_minor) == (0, None)  # empty box: no alert


def test_an_empty_hold_box_means_30_days_and_a_bad_one_is_refused(app, world):
    admin = Browser(app, world.users["admin"])
    refused = admin.post("/admin/programs", **{**FORM, "name": "坏的"}, hold_days="-3")
    assert refused.status_code == 422 and "请检查标红的内容" in refused.text
    assert _program(app, "坏的") is None
    admin.post("/admin/programs", **FORM)
    assert _program(app, "冻结奖励").hold_days == 30


def test_the_statement_page_shows_money_on_hold_and_when_it_is_available(app, world, client):
    create_program(client, world, hold_days=30)
    credited_lead(app, world)
    page = (
        Browser(app, world.users["admin"])
        .get(f"/admin/statements?dealer_id={world.referrer.id}&month={this_month()}")
        .text
    )
    assert "冻结中" in page and "可提现" in page and "可提现时间" in page
    assert "0.00 → <strong>50.00</strong>" in page  # on hold: opening and closing
    payouts = Browser(app, world.users["admin"]).get("/admin/payouts").text
    assert "冻结中" in payouts and "50.00" in payouts


def test_admins_see_a_banner_while_the_budget_is_below_its_alert_amount(app, world, client):
    program_id = create_program(client, world, budget="100.00", alert_below="80.00")
    credited_lead(app, world)  # 100 -> 50
    admin = Browser(app, world.users["admin"])
    for path in ("/admin/programs", f"/admin/programs/{program_id}", "/admin/ledger"):
        page = admin.get(path).text
        assert "剩余预算 50.00 已低于预警金额 80.00" in page, path
        assert 'class="flash warning budget-alert"' in page
    admin.post(f"/admin/programs/{program_id}/fund", amount="100", confirmed="1")
    assert "budget-alert" not in admin.get("/admin/programs").text


def test_admins_see_a_banner_when_credits_were_skipped_until_the_program_is_funded(
    app, world, client
):
    program_id = create_program(client, world, budget="10.00")
    credited_lead(app, world)  # 50.00 due, 10.00 left: skipped
    admin = Browser(app, world.users["admin"])
    page = admin.get("/admin/payouts").text
    assert "自上次注资以来，有 1 笔奖励因预算不足被跳过" in page
    assert f'href="/admin/programs/{program_id}"' in page
    admin.post(f"/admin/programs/{program_id}/fund", amount="100", confirmed="1")
    assert "budget-alert" not in admin.get("/admin/payouts").text
