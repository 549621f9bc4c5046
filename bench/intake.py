"""Intake, claim and progress in the process: SQL statements and latency of one request each.

The first slice of the intake benchmark (issue 13): no load generator yet. A group of 300 stores
selling 4 brands around 15 cities is built in a scratch database; every lead is posted by a store
of one city for a customer (coordinates given) in another, so each is shared `out_of_region` and
routed. Each lead is posted, claimed by the store it was offered to and moved to `contacted`,
through the Flask test client with Bearer tokens, so every request runs the whole stack (the
door, the token check, validation, de-duplication, routing, events, the outbox). For each kind
of request the benchmark prints the SQL statements it sent (an engine event counter) and the
p50 / p99 / max time in the process.

    python -m bench.intake [--leads 300] [--database-url URL]

Without --database-url a fresh SQLite file (WAL) in a temporary directory is used; a PostgreSQL
URL names a scratch database (its name must contain "bench") that is dropped and created again.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_migrate import upgrade
from sqlalchemy import event

from bench.routing import CITIES, database, machine, percentile, scatter
from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.auth.models import User
from leadshare.extensions import db
from leadshare.tenancy.models import Dealer, Group
from leadshare.vocabulary import Role

BRANDS = ("奥迪", "宝马", "丰田", "大众")
STORES = 300
CITY_COUNT = 15
PASSWORD = "bench-password"
SECRET_KEY = "bench-intake-secret-key-of-at-least-32-characters"


@dataclass
class Measured:
    """Statements and seconds of each request of one kind."""

    statements: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    last: list[str] = field(default_factory=list)
    """The statements of the last request, to see where they go."""

    def row(self, name: str) -> str:
        ms = [s * 1000 for s in self.seconds]
        return (
            f"| {name} | {len(ms)} | {statistics.median(self.statements):.0f} "
            f"| {max(self.statements)} | {percentile(ms, 50):.1f} | {percentile(ms, 99):.1f} "
            f"| {max(ms):.1f} |"
        )


def build_world(rng: random.Random) -> dict[int, str]:
    """The group, its 300 stores (each selling one or two brands) and one staff user each."""
    group = Group(name="压测集团", code="BENCH", offer_ttl_minutes=120, max_offers_per_lead=5)
    db.session.add(group)
    db.session.flush()
    emails: dict[int, str] = {}
    cities = CITIES[:CITY_COUNT]
    for n in range(STORES):
        name, lat, lon, _weight, _adcode = cities[n % CITY_COUNT]
        brands = rng.sample(BRANDS, rng.choice((1, 2)))
        latitude, longitude = scatter(rng, lat, lon, 12.0)
        dealer = Dealer(
            group_id=group.id,
            code=f"S{n:03d}",
            name=f"{name}{'·'.join(brands)}{n:03d}店",
            latitude=latitude,
            longitude=longitude,
            service_radius_km=40,
        )
        dealer.brands = brands
        db.session.add(dealer)
        db.session.flush()
        user = User(
            email=f"staff{n:03d}@bench.leadshare.cn",
            role=Role.STAFF,
            group_id=group.id,
            dealer_id=dealer.id,
        )
        user.set_password(PASSWORD, "pbkdf2:sha256:1000")
        db.session.add(user)
        emails[dealer.id] = user.email
    db.session.commit()
    return emails


def lead_body(rng: random.Random, n: int, city: int) -> dict:
    _name, lat, lon, _weight, _adcode = CITIES[city]
    latitude, longitude = scatter(rng, lat, lon, 8.0)
    return {
        "customer": {"name": f"客户{n}", "phone": f"139{n:08d}"},
        "location": {"latitude": round(latitude, 6), "longitude": round(longitude, 6)},
        "brand": rng.choice(BRANDS),
        "model": "A6L",
        "timeframe": "1m",
        "source": {"channel": "livestream", "campaign": "双11直播"},
        "consent_to_share": True,
    }


def run(url: str, leads: int, seed: int) -> dict[str, Measured]:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET_KEY,
            "GEOCODER": "none",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    rng = random.Random(seed)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        emails = build_world(rng)
        engine = db.engine
    counted = [0]
    last: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        counted[0] += 1
        last.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", count)
    client = app.test_client()
    tokens: dict[int, dict[str, str]] = {}

    def headers(dealer_id: int) -> dict[str, str]:
        if dealer_id not in tokens:
            answer = client.post(
                "/api/v1/auth/token", json={"email": emails[dealer_id], "password": PASSWORD}
            )
            tokens[dealer_id] = {"Authorization": f"Bearer {answer.json['token']}"}
        return tokens[dealer_id]

    def timed(into: Measured, method: str, path: str, who: int, body: dict) -> dict:
        heads = headers(who)
        counted[0] = 0
        last.clear()
        start = time.perf_counter()
        answer = client.open(path, method=method, json=body, headers=heads)
        into.seconds.append(time.perf_counter() - start)
        into.statements.append(counted[0])
        into.last = list(last)
        if answer.status_code >= 300:
            raise SystemExit(f"{method} {path}: {answer.status_code} {answer.json}")
        return answer.json

    measured = {name: Measured() for name in ("intake", "claim", "progress")}
    dealer_ids = sorted(emails)
    for n in range(leads):
        referrer = dealer_ids[rng.randrange(len(dealer_ids))]
        home = (referrer - dealer_ids[0]) % CITY_COUNT
        city = rng.choice([c for c in range(CITY_COUNT) if c != home])
        lead = timed(measured["intake"], "POST", "/api/v1/leads", referrer, lead_body(rng, n, city))
        offer = lead.get("current_offer")
        if offer is None:
            continue
        holder = offer["dealer"]["id"]
        timed(measured["claim"], "POST", f"/api/v1/leads/{lead['id']}/claim", holder, {})
        timed(
            measured["progress"],
            "POST",
            f"/api/v1/leads/{lead['id']}/progress",
            holder,
            {"status": "contacted"},
        )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return measured


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=300, help="leads to post (default 300)")
    parser.add_argument("--database-url", help="a PostgreSQL URL naming a *bench* database")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--show-statements", action="store_true", help="list the last request's statements"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    load = os.getloadavg()
    with database(args.database_url, keep=False) as (url, description):
        measured = run(url, args.leads, args.seed)
    print(f"{description}; {machine(load)}")
    print(f"{STORES} stores, {len(BRANDS)} brands, {CITY_COUNT} cities; {args.leads} leads\n")
    print("| request | count | statements (median) | statements (max) | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, figures in measured.items():
        if figures.seconds:
            print(figures.row(name))
    if args.show_statements:
        for name, figures in measured.items():
            print(f"\n{name}, the last one:")
            print("\n".join(f"  {n:2d}. {sql}" for n, sql in enumerate(figures.last, 1)))


if __name__ == "__main__":
    main()
