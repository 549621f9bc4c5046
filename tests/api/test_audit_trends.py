"""Chart data under the audit API: trends per week or month, speed histograms, the store league
table; each per role, in scope, masked. Reads the hand-built scene of test_audit (built once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadshare.vocabulary import Role

from ..factories import Factory, token_headers
from .test_audit import _csv, scene  # noqa: F401  (the module's shared scene)


def _since(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- trends -------------------------------------------------------------------------------


def test_trend_counts_the_auditors_leads_per_month_with_the_previous_range(client, scene):  # noqa: F811
    answer = client.get(
        f"/api/v1/audit/trends?period=month&created_from={_since(40)}",
        headers=scene.headers["audi"],
    )
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["period"] == "month" and body["time_zone"] == "Asia/Shanghai"
    assert len(body["points"]) in (2, 3)  # 40 days reach back one or two months
    shared = sum(p["shared"] for p in body["points"])
    accepted = sum(p["accepted"] for p in body["points"])
    delivered = sum(p["delivered"] for p in body["points"])
    assert (shared, accepted, delivered) == (8, 4, 1)  # the funnel's counts: voided left out
    assert body["totals"]["current"]["conversion"] == 0.125
    assert body["totals"]["previous"]["shared"] == 0 and body["totals"]["shared_change"] is None
    first = body["points"][0]
    assert first["start"].endswith("-01") and first["previous"]["start"] < first["start"]
    assert body["previous"]["to"] == body["current"]["from"]
    assert body["series"] == []


def test_trend_by_brand_and_by_group_for_a_group_admin(client, scene):  # noqa: F811
    h = scene.headers["admin"]
    by_brand = client.get(f"/api/v1/audit/trends?by=brand&created_from={_since(20)}", headers=h)
    assert by_brand.status_code == 200, by_brand.json
    series = {s["key"]["name"]: s["totals"]["current"]["shared"] for s in by_brand.json["series"]}
    assert series == {"奥迪": 7, "丰田": 1}  # group A only; the unroutable lead is group B's
    assert all(len(s["points"]) == len(by_brand.json["points"]) for s in by_brand.json["series"])
    by_group = client.get("/api/v1/audit/trends?by=group", headers=h).json
    assert [s["key"]["id"] for s in by_group["series"]] == [scene.world.group.id]
    assert len(by_group["points"]) == 12  # the last 12 weeks by default


def test_trend_of_the_toyota_auditor_sees_only_toyota(client, scene):  # noqa: F811
    body = client.get(
        f"/api/v1/audit/trends?by=province&created_from={_since(20)}",
        headers=scene.headers["toyota"],
    ).json
    assert body["totals"]["current"]["shared"] == 1
    assert [s["totals"]["current"]["shared"] for s in body["series"]] == [1]


@pytest.mark.parametrize(
    "query,field",
    [
        ("period=day", "period"),
        ("by=dealer", "by"),
        ("created_from=2020-01-01T00:00:00Z&created_to=2024-01-01T00:00:00Z", "created_to"),
        ("created_from=2000-01-01T00:00:00Z", "created_from"),  # until now: too long too
    ],
)
def test_trend_refuses_bad_arguments_with_field_errors(client, scene, query, field):  # noqa: F811
    answer = client.get(f"/api/v1/audit/trends?{query}", headers=scene.headers["audi"])
    assert answer.status_code == 422 and field in str(answer.json["errors"])


@pytest.mark.parametrize("path", ["trends", "speed"])
@pytest.mark.parametrize("who", ["referrer", "tianhe2", "platform"])
def test_trends_and_speed_are_for_auditors_and_group_admins_only(client, scene, path, who):  # noqa: F811
    answer = client.get(f"/api/v1/audit/{path}", headers=scene.headers[who])
    assert answer.status_code == 403 and answer.json["reason"] == "role_not_allowed"


# --- speed --------------------------------------------------------------------------------


def test_speed_histogram_bins_the_minutes_to_accept_with_median_and_p90(client, scene):  # noqa: F811
    body = client.get("/api/v1/audit/speed", headers=scene.headers["audi"]).json
    accept = body["to_accept"]
    # delivered 10, reverse 20, lost_visited 30, lost_at_once 60 minutes; voided left out
    assert accept["leads"] == 4 and accept["median_minutes"] == 25.0
    assert accept["p90_minutes"] == pytest.approx(51.0, abs=0.05)
    counts = {b["label"]: b["count"] for b in accept["bins"]}
    assert counts["<15m"] == 1 and counts["15–30m"] == 1 and counts["30–60m"] == 1
    assert counts["1–2h"] == 1 and sum(counts.values()) == 4
    # First contact from the holders' contact timers: delivered and lost_visited reached it
    # (skipped stages count); lost_at_once was lost uncontacted, reverse is not contacted yet.
    assert body["to_contact"]["leads"] == 2
    assert body["speeds"]["to_accept"]["wall"]["median_minutes"] == 25.0
    assert sorted(s["claimed"] for s in body["stores"]) == [1, 1, 1, 1]
    toyota = client.get("/api/v1/audit/speed", headers=scene.headers["toyota"]).json
    assert toyota["to_accept"]["leads"] == 0 and toyota["to_accept"]["median_minutes"] is None


# --- the store league table -------------------------------------------------------------


def _rows(answer) -> dict[str, dict]:
    assert answer.status_code == 200, answer.json
    return {row["store"]["code"]: row for row in answer.json["rows"]}


def test_league_for_the_group_admin_counts_each_store_and_shows_rewards(client, scene):  # noqa: F811
    rows = _rows(client.get("/api/v1/audit/league", headers=scene.headers["admin"]))
    assert set(rows) == {"SZ1", "GZ1", "GZ2", "GZ3", "SZ2"}
    sz1, gz1, gz2 = rows["SZ1"], rows["GZ1"], rows["GZ2"]
    assert sz1["shared"] == 7  # six 奥迪 leads and the 丰田 one (the voided one left out)
    assert sz1["held"] == 1 and sz1["taken"] == 1  # the reverse lead from 天河
    assert sz1["given"] == 3 and sz1["balance"] == 2
    partners = {p["store"]["code"]: (p["given"], p["taken"]) for p in sz1["partners"]}
    assert partners == {"GZ1": (1, 1), "GZ2": (1, 0), "GZ3": (1, 0)}
    # 天河 was offered six counted leads: accepted one, declined two, let one expire
    assert gz1["received"] == 6 and gz1["accepted"] == 1 and gz1["declined"] == 2
    assert gz1["expired_unseen"] == 1 and gz1["acceptance_rate"] == 0.25
    assert gz1["delivery_rate"] == 1.0 and gz1["median_minutes_to_accept"] == 10.0
    assert gz2["visit_rate"] == 1.0 and gz2["delivery_rate"] == 0.0
    assert rows["GZ3"]["lost_without_contact"] == 1
    assert sz1["rewards_earned"] == "0.00"
    median = client.get("/api/v1/audit/league", headers=scene.headers["admin"]).json["median"]
    assert median["stores"] == 4 and median["received"] == 2.5  # 6, 3, 2, 1; 福田 had none


def test_league_for_an_oem_auditor_hides_rewards_and_other_brands(client, scene):  # noqa: F811
    answer = client.get("/api/v1/audit/league?sort=received", headers=scene.headers["audi"])
    rows = _rows(answer)
    assert answer.json["rewards_shown"] is False
    assert all("rewards_earned" not in row for row in rows.values())
    assert "SZ2" not in rows  # sells only 丰田
    assert rows["B1"]["shared"] == 1  # group B's store sells 奥迪 too
    assert rows["SZ1"]["shared"] == 6
    received = [row["received"] for row in answer.json["rows"]]
    assert received == sorted(received, reverse=True)
    toyota = _rows(client.get("/api/v1/audit/league", headers=scene.headers["toyota"]))
    assert set(toyota) == {"SZ2"} and toyota["SZ2"]["received"] == 0


def test_league_for_a_manager_is_its_own_store_beside_the_group_median(client, scene):  # noqa: F811
    answer = client.get("/api/v1/audit/league", headers=scene.headers["tianhe2"])
    rows = _rows(answer)
    assert set(rows) == {"GZ1"} and rows["GZ1"]["rewards_earned"] == "0.00"
    assert answer.json["median"]["stores"] == 4 and answer.json["median"]["received"] is not None
    staff = client.get("/api/v1/audit/league", headers=scene.headers["tianhe"])
    assert staff.status_code == 403


def test_league_csv_has_every_store_and_no_rewards_for_auditors(client, scene):  # noqa: F811
    rows = _csv(client.get("/api/v1/audit/league?format=csv", headers=scene.headers["audi"]))
    assert {r["store_code"] for r in rows} >= {"SZ1", "GZ1", "B1"}
    assert "rewards_earned" not in rows[0] and "partners" in rows[0]
    admin = _csv(client.get("/api/v1/audit/league?format=csv", headers=scene.headers["admin"]))
    assert {r["rewards_earned"] for r in admin} == {"0.00"}


def test_league_of_another_group_admin_sees_none_of_group_a(client, scene):  # noqa: F811
    rows = _rows(client.get("/api/v1/audit/league", headers=scene.headers["b_admin"]))
    assert set(rows) == {"B1"} and rows["B1"]["shared"] == 1 and rows["B1"]["partners"] == []


def test_league_sort_by_store_ascending(client, scene):  # noqa: F811
    body = client.get(
        "/api/v1/audit/league?sort=store&order=asc", headers=scene.headers["admin"]
    ).json
    codes = [row["store"]["code"] for row in body["rows"]]
    assert codes == sorted(codes) and body["sort"] == "store" and body["order"] == "asc"


def test_league_refuses_dealer_staff_and_an_unknown_sort(app, client, scene):  # noqa: F811
    auth = token_headers(client)
    staff = auth(Factory(app).user(Role.STAFF, dealer=scene.world.referrer))
    assert client.get("/api/v1/audit/league", headers=staff).status_code == 403
    bad = client.get("/api/v1/audit/league?sort=password", headers=scene.headers["admin"])
    assert bad.status_code == 422
