"""Reward budgets under concurrent claims on a live gunicorn server, on both engines (SPEC 6).

Many leads reach the rewarded `accepted` event at once (claims released together by a barrier)
against a program whose budget, or whose per-dealer monthly cap, covers only some of them. Every
claim succeeds (the reward is a side effect); exactly as many credits as the money allows are
made, every other one is skipped whole with its reason, the program never goes below zero and
the ledger balances. A real `gunicorn --workers 4` serves a scratch database of its own (a temp
SQLite file, or `<dbname>_reward_concurrency` beside TEST_DATABASE_URL's database on PostgreSQL).
"""

from __future__ import annotations

import http.client
import itertools
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from werkzeug.security import generate_password_hash

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.auth.models import User
from leadshare.extensions import db
from leadshare.rewards.enums import AccountKind
from leadshare.rewards.ledger import account_key
from leadshare.rewards.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    RewardCredit,
    RewardSkip,
)
from leadshare.tenancy.models import Dealer, Group
from leadshare.vocabulary import Role

from .. import TEST_SECRET_KEY
from ..factories import SHANGHAI_PUDONG, SHENZHEN_NANSHAN
from ..services.reward_world import assert_ledger_balanced
from .scratch import scratch_database
from .test_concurrency import (
    Server,
    _free_port,
    _send,
    _start_gunicorn,
    _stop_gunicorn,
    _wait_healthy,
)

pytestmark = [pytest.mark.no_rollback, pytest.mark.slow]  # multi-process: `make test-slow`

SECRET_KEY = TEST_SECRET_KEY
PASSWORD = "password123"
RECEIVERS = ("S1", "S2", "S3", "S4")  # co-located: ties go to the least loaded, so leads spread
CUSTOMER = (SHENZHEN_NANSHAN[0] + 0.01, SHENZHEN_NANSHAN[1])  # ~1 km from every receiver

_phones = itertools.count(1)


# --- the scratch database and the live server ------------------------------------------------


@dataclass
class Network:
    """One group: a referrer in Shanghai, four receiving stores side by side in Shenzhen."""

    group_id: int
    referrer_id: int
    store_ids: dict[str, int]  # store code -> dealer id
    emails: dict[str, str]  # "admin", "referrer" or a store code -> login
    tokens: dict[str, str] = field(default_factory=dict)  # same keys -> bearer token


@dataclass
class World:
    server: Server
    app: Flask
    networks: dict[str, Network]


