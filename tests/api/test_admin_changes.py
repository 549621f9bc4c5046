"""What admins did (issue 20, item 6): every kind of change the issue names (users and roles,
store settings, programs and rules, funding and payouts, hours and calendar, voids, return
decisions) is an admin change record with its values before and after; the list filters by
admin, kind and time, and a platform admin's changes are listed too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadshare.clock import iso_z, local, utcnow
from leadshare.vocabulary import Role

from ..web.pages import Browser
from .lead_world import build_world
from .test_returns import give_back, post
from .test_rewards import claim, create_program, shared_lead


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def changes(client, headers, **query) -> list[dict]:
    listed = client.get("/api/v1/privacy/changes", query_string=query, headers=headers)
    assert listed.status_code == 200, listed.json
    return listed.json["items"]


def ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.json


def test_each_kind_of_change_the_issue_names_is_recorded_with_before_and_after(app, client, world):
    admin = world.headers["admin"]
    browser = Browser(app, world.users["admin"])
    panyu = world.users["panyu"]
    edited = browser.post(
        f"/admin/users/{panyu.id}",
        name="番禺店长",
        role="manager",
        dealer_id=str(world.panyu.id),
        active="y",
    )
    assert edited.status_code == 302, edited.text
    ok(
        client.patch(
            f"/api/v1/dealers/{world.tianhe.id}", json={"daily_capacity": 9}, headers=admin
        )
    )
    ok(client.post(f"/api/v1/dealers/{world.tianhe.id}/webhook-secret", headers=admin))
    program = create_program(client, world, rules=[{"event": "accepted", "amount": "50.00"}])
    fund = f"/api/v1/reward-programs/{program['id']}/fund"
    ok(client.post(fund, json={"amount": "500"}, headers=admin))
    lead = shared_lead(client, world, 1)
    claim(client, world, lead)
    payout = {"dealer_id": world.referrer.id, "amount": "20.00"}
    ok(client.post("/api/v1/payouts", json=payout, headers=admin), 201)
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    hours = {"weekly": {day: [["09:00", "21:00"]] for day in week}, "holidays": []}
    ok(client.put(f"/api/v1/dealers/{world.tianhe.id}/hours", json=hours, headers=admin))
    today = local(utcnow(), world.group.timezone).date()
    closure = {"starts_on": (today + timedelta(days=30)).isoformat(), "reason": "盘点"}
    closure["ends_on"] = closure["starts_on"]
    ok(client.post(f"/api/v1/dealers/{world.tianhe.id}/closures", json=closure, headers=admin), 201)
    days = {"days": [{"date": "2027-02-06", "kind": "holiday", "name": "春节"}]}
    url = f"/api/v1/groups/{world.group.id}/calendar?year=2027"
    ok(client.put(url, json=days, headers=admin))
    group = {"contact_sla_minutes": 45}
    ok(client.patch(f"/api/v1/groups/{world.group.id}", json=group, headers=admin))
    ok(client.post(f"/api/v1/leads/{lead}/void", json={"reason": "刷单"}, headers=admin))
    returned = shared_lead(client, world, 2)
    claim(client, world, returned)
    ok(give_back(client, world, returned), 201)
    ok(post(client, world, f"{returned}/return/contest", "referrer", {"note": "客户还在看车"}))
    decided = post(client, world, f"{returned}/return/decide", "admin", {"outcome": "kept"})
    ok(decided)

    items = changes(client, admin)
    by_kind: dict[str, list[dict]] = {}
    for item in items:
        by_kind.setdefault(item["action"], []).append(item)
    assert {
        "user.change",
        "store.change",
        "webhook_secret.create",
        "program.create",
        "rule.create",
        "ledger_entry.create",
        "store_hours.create",
        "store_closure.create",
        "calendar_day.create",
        "group.change",
        "lead.change",
        "return.change",
    } <= set(by_kind)
    [role] = [c for c in by_kind["user.change"] if "role" in c["after"]]
    assert role["object_id"] == str(panyu.id)
    assert role["before"]["role"] == "staff" and role["after"]["role"] == "manager"
    assert role["after"]["name"] == "番禺店长"
    entries = [c["after"] for c in by_kind["ledger_entry.create"]]
    funding = sorted(e["amount_minor"] for e in entries if e["kind"] == "funding")
    assert funding == [50000, 100000]  # the program's budget, then the funding
    [payout] = [e for e in entries if e["kind"] == "payout"]
    assert (payout["amount_minor"], payout["dealer_id"]) == (2000, world.referrer.id)
    [secret] = by_kind["webhook_secret.create"]
    assert secret["after"] == {"id": secret["after"]["id"], "dealer_id": world.tianhe.id}
    [sla] = by_kind["group.change"]
    assert (sla["before"], sla["after"]) == (
        {"contact_sla_minutes": 60},
        {"contact_sla_minutes": 45},
    )
    [hours_row] = by_kind["store_hours.create"]
    assert hours_row["after"]["weekly"]["mon"] == [["09:00", "21:00"]]
    decisions = [c for c in by_kind["return.change"] if c["after"].get("status") == "kept"]
    assert decisions and decisions[0]["before"]["status"] == "contested"
    assert decisions[0]["actor_id"] == world.users["admin"].id


def test_a_platform_admins_change_is_listed_and_the_filters_narrow_the_list(
    client, world, make, auth
):
    admin, platform = world.headers["admin"], auth(make.user(Role.PLATFORM_ADMIN))
    other_admin = make.user(Role.GROUP_ADMIN, group=world.group)
    other = auth(other_admin)
    ok(
        client.patch(
            f"/api/v1/dealers/{world.tianhe.id}", json={"daily_capacity": 3}, headers=admin
        )
    )
    ok(
        client.patch(
            f"/api/v1/dealers/{world.baiyun.id}", json={"daily_capacity": 4}, headers=other
        )
    )
    ok(
        client.post(
            "/api/v1/oems", json={"name": "一汽-大众", "brands": ["捷达"]}, headers=platform
        ),
        201,
    )
    ok(
        client.patch(
            f"/api/v1/groups/{world.group.id}", json={"max_offers_per_lead": 3}, headers=platform
        )
    )

    everything = changes(client, platform)
    assert {"oem.create", "oem_brand.create"} <= {c["action"] for c in everything}
    in_group = changes(client, admin)
    assert "oem.create" not in {c["action"] for c in in_group}  # no group: platform only
    [limit] = [c for c in in_group if c["action"] == "group.change"]
    assert limit["after"] == {"max_offers_per_lead": 3}  # the platform admin's, in the group
    mine = changes(client, admin, actor_id=other_admin.id)
    assert [(c["object_id"], c["after"]) for c in mine] == [
        (str(world.baiyun.id), {"daily_capacity": 4})
    ]
    stores = changes(client, admin, object_type="store")
    assert {c["object_id"] for c in stores} == {str(world.tianhe.id), str(world.baiyun.id)}
    later = iso_z(utcnow() + timedelta(minutes=5))
    assert changes(client, admin, **{"from": later}) == []
    bad = client.get("/api/v1/privacy/changes?object_type=nonsense", headers=admin)
    assert bad.status_code == 422
    csv = client.get("/api/v1/privacy/changes?format=csv&lang=zh&object_type=store", headers=admin)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    assert text.splitlines()[0].startswith("\ufeff") and "修改前" in text.splitlines()[0]
    assert len(text.strip().splitlines()) == 3
