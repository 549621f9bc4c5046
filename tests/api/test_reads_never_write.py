"""Reads never write: every GET route of the API and the pages, as every role that may call it.

A listener on the test connection fails on any INSERT, UPDATE or DELETE (outside the tables
named in READ_MAY_WRITE) and on any row lock (`SELECT ... FOR UPDATE`), while the routes are
called with the real ids of a world with leads in every state, a due offer the sweep has not
seen yet, reward credits, a payout and notifications.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.dialects import postgresql

from leadshare.auth import scope
from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads import access, offers
from leadshare.leads.models import Lead, LeadReturn, Offer
from leadshare.notify.models import Notification
from leadshare.privacy.models import ContactAccess
from leadshare.vocabulary import Role

from ..web.pages import Browser
from .lead_world import build_world, lead_payload
from .test_rewards import create_program

ACCESS_LOG_TABLE = ContactAccess.__tablename__
READ_MAY_WRITE: frozenset[str] = frozenset({ACCESS_LOG_TABLE})
"""The tables a read may write to, and only by INSERT. Only the privacy issue's access log (a
record of who read which contact, in its own short transaction) may ever be named here."""

DML = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
LOCK = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)

FILLED_QUERIES: dict[str, list[dict[str, str]]] = {
    "geocode.Geocode": [{"q": "广东省广州市天河区"}, {"q": "广东省深圳市南山区"}],
    "audit.verify": [{"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}],
    "rewards.dealer_statement": [{"month": date.today().strftime("%Y-%m")}],
    "web.statements": [{}, {"dealer_id": "{tianhe}"}],
    "web.store_statement": [{}, {"format": "csv"}],
    "leads.Leads": [{}, {"view": "offered"}, {"status": "offered"}],
    "web.leads": [{}, {"view": "offered"}],
    "web.flows": [{}, {"level": "group"}],
    "returns.returns": [{}, {"status": "pending"}],
    "web.disputes": [{}, {"status": "accepted"}],
    "privacy.customers": [{"phone": "13900000001", "reference": "REQ-1"}],
    "privacy.export": [{"phone": "13900000001", "reference": "REQ-1"}],
    "privacy.access": [{"user_id": "{referrer_user}"}],
    "privacy.alerts": [{}],
    "web.privacy_access": [{}, {"user_id": "{referrer_user}"}],
}
"""Query strings a route needs (or branches on) to run its real work."""

CALLERS = ("referrer", "tianhe", "panyu", "tianhe2", "admin", "oem", "platform")
"""One user of every role, and the stores that see a lead differently (referrer, holder, board)."""

READ_LEADS = (
    "offered",
    "due",
    "delivered",
    "open",
    "needs_location",
    "voided",
    "contested",
    "returned",
    "silent",
)
"""The leads whose pages are read: one of each way a lead reads differently."""

NEVER_200 = {"static", "swagger_assets", "web.login", "web.wecom_start", "web.wecom_callback"}
"""GET routes a signed-in caller may get a redirect or a 404 from: served files, the login page,
and WeCom's sign-in (a redirect to WeCom; its callback answers 400 without WeCom's code)."""


def offending(statement: str) -> str | None:
    """Why a statement is not a read: the table it writes, or that it locks rows; else None."""
    if LOCK.search(statement):
        return "row lock"
    match = DML.match(statement)
    if match is None:
        return None
    inserts = statement.lstrip()[:6].upper() == "INSERT"
    if inserts and match.group(1).lower() in READ_MAY_WRITE:
        return None
    return f"writes {match.group(1)}"


@contextmanager
def watching_writes(app) -> Iterator[list[str]]:
    """Collect every statement on the test connection that writes or locks rows."""
    found: list[str] = []

    def check(_conn, _cursor, statement, _params, _context, _executemany):
        why = offending(statement)
        if why:
            found.append(f"{why}: {' '.join(statement.split())[:160]}")

    with app.app_context():
        connection = db.engine  # the per-test connection every session of the test is bound to
    event.listen(connection, "before_cursor_execute", check)
    try:
        yield found
    finally:
        event.remove(connection, "before_cursor_execute", check)


# --- the world --------------------------------------------------------------------------------


def _ok(response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.json
    return response.json


def build_read_world(app, client, make, auth) -> tuple[Any, dict[str, Any]]:
    """Leads in every state, a due offer not yet swept, credits, a payout, notifications, and
    returns contested, accepted and due to be accepted in silence."""
    world = build_world(make, auth, max_offers_per_lead=2)
    h = world.headers
    oem = make.oem(brands=["奥迪"])
    world.users["oem"] = make.user(Role.OEM_AUDITOR, oem=oem)
    world.users["platform"] = make.user(Role.PLATFORM_ADMIN)
    h["oem"], h["platform"] = auth(world.users["oem"]), auth(world.users["platform"])
    for dealer in (world.tianhe, world.baiyun):
        _ok(
            client.patch(
                f"/api/v1/dealers/{dealer.id}",
                json={"webhook_url": f"http://127.0.0.1:9/hook/{dealer.code}"},
                headers=h["admin"],
            )
        )
    _ok(client.post(f"/api/v1/dealers/{world.tianhe.id}/webhook-secret", headers=h["admin"]))
    program = create_program(client, world, alert_below="999.00")  # its first credit warns
    wecom_app = {"corp_id": "wwread0001", "agent_id": 1000002}
    _ok(client.put(f"/api/v1/groups/{world.group.id}/wecom", json=wecom_app, headers=h["admin"]))
    tianhe_id = world.users["tianhe"].id
    member = {"userid": "tianhe"}
    _ok(client.put(f"/api/v1/users/{tianhe_id}/wecom", json=member, headers=h["admin"]))
    leads: dict[str, str] = {}

    def post(name: str, n: int, **overrides: Any) -> None:
        payload = lead_payload(customer={"name": f"客户{n}", "phone": f"1390000{n:04d}"})
        leads[name] = _ok(
            client.post("/api/v1/leads", json={**payload, **overrides}, headers=h["referrer"]),
            201,
        )["id"]

    def act(who: str, name: str, action: str, **body: Any) -> None:
        path = f"/api/v1/leads/{leads[name]}/{action}"
        _ok(client.post(path, json=body or None, headers=h[who]))

    post("offered", 1)
    post("due", 2)
    post("delivered", 3)
    act("tianhe", "delivered", "claim")
    act("tianhe", "delivered", "progress", status="ordered", order_ref="SO-1")
    act("tianhe", "delivered", "progress", status="delivered", vin="LSVAU2A31N2123456")
    post("lost", 4)
    act("tianhe", "lost", "claim")
    act("tianhe", "lost", "progress", status="lost", lost_reason="unreachable")
    post("open", 5)
    act("tianhe", "open", "decline", reason="no_stock")
    act("baiyun", "open", "decline", reason="capacity")
    post("withdrawn", 6)
    act("referrer", "withdrawn", "withdraw", reason="客户不买了")
    post("needs_location", 7, location={"address": "qwertyuiop"})
    post("voided", 8)
    act("tianhe", "voided", "claim")
    _ok(
        client.post(
            f"/api/v1/leads/{leads['voided']}/void", json={"reason": "刷单"}, headers=h["admin"]
        )
    )
    for n, name in enumerate(("contested", "returned", "silent"), start=9):
        post(name, n)
        act("tianhe", name, "claim")
        _ok(
            client.post(
                f"/api/v1/leads/{leads[name]}/return",
                json={"reason": "invalid_contact"},
                headers=h["tianhe"],
            ),
            201,
        )
    act("referrer", "contested", "return/contest", note="客户有效")
    act("referrer", "returned", "return/accept")
    _ok(
        client.post(
            "/api/v1/payouts",
            json={"dealer_id": world.referrer.id, "amount": "10.00"},
            headers=h["admin"],
        ),
        201,
    )
    codes = {"codes": [{"oem_id": oem.id, "code": "FAW-GZ1"}]}
    _ok(client.put(f"/api/v1/dealers/{world.tianhe.id}/oem-codes", json=codes, headers=h["admin"]))
    retail = f"vin,dealer_code,retail_date\nLSVAU2A31N2123456,FAW-GZ1,{date.today()}\nX,Y,Z\n"
    report = _ok(
        client.post(
            "/api/v1/retail-reports",
            data=retail.encode(),
            headers={**h["oem"], "Content-Type": "text/csv"},
        ),
        201,
    )
    with app.app_context():
        due = select(Lead.id).where(Lead.public_id == leads["due"])
        db.session.execute(
            update(Offer)
            .where(Offer.lead_id == due.scalar_subquery())
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        silent = select(Lead.id).where(Lead.public_id == leads["silent"])
        db.session.execute(  # a return the sweep would accept in silence: a read must not
            update(LeadReturn)
            .where(LeadReturn.lead_id == silent.scalar_subquery())
            .values(dispute_due_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        messages = list(db.session.scalars(select(Notification.message_id).limit(2)))
    assert messages, "the world needs notifications to read"
    ids = {
        "lead_id": [leads[name] for name in READ_LEADS],
        "dealer_id": [world.referrer.id, world.tianhe.id],
        "group_id": [world.group.id],
        "program_id": [program["id"]],
        "message_id": messages,
        "user_id": [world.users["admin"].id, world.users["tianhe"].id],
        "filename": ["app.css"],
        "group_code": [world.group.code],
        "report_id": [report["id"]],
    }
    return world, ids


def _paths(rule, ids: dict[str, list[Any]]) -> list[str]:
    """The rule's path for every combination of real ids of its parameters."""
    paths = [rule.rule]
    for name in sorted(rule.arguments):
        pattern = re.compile(rf"<(?:[^:>]+:)?{name}>")
        paths = [pattern.sub(str(value), path) for path in paths for value in ids[name]]
    return paths


