"""Store hours, closures, the group's clock settings and its calendar through the API."""

from __future__ import annotations

import pytest

from leadshare.clock import local_date, utcnow
from leadshare.hours import calendar
from leadshare.vocabulary import Role

EVERY_DAY = {day: [["09:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def shop(make, auth):
    """A group with two stores, its admin, each store's manager and staff, another group."""
    group = make.group()
    north, south = make.dealer(group, code="N1"), make.dealer(group, code="S1")
    other = make.group()
    users = {
        "admin": make.user(Role.GROUP_ADMIN, group=group),
        "manager": make.user(Role.MANAGER, dealer=north),
        "staff": make.user(Role.STAFF, dealer=north),
        "south_manager": make.user(Role.MANAGER, dealer=south),
        "platform": make.user(Role.PLATFORM_ADMIN),
        "stranger": make.user(Role.GROUP_ADMIN, group=other),
    }
    headers = {name: auth(user) for name, user in users.items()}
    return group, north, headers


def refused(response, status, reason=None):
    assert response.status_code == status, response.json
    if reason:
        assert response.json["reason"] == reason, response.json
    return response.json


def test_a_store_without_hours_reads_open_around_the_clock_from_its_group(client, shop):
    group, north, h = shop
    body = client.get(f"/api/v1/dealers/{north.id}/hours", headers=h["staff"]).json
    assert body["source"] == "group" and body["timezone"] == group.timezone
    assert body["weekly"]["mon"] == [["00:00", "24:00"]] and body["holidays"] is None


def test_the_group_admin_sets_default_hours_and_sla_settings(client, shop):
    group, north, h = shop
    settings = {
        "opening_hours": {"weekly": EVERY_DAY, "holidays": [["10:00", "18:00"]]},
        "contact_sla_minutes": 30,
        "skip_closed_over_hours": 24,
        "release_on_missed_contact": True,
        "visit_sla_days": 3,
        "sla_remind_at": 0.5,
    }
    response = client.patch(f"/api/v1/groups/{group.id}", json=settings, headers=h["admin"])
    assert response.status_code == 200, response.json
    assert {key: response.json[key] for key in settings} == settings
    hours = client.get(f"/api/v1/dealers/{north.id}/hours", headers=h["manager"]).json
    assert hours["weekly"]["sun"] == [["09:00", "21:00"]]
    assert hours["holidays"] == [["10:00", "18:00"]] and hours["source"] == "group"


def test_new_groups_have_the_documented_defaults(client, shop):
    group, _, h = shop
    body = client.get(f"/api/v1/groups/{group.id}", headers=h["admin"]).json
    assert body["opening_hours"] is None and body["contact_sla_minutes"] == 60
    assert body["skip_closed_over_hours"] == 72 and body["release_on_missed_contact"] is False
    assert body["visit_sla_days"] is None and body["sla_remind_at"] == 0.8


def test_a_group_admin_may_not_change_the_platforms_settings(client, shop):
    group, _, h = shop
    url = f"/api/v1/groups/{group.id}"
    refused(
        client.patch(url, json={"offer_ttl_minutes": 5}, headers=h["admin"]),
        403,
        "field_not_allowed",
    )
    refused(
        client.patch(url, json={"contact_sla_minutes": 5}, headers=h["manager"]),
        403,
        "role_not_allowed",
    )
    refused(client.patch(url, json={"contact_sla_minutes": 5}, headers=h["stranger"]), 404)
    ok = client.patch(
        url, json={"contact_sla_minutes": 5, "offer_ttl_minutes": 9}, headers=h["platform"]
    )
    assert ok.status_code == 200 and ok.json["offer_ttl_minutes"] == 9


@pytest.mark.parametrize(
    ("weekly", "reason"),
    [
        ({"mon": [["09:00", "25:00"]]}, "invalid_time"),
        ({"mon": [["18:00", "09:00"]]}, "end_before_start"),
        ({"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}, "overlapping_intervals"),
        ({"someday": [["09:00", "18:00"]]}, "unknown_day"),
        ({"mon": "all day"}, "validation_error"),
    ],
)
def test_bad_schedules_are_422_with_a_reason(client, shop, weekly, reason):
    group, north, h = shop
    body = refused(
        client.put(
            f"/api/v1/dealers/{north.id}/hours", json={"weekly": weekly}, headers=h["manager"]
        ),
        422,
        reason,
    )
    assert body["errors"]["json"]
    refused(
        client.patch(
            f"/api/v1/groups/{group.id}",
            json={"opening_hours": {"weekly": weekly}},
            headers=h["admin"],
        ),
        422,
        reason,
    )


def test_the_manager_overrides_the_store_hours_and_goes_back_to_the_groups(client, shop):
    group, north, h = shop
    url = f"/api/v1/dealers/{north.id}/hours"
    own = {"weekly": {"mon": [["13:00", "24:00"], ["09:00", "13:00"]]}, "holidays": []}
    body = client.put(url, json=own, headers=h["manager"]).json
    assert body["source"] == "store" and body["weekly"]["mon"] == [["09:00", "24:00"]]
    assert body["weekly"]["tue"] == [] and body["holidays"] == []
    assert client.get(url, headers=h["admin"]).json["source"] == "store"
    back = client.put(url, json={"weekly": None}, headers=h["manager"]).json
    assert back["source"] == "group" and back["weekly"]["tue"] == [["00:00", "24:00"]]


def test_only_admins_and_the_stores_own_manager_change_its_hours(client, shop):
    group, north, h = shop
    url = f"/api/v1/dealers/{north.id}/hours"
    body = {"weekly": EVERY_DAY}
    refused(client.put(url, json=body, headers=h["staff"]), 403, "role_not_allowed")
    refused(client.put(url, json=body, headers=h["south_manager"]), 403, "role_not_allowed")
    refused(client.put(url, json=body, headers=h["stranger"]), 404, "not_found")
    refused(client.get(url, headers=h["stranger"]), 404)
    assert client.put(url, json=body, headers=h["admin"]).status_code == 200
    assert client.put(url, json=body, headers=h["platform"]).status_code == 200


def test_closures_are_added_listed_and_removed(client, shop):
    _, north, h = shop
    url = f"/api/v1/dealers/{north.id}/closures"
    closure = {"starts_on": "2027-02-05", "ends_on": "2027-02-12", "reason": "装修"}
    made = client.post(url, json=closure, headers=h["manager"])
    assert made.status_code == 201, made.json
    assert {k: made.json[k] for k in closure} == closure
    assert [c["id"] for c in client.get(url, headers=h["staff"]).json] == [made.json["id"]]
    refused(client.delete(f"{url}/{made.json['id']}", headers=h["staff"]), 403, "role_not_allowed")
    refused(client.delete(f"{url}/{made.json['id']}", headers=h["south_manager"]), 403)
    assert client.delete(f"{url}/{made.json['id']}", headers=h["manager"]).status_code == 204
    refused(client.delete(f"{url}/{made.json['id']}", headers=h["manager"]), 404)
    assert client.get(url, headers=h["staff"]).json == []


def test_a_closure_that_ends_before_it_starts_is_422(client, shop):
    _, north, h = shop
    url = f"/api/v1/dealers/{north.id}/closures"
    bad = {"starts_on": "2027-02-12", "ends_on": "2027-02-05"}
    refused(client.post(url, json=bad, headers=h["admin"]), 422, "end_before_start")
    refused(client.post(url, json={"starts_on": "2027-02-12"}, headers=h["admin"]), 422)


def test_a_known_year_answers_the_built_in_holidays_in_chinese(client, shop):
    group, _, h = shop
    body = client.get(f"/api/v1/groups/{group.id}/calendar?year=2026", headers=h["staff"]).json
    assert body["year"] == 2026 and body["known"] is True
    assert body["source"].startswith("chinese-calendar")
    days = {d["date"]: d for d in body["days"]}
    assert days["2026-02-17"]["kind"] == "holiday" and days["2026-02-17"]["name"] == "春节"
    assert days["2026-02-14"]["kind"] == "workday"
    assert "2026-03-02" not in days


def test_an_unknown_year_is_typed_in_by_the_group_admin(client, shop):
    group, _, h = shop
    url = f"/api/v1/groups/{group.id}/calendar?year=2027"
    empty = client.get(url, headers=h["admin"]).json
    assert empty == {"year": 2027, "known": False, "source": "none", "days": []}
    days = [
        {"date": "2027-02-06", "kind": "holiday", "name": "春节"},
        {"date": "2027-02-07", "kind": "holiday", "name": "春节"},
        {"date": "2027-02-14", "kind": "workday"},
    ]
    response = client.put(url, json={"days": days}, headers=h["admin"])
    assert response.status_code == 200, response.json
    body = client.get(url, headers=h["staff"]).json
    assert body["known"] is True and body["source"] == "group"
    assert [(d["date"], d["kind"], d["source"]) for d in body["days"]] == [
        ("2027-02-06", "holiday", "group"),
        ("2027-02-07", "holiday", "group"),
        ("2027-02-14", "workday", "group"),
    ]
    replaced = client.put(url, json={"days": days[:1]}, headers=h["admin"]).json
    assert [d["date"] for d in replaced["days"]] == ["2027-02-06"]


def test_kind_normal_cancels_a_built_in_day(client, shop):
    group, _, h = shop
    url = f"/api/v1/groups/{group.id}/calendar?year=2026"
    body = client.put(
        url, json={"days": [{"date": "2026-02-14", "kind": "normal"}]}, headers=h["admin"]
    ).json
    dates = [d["date"] for d in body["days"]]
    assert "2026-02-14" not in dates and "2026-02-17" in dates
    assert body["source"].endswith("+ group")


def test_calendar_refusals(client, shop):
    group, _, h = shop
    url = f"/api/v1/groups/{group.id}/calendar"
    day = {"date": "2027-02-06", "kind": "holiday"}
    refused(
        client.put(f"{url}?year=2027", json={"days": [day]}, headers=h["manager"]),
        403,
        "role_not_allowed",
    )
    refused(client.put(f"{url}?year=2027", json={"days": [day]}, headers=h["stranger"]), 404)
    refused(
        client.put(f"{url}?year=2026", json={"days": [day]}, headers=h["admin"]),
        422,
        "date_outside_year",
    )
    refused(
        client.put(f"{url}?year=2027", json={"days": [day, day]}, headers=h["admin"]),
        422,
        "duplicate_day",
    )
    refused(client.put(url, json={"days": [day]}, headers=h["admin"]), 422, "validation_error")
    bad_kind = {"date": "2027-02-06", "kind": "festival"}
    refused(client.put(f"{url}?year=2027", json={"days": [bad_kind]}, headers=h["admin"]), 422)
    refused(client.get(f"{url}?year=1999", headers=h["admin"]), 422)


def test_a_year_no_source_knows_warns_in_check_and_metrics_until_typed_in(
    app, client, make, auth, monkeypatch
):
    """As when the package is older than the year: `flask leadshare check` warns (never
    fatal) and the advisory gauge is 0, until the group admin types the year in."""
    group = make.group()
    admin = auth(make.user(Role.GROUP_ADMIN, group=group))
    monkeypatch.setattr(calendar, "built_in_years", frozenset)  # the package knows no year
    this_year = local_date(utcnow(), group.timezone).year

    def check():
        result = app.test_cli_runner().invoke(args=["leadshare", "check"])
        line = next(x for x in result.output.splitlines() if x.split()[1:2] == ["calendar:"])
        return result.exit_code, line

    def gauge():
        metrics = client.get("/metrics").get_data(as_text=True)
        return next(x for x in metrics.splitlines() if 'check="calendar"' in x and x[0] != "#")

    warned_code, line = check()
    assert line.startswith("WARNING  calendar") and f"{group.code} {this_year}" in line
    assert gauge().endswith(" 0.0")
    for year in (this_year, this_year + 1):
        days = [{"date": f"{year}-01-01", "kind": "holiday", "name": "元旦"}]
        put = client.put(
            f"/api/v1/groups/{group.id}/calendar?year={year}",
            json={"days": days},
            headers=admin,
        )
        assert put.status_code == 200, put.json
    code, line = check()
    assert line.startswith("OK       calendar") and code == warned_code  # a warning, never fatal
    assert gauge().endswith(" 1.0")