def _seed_network(code: str, password_hash: str) -> Network:
    """Only the receivers and the referrer sell 大众; a 大众 customer in Shenzhen is out of the
    Shanghai referrer's region, so each lead is shared and offered to one of the receivers."""
    group = Group(name=f"Reward race {code}", code=code)
    db.session.add(group)
    db.session.flush()

    def dealer(store: str, at: tuple[float, float]) -> Dealer:
        row = Dealer(
            group_id=group.id,
            code=store,
            name=f"{code} store {store}",
            address=store,
            latitude=at[0],
            longitude=at[1],
            geo_precision="exact",
            service_radius_km=50.0,
        )
        row.brands = ["大众"]
        db.session.add(row)
        return row

    dealers = {"referrer": dealer("R", SHANGHAI_PUDONG)}
    dealers.update({store: dealer(store, SHENZHEN_NANSHAN) for store in RECEIVERS})
    db.session.flush()
    emails: dict[str, str] = {}
    for name, row in dealers.items():
        email = f"{name.lower()}@{code.lower()}.race.example.com"
        user = User(
            email=email,
            role=str(Role.STAFF),
            name=email,
            group_id=group.id,
            dealer_id=row.id,
            password_hash=password_hash,
        )
        db.session.add(user)
        emails[name] = email
    admin_email = f"admin@{code.lower()}.race.example.com"
    admin = User(
        email=admin_email,
        role=str(Role.GROUP_ADMIN),
        name=admin_email,
        group_id=group.id,
        password_hash=password_hash,
    )
    db.session.add(admin)
    emails["admin"] = admin_email
    db.session.flush()
    return Network(
        group_id=group.id,
        referrer_id=dealers["referrer"].id,
        store_ids={store: dealers[store].id for store in RECEIVERS},
        emails=emails,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("reward_concurrency")
    with scratch_database(tmp, "reward_concurrency") as url:
        proc = None
        app = create_app(
            {
                "SECRET_KEY": SECRET_KEY,
                "SQLALCHEMY_DATABASE_URI": url,
                "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
                "GEOCODER": "none",
            }
        )
        try:
            with app.app_context():
                upgrade(directory=str(MIGRATIONS_DIR))
                hashed = generate_password_hash(PASSWORD)  # once: hashing is slow on purpose
                networks = {code: _seed_network(code, hashed) for code in ("BUDGET", "CAP")}
                db.session.commit()
                db.engine.dispose()
            port = _free_port()
            server = Server(port=port, log_path=tmp / "gunicorn.log", dealer_ids={})
            proc = _start_gunicorn(url, port, server.log_path, SECRET_KEY)
            _wait_healthy(proc, server)

            def login(email: str) -> str:
                status, body, raw = server.call(
                    "POST", "/api/v1/auth/token", body={"email": email, "password": PASSWORD}
                )
                assert status == 200, raw
                return body["token"]

            with ThreadPoolExecutor(max_workers=4) as pool:  # one per gunicorn worker
                for network in networks.values():
                    names = list(network.emails)
                    tokens = pool.map(login, [network.emails[name] for name in names])
                    network.tokens.update(zip(names, tokens, strict=True))
            yield World(server=server, app=app, networks=networks)
        finally:
            if proc is not None:
                _stop_gunicorn(proc, signal.SIGINT)  # quick shutdown: the tests are over
            with app.app_context():
                db.engine.dispose()


# --- helpers ---------------------------------------------------------------------------------


def _create_program(world: World, network: Network, name: str, **fields: Any) -> dict[str, Any]:
    payload = {
        "name": name,
        "starts_on": (date.today() - timedelta(days=1)).isoformat(),
        "rules": [{"event": "accepted", "amount": "100.00"}],
        "hold_days": 0,  # credited straight to the available balance these races read
        **fields,
    }
    status, body, raw = world.server.call(
        "POST", "/api/v1/reward-programs", token=network.tokens["admin"], body=payload
    )
    assert status == 201, raw
    assert body["remaining"] == body["budget"] == payload["budget"], body
    return body


def _share_leads(world: World, network: Network, count: int) -> dict[str, str]:
    """Post `count` leads as the referrer; each is offered to a receiver. lead id -> store."""
    by_id = {dealer_id: store for store, dealer_id in network.store_ids.items()}
    offered: dict[str, str] = {}
    for _ in range(count):
        n = next(_phones)
        status, lead, raw = world.server.call(
            "POST",
            "/api/v1/leads",
            token=network.tokens["referrer"],
            body={
                "customer": {"name": f"Reward race customer {n}", "phone": f"139{n:08d}"},
                "location": {"latitude": CUSTOMER[0], "longitude": CUSTOMER[1]},
                "brand": "大众",
                "source": {"channel": "walk_in"},
                "consent_to_share": True,
            },
        )
        assert status == 201, raw
        assert lead["status"] == "offered", lead
        offered[lead["id"]] = by_id[lead["current_offer"]["dealer"]["id"]]
    # Routing spreads the leads over the receivers (equal distance, least loaded first).
    assert set(Counter(offered.values())) == set(RECEIVERS), Counter(offered.values())
    return offered


def _claim_all_at_once(
    world: World, network: Network, offered: dict[str, str]
) -> list[tuple[str, int, Any, str]]:
    """Each offered store claims its lead; connections open first, requests past a barrier."""
    barrier = threading.Barrier(len(offered))

    def claim(item: tuple[str, str]) -> tuple[str, int, Any, str]:
        lead_id, store = item
        conn = http.client.HTTPConnection("127.0.0.1", world.server.port, timeout=60)
        try:
            conn.connect()
            barrier.wait(timeout=30)
            status, body, raw = _send(
                conn, "POST", f"/api/v1/leads/{lead_id}/claim", network.tokens[store], None
            )
            return lead_id, status, body, raw
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=len(offered)) as pool:
        return list(pool.map(claim, offered.items()))


