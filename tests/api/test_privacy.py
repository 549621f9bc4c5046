"""Customer privacy (issue 20): sealed personal data, the access log, a customer's requests,
retention by the worker and de-duplication after erasure, through the API and the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from leadshare.clock import iso_z, utcnow
from leadshare.extensions import db
from leadshare.hours.models import FollowUpNote
from leadshare.leads.chain import commitment, is_sealed
from leadshare.leads.models import Lead, LeadEvent
from leadshare.privacy.models import ContactAccess, PersonalDatum
from leadshare.tenancy.models import Group

from ..web.pages import Browser
from .lead_world import build_world, lead_payload

PHONE = "13812345678"
E164 = "+8613812345678"


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def _post(client, world, **overrides):
    answer = client.post(
        "/api/v1/leads", json=lead_payload(**overrides), headers=world.headers["referrer"]
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def _act(client, world, who, lead_id, action, **body):
    answer = client.post(
        f"/api/v1/leads/{lead_id}/{action}", json=body or None, headers=world.headers[who]
    )
    assert answer.status_code == 200, answer.json
    return answer.json


def _accesses(app, public_id):
    with app.app_context():
        lead_id = db.session.scalar(select(Lead.id).where(Lead.public_id == public_id))
        return [
            (a.user_id, a.via, tuple(a.fields), a.is_held, a.reference)
            for a in db.session.scalars(
                select(ContactAccess)
                .where(ContactAccess.lead_id == lead_id)
                .order_by(ContactAccess.id)
            )
        ]


def _erase(client, world, phone=PHONE, **extra):
    body = {"phone": phone, "reference": "REQ-2026-001", "reason": "客户来电要求删除", **extra}
    body = {key: value for key, value in body.items() if value is not None}
    return client.post("/api/v1/privacy/erasures", json=body, headers=world.headers["admin"])


def _verify(client, world, lead_id):
    answer = client.get(f"/api/v1/leads/{lead_id}/verify", headers=world.headers["admin"])
    assert answer.status_code == 200, answer.json
    return answer.json


# --- 1. personal data outside the chain -----------------------------------------------------------


def test_personal_data_is_sealed_out_of_the_hashed_event_data(app, client, world):
    lead = _post(client, world)
    _act(client, world, "tianhe", lead["id"], "decline", reason="no_stock", note="客户说下周再联系")
    with app.app_context():
        lead_id = db.session.scalar(select(Lead.id).where(Lead.public_id == lead["id"]))
        events = {
            e.type: e
            for e in db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead_id))
        }
        rows = {
            (r.seq, r.key): r
            for r in db.session.scalars(
                select(PersonalDatum).where(PersonalDatum.lead_id == lead_id)
            )
        }
    posted, declined = events["posted"], events["declined"]
    assert is_sealed(posted.data["location"]) and is_sealed(declined.data["note"])
    assert "天河" not in str(posted.data) and "下周" not in str(declined.data)
    assert declined.data["reason"] == "no_stock"  # a code, not personal data
    note = rows[(declined.seq, "note")]
    assert note.value == "客户说下周再联系"
    assert commitment(note.salt, note.value) == declined.data["note"]["sealed"]
    trail = client.get(f"/api/v1/leads/{lead['id']}/trail", headers=world.headers["referrer"]).json
    shown = {e["type"]: e["data"] for e in trail["events"]}
    assert shown["declined"]["note"] == "客户说下周再联系"
    assert shown["posted"]["location"]["district"] == "天河区"


def test_the_chain_verifies_before_and_after_erasure(app, client, world):
    lead = _post(client, world)
    _act(client, world, "tianhe", lead["id"], "claim")
    _act(
        client,
        world,
        "tianhe",
        lead["id"],
        "progress",
        status="lost",
        lost_reason="other",
        lost_note="客户张三去了别家",
    )
    assert _verify(client, world, lead["id"])["ok"] is True

    erased = _erase(client, world)
    assert erased.status_code == 200, erased.json
    assert erased.json["erased"] == [lead["id"]]

    report = _verify(client, world, lead["id"])
    assert report["ok"] is True and report["events"] == 5  # posted offered claimed lost erased
    trail = client.get(f"/api/v1/leads/{lead['id']}/trail", headers=world.headers["admin"]).json
    events = {e["type"]: e["data"] for e in trail["events"]}
    when = iso_z(utcnow())[:10]
    assert events["posted"]["location"]["erased_at"].startswith(when)
    assert events["lost"]["lost_note"]["erased_at"].startswith(when)
    assert events["erased"]["why"] == "customer_request"
    assert events["erased"]["reference"] == "REQ-2026-001"
    assert events["erased"]["reason"] == "客户来电要求删除"
    shown = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["tianhe"]).json
    assert shown["customer"]["phone"] is None and shown["customer"]["name"] == ""
    assert shown["notes"] is None and shown["location"]["address"] is None
    assert shown["lost_note"] is None and shown["lost_reason"] == "other"  # a code stays
    assert shown["location"]["district"] == "天河区"  # aggregates keep the district
    with app.app_context():
        row = db.session.scalar(select(Lead).where(Lead.public_id == lead["id"]))
        assert row.phone is None and row.phone_key and E164 not in str(row.phone_key)
        assert not db.session.scalars(
            select(PersonalDatum).where(
                PersonalDatum.lead_id == row.id, PersonalDatum.value.is_not(None)
            )
        ).all()
    page = Browser(app, world.users["tianhe"]).get(f"/leads/{lead['id']}").text
    assert "13812345678" not in page and "138****5678" not in page


def test_a_page_shows_erased_values_as_erased_on_their_date(app, client, world):
    lead = _post(client, world)
    _act(client, world, "referrer", lead["id"], "withdraw", reason="客户不想被联系")
    assert _erase(client, world).status_code == 200
    page = Browser(app, world.users["referrer"], lang="en").get(f"/leads/{lead['id']}").text
    assert "客户不想被联系" not in page
    assert f"erased on {utcnow().date().isoformat()}" in page


# --- 2. access log --------------------------------------------------------------------------------


def test_every_way_a_contact_is_shown_writes_an_access_record(app, client, world):
    lead = _post(client, world)  # the 201 answer shows the referrer the contact
    referrer = world.users["referrer"].id
    assert _accesses(app, lead["id"]) == [
        (referrer, "api", ("name", "phone", "notes", "coordinates"), False, None)
    ]
    ways = [
        lambda: client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"]),
        lambda: client.get("/api/v1/leads", headers=world.headers["referrer"]),
        lambda: client.get(f"/api/v1/leads/{lead['id']}/trail", headers=world.headers["referrer"]),
    ]
    for way in ways:
        assert way().status_code == 200
    browser = Browser(app, world.users["referrer"])
    assert browser.get(f"/leads/{lead['id']}").status_code == 200
    assert browser.get("/referrals").status_code == 200
    claimed = _act(client, world, "tianhe", lead["id"], "claim")
    assert claimed["customer"]["masked"] is False
    records = _accesses(app, lead["id"])
    assert [r[1] for r in records] == ["api", "api", "api", "api", "page", "page", "api"]
    assert records[-1][0] == world.users["tianhe"].id and records[-1][3] is True
    with app.app_context():
        paths = list(db.session.scalars(select(ContactAccess.path).order_by(ContactAccess.id)))
    assert f"/leads/{lead['id']}" in paths and "/referrals" in paths and "/api/v1/leads" in paths


def test_masked_views_write_no_access_record(app, client, world):
    lead = _post(client, world)
    before = _accesses(app, lead["id"])
    for who in ("tianhe", "baiyun", "admin"):  # offered (masked), unrelated, group admin
        answer = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers[who])
        assert answer.status_code in (200, 404)
        if answer.status_code == 200:
            assert answer.json["customer"]["masked"] is True
    trail = client.get(f"/api/v1/leads/{lead['id']}/trail", headers=world.headers["admin"])
    assert trail.status_code == 200 and trail.json["lead"]["customer"]["masked"] is True
    audit = client.get(
        "/api/v1/audit/leads", query_string={"format": "csv"}, headers=world.headers["admin"]
    )
    assert audit.status_code == 200 and "13812345678" not in audit.get_data(as_text=True)
    assert Browser(app, world.users["tianhe"]).get(f"/leads/{lead['id']}").status_code == 200
    assert Browser(app, world.users["admin"]).get(f"/leads/{lead['id']}").status_code == 200
    assert _accesses(app, lead["id"]) == before


def test_admins_list_access_per_lead_and_per_user(client, world):
    lead = _post(client, world)
    client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"])
    by_lead = client.get(
        "/api/v1/privacy/access",
        query_string={"lead_id": lead["id"]},
        headers=world.headers["admin"],
    )
    assert by_lead.status_code == 200, by_lead.json
    assert len(by_lead.json["items"]) == 2 and by_lead.json["items"][0]["lead_id"] == lead["id"]
    assert by_lead.json["items"][0]["fields"] == ["name", "phone", "notes", "coordinates"]
    by_user = client.get(
        "/api/v1/privacy/access",
        query_string={"user_id": world.users["referrer"].id},
        headers=world.headers["admin"],
    )
    assert len(by_user.json["items"]) == 2
    nothing = client.get("/api/v1/privacy/access", headers=world.headers["admin"])
    assert nothing.status_code == 422 and nothing.json["reason"] == "lead_or_user_required"
    staff = client.get(
        "/api/v1/privacy/access",
        query_string={"lead_id": lead["id"]},
        headers=world.headers["referrer"],
    )
    assert staff.status_code == 403


def test_an_alert_is_raised_past_the_daily_threshold_of_other_stores_leads(app, client, world):
    with app.app_context():
        db.session.execute(
            update(Group).where(Group.id == world.group.id).values(contact_views_alert_per_day=2)
        )
        db.session.commit()
    leads = [
        _post(client, world, customer={"name": f"客户{n}", "phone": f"1390000000{n}"})
        for n in range(2)
    ]

    def alerts():
        answer = client.get("/api/v1/privacy/alerts", headers=world.headers["admin"])
        assert answer.status_code == 200, answer.json
        return answer.json["items"]

    assert alerts() == []  # two contacts of leads the referrer's store does not hold: at the limit
    for lead in leads:  # views again of the same leads do not count twice
        client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"])
    assert alerts() == []
    _post(client, world, customer={"name": "客户9", "phone": "13900000009"})
    [alert] = alerts()
    assert alert["user"]["id"] == world.users["referrer"].id
    assert (alert["views"], alert["threshold"]) == (3, 2)
    page = Browser(app, world.users["admin"]).get("/privacy/alerts").text
    assert world.users["referrer"].email in page


# --- 4. a customer's requests ---------------------------------------------------------------------


def test_a_group_admin_finds_and_exports_a_customer_and_the_export_is_logged(app, client, world):
    lead = _post(client, world)
    other = _post(client, world, customer={"name": "李四", "phone": "13900001111"})
    found = client.get(
        "/api/v1/privacy/customers",
        query_string={"phone": "138 1234 5678", "reference": "REQ-7"},
        headers=world.headers["admin"],
    )
    assert found.status_code == 200, found.json
    assert [item["id"] for item in found.json["leads"]] == [lead["id"]]
    assert "13812345678" not in found.get_data(as_text=True)  # finding shows no contact

    export = client.get(
        "/api/v1/privacy/customers/export",
        query_string={"phone": PHONE, "reference": "REQ-7"},
        headers=world.headers["admin"],
    )
    assert export.status_code == 200, export.json
    [held] = export.json["leads"]
    assert held["customer"] == {"name": "张三", "phone": E164, "wechat_id": None}
    assert held["notes"] == "客户周末有空"
    assert held["trail"][0]["data"]["location"]["district"] == "天河区"
    assert [a["via"] for a in held["access_log"]] == ["api"]  # the referrer's 201 answer
    records = _accesses(app, lead["id"])
    assert records[-1] == (
        world.users["admin"].id,
        "request",
        ("name", "phone", "notes", "coordinates"),
        False,
        "REQ-7",
    )
    assert len(_accesses(app, other["id"])) == 1


def test_requests_refuse_bad_input_with_reasons(client, world):
    admin = world.headers["admin"]
    no_ref = client.get("/api/v1/privacy/customers", query_string={"phone": PHONE}, headers=admin)
    assert no_ref.status_code == 422
    no_one = client.get("/api/v1/privacy/customers", query_string={"reference": "R"}, headers=admin)
    assert no_one.status_code == 422
    bad = client.get(
        "/api/v1/privacy/customers", query_string={"phone": "12", "reference": "R"}, headers=admin
    )
    assert bad.status_code == 422 and bad.json["reason"] == "invalid_phone"
    unknown = _erase(client, world, phone="13900009999")
    assert unknown.status_code == 404 and unknown.json["reason"] == "no_such_customer"
    staff = client.get(
        "/api/v1/privacy/customers/export",
        query_string={"phone": PHONE, "reference": "R"},
        headers=world.headers["referrer"],
    )
    assert staff.status_code == 403


def test_erasure_by_request_then_the_export_shows_nothing_but_the_trail(client, world):
    lead = _post(client, world, customer={"name": "王五", "phone": PHONE, "wechat_id": "wangwu88"})
    assert _erase(client, world, phone=None, wechat_id="wangwu88").status_code == 200
    again = _erase(client, world)  # found by the keyed hash; nothing left to erase
    assert again.status_code == 200 and again.json["erased"] == []
    export = client.get(
        "/api/v1/privacy/customers/export",
        query_string={"wechat_id": "wangwu88", "reference": "REQ-8"},
        headers=world.headers["admin"],
    ).json
    [held] = export["leads"]
    assert held["id"] == lead["id"] and held["erased_at"]
    assert held["customer"] == {"name": None, "phone": None, "wechat_id": None}
    assert held["trail"][-1]["type"] == "erased"


def test_erasure_takes_the_text_of_the_follow_up_notes_and_keeps_when_and_who(app, client, world):
    lead = _post(client, world)
    _act(client, world, "tianhe", lead["id"], "claim")
    url = f"/api/v1/leads/{lead['id']}/notes"
    made = client.post(
        url, json={"text": "客户住在天河北路 88 号"}, headers=world.headers["tianhe"]
    )
    assert made.status_code == 201, made.json
    assert _erase(client, world).status_code == 200
    [note] = client.get(url, headers=world.headers["tianhe"]).json["items"]
    assert note["text"] is None and note["created_at"] and note["author"]["id"]
    with app.app_context():
        texts = db.session.scalars(
            select(FollowUpNote.text).join(Lead).where(Lead.public_id == lead["id"])
        ).all()
    assert texts == [""]


def test_an_erased_customer_is_still_de_duplicated_within_the_window(client, world):
    lead = _post(client, world)
    assert _erase(client, world).status_code == 200
    again = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert again.status_code == 409, again.json
    assert again.json["reason"] == "duplicate_lead" and again.json["duplicate_of"] == lead["id"]
    other = _post(client, world, customer={"name": "张三", "phone": "13812345679"})
    assert other["status"] == "offered"


# --- 3. retention ---------------------------------------------------------------------------------


def test_the_worker_erases_leads_at_rest_past_retention_as_of_a_time(app, client, world):
    delivered = _post(client, world)
    _act(client, world, "tianhe", delivered["id"], "claim")
    _act(
        client,
        world,
        "tianhe",
        delivered["id"],
        "progress",
        status="delivered",
        order_ref="SO-1",
        vin="LSVAU2A31N2123456",
    )
    working = _post(client, world, customer={"name": "赵六", "phone": "13900002222"})
    _act(client, world, "tianhe", working["id"], "claim")  # accepted: somebody works on it
    runner = app.test_cli_runner()
    soon = iso_z(utcnow() + timedelta(days=364))
    result = runner.invoke(args=["leadshare", "worker", "--rounds", "1", "--as-of", soon])
    assert result.exit_code == 0, result.output
    assert "0 leads erased" in result.output
    later = iso_z(utcnow() + timedelta(days=366))
    result = runner.invoke(args=["leadshare", "worker", "--rounds", "1", "--as-of", later])
    assert result.exit_code == 0, result.output
    assert "1 leads erased" in result.output
    with app.app_context():
        rows = {
            lead.public_id: lead
            for lead in db.session.scalars(select(Lead).where(Lead.group_id == world.group.id))
        }
    assert rows[delivered["id"]].erased_at is not None and rows[delivered["id"]].phone is None
    assert rows[delivered["id"]].vin == "LSVAU2A31N2123456"  # the sale stays
    assert rows[working["id"]].erased_at is None and rows[working["id"]].phone
    assert _verify(client, world, delivered["id"])["ok"] is True
    trail = client.get(
        f"/api/v1/leads/{delivered['id']}/trail", headers=world.headers["admin"]
    ).json
    assert trail["events"][-1]["data"]["why"] == "retention"
    result = runner.invoke(args=["leadshare", "retention", "--as-of", later])
    assert result.exit_code == 0 and "0 leads erased" in result.output


def test_a_group_keeps_data_for_its_own_retention_days(app, client, world):
    with app.app_context():
        db.session.execute(
            update(Group).where(Group.id == world.group.id).values(retention_days=30)
        )
        db.session.commit()
    lead = _post(client, world)
    _act(client, world, "referrer", lead["id"], "withdraw")
    result = app.test_cli_runner().invoke(
        args=["leadshare", "retention", "--as-of", iso_z(utcnow() + timedelta(days=31))]
    )
    assert result.exit_code == 0, result.output
    assert "1 leads erased" in result.output


# --- 5 and 7. consent is evidence; the notice the customer sees -----------------------------------


def test_the_intake_records_the_consent_and_the_lead_shows_it(app, client, world):
    consent = {"text_version": "zh-2026-12-v1", "channel": "qr_notice"}
    lead = _post(client, world, consent=consent)
    assert lead["consent"]["text_version"] == "zh-2026-12-v1"
    assert lead["consent"]["channel"] == "qr_notice" and lead["consent"]["at"]
    trail = client.get(f"/api/v1/leads/{lead['id']}/trail", headers=world.headers["admin"]).json
    assert trail["events"][0]["data"]["consent"] == consent  # in the chain: evidence
    page = Browser(app, world.users["referrer"], lang="en").get(f"/leads/{lead['id']}").text
    assert "Through the notice&#39;s QR code" in page and "zh-2026-12-v1" in page
    export = client.get(
        "/api/v1/privacy/customers/export",
        query_string={"phone": PHONE, "reference": "REQ-9"},
        headers=world.headers["admin"],
    ).json
    assert export["leads"][0]["consent"]["channel"] == "qr_notice"
    bad = client.post(
        "/api/v1/leads",
        json=lead_payload(
            customer={"name": "A", "phone": "13900003333"}, consent={"channel": "fax"}
        ),
        headers=world.headers["referrer"],
    )
    assert bad.status_code == 422


def test_a_group_may_require_the_consent_evidence(app, client, world):
    with app.app_context():
        db.session.execute(
            update(Group).where(Group.id == world.group.id).values(consent_required=True)
        )
        db.session.commit()
    refused = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert refused.status_code == 422, refused.json
    assert refused.json["reason"] == "consent_required"
    with app.app_context():
        assert db.session.scalar(select(Lead.id).where(Lead.group_id == world.group.id)) is None
    _post(client, world, consent={"text_version": "zh-2026-12-v1", "channel": "in_person"})


def test_the_share_form_offers_the_notice_and_records_the_version_it_showed(app, world):
    browser = Browser(app, world.users["referrer"], lang="en")
    form = browser.get("/leads/new").text
    notice_url = f"/notice/{world.group.code}"
    assert notice_url in form and f"{notice_url}/qr.svg" in form
    notice = Browser(app).get(notice_url)  # the customer needs no account
    assert notice.status_code == 200
    assert "个人信息共享告知" in notice.text and world.group.name in notice.text
    assert "data-notice-version>zh-2026-12-v1-r365<" in notice.text and "365 天" in notice.text
    assert 'value="zh-2026-12-v1-r365"' in form  # the form records the version it links to
    qr = Browser(app).get(f"{notice_url}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    assert Browser(app).get("/notice/nosuchgroup").status_code == 404
    posted = browser.post(
        "/leads/new",
        name="张三",
        phone="138 1234 5678",
        address="广东省广州市天河区",
        brand="奥迪",
        channel="livestream",
        consent="y",
        consent_channel="in_person",
        consent_text_version="zh-2026-12-v1",
    )
    assert posted.status_code == 302, posted.text
    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.group_id == world.group.id))
        assert (lead.consent_text_version, lead.consent_channel) == ("zh-2026-12-v1", "in_person")


# --- 6. what admins did ---------------------------------------------------------------------------


def test_every_admin_change_is_recorded_with_before_and_after_and_exports_as_csv(
    app, client, world
):
    admin = world.headers["admin"]
    patched = client.patch(
        f"/api/v1/dealers/{world.tianhe.id}", json={"daily_capacity": 7}, headers=admin
    )
    assert patched.status_code == 200, patched.json
    created = client.post(
        "/api/v1/users",
        json={
            "email": "new.staff@example.com",
            "password": "a-long-password-1",
            "role": "staff",
            "dealer_id": world.baiyun.id,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.json
    lead = _post(client, world)
    voided = client.post(f"/api/v1/leads/{lead['id']}/void", json={"reason": "刷单"}, headers=admin)
    assert voided.status_code == 200, voided.json
    browser = Browser(app, world.users["admin"])
    off = browser.post(f"/admin/users/{world.users['panyu'].id}/active", active="0")
    assert off.status_code == 302
    staff = client.patch(  # a manager's own store: not an admin's change
        f"/api/v1/dealers/{world.tianhe.id}",
        json={"daily_capacity": 8},
        headers=world.headers["tianhe2"],
    )
    assert staff.status_code == 200, staff.json

    listed = client.get("/api/v1/privacy/changes", headers=admin)
    assert listed.status_code == 200, listed.json
    items = listed.json["items"]
    by_action = {}
    for item in items:
        by_action.setdefault(item["action"], []).append(item)
    [store] = by_action["store.change"]
    assert store["before"] == {"daily_capacity": None} and store["after"] == {"daily_capacity": 7}
    assert store["object_id"] == str(world.tianhe.id)
    assert store["actor_id"] == world.users["admin"].id
    [user] = by_action["user.create"]
    assert user["after"]["email"] == "new.staff@example.com"
    assert "password_hash" not in user["after"]
    [void] = by_action["lead.change"]
    assert void["before"]["voided_at"] is None and void["after"]["voided_at"]
    [deactivated] = [
        c for c in by_action["user.change"] if c["object_id"] == str(world.users["panyu"].id)
    ]
    assert deactivated["before"]["is_active_user"] is True
    assert deactivated["after"]["is_active_user"] is False
    csv = client.get("/api/v1/privacy/changes", query_string={"format": "csv"}, headers=admin)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    assert text.startswith("\ufeffat_utc,actor_id,actor_email,action") and "store.change" in text
    assert len(text.strip().splitlines()) == len(items) + 1
    other = client.get("/api/v1/privacy/changes", headers=world.headers["referrer"])
    assert other.status_code == 403


def test_group_admins_set_the_privacy_settings_and_bad_values_are_refused(client, world):
    path, admin = f"/api/v1/groups/{world.group.id}", world.headers["admin"]
    shown = client.get(path, headers=admin).json
    assert (shown["retention_days"], shown["contact_views_alert_per_day"]) == (365, 20)
    assert shown["consent_required"] is False
    settings = {"retention_days": 180, "contact_views_alert_per_day": 5, "consent_required": True}
    changed = client.patch(path, json=settings, headers=admin)
    assert changed.status_code == 200, changed.json
    assert {k: changed.json[k] for k in settings} == settings
    bad = client.patch(path, json={"retention_days": 0}, headers=admin)
    assert bad.status_code == 422
    staff = client.patch(path, json={"retention_days": 30}, headers=world.headers["referrer"])
    assert staff.status_code == 403
