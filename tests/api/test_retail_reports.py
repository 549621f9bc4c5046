"""OEM retail reports through the API (issue 17 item 3): upload as text/csv or multipart, the
per-row report, the same file twice, flags and the audit, a program's confirmed delivery
credits, and who may see what."""

from __future__ import annotations

import io
from datetime import date

import pytest

from leadshare.vocabulary import Role

from ..retail_world import delivered, report_csv, retail_network, vin
from ..services.reward_world import assert_ledger_balanced
from .test_rewards import create_program

TODAY = date.today()


@pytest.fixture
def world(make, auth, client):
    world = retail_network(make, auth, client)
    world.toyota = make.oem(name="广汽丰田", brands=["丰田"])
    world.headers["toyota"] = auth(make.user(Role.OEM_AUDITOR, oem=world.toyota))
    other_group = make.group(name="另一集团")
    world.headers["stranger"] = auth(make.user(Role.GROUP_ADMIN, group=other_group))
    return world


def upload(client, world, rows, who="auditor", query=""):
    return client.post(
        f"/api/v1/retail-reports{query}",
        data=report_csv(rows),
        headers={**world.headers[who], "Content-Type": "text/csv"},
    )


def trail(client, world, lead_id):
    answer = client.get(f"/api/v1/leads/{lead_id}/trail", headers=world.headers["admin"])
    assert answer.status_code == 200, answer.json
    return answer.json["events"]


def test_an_auditor_uploads_a_report_and_reads_its_rows(client, world):
    rows = [
        (vin(1), "FAW-GZ1", TODAY),
        ("LSVAU2A31N2123457", "FAW-GZ1", TODAY),
        (vin(2), "FAW-ZZ", TODAY),
        (vin(3), "FAW-GZ2", "yesterday"),
        (vin(1), "FAW-GZ2", TODAY),
    ]
    created = upload(client, world, rows, query="?filename=2026-12.csv")
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["oem"], body["filename"], body["group_id"]) == ("一汽-大众", "2026-12.csv", None)
    assert (body["rows_total"], body["rows_good"], body["rows_bad"], body["rows_duplicate"]) == (
        5,
        1,
        3,
        1,
    )
    assert [(p["row"], p["status"], p["reason"]) for p in body["problems"]] == [
        (3, "bad", "invalid_vin"),
        (4, "bad", "unknown_dealer_code"),
        (5, "bad", "invalid_date"),
        (6, "duplicate", "duplicate_vin"),
    ]
    again = upload(client, world, rows)
    assert again.status_code == 200 and again.json["id"] == body["id"]
    assert again.json["problems"] == body["problems"]
    listed = client.get("/api/v1/retail-reports", headers=world.headers["auditor"])
    assert [r["id"] for r in listed.json["items"]] == [body["id"]]
    shown = client.get(f"/api/v1/retail-reports/{body['id']}", headers=world.headers["auditor"])
    assert shown.status_code == 200 and shown.json["problems"] == body["problems"]


def test_a_group_admin_uploads_as_multipart_naming_the_oem(client, world):
    content = report_csv([(vin(1), "FAW-GZ1", TODAY)])
    answer = client.post(
        f"/api/v1/retail-reports?oem_id={world.audi.id}",
        data={"file": (io.BytesIO(content), "retail.csv")},
        headers=world.headers["admin"],
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["group_id"] == world.group.id and answer.json["filename"] == "retail.csv"
    unnamed = upload(client, world, [(vin(2), "FAW-GZ1", TODAY)], who="admin")
    assert unnamed.status_code == 422 and unnamed.json["reason"] == "unknown_oem"
    unknown = upload(client, world, [(vin(2), "FAW-GZ1", TODAY)], "admin", "?oem_id=999999")
    assert unknown.status_code == 422 and unknown.json["reason"] == "unknown_oem"


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", "text/csv", "no_file"),
        (b'{"vin": 1}', "application/json", "not_csv"),
        (b"vin;code\n1;2\n", "text/csv", "bad_header"),
        (b"vin,dealer_code,retail_date\n", "text/csv", "no_rows"),
        (b"vin,dealer_code,retail_date\n\xff\xfe\xff,1,2\n\xff", "text/csv", "not_utf8"),
    ],
)
def test_a_report_that_cannot_be_read_is_refused(client, world, body, content_type, reason):
    answer = client.post(
        "/api/v1/retail-reports",
        data=body,
        headers={**world.headers["auditor"], "Content-Type": content_type},
    )
    assert answer.status_code == 422 and answer.json["reason"] == reason, answer.json