def _calls(app, world, ids) -> Iterator[tuple[str, str, dict[str, str], str | None]]:
    """(endpoint, path, query, caller) for every GET route, as every caller its rule allows;
    public routes also as an anonymous visitor (caller None)."""
    fill = {"tianhe": str(world.tianhe.id), "referrer_user": str(world.users["referrer"].id)}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods:
            continue
        with app.app_context():
            roles = scope.roles_for(rule.endpoint, "GET")
        callers = [c for c in CALLERS if roles is None or Role(world.users[c].role) in roles]
        if roles is None:
            callers.append(None)
        for path in _paths(rule, ids):
            for query in FILLED_QUERIES.get(rule.endpoint, [{}]):
                for caller in callers:
                    yield (
                        rule.endpoint,
                        path,
                        {k: v.format(**fill) for k, v in query.items()},
                        caller,
                    )


def test_every_get_route_reads_without_writing(app, client, make, auth):
    world, ids = build_read_world(app, client, make, auth)
    browsers = {name: Browser(app, world.users[name]) for name in CALLERS}
    browsers[None] = Browser(app)
    answers: dict[str, set[int]] = {}
    failures: list[str] = []
    with watching_writes(app) as writes:
        for endpoint, path, query, caller in _calls(app, world, ids):
            if path.startswith("/api/") and caller is not None:
                response = client.get(path, query_string=query, headers=world.headers[caller])
            else:
                response = browsers[caller].get(path, query_string=query)
            answers.setdefault(endpoint, set()).add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{response.status_code} GET {path} as {caller}")
            failures.extend(f"GET {path} {query} as {caller}: {w}" for w in writes)
            writes.clear()
    assert not failures, "\n".join(failures)
    unread = sorted(e for e, statuses in answers.items() if 200 not in statuses)
    assert set(unread) <= NEVER_200, unread  # every route really ran its read at least once


