"""OEM and group audit: lead lists, funnel, flows, chain checks, CSV and scope (SPEC 7)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from leadshare.extensions import db
from leadshare.leads.models import Lead, LeadEvent, Offer
from leadshare.vocabulary import Role

from ..factories import Factory, token_headers
from .lead_world import SZ_NANSHAN, World, build_world, lead_payload

VIN = "LSVAU2A31N2123456"
SZ_FUTIAN_CUSTOMER = {"latitude": 22.5410, "longitude": 114.0550}
MINUTES_TO_ACCEPT = {"delivered": 10, "lost_visited": 30, "lost_at_once": 60, "reverse": 20}


@dataclass
class Scene:
    world: World
    leads: dict[str, str]
    headers: dict[str, dict[str, str]]
    group_b: Any


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _post(client, headers, phone: str, **overrides) -> str:
    customer = {"name": "张三丰", "phone": phone, **overrides.pop("customer", {})}
    response = client.post(
        "/api/v1/leads", json=lead_payload(customer=customer, **overrides), headers=headers
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def _act(client, headers, lead_id: str, action: str, body: dict) -> dict:
    response = client.post(f"/api/v1/leads/{lead_id}/{action}", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture(scope="module")
def scene(app, shared_rows) -> Scene:
    """Every stage, declines, an expiry, two losses, a void, an unroutable lead, two groups.

    Built once for the module (`shared_rows`): each test's own changes are rolled back.

    Brand 奥迪 in group A: `delivered` (10 min to accept), `lost_visited` (declined, then lost
    after a visit, 30 min), `lost_at_once` (expired, declined, then lost with no contact,
    60 min), `open` (declined three times), `withdrawn`, `voided` (accepted, then voided),
    `pending` (offered), `reverse` (posted by 天河, accepted by 南山, 20 min). Group B:
    `unroutable` (奥迪, no other store sells it). Brand 丰田 in group A: `toyota` (open).
    """
    client, make, app_ctx = app.test_client(), Factory(app), app.app_context()
    auth = token_headers(client)
    w = build_world(make, auth)
    h = w.headers
    for dealer in (w.referrer, w.tianhe, w.baiyun, w.panyu):  # locate the stores: adcodes
        located = client.patch(
            f"/api/v1/dealers/{dealer.id}",
            json={"latitude": dealer.latitude, "longitude": dealer.longitude},
            headers=h["admin"],
        )
        assert located.status_code == 200, located.json
    group_b = make.group()
    lonely = make.dealer(group_b, code="B1", name="B组深圳奥迪", brands=["奥迪"], at=SZ_NANSHAN)
    h = {
        **h,
        "b_staff": auth(make.user(Role.STAFF, dealer=lonely)),
        "b_admin": auth(make.user(Role.GROUP_ADMIN, group=group_b)),
        "audi": auth(make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪", "大众"]))),
        "toyota": auth(make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["丰田"]))),
        "platform": auth(make.user(Role.PLATFORM_ADMIN)),
    }
    ref = h["referrer"]
    leads: dict[str, str] = {}

    def act(who: str, name: str, action: str, **body: Any) -> dict:
        return _act(client, h[who], leads[name], action, body)

    leads["delivered"] = _post(client, ref, "13800000001", customer={"wechat_id": "zsf88"})
    act("tianhe", "delivered", "claim")
    act("tianhe", "delivered", "progress", status="ordered", order_ref="SO-1")
    act("tianhe", "delivered", "progress", status="delivered", vin=VIN)

    leads["lost_visited"] = _post(client, ref, "13800000002")
    act("tianhe", "lost_visited", "decline", reason="no_stock")
    act("baiyun", "lost_visited", "claim")
    act("baiyun", "lost_visited", "progress", status="visited")
    act("baiyun", "lost_visited", "progress", status="lost", lost_reason="price")

    leads["lost_at_once"] = _post(client, ref, "13800000003")
    with app_ctx:
        db.session.execute(
            update(Offer)
            .where(Offer.lead_id == _row_id(leads["lost_at_once"]), Offer.status == "pending")
            .values(expires_at=_now() - timedelta(seconds=1))
        )
        db.session.commit()
    read = client.get(f"/api/v1/leads/{leads['lost_at_once']}", headers=ref)
    assert read.json["current_offer"]["status"] == "expired"  # a read shows it; the sweep writes
    assert "1 offers expired" in app.test_cli_runner().invoke(args=["leadshare", "sweep"]).output
    act("baiyun", "lost_at_once", "decline", reason="too_far")
    act("panyu", "lost_at_once", "claim")
    act("panyu", "lost_at_once", "progress", status="lost", lost_reason="unreachable")

    leads["open"] = _post(client, ref, "13800000004")
    act("tianhe", "open", "decline", reason="no_stock")
    act("baiyun", "open", "decline", reason="capacity")
    assert act("panyu", "open", "decline", reason="no_stock")["status"] == "open"

    leads["withdrawn"] = _post(client, ref, "13800000005")
    act("referrer", "withdrawn", "withdraw", reason="客户改主意")

    leads["voided"] = _post(client, ref, "13800000006")
    act("tianhe", "voided", "claim")

    leads["pending"] = _post(client, ref, "13800000007")

    leads["reverse"] = _post(client, h["tianhe"], "13800000008", location=dict(SZ_FUTIAN_CUSTOMER))
    act("referrer", "reverse", "claim")

    leads["unroutable"] = _post(client, h["b_staff"], "13800000009")
    leads["toyota"] = _post(client, ref, "13800000010", brand="丰田")

    with app_ctx:  # what the API cannot do (yet): void, and choose how long acceptance took
        db.session.execute(
            update(Lead)
            .where(Lead.public_id == leads["voided"])
            .values(voided_at=_now(), void_reason="刷单")
        )
        for name, minutes in {**MINUTES_TO_ACCEPT, "voided": 500}.items():
            lead = db.session.scalar(select(Lead).where(Lead.public_id == leads[name]))
            lead.created_at = lead.accepted_at - timedelta(minutes=minutes)
        db.session.commit()
    statuses = {
        name: _status(client, h["b_admin" if name == "unroutable" else "admin"], lead_id)
        for name, lead_id in leads.items()
    }
    assert statuses == {
        "delivered": "delivered",
        "lost_visited": "lost",
        "lost_at_once": "lost",
        "open": "open",
        "withdrawn": "withdrawn",
        "voided": "accepted",
        "pending": "offered",
        "reverse": "accepted",
        "unroutable": "unroutable",
        "toyota": "open",
    }
    return Scene(w, leads, h, group_b)


def _row_id(public_id: str) -> int:
    return db.session.scalar(select(Lead.id).where(Lead.public_id == public_id))


def _status(client, headers, lead_id) -> str:
    return client.get(f"/api/v1/leads/{lead_id}", headers=headers).json["status"]


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith('.csv"')
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf") and b"\r\n" in body
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


# --- the funnel ---------------------------------------------------------------------------


def test_funnel_counts_every_stage_and_rates_of_the_hand_built_scenario(client, scene):
    funnel = client.get("/api/v1/audit/funnel", headers=scene.headers["audi"])
    assert funnel.status_code == 200, funnel.json
    total = funnel.json["total"]
    assert total["key"] is None and funnel.json["rows"] == []
    assert total["counts"] == {
        "posted": 8,
        "offered": 7,
        "accepted": 4,
        "contacted": 2,
        "visited": 2,
        "ordered": 1,
        "delivered": 1,
        "lost": 2,
        "open": 1,
        "unroutable": 1,
        "withdrawn": 1,
        "returned": 0,
        "lost_without_contact": 1,
    }
    assert total["rates"] == {
        "posted_to_offered": 0.875,
        "offered_to_accepted": 0.5714,
        "accepted_to_contacted": 0.5,
        "contacted_to_visited": 1.0,
        "visited_to_ordered": 0.5,
        "ordered_to_delivered": 1.0,
        "posted_to_delivered": 0.125,
    }
    assert total["time_to_accept"] == {"accepted": 4, "median_minutes": 25.0, "p90_minutes": 51.0}
    assert total["offers"] == {
        "made": 12,
        "pending": 1,
        "accepted": 4,
        "declined": 5,
        "expired": 1,
        "withdrawn": 1,
        "resolved": 10,
        "expired_share": 0.1,
        "declined_share": 0.5,
        "decline_reasons": [
            {"reason": "no_stock", "count": 3, "share": 0.6},
            {"reason": "capacity", "count": 1, "share": 0.2},
            {"reason": "too_far", "count": 1, "share": 0.2},
        ],
    }
    assert total["lost_reasons"] == [
        {"reason": "price", "count": 1, "share": 0.5},
        {"reason": "unreachable", "count": 1, "share": 0.5},
    ]


def test_funnel_shows_which_holders_mark_leads_lost(client, scene):
    holders = client.get("/api/v1/audit/funnel", headers=scene.headers["audi"]).json[
        "lost_by_holder"
    ]
    w = scene.world
    assert holders == [
        {
            "holder": {"id": w.panyu.id, "code": "GZ3", "name": "广州番禺奥迪"},
            "held": 1,
            "lost": 1,
            "lost_share": 1.0,
            "lost_without_contact": 1,
            "lost_reasons": [{"reason": "unreachable", "count": 1}],
        },
        {
            "holder": {"id": w.baiyun.id, "code": "GZ2", "name": "广州白云奥迪"},
            "held": 1,
            "lost": 1,
            "lost_share": 1.0,
            "lost_without_contact": 0,
            "lost_reasons": [{"reason": "price", "count": 1}],
        },
    ]


def test_funnel_by_dealer_keys_leads_by_holder_and_offers_by_the_store_offered(client, scene):
    report = client.get("/api/v1/audit/funnel?group_by=dealer", headers=scene.headers["audi"]).json
    rows = {(row["key"] or {}).get("code"): row for row in report["rows"]}
    assert set(rows) == {"SZ1", "GZ1", "GZ2", "GZ3", None}
    assert rows[None]["counts"]["posted"] == 4  # open, withdrawn, pending, unroutable
    tianhe = rows["GZ1"]
    assert tianhe["counts"]["posted"] == 1 and tianhe["counts"]["delivered"] == 1
    assert tianhe["time_to_accept"]["median_minutes"] == 10.0
    assert {k: tianhe["offers"][k] for k in ("made", "accepted", "declined", "expired")} == {
        "made": 6,
        "accepted": 1,
        "declined": 2,
        "expired": 1,
    }
    assert tianhe["offers"]["expired_share"] == 0.25 and tianhe["offers"]["declined_share"] == 0.5
    assert rows["SZ1"]["counts"]["accepted"] == 1 and rows["SZ1"]["offers"]["made"] == 1
    assert rows["GZ3"]["lost_reasons"] == [{"reason": "unreachable", "count": 1, "share": 1.0}]
    assert report["total"]["counts"]["posted"] == 8 and report["total"]["offers"]["made"] == 12
    assert report["rows_total"] == 5 and report["lost_by_holder_total"] == 2
    limited = client.get(
        "/api/v1/audit/funnel?group_by=dealer&limit=1", headers=scene.headers["audi"]
    ).json
    assert len(limited["rows"]) == 1 and limited["rows_total"] == 5
    assert [h["holder"]["code"] for h in limited["lost_by_holder"]] == ["GZ3"]
    assert limited["lost_by_holder_total"] == 2


@pytest.mark.parametrize(
    "group_by, expected",
    [
        ("group", {"G-A": 7, "G-B": 1}),
        ("channel", {"livestream": 8}),
        ("province", {"广东省": 8}),
    ],
)
def test_funnel_groups_by_group_channel_and_province(client, scene, group_by, expected):
    rows = client.get(
        f"/api/v1/audit/funnel?group_by={group_by}", headers=scene.headers["audi"]
    ).json["rows"]
    codes = {scene.world.group.code: "G-A", scene.group_b.code: "G-B"}
    found = {
        codes.get(row["key"]["code"], row["key"]["name"]): row["counts"]["posted"] for row in rows
    }
    assert found == expected


def test_funnel_filters_and_empty_rates_are_null(client, scene):
    h = scene.headers["audi"]
    lost = client.get("/api/v1/audit/funnel?status=lost", headers=h).json["total"]
    assert lost["counts"]["posted"] == 2 and lost["counts"]["lost"] == 2
    empty = client.get("/api/v1/audit/funnel?created_from=2999-01-01T00:00:00Z", headers=h).json
    assert empty["total"]["counts"]["posted"] == 0
    assert set(empty["total"]["rates"].values()) == {None}
    assert empty["total"]["time_to_accept"] == {
        "accepted": 0,
        "median_minutes": None,
        "p90_minutes": None,
    }
    assert empty["total"]["offers"]["expired_share"] is None
    group_b = client.get(f"/api/v1/audit/funnel?group_id={scene.group_b.id}", headers=h).json
    assert group_b["total"]["counts"]["unroutable"] == 1
    bad = client.get("/api/v1/audit/funnel?group_by=colour", headers=h)
    assert bad.status_code == 422 and "group_by" in bad.json["errors"]["query"]


# --- flows --------------------------------------------------------------------------------


def test_flow_matrix_at_dealer_level_with_reciprocity(client, scene):
    w = scene.world
    report = client.get("/api/v1/audit/flows", headers=scene.headers["audi"]).json
    cells = [
        (
            c["from"]["code"],
            c["to"]["code"],
            c["leads"],
            c["accepted"],
            c["delivered"],
            c["accept_rate"],
            c["delivery_rate"],
        )
        for c in report["cells"]
    ]
    assert cells == [
        ("SZ1", "GZ1", 6, 1, 1, 0.1667, 1.0),
        ("SZ1", "GZ2", 3, 1, 0, 0.3333, 0.0),
        ("SZ1", "GZ3", 2, 1, 0, 0.5, 0.0),
        ("GZ1", "SZ1", 1, 1, 0, 1.0, 0.0),
    ]
    assert report["cells"][0]["from"] == {
        "id": w.referrer.id,
        "code": "SZ1",
        "name": "深圳南山奥迪",
    }
    pairs = [
        (p["a"]["code"], p["b"]["code"], p["a_to_b"], p["b_to_a"], p["balance"])
        for p in report["pairs"]
    ]
    assert pairs == [
        ("SZ1", "GZ2", 1, 0, 1),
        ("SZ1", "GZ3", 1, 0, 1),
        ("SZ1", "GZ1", 1, 1, 0),
    ]
    assert report["cells_total"] == 4 and report["pairs_total"] == 3
    limited = client.get("/api/v1/audit/flows?limit=1", headers=scene.headers["audi"]).json
    assert len(limited["cells"]) == 1 and limited["cells_total"] == 4


def test_flow_matrix_at_city_and_province_level_counts_each_lead_once(client, scene):
    h = scene.headers["audi"]
    city = client.get("/api/v1/audit/flows?level=city", headers=h).json["cells"]
    assert [
        (c["from"]["name"], c["to"]["name"], c["leads"], c["accepted"], c["delivered"])
        for c in city
    ] == [("深圳市", "广州市", 6, 3, 1), ("广州市", "深圳市", 1, 1, 0)]
    assert city[0]["from"]["code"] == "440300" and city[0]["to"]["code"] == "440100"
    province = client.get("/api/v1/audit/flows?level=province", headers=h).json["cells"]
    assert [(c["from"]["name"], c["to"]["name"], c["leads"], c["accepted"]) for c in province] == [
        ("广东省", "广东省", 7, 4)
    ]


# --- lists, masking, CSV ------------------------------------------------------------------


def test_lead_list_filters_and_pages(client, scene):
    h = scene.headers["audi"]
    everything = client.get("/api/v1/audit/leads?per_page=3", headers=h).json
    assert everything["total"] == 9 and len(everything["items"]) == 3  # the void is listed
    assert everything["page"] == 1 and everything["per_page"] == 3
    lost = client.get("/api/v1/audit/leads?status=lost", headers=h).json["items"]
    assert {item["id"] for item in lost} == {
        scene.leads["lost_visited"],
        scene.leads["lost_at_once"],
    }
    by_group = client.get(f"/api/v1/audit/leads?group_id={scene.group_b.id}", headers=h).json
    assert [item["id"] for item in by_group["items"]] == [scene.leads["unroutable"]]
    for query, total in (
        ("city=广州市", 8),
        ("city=深圳市", 1),
        ("province=广东省", 9),
        ("channel=livestream", 9),
        ("channel=phone", 0),
        ("brand=奥迪", 9),
    ):
        assert client.get(f"/api/v1/audit/leads?{query}", headers=h).json["total"] == total, query
    items = client.get("/api/v1/audit/leads?per_page=50", headers=h).json["items"]
    voided = next(item for item in items if item["id"] == scene.leads["voided"])
    assert voided["voided_at"] is not None and voided["void_reason"] == "刷单"
    assert voided["minutes_to_accept"] == 500.0 and voided["stage_reached"] == "accepted"


def test_contacts_are_masked_in_json_and_csv(client, scene):
    h = scene.headers["audi"]
    items = client.get("/api/v1/audit/leads?per_page=50", headers=h).json["items"]
    first = next(i for i in items if i["id"] == scene.leads["delivered"])
    assert first["customer"] == {
        "name": "张**",
        "phone": "138****0001",
        "wechat_id": "***",
        "masked": True,
    }
    assert "address" not in first["location"] and "notes" not in first
    rows = _csv(client.get("/api/v1/audit/leads?format=csv", headers=h))
    assert len(rows) == 9
    row = next(r for r in rows if r["id"] == scene.leads["delivered"])
    assert (row["customer_name"], row["customer_phone"], row["customer_wechat_id"]) == (
        "张**",
        "138****0001",
        "***",
    )
    assert row["referrer_name"] == "深圳南山奥迪" and row["holder_name"] == "广州天河奥迪"
    assert row["status"] == "delivered" and row["minutes_to_accept"] == "10.0"
    outputs = [
        client.get("/api/v1/audit/leads?per_page=50", headers=h).get_data(as_text=True),
        client.get("/api/v1/audit/leads?format=csv", headers=h).get_data(as_text=True),
        client.get(f"/api/v1/leads/{scene.leads['delivered']}/trail", headers=h).get_data(
            as_text=True
        ),
    ]
    for report in ("funnel", "flows", "funnel?group_by=dealer"):
        for fmt in ("", "format=csv"):
            joiner = "&" if "?" in report else "?"
            outputs.append(
                client.get(f"/api/v1/audit/{report}{joiner}{fmt}", headers=h).get_data(as_text=True)
            )
    for text in outputs:
        assert "13800000001" not in text and "zsf88" not in text and "张三丰" not in text
        assert "客户周末有空" not in text  # notes


def test_reports_export_as_excel_ready_csv(client, scene):
    h = scene.headers["audi"]
    funnel = _csv(client.get("/api/v1/audit/funnel?group_by=group&format=csv", headers=h))
    assert [row["scope"] for row in funnel] == ["total", "group", "group"]
    total = funnel[0]
    assert (total["posted"], total["delivered"], total["posted_to_offered"]) == ("8", "1", "0.875")
    assert (total["median_minutes_to_accept"], total["p90_minutes_to_accept"]) == ("25.0", "51.0")
    assert total["offers_expired_share"] == "0.1"
    assert total["decline_reasons"] == "no_stock: 3; capacity: 1; too_far: 1"
    assert total["lost_reasons"] == "price: 1; unreachable: 1"
    holders = _csv(client.get("/api/v1/audit/funnel?format=csv&table=lost_by_holder", headers=h))
    assert [(r["holder_name"], r["lost"], r["lost_without_contact"]) for r in holders] == [
        ("广州番禺奥迪", "1", "1"),
        ("广州白云奥迪", "1", "0"),
    ]
    flows = _csv(client.get("/api/v1/audit/flows?level=city&format=csv&limit=1", headers=h))
    assert [(r["from_name"], r["to_name"], r["leads"]) for r in flows] == [
        ("深圳市", "广州市", "6"),
        ("广州市", "深圳市", "1"),
    ]  # CSV has every cell, whatever the limit
    pairs = _csv(client.get("/api/v1/audit/flows?format=csv&table=reciprocity", headers=h))
    assert [(r["a_code"], r["b_code"], r["balance"]) for r in pairs][-1] == ("SZ1", "GZ1", "0")
    verify = client.get(
        "/api/v1/audit/verify?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z&format=csv",
        headers=h,
    )
    assert _csv(verify) == []


# --- scope --------------------------------------------------------------------------------

REPORTS = (
    "/api/v1/audit/leads",
    "/api/v1/audit/funnel",
    "/api/v1/audit/flows",
    "/api/v1/audit/verify?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z",
)


def test_an_auditor_sees_only_its_brands(client, scene):
    toyota = client.get("/api/v1/audit/leads", headers=scene.headers["toyota"]).json
    assert [item["id"] for item in toyota["items"]] == [scene.leads["toyota"]]
    audi = scene.headers["audi"]
    assert client.get("/api/v1/audit/leads?brand=丰田", headers=audi).json["total"] == 0
    funnel = client.get("/api/v1/audit/funnel?brand=丰田&group_by=dealer", headers=audi).json
    assert funnel["total"]["counts"]["posted"] == 0 and funnel["rows"] == []
    flows = client.get("/api/v1/audit/flows", headers=scene.headers["toyota"]).json
    assert flows["cells"] == [] and flows["pairs"] == []
    toyota_trail = f"/api/v1/leads/{scene.leads['toyota']}/trail"
    assert client.get(toyota_trail, headers=audi).status_code == 404
    assert client.get(REPORTS[3], headers=audi).json["checked"] == 9
    assert client.get(REPORTS[3], headers=scene.headers["toyota"]).json["checked"] == 1


def test_a_group_admin_sees_only_its_group(client, scene):
    admin_a, admin_b = scene.headers["admin"], scene.headers["b_admin"]
    assert client.get("/api/v1/audit/leads", headers=admin_a).json["total"] == 9  # with 丰田
    other = f"/api/v1/audit/leads?group_id={scene.group_b.id}"
    assert client.get(other, headers=admin_a).json["total"] == 0
    mine = client.get("/api/v1/audit/leads", headers=admin_b).json
    assert [item["id"] for item in mine["items"]] == [scene.leads["unroutable"]]
    funnel_a = client.get("/api/v1/audit/funnel", headers=admin_a).json["total"]["counts"]
    assert funnel_a["posted"] == 8 and funnel_a["open"] == 2 and funnel_a["unroutable"] == 0
    funnel_b = client.get("/api/v1/audit/funnel?group_by=group", headers=admin_b).json["rows"]
    assert [row["key"]["id"] for row in funnel_b] == [scene.group_b.id]
    assert client.get(REPORTS[3], headers=admin_b).json["checked"] == 1


@pytest.mark.parametrize("who", ["referrer", "tianhe2", "platform"])
@pytest.mark.parametrize("url", REPORTS)
def test_other_roles_are_refused(client, scene, who, url):
    for suffix in ("", "&format=csv" if "?" in url else "?format=csv"):
        response = client.get(url + suffix, headers=scene.headers[who])
        assert response.status_code == 403 and response.json["reason"] == "role_not_allowed"


def test_auditor_reads_trails_of_its_brand_but_writes_nothing(client, scene):
    h, lead_id = scene.headers["audi"], scene.leads["lost_at_once"]
    trail = client.get(f"/api/v1/leads/{lead_id}/trail", headers=h)
    assert trail.status_code == 200 and trail.json["lead"]["customer"]["masked"] is True
    assert [o["status"] for o in trail.json["offers"]] == ["expired", "declined", "accepted"]
    assert client.get(f"/api/v1/leads/{lead_id}/verify", headers=h).json["ok"] is True
    for action, body in (("claim", {}), ("withdraw", {}), ("progress", {"status": "contacted"})):
        response = client.post(f"/api/v1/leads/{lead_id}/{action}", json=body, headers=h)
        assert response.status_code == 403, action
    assert client.post("/api/v1/leads", json=lead_payload(), headers=h).status_code == 403
    assert client.post("/api/v1/audit/funnel", headers=h).status_code == 405


# --- chain verification over a range ------------------------------------------------------


def test_range_verification_reports_chains_altered_in_the_database(client, scene, app_ctx):
    h, leads = scene.headers["audi"], scene.leads
    intact = client.get(REPORTS[3], headers=h).json
    assert intact == {"checked": 9, "broken": []}
    with app_ctx:
        altered = db.session.scalar(
            select(LeadEvent).where(
                LeadEvent.lead_id == _row_id(leads["lost_visited"]), LeadEvent.seq == 2
            )
        )
        altered.data = {**altered.data, "distance_km": 0.001}
        last = db.session.scalar(
            select(func.max(LeadEvent.seq)).where(LeadEvent.lead_id == _row_id(leads["delivered"]))
        )
        db.session.execute(
            delete(LeadEvent).where(
                LeadEvent.lead_id == _row_id(leads["delivered"]), LeadEvent.seq == last
            )
        )
        db.session.commit()
    report = client.get(REPORTS[3], headers=h).json
    assert report["checked"] == 9
    assert sorted(report["broken"], key=lambda b: b["reason"]) == [
        {"id": leads["lost_visited"], "broken_at": 2, "reason": "hash_mismatch"},
        {"id": leads["delivered"], "broken_at": last - 1, "reason": "head_mismatch"},
    ]
    narrow = client.get(
        "/api/v1/audit/verify?from=2999-01-01T00:00:00Z&to=2999-01-02T00:00:00Z", headers=h
    ).json
    assert narrow == {"checked": 0, "broken": []}
    missing = client.get("/api/v1/audit/verify", headers=h)
    assert missing.status_code == 422 and set(missing.json["errors"]["query"]) == {"from", "to"}
    rows = _csv(client.get(REPORTS[3] + "&format=csv", headers=h))
    assert {row["reason"] for row in rows} == {"hash_mismatch", "head_mismatch"}


# --- bad input and hostile text -----------------------------------------------------------


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/audit/funnel?group_by=city", "group_by"),
        ("/api/v1/audit/flows?level=street", "level"),
        (
            "/api/v1/audit/leads?created_from=2024-02-01T00:00:00Z&created_to=2024-01-01T00:00:00Z",
            "created_to",
        ),  # noqa: E501
        ("/api/v1/audit/leads?status=sold", "status"),
        ("/api/v1/audit/funnel?format=xlsx", "format"),
        ("/api/v1/audit/verify?from=2024-01-01T00:00:00Z", "to"),
        ("/api/v1/audit/verify?from=yesterday&to=2024-01-01T00:00:00Z", "from"),
    ],
)
def test_bad_report_parameters_answer_422_naming_the_field(client, scene, url, field):
    response = client.get(url, headers=scene.headers["audi"])
    assert response.status_code == 422
    assert response.json["reason"] == "validation_error"
    assert field in response.json["errors"]["query"]


def test_a_lost_reason_typed_as_a_formula_is_refused_and_no_csv_can_carry_it(client, scene):
    h = scene.headers
    formula = '=HYPERLINK("http://evil.example","点我")'
    lead_id = _post(client, h["referrer"], "13800000011")
    _act(client, h["tianhe"], lead_id, "claim", {})
    refused = client.post(
        f"/api/v1/leads/{lead_id}/progress",
        json={"status": "lost", "lost_reason": formula},
        headers=h["tianhe"],
    )
    assert refused.status_code == 422 and "lost_reason" in refused.json["errors"]["json"]
    funnel = _csv(client.get("/api/v1/audit/funnel?format=csv", headers=h["audi"]))
    assert formula not in funnel[0]["lost_reasons"]


def test_a_store_name_typed_as_a_formula_stays_text_in_the_flow_csvs(client, scene):
    h = scene.headers
    formula = "+cmd|' /C calc'!A0"
    renamed = client.patch(
        f"/api/v1/dealers/{scene.world.tianhe.id}", json={"name": formula}, headers=h["admin"]
    )
    assert renamed.status_code == 200, renamed.json
    matrix = _csv(client.get("/api/v1/audit/flows?level=dealer&format=csv", headers=h["admin"]))
    assert "'" + formula in {row["to_name"] for row in matrix}
    assert all(row["leads"].isdigit() for row in matrix)  # figures stay numbers
    pairs = _csv(client.get("/api/v1/audit/flows?format=csv&table=reciprocity", headers=h["admin"]))
    names = {row["a_name"] for row in pairs} | {row["b_name"] for row in pairs}
    assert "'" + formula in names and formula not in names