def test_who_may_upload_and_see_reports(client, world):
    made = upload(client, world, [(vin(1), "FAW-GZ1", TODAY)])
    report_id = made.json["id"]
    assert upload(client, world, [(vin(2), "FAW-GZ1", TODAY)], who="tianhe").status_code == 403
    assert client.get("/api/v1/retail-reports", headers=world.headers["tianhe2"]).status_code == 403
    for who in ("toyota", "stranger", "admin"):  # another OEM, another group, not its upload
        seen = client.get(f"/api/v1/retail-reports/{report_id}", headers=world.headers[who])
        assert seen.status_code == 404, who
    other_oem = upload(client, world, [(vin(2), "T1", TODAY)], "toyota", f"?oem_id={world.audi.id}")
    assert other_oem.status_code == 404
    mine = upload(client, world, [(vin(3), "FAW-GZ1", TODAY)], "admin", f"?oem_id={world.audi.id}")
    listed = client.get("/api/v1/retail-reports", headers=world.headers["admin"]).json
    assert [r["id"] for r in listed["items"]] == [mine.json["id"]]
    assert (
        client.get("/api/v1/retail-reports", headers=world.headers["stranger"]).json["total"] == 0
    )
    auditor_list = client.get("/api/v1/retail-reports", headers=world.headers["auditor"]).json
    assert {r["id"] for r in auditor_list["items"]} == {report_id, mine.json["id"]}


def test_deliveries_are_confirmed_in_both_orders_and_on_the_trail(client, world):
    past = delivered(client, world, 1)
    done = upload(client, world, [(vin(1), "FAW-GZ1", TODAY), (vin(2), "FAW-GZ1", TODAY)])
    assert done.json["confirmed"] == 1
    later = delivered(client, world, 2)
    for lead_id in (past, later):
        events = trail(client, world, lead_id)
        assert [e["type"] for e in events][-2:] == ["delivered", "retail_confirmed"]
    verify = client.get(f"/api/v1/leads/{later}/verify", headers=world.headers["admin"])
    assert verify.json["ok"] is True


def test_flags_and_the_audit_per_store(client, world):
    delivered(client, world, 1)
    delivered(client, world, 2, vin_number=1)  # the same VIN again
    delivered(client, world, 3)
    upload(client, world, [(vin(3), "FAW-GZ2", TODAY)])  # reported for Baiyun, held by Tianhe
    flags = client.get("/api/v1/retail-flags", headers=world.headers["admin"])
    assert flags.status_code == 200
    assert sorted(f["kind"] for f in flags.json["items"]) == ["duplicate_delivery", "other_store"]
    elsewhere = next(f for f in flags.json["items"] if f["kind"] == "other_store")
    assert (elsewhere["holder"], elsewhere["other_dealer"]) == ("广州天河奥迪", "广州白云奥迪")
    only = client.get("/api/v1/retail-flags?kind=other_store", headers=world.headers["admin"])
    assert [f["vin"] for f in only.json["items"]] == [vin(3)]
    assert client.get("/api/v1/retail-flags", headers=world.headers["auditor"]).status_code == 403
    assert client.get("/api/v1/retail-flags", headers=world.headers["stranger"]).json["total"] == 0
    audit = client.get("/api/v1/retail-audit", headers=world.headers["admin"])
    assert audit.json["stores"] == [
        {
            "dealer_id": world.tianhe.id,
            "dealer_code": "GZ1",
            "dealer": "广州天河奥迪",
            "delivered": 3,
            "confirmed": 0,
            "unconfirmed": 3,
            "flagged": 2,
        }
    ]
    by_auditor = client.get("/api/v1/retail-audit", headers=world.headers["auditor"])
    assert by_auditor.json == audit.json
    assert client.get("/api/v1/retail-audit", headers=world.headers["toyota"]).json == {
        "stores": []
    }
    assert client.get("/api/v1/retail-audit", headers=world.headers["stranger"]).json == {
        "stores": []
    }
    assert client.get("/api/v1/retail-audit", headers=world.headers["tianhe"]).status_code == 403


def test_a_program_requiring_confirmation_holds_the_delivery_credit(client, app, world):
    program = create_program(client, world, requires_retail_confirmation=True)
    assert (program["requires_retail_confirmation"], program["retail_deadline_days"]) == (True, 60)
    delivered(client, world, 1)
    assert _balance(client, world, "dealer_pending") == "300.00"
    assert _balance(client, world, "dealer_rewards") == "80.00"  # the claim's credit
    upload(client, world, [(vin(1), "FAW-GZ1", TODAY)])
    assert _balance(client, world, "dealer_pending") == "0.00"
    assert _balance(client, world, "dealer_rewards") == "380.00"
    changed = client.patch(
        f"/api/v1/reward-programs/{program['id']}",
        json={"retail_deadline_days": 10},
        headers=world.headers["admin"],
    )
    assert changed.json["retail_deadline_days"] == 10
    with app.app_context():
        assert_ledger_balanced()


def _balance(client, world, kind) -> str:
    accounts = client.get(
        f"/api/v1/ledger/accounts?kind={kind}", headers=world.headers["admin"]
    ).json["items"]
    return next((a["balance"] for a in accounts if a["owner_id"] == world.referrer.id), "0.00")


def test_a_group_admin_sets_the_retail_match_window(client, world):
    answer = client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"retail_match_days": 10},
        headers=world.headers["admin"],
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["retail_match_days"] == 10