def test_the_listener_catches_a_read_that_writes(app, client, make, auth, monkeypatch):
    """The old behaviour (a lead read that sweeps due offers) is caught, statement by statement."""
    world = build_world(make, auth)
    lead = _ok(
        client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"]), 201
    )
    with app.app_context():
        db.session.execute(update(Offer).values(expires_at=Offer.offered_at))
        db.session.commit()
    visible = access.get_lead

    def sweeping_read(actor, public_id):
        offers.sweep()
        return visible(actor, public_id)

    monkeypatch.setattr(access, "get_lead", sweeping_read)
    with watching_writes(app) as writes:
        _ok(client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"]))
    assert any(w.startswith("writes offers") for w in writes), writes
    assert any(w.startswith("writes lead_events") for w in writes), writes


def test_a_row_lock_and_every_kind_of_write_are_refused():
    locked = select(Lead).with_for_update(skip_locked=True)
    assert offending(str(locked.compile(dialect=postgresql.dialect()))) == "row lock"
    assert offending("INSERT INTO lead_events (seq) VALUES (?)") == "writes lead_events"
    assert offending('UPDATE "offers" SET status=?') == "writes offers"
    assert (
        offending("  delete from idempotency_records WHERE id = ?") == "writes idempotency_records"
    )
    assert offending("SELECT leads.status FROM leads WHERE leads.id = ?") is None
    assert {"contact_access"} == READ_MAY_WRITE  # the access log, and only it
    assert offending("INSERT INTO contact_access (lead_id) VALUES (?)") is None
    assert offending("UPDATE contact_access SET via=?") == "writes contact_access"
    assert offending("DELETE FROM contact_access") == "writes contact_access"
    assert offending("INSERT INTO lead_personal_data (seq) VALUES (?)") == (
        "writes lead_personal_data"
    )
    assert offending("INSERT INTO contact_access_copy (x) VALUES (?)") == (
        "writes contact_access_copy"
    )
    assert offending("SAVEPOINT sa_savepoint_1") is None


def test_a_due_offer_reads_as_expired_on_the_api_and_the_page_and_writes_nothing(
    app, client, make, auth
):
    world = build_world(make, auth)
    lead = _ok(
        client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"]), 201
    )
    with app.app_context():
        db.session.execute(update(Offer).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    tianhe = Browser(app, world.users["tianhe"])
    with watching_writes(app) as writes:
        read = _ok(client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["tianhe"]))
        trail = _ok(client.get(f"/api/v1/leads/{lead['id']}/trail", headers=world.headers["admin"]))
        page = tianhe.get(f"/leads/{lead['id']}").text
        inbox = tianhe.get("/inbox").text
    assert writes == []
    assert read["status"] == "offered" and read["routing_pending"] is True
    assert read["current_offer"]["status"] == "expired"
    assert read["current_offer"]["dealer"]["id"] == world.tianhe.id
    [offer] = trail["offers"]
    assert offer["status"] == "expired" and offer["responded_at"] == offer["expires_at"]
    assert "data-routing-pending" in page and f"/leads/{lead['id']}/claim" not in page
    assert f"/leads/{lead['id']}/claim" not in inbox  # an offer past its time cannot be answered