def _every_claim_won(world: World, network: Network, offered, results) -> None:
    statuses = Counter(status for _, status, _, _ in results)
    context = f"statuses {dict(statuses)}\nserver log:\n{world.server.log_tail()}"
    locked = [raw for _, _, _, raw in results if "database is locked" in raw.lower()]
    assert not locked, f"'database is locked' reached a user: {locked[0]}\n{context}"
    failed = [raw for _, status, _, raw in results if status != 200]
    assert not failed, f"{len(failed)} claims failed, first: {failed[0]}\n{context}"
    for lead_id, _, body, _ in results:
        assert body["status"] == "accepted", body
        assert body["holder"]["id"] == network.store_ids[offered[lead_id]], body


def _program_view(world: World, network: Network, program_id: int) -> dict[str, Any]:
    status, body, raw = world.server.call(
        "GET", f"/api/v1/reward-programs/{program_id}", token=network.tokens["admin"]
    )
    assert status == 200, raw
    return body


def _skip_list(world: World, network: Network, program_id: int) -> list[dict[str, Any]]:
    status, body, raw = world.server.call(
        "GET",
        f"/api/v1/reward-programs/{program_id}/skips?per_page=100",
        token=network.tokens["admin"],
    )
    assert status == 200, raw
    assert body["total"] == len(body["items"]), body["total"]
    return body["items"]


def _check_program(
    world: World,
    network: Network,
    program: dict[str, Any],
    offered: dict[str, str],
    *,
    credits: int,
    skip_reason: str,
) -> None:
    """The API figures, the skips list and the stored rows of one program after the race."""
    leads = len(offered)
    amount = 10000  # "100.00" in fen
    budget = int(program["budget"].replace(".", ""))
    view = _program_view(world, network, program["id"])
    assert view["budget"] == program["budget"], view
    assert view["used"] == f"{credits * amount // 100}.00", view
    assert view["remaining"] == f"{(budget - credits * amount) // 100}.00", view
    assert view["credits"] == credits, view
    assert view["skips"] == {skip_reason: leads - credits}, view

    skips = _skip_list(world, network, program["id"])
    assert len(skips) == leads - credits
    assert {(s["event"], s["amount"], s["reason"]) for s in skips} == {
        ("accepted", "100.00", skip_reason)
    }
    skipped_leads = {s["lead_id"] for s in skips}
    assert len(skipped_leads) == leads - credits  # never two skips for one lead

    with world.app.app_context():
        public_ids = dict(
            db.session.execute(
                text("SELECT id, public_id FROM leads WHERE group_id = :g"),
                {"g": network.group_id},
            ).all()
        )
        rows = db.session.scalars(
            select(RewardCredit).where(RewardCredit.program_id == program["id"])
        ).all()
        assert len(rows) == credits
        assert {(r.event, r.amount_minor, r.dealer_id, r.reversal_entry_id) for r in rows} == {
            ("accepted", amount, network.referrer_id, None)
        }
        credited_leads = {public_ids[r.lead_id] for r in rows}
        assert len(credited_leads) == credits  # never two credits for one lead
        assert not credited_leads & skipped_leads
        assert credited_leads | skipped_leads == set(offered)  # every lead decided exactly once
        assert sum(r.amount_minor for r in rows) <= budget
        stored_skips = db.session.scalar(
            select(func.count(RewardSkip.id)).where(RewardSkip.program_id == program["id"])
        )
        assert stored_skips == leads - credits

        # The program's account: its balance is its postings' sum, and replaying its postings in
        # entry order (the order the serialised credits were written) it never went below zero.
        account = db.session.scalar(
            select(LedgerAccount).where(
                LedgerAccount.key == account_key(AccountKind.PROGRAM, program["id"])
            )
        )
        history = db.session.execute(
            select(LedgerEntry.kind, LedgerPosting.amount_minor)
            .join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id)
            .where(LedgerPosting.account_id == account.id)
            .order_by(LedgerEntry.id)
        ).all()
        assert [kind for kind, _ in history] == ["funding"] + ["credit"] * credits
        running, lowest = 0, 0
        for _, posted in history:
            running += posted
            lowest = min(lowest, running)
        assert lowest == 0 and running == account.balance_minor == budget - credits * amount
        entries = db.session.scalars(
            select(LedgerEntry.id).where(
                LedgerEntry.program_id == program["id"], LedgerEntry.kind == "credit"
            )
        ).all()
        assert sorted(entries) == sorted(r.entry_id for r in rows)
        db.engine.dispose()


