"""Intake, claim and progress: statements in the process; throughput beside a bare anchor.

A group of 300 stores
selling 4 brands around 15 cities is built in a scratch database; every lead is posted by a store
of one city for a customer (coordinates given) in another, so each is shared `out_of_region` and
routed. Each lead is posted, claimed by the store it was offered to and moved to `contacted`,
through the Flask test client with Bearer tokens, so every request runs the whole stack (the
door, the token check, validation, de-duplication, routing, events, the outbox). For each kind
of request the benchmark prints the SQL statements it sent (an engine event counter) and the
p50 / p99 / max time in the process.

Then the load (`bench/load.py`): the same world in a new database, served by gunicorn (2 sync
workers), and the bare anchor app (`bench/anchor.py`: the same schema, one INSERT into SQLite WAL)
served alike. wrk posts leads to both at 16 connections, interleaved (anchor, service, anchor,
service), then at 2 connections for latency; fills the database to 10,000 leads and reads the
workers' memory; then claims the offered leads and records a progress step on the claimed ones,
each against the anchor again. It prints requests/s, p50/p99 and non-2xx answers of every run and
the service's share of the anchor's throughput.

    python -m bench.intake [--leads 300] [--database-url URL] [--seconds 10] [--no-load]

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
from sqlalchemy import create_engine, event, func, select

from bench import load
from bench.routing import CITIES, database, machine, percentile, scatter
from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.auth.models import User
from leadshare.auth.tokens import issue_token
from leadshare.extensions import db
from leadshare.leads.enums import LeadStatus, OfferStatus
from leadshare.leads.models import Lead, Offer
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
            webhook_url=f"https://hooks.bench.example/leadshare/{n:03d}",
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


def bench_app(url: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET_KEY,
            "GEOCODER": "none",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


def run(url: str, leads: int, seed: int) -> dict[str, Measured]:
    app = bench_app(url)
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


# --- under load ---------------------------------------------------------------------------


@dataclass
class LoadFigures:
    runs: list[load.Run] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    leads_at_rss: int = 0
    notes: list[str] = field(default_factory=list)

    def pairs(self, kind: str, connections: int) -> tuple[list[load.Run], list[load.Run]]:
        runs = [r for r in self.runs if r.kind == kind and r.connections == connections]
        return [r for r in runs if r.app == "anchor"], [r for r in runs if r.app == "service"]


def prepare_load_world(url: str, seed: int, workdir) -> tuple[dict[int, str], object]:
    """Migrate and build the world; a Bearer token per store; the Lua data of the intake."""
    app = bench_app(url)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        build_world(random.Random(seed))
        users = db.session.scalars(select(User).order_by(User.dealer_id)).all()
        first = users[0].dealer_id
        tokens = {u.dealer_id: "Bearer " + issue_token(u, SECRET_KEY, 86400)[0] for u in users}
        homes = [(u.dealer_id - first) % CITY_COUNT + 1 for u in users]
        db.session.remove()
        db.engine.dispose()
    data = load.write_data(
        workdir,
        "intake-data",
        tokens=[tokens[u.dealer_id] for u in users],
        homes=homes,
        cities=[(lat, lon) for _n, lat, lon, _w, _a in CITIES[:CITY_COUNT]],
        brands=BRANDS,
    )
    return tokens, data


def load_run(url: str, seed: int, seconds: float, fill: int) -> LoadFigures:
    figures = LoadFigures()
    intake_lua = load.SCRIPTS / "intake.lua"
    step_lua = load.SCRIPTS / "step.lua"
    with load.scratch_dir() as tmp:
        workdir = load.Path(tmp)
        tokens, data = prepare_load_world(url, seed, workdir)
        engine = create_engine(url)

        def count(statement) -> int:
            with engine.connect() as conn:
                return conn.execute(statement).scalar_one()

        service_env = {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "GEOCODER": "none",
            "TRUSTED_PROXIES": "0",
        }
        anchor_env = {"ANCHOR_DATABASE": str(workdir / "anchor.db")}
        runs = iter(range(1, 100))
        with (
            load.gunicorn("wsgi:app", service_env, workdir, "service") as (service, master),
            load.gunicorn("bench.anchor:create_app()", anchor_env, workdir, "anchor") as (
                anchor,
                _,
            ),
        ):

            def post(app: str, connections: int, kind: str = "intake", span=seconds) -> load.Run:
                port, path = (anchor, "/leads") if app == "anchor" else (service, "/api/v1/leads")
                result = load.wrk(
                    port,
                    intake_lua,
                    [str(data), str(next(runs)), path],
                    app=app,
                    kind=kind,
                    connections=connections,
                    seconds=span,
                )
                if kind != "fill":
                    figures.runs.append(result)
                return result

            def steps(kind: str, pairs: list[tuple[str, int]], *statuses: str) -> None:
                """Two runs, each on its own half of the leads (a lead is claimed or moved
                once per status, never again by the second run)."""
                if not pairs:
                    figures.notes.append(f"{kind}: nothing to do")
                    return
                suffix = "claim" if kind == "claim" else "progress"
                for half in range(2):
                    lua_pairs = [(lead, tokens[dealer]) for lead, dealer in pairs[half::2]]
                    step_data = load.write_data(workdir, f"{kind}-{half}", steps=lua_pairs)
                    post("anchor", 16, kind)
                    figures.runs.append(
                        load.wrk(
                            service,
                            step_lua,
                            [str(step_data), "2", suffix, *(statuses or ("-",))],
                            app="service",
                            kind=kind,
                            connections=16,
                            seconds=seconds,
                        )
                    )

            for app in ("anchor", "service"):  # warm up: first requests load what they need
                post(app, 2, "fill", span=3)
            for _ in range(2):
                post("anchor", 16)
                post("service", 16)
            for _ in range(2):
                post("anchor", 2)
                post("service", 2)
            posted = count(select(func.count()).select_from(Lead))
            while posted < fill:
                rate = max(figures.pairs("intake", 16)[1][-1].rate, 50.0)
                post("service", 16, "fill", span=max(2.0, min(30.0, (fill - posted) / rate + 1)))
                posted = count(select(func.count()).select_from(Lead))
            figures.rss_mb = load.worker_rss_mb(master)
            figures.leads_at_rss = posted
            offered = [
                tuple(row)
                for row in engine.connect().execute(
                    select(Lead.public_id, Offer.dealer_id)
                    .join(Offer, Offer.lead_id == Lead.id)
                    .where(Offer.status == OfferStatus.PENDING)
                    .order_by(Lead.id)
                )
            ]
            figures.notes.append(f"{len(offered)} offered leads to claim")
            steps("claim", offered)
            held = [
                tuple(row)
                for row in engine.connect().execute(
                    select(Lead.public_id, Lead.holder_id)
                    .where(Lead.status == LeadStatus.ACCEPTED)
                    .order_by(Lead.id)
                )
            ]
            figures.notes.append(f"{len(held)} claimed leads for progress steps")
            steps("progress", held, "contacted", "visited", "lost")
        engine.dispose()
    return figures


def ratio(figures: LoadFigures, kind: str, connections: int) -> str:
    anchors, services = figures.pairs(kind, connections)
    if not anchors or not services:
        return "-"
    anchor = statistics.mean(r.rate for r in anchors)
    service = statistics.mean(r.rate for r in services)
    return f"{service / anchor:.2f}" if anchor else "-"


def print_load(figures: LoadFigures) -> None:
    print("\n| load | app | connections | requests/s | p50 ms | p99 ms | non-2xx | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in figures.runs:
        print(
            f"| {r.kind} | {r.app} | {r.connections} | {r.rate:.0f} | {r.p50_ms:.1f} "
            f"| {r.p99_ms:.1f} | {r.non_2xx} | {r.errors} |"
        )
    print()
    for kind, connections in (("intake", 16), ("intake", 2), ("claim", 16), ("progress", 16)):
        share = ratio(figures, kind, connections)
        print(f"- {kind} at {connections} connections: {share} of the anchor's requests/s")
    print(
        f"- worker memory (RSS) after {figures.leads_at_rss:,} leads: "
        + ", ".join(f"{mb:.0f} MB" for mb in figures.rss_mb)
    )
    for note in figures.notes:
        print(f"- {note}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=300, help="leads to post (default 300)")
    parser.add_argument("--database-url", help="a PostgreSQL URL naming a *bench* database")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--seconds", type=float, default=10, help="each wrk run (default 10)")
    parser.add_argument(
        "--fill", type=int, default=10000, help="leads posted before memory is read (10,000)"
    )
    parser.add_argument("--no-load", action="store_true", help="only the in-process part")
    parser.add_argument(
        "--show-statements", action="store_true", help="list the last request's statements"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = os.getloadavg()
    with database(args.database_url, keep=False) as (url, description):
        measured = run(url, args.leads, args.seed)
    print(f"{description}; {machine(started)}")
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
    if args.no_load:
        return
    load_average = os.getloadavg()
    with database(args.database_url, keep=False) as (url, description):
        figures = load_run(url, args.seed, args.seconds, args.fill)
    after = os.getloadavg()
    print(
        f"\nUnder load: gunicorn, {load.WORKERS} sync workers each, wrk; {description}; "
        f"load average {load_average[0]:.2f} before, {after[0]:.2f} after"
    )
    print_load(figures)


if __name__ == "__main__":
    main()
