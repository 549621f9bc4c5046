"""Returns and disputes through the API (issue 17): every step, every refusal, the sweep, the
rate cap, the credits reversed and de-duplication after a return."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads.disputes import sweep_returns
from leadshare.leads.events import verify_lead_chain
from leadshare.leads.models import Lead, LeadEvent, LeadReturn
from leadshare.rewards.models import RewardCredit
from leadshare.settings import Settings
from leadshare.vocabulary import Role
from leadshare.worker import run_worker

from .lead_world import build_world, lead_payload
from .test_rewards import (  # noqa: F401 - the ledger's zero-sum check runs after each test here
    _ledger_balances_after_every_test,
    claim,
    create_program,
    progress,
    shared_lead,
)


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def held_lead(client, world, n=0, **overrides):
    """A lead shared by the referrer and claimed by Tianhe: accepted, returnable."""
    lead_id = shared_lead(client, world, n, **overrides)
    claim(client, world, lead_id)
    return lead_id


def post(client, world, path, who, json=None):
    return client.post(f"/api/v1/leads/{path}", json=json, headers=world.headers[who])


def give_back(client, world, lead_id, reason="invalid_contact", who="tianhe", note="空号"):
    return post(client, world, f"{lead_id}/return", who, {"reason": reason, "note": note})


def events_of(app_ctx, lead_id):
    with app_ctx:
        lead = db.session.scalar(select(Lead).where(Lead.public_id == lead_id))
        events = db.session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.seq)
        )
        assert verify_lead_chain(lead).ok
        return [(e.type, e.actor_id, e.data) for e in events]


def lead_status(client, world, lead_id, who="admin"):
    return client.get(f"/api/v1/leads/{lead_id}", headers=world.headers[who]).json["status"]


def credits_reversed(app_ctx, lead_id) -> list[bool]:
    with app_ctx:
        return [
            credit.reversal_entry_id is not None
            for credit in db.session.scalars(
                select(RewardCredit)
                .join(Lead, Lead.id == RewardCredit.lead_id)
                .where(Lead.public_id == lead_id)
            )
        ]


def move_back(app_ctx, lead_id, **delta):
    """Age the lead's acceptance (and its return's request) as if time had passed."""
    with app_ctx:
        lead = db.session.scalar(select(Lead).where(Lead.public_id == lead_id))
        lead.accepted_at -= timedelta(**delta)
        for found in db.session.scalars(select(LeadReturn).where(LeadReturn.lead_id == lead.id)):
            found.requested_at -= timedelta(**delta)
            found.dispute_due_at -= timedelta(**delta)
        db.session.commit()


# --- the holder returns -------------------------------------------------------------------


def test_the_holder_returns_an_accepted_lead_with_a_reason_and_note(client, world, app_ctx):
    lead_id = held_lead(client, world)
    response = give_back(client, world, lead_id)
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["lead_id"], body["status"], body["reason"], body["note"]) == (
        lead_id,
        "pending",
        "invalid_contact",
        "空号",
    )
    assert body["returned_from"] == "accepted" and body["lead_status"] == "accepted"
    assert body["holder"]["id"] == world.tianhe.id and body["referrer"]["id"] == world.referrer.id
    assert body["over_return_rate"] is False
    # the group's default dispute window: 72 wall-clock hours
    assert body["dispute_due_at"] > body["requested_at"]
    kind, actor, data = events_of(app_ctx, lead_id)[-1]
    assert (kind, actor, data["reason"]) == (
        "return_requested",
        world.users["tianhe"].id,
        "invalid_contact",
    )


def test_a_contacted_or_visited_lead_may_be_returned_but_not_an_ordered_one(client, world):
    contacted, ordered = held_lead(client, world, 1), held_lead(client, world, 2)
    assert progress(client, world, contacted, status="visited").status_code == 200
    assert give_back(client, world, contacted, "not_in_market").status_code == 201
    assert progress(client, world, ordered, status="ordered", order_ref="SO-1").status_code == 200
    refused = give_back(client, world, ordered)
    assert refused.status_code == 409 and refused.json["reason"] == "not_returnable"


def test_only_the_holder_may_return(client, world, make, auth):
    lead_id = held_lead(client, world)
    for who in ("referrer", "baiyun"):
        refused = give_back(client, world, lead_id, who=who)
        assert refused.status_code in (403, 404), who
    assert give_back(client, world, lead_id, who="referrer").json["reason"] == "not_holder"
    admin = post(client, world, f"{lead_id}/return", "admin", {"reason": "spam"})
    assert admin.status_code == 403 and admin.json["reason"] == "role_not_allowed"
    outsider = auth(make.user(Role.STAFF, dealer=make.dealer(make.group(), code="X")))
    response = client.post(
        f"/api/v1/leads/{lead_id}/return", json={"reason": "spam"}, headers=outsider
    )
    assert response.status_code == 404


def test_a_return_after_the_window_is_refused(client, world, app_ctx):
    lead_id = held_lead(client, world)
    move_back(app_ctx, lead_id, days=7)
    refused = give_back(client, world, lead_id)
    assert refused.status_code == 409 and refused.json["reason"] == "return_window_closed"


def test_the_group_sets_its_windows_and_rate(client, world, app_ctx):
    response = client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"return_window_days": 14, "dispute_window_hours": 24, "max_return_rate": 0.1},
        headers=world.headers["admin"],
    )
    assert response.status_code == 200, response.json
    assert (
        response.json["return_window_days"],
        response.json["dispute_window_hours"],
        response.json["max_return_rate"],
    ) == (14, 24, 0.1)
    lead_id = held_lead(client, world)
    move_back(app_ctx, lead_id, days=10)
    body = give_back(client, world, lead_id).json
    assert body["status"] == "pending"
    with app_ctx:
        found = db.session.scalar(select(LeadReturn))
        assert found.dispute_due_at - found.requested_at == timedelta(hours=24)


@pytest.mark.parametrize(
    ("field", "value"),
    [("return_window_days", -1), ("dispute_window_hours", 0), ("max_return_rate", 1.5)],
)
def test_bad_return_settings_are_422(client, world, field, value):
    response = client.patch(
        f"/api/v1/groups/{world.group.id}", json={field: value}, headers=world.headers["admin"]
    )
    assert response.status_code == 422 and field in response.json["errors"]["json"]


def test_staff_may_not_change_the_return_settings(client, world):
    response = client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"return_window_days": 30},
        headers=world.headers["tianhe2"],
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "payload", [{}, {"reason": "bored"}, {"reason": "spam", "note": "x" * 1001}]
)
def test_a_bad_return_is_422_and_writes_nothing(client, world, app_ctx, payload):
    lead_id = held_lead(client, world)
    response = post(client, world, f"{lead_id}/return", "tianhe", payload)
    assert response.status_code == 422
    with app_ctx:
        assert db.session.scalar(select(LeadReturn)) is None


def test_a_second_return_is_refused_while_the_first_is_open(client, world):
    lead_id = held_lead(client, world)
    assert give_back(client, world, lead_id).status_code == 201
    again = give_back(client, world, lead_id, "spam")
    assert again.status_code == 409 and again.json["reason"] == "return_pending"


def test_progress_waits_while_a_return_is_open(client, world):
    lead_id = held_lead(client, world)
    give_back(client, world, lead_id)
    refused = progress(client, world, lead_id, status="contacted")
    assert refused.status_code == 409 and refused.json["reason"] == "return_pending"
    lost = progress(client, world, lead_id, status="lost", lost_reason="bought_elsewhere")
    assert lost.status_code == 409 and lost.json["reason"] == "return_pending"


# --- the referrer answers -------------------------------------------------------------------


def test_the_referrer_accepts_the_return_the_lead_ends_returned_and_credits_reverse(
    client, world, app_ctx
):
    program = create_program(client, world)
    lead_id = held_lead(client, world)
    assert credits_reversed(app_ctx, lead_id) == [False]
    give_back(client, world, lead_id)
    response = post(client, world, f"{lead_id}/return/accept", "referrer")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "accepted" and response.json["lead_status"] == "returned"
    assert lead_status(client, world, lead_id) == "returned"
    assert credits_reversed(app_ctx, lead_id) == [True]
    after = client.get(
        f"/api/v1/reward-programs/{program['id']}", headers=world.headers["admin"]
    ).json
    assert after["remaining"] == "1000.00"
    kind, actor, data = events_of(app_ctx, lead_id)[-1]
    assert (kind, actor, data) == (
        "returned",
        world.users["referrer"].id,
        {"by": "referrer", "reason": "invalid_contact"},
    )
    again = post(client, world, f"{lead_id}/return/accept", "referrer")
    assert again.status_code == 409 and again.json["reason"] == "return_decided"
    assert give_back(client, world, lead_id).json["reason"] == "return_decided"
    ended = progress(client, world, lead_id, status="contacted")
    assert ended.status_code == 409 and ended.json["reason"] == "invalid_transition"


def test_only_the_referrer_answers_a_return(client, world):
    lead_id = held_lead(client, world)
    give_back(client, world, lead_id)
    for path in ("accept", "contest"):
        refused = post(client, world, f"{lead_id}/return/{path}", "tianhe", {"note": "x"})
        assert refused.status_code == 403 and refused.json["reason"] == "not_referrer"


def test_answering_a_lead_never_returned_is_409_no_return(client, world):
    lead_id = held_lead(client, world)
    for path, body in (("accept", None), ("contest", {"note": "好线索"})):
        refused = post(client, world, f"{lead_id}/return/{path}", "referrer", body)
        assert refused.status_code == 409 and refused.json["reason"] == "no_return"
    decide = post(client, world, f"{lead_id}/return/decide", "admin", {"outcome": "kept"})
    assert decide.status_code == 409 and decide.json["reason"] == "no_return"


def test_a_contest_needs_a_note(client, world):
    lead_id = held_lead(client, world)
    give_back(client, world, lead_id)
    assert post(client, world, f"{lead_id}/return/contest", "referrer", {}).status_code == 422
    blank = post(client, world, f"{lead_id}/return/contest", "referrer", {"note": ""})
    assert blank.status_code == 422


def test_the_referrer_contests_and_a_group_admin_keeps_the_lead_for_its_holder(
    client, world, app_ctx
):
    create_program(client, world)
    lead_id = held_lead(client, world)
    progress(client, world, lead_id, status="contacted")
    give_back(client, world, lead_id, "already_bought")
    contested = post(
        client, world, f"{lead_id}/return/contest", "referrer", {"note": "客户昨天还在看车"}
    )
    assert contested.status_code == 200 and contested.json["status"] == "contested"
    assert contested.json["contest_note"] == "客户昨天还在看车"
    accept = post(client, world, f"{lead_id}/return/accept", "referrer")
    assert accept.status_code == 409 and accept.json["reason"] == "awaiting_admin"
    twice = post(client, world, f"{lead_id}/return/contest", "referrer", {"note": "again"})
    assert twice.status_code == 409 and twice.json["reason"] == "awaiting_admin"
    listed = client.get("/api/v1/returns?status=contested", headers=world.headers["admin"]).json
    assert [r["lead_id"] for r in listed["items"]] == [lead_id] and listed["total"] == 1
    decided = post(
        client, world, f"{lead_id}/return/decide", "admin", {"outcome": "kept", "note": "有效"}
    )
    assert decided.status_code == 200, decided.json
    assert decided.json["status"] == "kept" and decided.json["lead_status"] == "contacted"
    assert credits_reversed(app_ctx, lead_id) == [False]
    assert progress(client, world, lead_id, status="visited").status_code == 200
    refused = give_back(client, world, lead_id)
    assert refused.status_code == 409 and refused.json["reason"] == "return_decided"
    types = [(kind, actor) for kind, actor, _ in events_of(app_ctx, lead_id)]
    assert types[-4:] == [
        ("return_requested", world.users["tianhe"].id),
        ("return_contested", world.users["referrer"].id),
        ("return_decided", world.users["admin"].id),
        ("visited", world.users["tianhe"].id),
    ]
    assert client.get("/api/v1/returns", headers=world.headers["admin"]).json["total"] == 0


def test_a_group_admin_decides_a_contested_return_returned(client, world, app_ctx):
    create_program(client, world)
    lead_id = held_lead(client, world)
    give_back(client, world, lead_id, "spam")
    post(client, world, f"{lead_id}/return/contest", "referrer", {"note": "真实客户"})
    decided = post(
        client, world, f"{lead_id}/return/decide", "admin", {"outcome": "returned", "note": "刷单"}
    )
    assert decided.status_code == 200 and decided.json["status"] == "accepted"
    assert lead_status(client, world, lead_id) == "returned"
    assert credits_reversed(app_ctx, lead_id) == [True]
    kinds = [(kind, actor, data.get("by")) for kind, actor, data in events_of(app_ctx, lead_id)]
    assert kinds[-2:] == [
        ("return_decided", world.users["admin"].id, None),
        ("returned", world.users["admin"].id, "group_admin"),
    ]
    again = post(client, world, f"{lead_id}/return/decide", "admin", {"outcome": "kept"})
    assert again.status_code == 409 and again.json["reason"] == "return_decided"


def test_only_the_groups_admin_decides(client, world, make, auth):
    lead_id = held_lead(client, world)
    give_back(client, world, lead_id)
    post(client, world, f"{lead_id}/return/contest", "referrer", {"note": "好线索"})
    staff = post(client, world, f"{lead_id}/return/decide", "referrer", {"outcome": "kept"})
    assert staff.status_code == 403
    outsider = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    response = client.post(
        f"/api/v1/leads/{lead_id}/return/decide", json={"outcome": "kept"}, headers=outsider
    )
    assert response.status_code == 404
    bad = post(client, world, f"{lead_id}/return/decide", "admin", {"outcome": "maybe"})
    assert bad.status_code == 422


def test_a_pending_return_is_the_referrers_to_answer_not_an_admins(client, world):
    lead_id = held_lead(client, world)
    give_back(client, world, lead_id)
    refused = post(client, world, f"{lead_id}/return/decide", "admin", {"outcome": "returned"})
    assert refused.status_code == 409 and refused.json["reason"] == "not_disputed"


# --- silence, the sweep -------------------------------------------------------------------


def test_silence_past_the_dispute_window_accepts_the_return_in_the_sweep(
    client, world, app, app_ctx
):
    create_program(client, world)
    lead_id, other = held_lead(client, world), held_lead(client, world, 1)
    give_back(client, world, lead_id)
    give_back(client, world, other)
    move_back(app_ctx, lead_id, hours=72)
    late = post(client, world, f"{lead_id}/return/contest", "referrer", {"note": "晚了"})
    assert late.status_code == 409 and late.json["reason"] == "dispute_window_closed"
    with app.app_context():
        assert sweep_returns() == 1
        assert sweep_returns() == 0
    assert lead_status(client, world, lead_id) == "returned"
    assert lead_status(client, world, other) == "accepted"
    assert credits_reversed(app_ctx, lead_id) == [True]
    assert credits_reversed(app_ctx, other) == [False]
    kind, actor, data = events_of(app_ctx, lead_id)[-1]
    assert (kind, actor, data["by"]) == ("returned", None, "silence")


def test_the_sweep_leaves_contested_and_review_returns_to_the_admin(client, world, app, app_ctx):
    lead_id = held_lead(client, world)
    give_back(client, world, lead_id)
    post(client, world, f"{lead_id}/return/contest", "referrer", {"note": "好线索"})
    move_back(app_ctx, lead_id, days=30)
    with app.app_context():
        assert sweep_returns(utcnow()) == 0
    assert lead_status(client, world, lead_id) == "accepted"


def test_the_worker_sweep_accepts_due_returns(client, world, app, app_ctx):
    lead_id = held_lead(client, world)
    give_back(client, world, lead_id)
    move_back(app_ctx, lead_id, hours=72)
    notify = Settings.from_config(app.config).notify
    with app.app_context():
        report = run_worker(
            threading.Event(), notify, sweep_every=3600, deliver_every=3600, rounds=1
        )
    assert (report.sweeps, report.returns_accepted) == (1, 1)
    assert lead_status(client, world, lead_id) == "returned"


def test_the_cli_sweep_accepts_due_returns(client, world, app, app_ctx):
    lead_id = held_lead(client, world)
    give_back(client, world, lead_id)
    late = (utcnow() + timedelta(hours=73)).isoformat()
    result = app.test_cli_runner().invoke(args=["leadshare", "sweep", "--as-of", late])
    assert result.exit_code == 0 and "1 returns accepted" in result.output
    assert lead_status(client, world, lead_id) == "returned"


# --- the rate cap ---------------------------------------------------------------------------


def test_a_store_over_the_return_rate_waits_for_a_group_admin(client, world, app, app_ctx):
    client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"max_return_rate": 0.1},
        headers=world.headers["admin"],
    )
    leads = [held_lead(client, world, n) for n in range(11)]
    first, second = (give_back(client, world, lead).json for lead in leads[:2])
    assert (first["status"], second["status"]) == ("pending", "pending")  # 0/11, then 1/11
    third = give_back(client, world, leads[2]).json  # 2 of 11 accepted leads: over 10%
    assert (third["status"], third["over_return_rate"]) == ("review", True)
    refused = post(client, world, f"{leads[2]}/return/accept", "referrer")
    assert refused.status_code == 409 and refused.json["reason"] == "awaiting_admin"
    move_back(app_ctx, leads[2], hours=100)
    with app.app_context():
        assert sweep_returns() == 0  # not in silence: an admin decides
    waiting = client.get("/api/v1/returns", headers=world.headers["admin"]).json
    assert [r["lead_id"] for r in waiting["items"]] == [leads[2]]
    side = post(client, world, f"{leads[2]}/return/contest", "referrer", {"note": "有效"})
    assert side.status_code == 200 and side.json["status"] == "contested"
    decided = post(client, world, f"{leads[2]}/return/decide", "admin", {"outcome": "returned"})
    assert decided.json["status"] == "accepted"


def test_below_ten_accepted_leads_the_rate_is_not_applied(client, world):
    client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"max_return_rate": 0.0},
        headers=world.headers["admin"],
    )
    leads = [held_lead(client, world, n) for n in range(3)]
    statuses = [give_back(client, world, lead).json["status"] for lead in leads]
    assert statuses == ["pending", "pending", "pending"]


# --- the list -------------------------------------------------------------------------------


def test_the_list_is_for_the_groups_admins_and_filters_by_status(client, world, make, auth):
    pending, contested = held_lead(client, world), held_lead(client, world, 1)
    give_back(client, world, pending)
    give_back(client, world, contested)
    post(client, world, f"{contested}/return/contest", "referrer", {"note": "好线索"})
    admin = world.headers["admin"]
    assert [r["lead_id"] for r in client.get("/api/v1/returns", headers=admin).json["items"]] == [
        contested
    ]
    by_status = client.get("/api/v1/returns?status=pending", headers=admin).json["items"]
    assert [r["lead_id"] for r in by_status] == [pending]
    assert client.get("/api/v1/returns?status=nope", headers=admin).status_code == 422
    assert client.get("/api/v1/returns", headers=world.headers["referrer"]).status_code == 403
    other = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    assert client.get("/api/v1/returns", headers=other).json["total"] == 0


# --- de-duplication after a return ---------------------------------------------------------


def share_again(client, world):
    """The customer of `held_lead(n=0)` shared again, by a store that does not sell the brand."""
    return client.post(
        "/api/v1/leads",
        json=lead_payload(customer={"name": "客户0", "phone": "13800000000"}),
        headers=world.headers["futian"],
    )


def _accepted_return(client, world, lead_id, reason):
    give_back(client, world, lead_id, reason)
    assert post(client, world, f"{lead_id}/return/accept", "referrer").status_code == 200


@pytest.mark.parametrize("reason", ["invalid_contact", "already_bought", "not_in_market"])
def test_a_returned_lead_does_not_block_a_new_share(client, world, reason):
    lead_id = held_lead(client, world)
    _accepted_return(client, world, lead_id, reason)
    again = share_again(client, world)
    assert again.status_code == 201, again.json


@pytest.mark.parametrize("reason", ["duplicate_of_own_customer", "spam"])
def test_an_own_customer_or_spam_return_still_blocks_a_new_share(client, world, reason):
    lead_id = held_lead(client, world)
    _accepted_return(client, world, lead_id, reason)
    again = share_again(client, world)
    assert again.status_code == 409 and again.json["reason"] == "duplicate_lead"
    assert again.json["duplicate_of"] == lead_id


def test_a_return_still_open_blocks_a_new_share(client, world):
    lead_id = held_lead(client, world)
    give_back(client, world, lead_id)
    again = share_again(client, world)
    assert again.status_code == 409 and again.json["reason"] == "duplicate_lead"


# --- reports --------------------------------------------------------------------------------


def test_the_funnel_counts_returned_leads(client, world):
    kept, returned = held_lead(client, world), held_lead(client, world, 1)
    _accepted_return(client, world, returned, "invalid_contact")
    counts = client.get("/api/v1/audit/funnel", headers=world.headers["admin"]).json["total"][
        "counts"
    ]
    assert counts["returned"] == 1 and counts["accepted"] == 2
    assert lead_status(client, world, kept) == "accepted"
    listed = client.get("/api/v1/leads?status=returned", headers=world.headers["admin"]).json
    assert [lead["id"] for lead in listed["items"]] == [returned]