def _check_ledger(world: World, network: Network, referrer_balance_minor: int) -> None:
    """Every entry balances, so does the whole ledger; each balance is its postings' sum."""
    with world.app.app_context():
        assert_ledger_balanced()
        for account in db.session.scalars(select(LedgerAccount)):
            if account.kind == AccountKind.PROGRAM:
                assert account.balance_minor >= 0, account.key
        referrer = db.session.scalar(
            select(LedgerAccount.balance_minor).where(
                LedgerAccount.key == account_key(AccountKind.DEALER_REWARDS, network.referrer_id)
            )
        )
        assert referrer == referrer_balance_minor
        db.engine.dispose()


# --- the races -------------------------------------------------------------------------------

LEADS = 20
BUDGET_COVERS = 7
CAP_LEADS = 16
CAP_COVERS = 3  # 300.00 a month for the referrer at 100.00 a credit
SMALL_COVERS = 5  # a second program in the same group, 500.00 of budget


def test_claims_racing_for_a_small_budget_credit_exactly_what_it_covers(world):
    network = world.networks["BUDGET"]
    program = _create_program(world, network, "Race budget", budget="700.00")
    offered = _share_leads(world, network, LEADS)

    results = _claim_all_at_once(world, network, offered)

    _every_claim_won(world, network, offered, results)
    _check_program(
        world, network, program, offered, credits=BUDGET_COVERS, skip_reason="budget_exhausted"
    )
    view = _program_view(world, network, program["id"])
    assert (view["remaining"], view["used"]) == ("0.00", "700.00")
    _check_ledger(world, network, referrer_balance_minor=BUDGET_COVERS * 10000)


def test_claims_racing_for_a_monthly_cap_credit_exactly_what_it_allows(world):
    """Two programs in one group: each claim locks both accounts, in program order."""
    network = world.networks["CAP"]
    capped = _create_program(
        world, network, "Race cap", budget="10000.00", per_dealer_monthly_cap="300.00"
    )
    small = _create_program(world, network, "Race small budget", budget="500.00")
    offered = _share_leads(world, network, CAP_LEADS)

    results = _claim_all_at_once(world, network, offered)

    _every_claim_won(world, network, offered, results)
    _check_program(
        world, network, capped, offered, credits=CAP_COVERS, skip_reason="dealer_cap_reached"
    )
    _check_program(
        world, network, small, offered, credits=SMALL_COVERS, skip_reason="budget_exhausted"
    )
    view = _program_view(world, network, capped["id"])
    assert (view["remaining"], view["used"]) == ("9700.00", "300.00")
    assert view["per_dealer_monthly_cap"] == "300.00"
    view = _program_view(world, network, small["id"])
    assert (view["remaining"], view["used"]) == ("0.00", "500.00")
    _check_ledger(world, network, referrer_balance_minor=(CAP_COVERS + SMALL_COVERS) * 10000)
