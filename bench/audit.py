"""Audit benchmark: funnel, flows, lead list and chain check over a million leads on PostgreSQL.

A scratch database (its name must contain "bench"; dropped and created again, dropped at the
end unless --keep-database) is migrated, then filled with synthetic groups, OEMs, stores and
leads: ids grow with creation time, referrers are Zipf-distributed within a group (a few
stores with livestream teams post most leads), and lifecycles are simulated (routed offers
declined, expired or accepted, board claims, progress up the ladder, losses with Chinese
reasons, withdrawals, voids), with every lead's hash-chained events (valid chains, so the range
check verifies them). Rows go in with COPY from parallel workers.

Each report is timed through the HTTP API (Flask test client: queries, aggregation, JSON or
CSV), first without the audit indexes (AUDIT_INDEXES, dropped after migrating to the head),
then after they are built as migration 0006 declares them on the models. Wall times depend on
whatever else the machine runs, so each report's CPU time is measured too: this process plus
the database's server processes (read from /proc), with parallel query off so that no work
hides in short-lived parallel workers. That is what the report costs one otherwise idle core;
the target is under 1 s for one brand over a year.

    python -m bench.audit [--leads 1000000] [--database-url URL] [--repeat 5] [--jobs N]

The default URL is postgresql+psycopg://postgres@127.0.0.1:5432/leadshare_bench_audit (the
server must run on this host for the CPU figures).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import math
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import flask_migrate
import psycopg
from sqlalchemy import Index, insert, select, text
from sqlalchemy.engine import make_url

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.auth.models import User
from leadshare.extensions import db
from leadshare.leads.chain import canonical_json, event_hash
from leadshare.leads.models import Lead, Offer
from leadshare.routing.geocode.gazetteer import Gazetteer
from leadshare.settings import current_settings
from leadshare.tenancy.models import Dealer, DealerBrand, Group, Oem, OemBrand
from leadshare.vocabulary import Role, brand_key

from .routing import CITIES, CITY_WEIGHTS, database, machine, scatter

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/leadshare_bench_audit"
SEED = 20250314
SPAN_START = datetime(2023, 7, 1)  # leads are created over 18 months ...
SPAN_DAYS = 549
YEAR = (datetime(2024, 1, 1), datetime(2025, 1, 1))  # ... and the reports read one year
PASSWORD = "bench-password"
TARGET_S = 1.0
FLOOR_TIMES = 3.0  # a report may take at most 3x its floor (issue 13)
MIGRATIONS = str(MIGRATIONS_DIR)

AUDIT_INDEXES = ("ix_leads_brand_created", "ix_leads_group_created", "ix_offers_lead_outcome")
"""Built by migration 0006_audit_indexes (declared on the Lead and Offer models). The bench
migrates to the head (the app needs every later column) and drops them for the first timing."""

# name, weight, OEM
BRANDS = (
    ("大众", 22, "一汽-大众"),
    ("奥迪", 8, "一汽-大众"),
    ("丰田", 15, "丰田中国"),
    ("本田", 10, "本田中国"),
    ("比亚迪", 12, "比亚迪"),
    ("宝马", 7, "华晨宝马"),
    ("奔驰", 7, "北京奔驰"),
    ("别克", 6, "上汽通用"),
    ("日产", 5, "东风日产"),
    ("吉利", 5, "吉利汽车"),
    ("长安", 3, "长安汽车"),
)
BRAND_WEIGHTS = tuple(b[1] for b in BRANDS)
GROUPS = (
    ("华南汽车集团", 35),
    ("申城汽车集团", 25),
    ("京津冀汽车", 20),
    ("西部汽车", 12),
    ("中原汽车", 8),
)
DEALERS = 2000
CHANNELS = (
    ("livestream", 25),
    ("short_video", 20),
    ("vertical_media", 15),
    ("wecom", 10),
    ("walk_in", 10),
    ("event", 6),
    ("phone", 6),
    ("website", 5),
    ("referral", 2),
    ("other", 1),
)
DECLINE_REASONS = (
    ("no_stock", 40),
    ("too_far", 25),
    ("capacity", 15),
    ("invalid_contact", 10),
    ("duplicate", 5),
    ("other", 5),
)
LOST_REASONS = (
    ("price", 25),
    ("unreachable", 22),
    ("bought_elsewhere", 18),
    ("financing_declined", 8),
    ("postponed", 12),
    ("bought_other_brand", 8),
    ("not_interested", 5),
    ("other", 2),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
MODELS = ("A4L", "A6L", "Q5L", "朗逸", "帕萨特", "凯美瑞", "卡罗拉", "雅阁", "汉", "宋PLUS", "X3")


def weighted(rng: random.Random, table: Sequence[tuple]) -> Any:
    return rng.choices(table, weights=[row[1] for row in table])[0][0]


# --- the world: groups, OEMs, stores, users (ORM, small) -----------------------------------


@dataclass
class World:
    groups: list[int]
    group_weights: list[int]
    staff_of_group: dict[int, int]
    dealers: dict[int, tuple[int, int, list[str]]]  # id -> (group, city index, brand keys)
    sellers: dict[tuple[int, int, str], list[int]]  # (group, city, brand) -> dealer ids
    brand_sellers: dict[tuple[int, str], list[int]]  # (group, brand) -> dealer ids
    places: list[tuple[str, str, str]]  # city index -> (province, city, adcode)
    group_dealers: dict[int, list[int]] = field(default_factory=dict)
    referrer_weights: dict[int, list[float]] = field(default_factory=dict)
    auditor_email: str = ""
    admin_email: str = ""
    largest_group: int = 0
    target_brand: str = "大众"
    auditor_brand_keys: tuple[str, ...] = ()


def build_world(rng: random.Random) -> World:
    """Groups, OEMs with their brands, 2,000 stores around 40 cities, and the users."""
    method = current_settings().password_hash_method
    gazetteer = Gazetteer.default()
    places = []
    for _, _, _, _, prefix in CITIES:
        place = gazetteer.by_adcode(prefix)
        places.append((place.province, place.city, place.adcode))
    oems: dict[str, Oem] = {}
    for name, _, oem_name in BRANDS:
        oem = oems.setdefault(oem_name, Oem(name=oem_name))
        oem.brand_rows.append(OemBrand(name=name, key=brand_key(name)))
    db.session.add_all(oems.values())
    groups = [Group(name=name, code=f"BENCH{i}") for i, (name, _) in enumerate(GROUPS, 1)]
    db.session.add_all(groups)
    db.session.flush()
    weights = [w for _, w in GROUPS]
    dealer_rows, brand_rows = [], []
    for number in range(DEALERS):
        group = rng.choices(groups, weights=weights)[0]
        city = rng.choices(range(len(CITIES)), weights=CITY_WEIGHTS)[0]
        _, lat, lon, _, prefix = CITIES[city]
        lat, lon = scatter(rng, lat, lon, 15.0)
        names = rng.sample([b[0] for b in BRANDS], rng.choice((1, 1, 2, 2, 3)))
        dealer_rows.append(
            {
                "group_id": group.id,
                "code": f"S{number:05d}",
                "name": f"{places[city][1]}{names[0]}{number:05d}店",
                "address": None,
                "latitude": round(lat, 6),
                "longitude": round(lon, 6),
                "geo_precision": "exact",
                "adcode": places[city][2][:4] + "01",
                "service_radius_km": 50.0,
                "is_active": True,
                "is_accepting": True,
            }
        )
        brand_rows.append(names)
    ids = db.session.scalars(
        insert(Dealer).returning(Dealer.id, sort_by_parameter_order=True), dealer_rows
    ).all()
    world = World(
        [g.id for g in groups], weights, {}, {}, defaultdict(list), defaultdict(list), places
    )
    rows = []
    for dealer_id, row, names in zip(ids, dealer_rows, brand_rows, strict=True):
        keys = [brand_key(n) for n in names]
        city = next(i for i, p in enumerate(places) if p[2][:4] == row["adcode"][:4])
        world.dealers[dealer_id] = (row["group_id"], city, keys)
        world.group_dealers.setdefault(row["group_id"], []).append(dealer_id)
        for position, (name, key) in enumerate(zip(names, keys, strict=True)):
            world.sellers[(row["group_id"], city, key)].append(dealer_id)
            world.brand_sellers[(row["group_id"], key)].append(dealer_id)
            rows.append(
                {
                    "dealer_id": dealer_id,
                    "group_id": row["group_id"],
                    "name": name,
                    "key": key,
                    "position": position,
                    "latitude": row["latitude"],
                    "longitude": row["longitude"],
                }
            )
    db.session.execute(insert(DealerBrand), rows)
    for group in groups:
        staff = User(email=f"staff@{group.code.lower()}.bench", role=Role.STAFF, group_id=group.id)
        staff.dealer_id = next(d for d, (g, _, _) in world.dealers.items() if g == group.id)
        staff.set_password(PASSWORD, method)
        db.session.add(staff)
        db.session.flush()
        world.staff_of_group[group.id] = staff.id
    world.largest_group = groups[0].id
    auditor = User(email="auditor@bench", role=Role.OEM_AUDITOR, oem_id=oems["一汽-大众"].id)
    admin = User(email="admin@bench", role=Role.GROUP_ADMIN, group_id=world.largest_group)
    for user in (auditor, admin):
        user.set_password(PASSWORD, method)
    db.session.add_all([auditor, admin])
    db.session.commit()
    world.auditor_email, world.admin_email = auditor.email, admin.email
    world.auditor_brand_keys = tuple(b.key for b in oems["一汽-大众"].brand_rows)
    world.sellers, world.brand_sellers = dict(world.sellers), dict(world.brand_sellers)
    for group_id, dealer_ids in world.group_dealers.items():  # Zipf: few stores post most leads
        world.referrer_weights[group_id] = list(
            itertools.accumulate(1 / rank for rank in range(1, len(dealer_ids) + 1))
        )
    return world


# --- simulated lead lifecycles (run in worker processes) ------------------------------------

LEAD_COLUMNS = (
    "id",
    "public_id",
    "group_id",
    "referrer_id",
    "holder_id",
    "created_by_id",
    "status",
    "share_reason",
    "customer_name",
    "phone",
    "wechat_id",
    "brand",
    "brand_key",
    "model",
    "budget",
    "timeframe",
    "channel",
    "campaign",
    "notes",
    "consent_at",
    "address",
    "latitude",
    "longitude",
    "geo_precision",
    "geo_source",
    "province",
    "city",
    "district",
    "adcode",
    "order_ref",
    "vin",
    "lost_reason",
    "offers_made",
    "progress_rank",
    "voided_at",
    "void_reason",
    "event_seq",
    "head_hash",
    "created_at",
    "updated_at",
    "accepted_at",
)
OFFER_COLUMNS = (
    "id",
    "lead_id",
    "dealer_id",
    "kind",
    "status",
    "distance_km",
    "offered_at",
    "expires_at",
    "responded_at",
    "responded_by_id",
    "decline_reason",
    "decline_note",
)
EVENT_COLUMNS = (
    "id",
    "lead_id",
    "seq",
    "type",
    "at",
    "actor_id",
    "dealer_id",
    "data",
    "prev_hash",
    "hash",
)
TIMER_COLUMNS = (
    "id",
    "lead_id",
    "dealer_id",
    "consultant_id",
    "kind",
    "state",
    "started_at",
    "remind_at",
    "due_at",
    "reminded_at",
    "missed_at",
    "met_at",
    "accept_open_minutes",
    "open_minutes",
    "released",
)
LADDER = ("accepted", "contacted", "visited", "ordered", "delivered")
CONTACT_SLA = timedelta(minutes=60)  # the groups' default contact_sla_minutes ...
REMIND_SHARE = 0.8  # ... and sla_remind_at
GO_ON = (0.85, 0.65, 0.45, 0.85)  # chance to reach the next stage from accepted ... ordered
TTL = timedelta(minutes=120)


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds") + "Z"


class Chain:
    """A lead's events, hashed as leadshare.leads.events.append_event hashes them."""

    def __init__(self, lead_id: int, public_id: str, actor_id: int) -> None:
        self.lead_id, self.public_id, self.actor_id = lead_id, public_id, actor_id
        self.rows: list[tuple] = []
        self.head: str | None = None

    def add(self, type_: str, at: datetime, dealer_id: int | None, data: dict, actor=True) -> None:
        seq = len(self.rows) + 1
        actor_id = self.actor_id if actor else None
        payload = {
            "lead_id": self.public_id,
            "seq": seq,
            "type": type_,
            "at": at,
            "actor_id": actor_id,
            "dealer_id": dealer_id,
            "data": data,
        }
        digest = event_hash(self.head, payload)
        self.rows.append(
            (
                self.lead_id * 32 + seq,
                self.lead_id,
                seq,
                type_,
                at,
                actor_id,
                dealer_id,
                canonical_json(data),
                self.head or "0" * 64,
                digest,
            )
        )
        self.head = digest


def simulate(index: int, count: int, world: World, rng: random.Random):
    """One lead: its row, its offers and its events; ids grow with creation time, as in use."""
    lead_id = index + 1
    public_id = "ld_" + hashlib.blake2b(str(lead_id).encode(), digest_size=8).hexdigest()
    group = rng.choices(world.groups, weights=world.group_weights)[0]
    brand = rng.choices([b[0] for b in BRANDS], weights=BRAND_WEIGHTS)[0]
    key = brand_key(brand)
    city = rng.choices(range(len(CITIES)), weights=CITY_WEIGHTS)[0]
    province_name, city_name, adcode = world.places[city]
    _, lat, lon, _, _ = CITIES[city]
    lat, lon = scatter(rng, lat, lon, 20.0)
    referrer = rng.choices(world.group_dealers[group], cum_weights=world.referrer_weights[group])[0]
    actor = world.staff_of_group[group]
    created = SPAN_START + timedelta(seconds=(index + rng.random()) * SPAN_DAYS * 86400 / count)
    channel = weighted(rng, CHANNELS)
    chain = Chain(lead_id, public_id, actor)
    location = {
        "adcode": adcode,
        "city": city_name,
        "district": None,
        "precision": "exact",
        "province": province_name,
        "source": "client",
    }
    share = "out_of_region" if world.dealers[referrer][1] != city else "brand_not_carried"
    chain.add(
        "posted",
        created,
        referrer,
        {
            "brand": brand,
            "campaign": None,
            "channel": channel,
            "location": location,
            "share_reason": share,
        },
    )
    now = created
    offers: list[tuple] = []
    status, holder, accepted_at, rank = "open", None, None, 0
    lost_reason = order_ref = vin = voided_at = void_reason = None
    candidates = [d for d in world.sellers.get((group, city, key), []) if d != referrer]
    rng.shuffle(candidates)
    roll = rng.random()

    def offer(dealer_id: int, at: datetime, number: int) -> None:
        distance = round(rng.uniform(1.0, 45.0), 3)
        offers.append(
            [
                lead_id * 8 + number,
                lead_id,
                dealer_id,
                "routed",
                "pending",
                distance,
                at,
                at + TTL,
                None,
                None,
                None,
                None,
            ]
        )
        decision = {
            "chosen": {"dealer_id": dealer_id, "distance_km": distance},
            "considered": len(candidates),
            "excluded": {"area": rng.randrange(50)},
            "runners_up": [
                {"dealer_id": d, "distance_km": round(distance + 3.1, 3)}
                for d in candidates[number : number + 2]
            ],
        }
        chain.add(
            "offered",
            at,
            dealer_id,
            {
                "decision": decision,
                "distance_km": distance,
                "expires_at": stamp(at + TTL),
                "offer": number,
            },
            actor=False,
        )

    if not world.brand_sellers.get((group, key)) or (not candidates and roll < 0.3):
        status = "unroutable"
        chain.add("unroutable", now, None, {"why": "brand_not_sold_elsewhere"}, actor=False)
    elif not candidates:
        chain.add("opened", now, None, {"why": "no_eligible_dealer"}, actor=False)
    else:
        status = "offered"
        for number, dealer_id in enumerate(candidates[:5], start=1):
            now += timedelta(seconds=rng.randrange(1, 30))
            offer(dealer_id, now, number)
            if roll < 0.03:  # withdrawn by the referrer while the first offer was pending
                now += timedelta(minutes=rng.randrange(1, 60))
                offers[-1][4], offers[-1][8] = "withdrawn", now
                status = "withdrawn"
                chain.add("withdrawn", now, referrer, {"reason": "客户改主意"})
                break
            if roll < 0.04:  # still pending
                break
            outcome = rng.random()
            if outcome < 0.55:
                minutes = min(rng.lognormvariate(math.log(25), 0.9), 119)
                now += timedelta(minutes=minutes)
                offers[-1][4], offers[-1][8] = "accepted", now
                status, holder, accepted_at, rank = "accepted", dealer_id, now, 1
                chain.add("claimed", now, dealer_id, {"via": "offer"})
                break
            if outcome < 0.82:
                now += timedelta(minutes=rng.randrange(1, 110))
                reason = weighted(rng, DECLINE_REASONS)
                offers[-1][4], offers[-1][8], offers[-1][10] = "declined", now, reason
                chain.add("declined", now, dealer_id, {"note": None, "reason": reason})
            else:
                now = offers[-1][7]
                offers[-1][4], offers[-1][8] = "expired", now
                chain.add(
                    "expired",
                    now,
                    dealer_id,
                    {"expires_at": stamp(now), "offered_at": stamp(offers[-1][6])},
                    actor=False,
                )
        if status == "offered" and offers[-1][4] != "pending":
            status = "open"
            chain.add(
                "opened",
                now,
                None,
                {"offers_made": len(offers), "why": "max_offers_reached"},
                actor=False,
            )
    if status == "open" and rng.random() < 0.4:  # claimed from the board
        taken = {o[2] for o in offers} | {referrer}
        board = [d for d in world.brand_sellers.get((group, key), []) if d not in taken]
        if board:
            holder = rng.choice(board)
            now += timedelta(minutes=rng.lognormvariate(math.log(90), 1.0))
            offers.append(
                [
                    lead_id * 8 + 7,
                    lead_id,
                    holder,
                    "board",
                    "accepted",
                    None,
                    now,
                    None,
                    now,
                    actor,
                    None,
                    None,
                ]
            )
            status, accepted_at, rank = "accepted", now, 1
            chain.add("claimed", now, holder, {"via": "board"})
    contacted_at = None
    if holder is not None:
        for stage, chance in zip(LADDER[1:], GO_ON, strict=True):
            if rng.random() >= chance:
                if rng.random() < 0.8:
                    now += timedelta(hours=rng.randrange(1, 200))
                    lost_reason = weighted(rng, LOST_REASONS)
                    status = "lost"
                    chain.add("lost", now, holder, {"lost_reason": lost_reason, "skipped": False})
                break
            if stage == "contacted":  # most stores call within the hour, some days later
                now += timedelta(minutes=min(rng.lognormvariate(math.log(35), 1.2), 6000))
                contacted_at = now
            else:
                now += timedelta(hours=rng.randrange(1, 100))
            data: dict[str, Any] = {"skipped": False}
            if stage == "ordered":
                order_ref = data["order_ref"] = f"SO-{lead_id}"
            if stage == "delivered":
                vin = data["vin"] = "LSVAU2A31N2123456"
            chain.add(stage, now, holder, data)
            status, rank = stage, rank + 1
    if rng.random() < 0.003:
        voided_at, void_reason = now + timedelta(days=1), "刷单"
    name = rng.choice(SURNAMES) + rng.choice(("先生", "女士"))
    row = (
        lead_id,
        public_id,
        group,
        referrer,
        holder,
        actor,
        status,
        share,
        name,
        f"+86138{rng.randrange(10**8):08d}",
        f"wx{lead_id}" if roll > 0.5 else None,
        brand,
        key,
        rng.choice(MODELS),
        "20-30万",
        "1m",
        channel,
        "双11直播" if channel == "livestream" else None,
        "客户周末有空" if roll > 0.9 else None,
        created,
        f"{province_name}{city_name}某区某路{rng.randrange(1, 999)}号",
        round(lat, 6),
        round(lon, 6),
        "exact",
        "client",
        province_name,
        city_name,
        None,
        adcode,
        order_ref,
        vin,
        lost_reason,
        sum(1 for o in offers if o[3] == "routed"),
        rank,
        voided_at,
        void_reason,
        len(chain.rows),
        chain.head,
        created,
        now,
        accepted_at,
    )
    timers = [] if holder is None else [contact_timer(lead_id, holder, actor, row, contacted_at)]
    return row, [tuple(o) for o in offers], chain.rows, timers


def contact_timer(
    lead_id: int, holder: int, actor: int, lead: tuple, contacted_at: datetime | None
) -> tuple:
    """The holder's first-contact timer as hours/sla.py keeps it (stores without opening hours
    count the wall clock): started by the claim, met by the first contact within the SLA,
    missed at its due time (a late contact still stamps met_at), closed by a loss before it."""
    created, lost = lead[LEAD_COLUMNS.index("created_at")], lead[LEAD_COLUMNS.index("status")]
    started = lead[LEAD_COLUMNS.index("accepted_at")]
    due, remind = started + CONTACT_SLA, started + CONTACT_SLA * REMIND_SHARE
    ended = lead[LEAD_COLUMNS.index("updated_at")]
    if contacted_at is not None:
        state = "met" if contacted_at <= due else "missed"
        acted = contacted_at
    else:
        state = "closed" if lost == "lost" and ended < due else "missed"
        acted = ended if state == "closed" else None
    return (
        lead_id,
        lead_id,
        holder,
        actor,
        "contact",
        state,
        started,
        remind,
        due,
        remind if acted is None or acted > remind else None,
        due if state == "missed" else None,
        contacted_at,
        round((started - created).total_seconds() / 60, 2),
        None if contacted_at is None else round((contacted_at - started).total_seconds() / 60, 2),
        False,
    )


_WORLD: World | None = None


def _init_worker(world: World) -> None:
    global _WORLD
    _WORLD = world


def load_chunk(job: tuple[str, int, int, int]) -> tuple[int, int, int]:
    """Simulate leads [start, stop) of count and COPY them with their offers and events."""
    conninfo, start, stop, count = job
    rng = random.Random(SEED * 1_000_003 + start)
    leads, offers, events, timers = [], [], [], []
    for index in range(start, stop):
        lead, lead_offers, lead_events, lead_timers = simulate(index, count, _WORLD, rng)
        leads.append(lead)
        offers.extend(lead_offers)
        events.extend(lead_events)
        timers.extend(lead_timers)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for table, columns, rows in (
            ("leads", LEAD_COLUMNS, leads),
            ("offers", OFFER_COLUMNS, offers),
            ("lead_events", EVENT_COLUMNS, events),
            ("sla_timers", TIMER_COLUMNS, timers),
        ):
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    return len(leads), len(offers), len(events), len(timers)


def load_leads(url: str, world: World, count: int, jobs: int) -> tuple[int, int, int, int]:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    chunk = 20_000
    work = [(conninfo, start, min(start + chunk, count), count) for start in range(0, count, chunk)]
    totals = [0, 0, 0, 0]
    with multiprocessing.get_context("fork").Pool(jobs, _init_worker, (world,)) as pool:
        for done in pool.imap_unordered(load_chunk, work):
            totals = [a + b for a, b in zip(totals, done, strict=True)]
            log(
                f"  {totals[0]:,} leads, {totals[1]:,} offers, {totals[2]:,} events, "
                f"{totals[3]:,} contact timers loaded"
            )
    with db.engine.begin() as conn:  # ids were given explicitly: move the sequences on
        for table in ("leads", "offers", "lead_events", "sla_timers"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    return totals[0], totals[1], totals[2], totals[3]


# --- measurement ----------------------------------------------------------------------------


@dataclass
class Measure:
    name: str
    url: str
    who: str
    floor: str = "leads"
    """What the report must read at least: the leads of its filters, their offers, events or
    first-contact timers (the speed report reads the timers, not the offers)."""
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    floor_seconds: list[float] = field(default_factory=list)
    size: str = ""


def reports(world: World) -> list[Measure]:
    year = f"created_from={YEAR[0].isoformat()}Z&created_to={YEAR[1].isoformat()}Z"
    brand = f"brand={world.target_brand}&{year}"
    day = "from=2024-06-03T00:00:00Z&to=2024-06-04T00:00:00Z"
    return [
        Measure("lead list, page 1 (with total)", f"/api/v1/audit/leads?{brand}", "auditor"),
        Measure("funnel", f"/api/v1/audit/funnel?{brand}", "auditor"),
        Measure("funnel by dealer", f"/api/v1/audit/funnel?{brand}&group_by=dealer", "auditor"),
        Measure("funnel by province", f"/api/v1/audit/funnel?{brand}&group_by=province", "auditor"),
        Measure("funnel by group", f"/api/v1/audit/funnel?{brand}&group_by=group", "auditor"),
        Measure("funnel CSV", f"/api/v1/audit/funnel?{brand}&format=csv", "auditor"),
        Measure("flows, dealer level", f"/api/v1/audit/flows?{brand}", "auditor", "offers"),
        Measure(
            "flows, city level", f"/api/v1/audit/flows?{brand}&level=city", "auditor", "offers"
        ),
        Measure(
            "flows CSV, dealer level",
            f"/api/v1/audit/flows?{brand}&format=csv",
            "auditor",
            "offers",
        ),
        Measure("verify chains, one day", f"/api/v1/audit/verify?{day}", "auditor", "events"),
        Measure("group admin: funnel", f"/api/v1/audit/funnel?{year}", "admin"),
        Measure(
            "group admin: funnel by dealer", f"/api/v1/audit/funnel?{year}&group_by=dealer", "admin"
        ),
        Measure(
            "group admin: flows, dealer level", f"/api/v1/audit/flows?{year}", "admin", "offers"
        ),
        # The chart pages' endpoints (issue 21): trends with the previous period, speed, league.
        Measure(
            "trends, monthly, by province",
            f"/api/v1/audit/trends?{brand}&period=month&by=province",
            "auditor",
        ),
        Measure("speed to accept and contact", f"/api/v1/audit/speed?{brand}", "auditor", "timers"),
        Measure("store league", f"/api/v1/audit/league?{brand}", "auditor", "offers"),
        Measure(
            "group admin: trends, monthly, by brand",
            f"/api/v1/audit/trends?{year}&period=month&by=brand",
            "admin",
        ),
        Measure("group admin: store league", f"/api/v1/audit/league?{year}", "admin", "offers"),
    ]


def floor_query(measure: Measure, world: World) -> tuple[str, dict[str, Any]]:
    """The report's floor: a bare count(*) with the report's filters over the same index (the
    leads of the brand or the group in the range), joined to the offers or events it reads."""
    if measure.floor == "events":  # verify: every event of the day's leads of the OEM's brands
        where = "l.brand_key = ANY(:keys) AND l.created_at >= :start AND l.created_at < :end"
        params = {
            "keys": list(world.auditor_brand_keys),
            "start": datetime(2024, 6, 3),
            "end": datetime(2024, 6, 4),
        }
    elif measure.who == "auditor":
        where = "l.brand_key = :key AND l.created_at >= :start AND l.created_at < :end"
        params = {"key": brand_key(world.target_brand), "start": YEAR[0], "end": YEAR[1]}
    else:
        where = "l.group_id = :group AND l.created_at >= :start AND l.created_at < :end"
        params = {"group": world.largest_group, "start": YEAR[0], "end": YEAR[1]}
    source = {
        "leads": "leads l",
        "offers": "leads l JOIN offers o ON o.lead_id = l.id",
        "events": "leads l JOIN lead_events e ON e.lead_id = l.id",
        "timers": "leads l JOIN sla_timers t ON t.lead_id = l.id AND t.kind = 'contact'",
    }[measure.floor]
    return f"SELECT count(*) FROM {source} WHERE {where}", params


def time_floors(measures: list[Measure], world: World, repeat: int) -> None:
    """Wall time of each report's floor, measured like the report (one warm-up run first)."""
    with db.engine.connect() as conn:
        for measure in measures:
            sql, params = floor_query(measure, world)
            for attempt in range(repeat + 1):
                start = time.perf_counter()
                conn.execute(text(sql), params).scalar_one()
                if attempt:
                    measure.floor_seconds.append(time.perf_counter() - start)
            conn.rollback()


def run_reports(
    app, world: World, repeat: int, measures: list[Measure] | None = None, cpu_of: str = ""
) -> list[Measure]:
    """Time each report through HTTP: wall seconds, or with cpu_of (the database name) the CPU
    seconds this process and the database's server processes spent on it."""
    client = app.test_client()
    headers = {}
    for who, email in (("auditor", world.auditor_email), ("admin", world.admin_email)):
        token = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        headers[who] = {"Authorization": f"Bearer {token.json['token']}"}
    measures = measures or reports(world)
    for measure in measures:
        for attempt in range(repeat + 1):
            server = server_cpu_seconds(cpu_of)
            start, cpu_start = time.perf_counter(), time.process_time()
            response = client.get(measure.url, headers=headers[measure.who])
            body = response.get_data()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            cpu += server_cpu_seconds(cpu_of) - server
            if response.status_code != 200:
                raise SystemExit(f"{measure.url}: {response.status_code} {body[:300]!r}")
            if attempt:  # the first run warms the caches
                (measure.cpu if cpu_of else measure.seconds).append(cpu if cpu_of else elapsed)
        measure.size = describe(measure, response)
        figures = measure.cpu if cpu_of else measure.seconds
        kind = "CPU" if cpu_of else "wall"
        log(f"  {measure.name}: median {statistics.median(figures) * 1000:.0f} ms {kind}")
    return measures


def server_cpu_seconds(database: str) -> float:
    """CPU time of every server process connected to the database (Linux /proc, server on
    this host). Measured with parallel query off, so that a report's server work is all done
    by its backend and none by short-lived parallel workers."""
    if not database:
        return 0.0
    ticks = 0
    marker = f" {database} ".encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read()
            if not command.startswith(b"postgres:") or marker not in command:
                continue
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return ticks / os.sysconf("SC_CLK_TCK")


def describe(measure: Measure, response) -> str:
    if response.mimetype == "text/csv":
        lines = response.get_data().count(b"\r\n") - 1
        return f"{lines:,} CSV rows"
    body = response.json
    if "total" in body and "items" in body:
        return f"{body['total']:,} leads"
    if "checked" in body:
        return f"{body['checked']:,} chains checked, {len(body['broken'])} broken"
    if "cells" in body:
        return f"{body['cells_total']:,} cells, {body['pairs_total']:,} pairs"
    if "points" in body:  # trends: this range and the previous one
        shared = body["totals"]["current"]["shared"], body["totals"]["previous"]["shared"]
        return f"{shared[0]:,} + {shared[1]:,} leads, {body['series_total']} series"
    if "to_accept" in body:
        return (
            f"{body['to_accept']['leads']:,} leads accepted, "
            f"{body['to_contact']['leads']:,} contacted"
        )
    if "median" in body:  # the league
        return f"{body['rows_total']:,} stores"
    rows = f", {len(body['rows']):,} rows" if body["rows"] else ""
    return f"{body['total']['counts']['posted']:,} leads{rows}"


# --- databases and output -------------------------------------------------------------------


@contextmanager
def scratch_database(url: str, keep: bool, reuse: bool = False) -> Iterator[str]:
    """An empty PostgreSQL *bench* database, dropped afterwards unless kept; with reuse the
    existing one, as it is."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("this benchmark needs PostgreSQL")
    if reuse:
        if "bench" not in (parsed.database or ""):
            raise SystemExit("--reuse reads a *bench* database only")
        yield parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        return
    with database(url, keep) as (scratch_url, _):
        yield scratch_url


def vacuum_analyze() -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def server_facts() -> str:
    with db.engine.connect() as conn:
        facts = {
            name: conn.execute(text(f"SHOW {name}")).scalar()
            for name in (
                "server_version",
                "shared_buffers",
                "work_mem",
                "max_parallel_workers_per_gather",
            )
        }
        sizes = {
            table: conn.execute(
                text(f"SELECT pg_size_pretty(pg_total_relation_size('{table}'))")
            ).scalar()
            for table in ("leads", "offers", "lead_events", *AUDIT_INDEXES)
        }
    return (
        f"PostgreSQL {facts['server_version']} (shared_buffers {facts['shared_buffers']}, "
        f"work_mem {facts['work_mem']}, max_parallel_workers_per_gather "
        f"{facts['max_parallel_workers_per_gather']}); sizes (tables with their indexes, then "
        f"the audit indexes): " + ", ".join(f"{t} {s}" for t, s in sizes.items())
    )


def print_table(before: list[Measure] | None, after: list[Measure]) -> list[str]:
    """Wall times (this machine, whatever else runs on it), each report's floor and its
    multiple, and CPU time, the load-free cost. The column of times without the audit indexes
    only when they were measured (not with --reuse or --skip-before)."""
    old = "wall ms, no audit indexes | " if before else ""
    print(
        f"| report | scope | {old}wall ms (median / max) | floor ms | x floor "
        "| CPU ms, 1 core | under 1 s, 3x floor |"
    )
    print(f"|---|---|{'---:|' if before else ''}---:|---:|---:|---:|:---:|")
    missed = []
    for i, new in enumerate(after):
        cpu = statistics.median(new.cpu)
        wall = statistics.median(new.seconds)
        floor = statistics.median(new.floor_seconds)
        times = wall / floor if floor else float("inf")
        ok = cpu < TARGET_S and wall < TARGET_S and times <= FLOOR_TIMES
        if not ok:
            missed.append(new.name)
        then = f"{statistics.median(before[i].seconds) * 1000:,.0f} | " if before else ""
        spread = f"{wall * 1000:,.0f} / {max(new.seconds) * 1000:,.0f}"
        print(
            f"| {new.name} | {new.size} | {then}{spread} "
            f"| {floor * 1000:,.1f} | {times:.1f} | {cpu * 1000:,.0f} | {'yes' if ok else 'NO'} |"
        )
    return missed


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000, help="synthetic leads to load")
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a scratch *bench* database")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per report")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="loader processes")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the reports on a database kept by an earlier --keep-database run (no load)",
    )
    parser.add_argument(
        "--skip-before", action="store_true", help="do not time the reports without the indexes"
    )
    parser.add_argument("--only", help="time only the reports whose name contains this text")
    parser.add_argument("--check", action="store_true", help="exit 1 when a report misses 1 s")
    return parser.parse_args(argv)


def _apps(url: str):
    """The app timed for wall time, and one with parallel query off for the CPU figures."""
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-secret-key-of-at-least-32-characters",
    }
    serial = {
        **config,
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "connect_args": {"options": "-c max_parallel_workers_per_gather=0"}
        },
    }
    return create_app(config), create_app(serial)


def existing_world() -> World:
    """--reuse: the few facts the reports need, read back from a kept benchmark database."""
    world = World([], [], {}, {}, {}, {}, [])
    world.auditor_email, world.admin_email = "auditor@bench", "admin@bench"
    auditor = db.session.scalars(select(User).where(User.email == world.auditor_email)).one()
    world.largest_group = db.session.scalars(select(Group.id).where(Group.code == "BENCH1")).one()
    world.auditor_brand_keys = tuple(
        db.session.scalars(select(OemBrand.key).where(OemBrand.oem_id == auditor.oem_id))
    )
    return world


def table_counts() -> tuple[int, int, int, int]:
    with db.engine.connect() as conn:
        found = [
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("leads", "offers", "lead_events", "sla_timers")
        ]
    return found[0], found[1], found[2], found[3]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    keep = args.keep_database or args.reuse
    before: list[Measure] | None = None
    with scratch_database(args.database_url, keep, reuse=args.reuse) as url:
        app, serial = _apps(url)
        if args.reuse:
            with app.app_context():
                flask_migrate.upgrade(MIGRATIONS)  # a later migration's backfill runs here
                world, counts = existing_world(), table_counts()
            load_s = index_s = 0.0
        else:
            with app.app_context():
                flask_migrate.upgrade(MIGRATIONS)
                drop_audit_indexes()
                world = build_world(random.Random(SEED))
                log(f"loading {args.leads:,} leads with {args.jobs} processes ...")
                db.session.remove()
                db.engine.dispose()  # no connection may cross the fork
                load_s, counts = timed(lambda: load_leads(url, world, args.leads, args.jobs))
                vacuum_analyze()
            # Requests run outside any app context, as in production: each gets its own `g`.
            if not args.skip_before:
                log("timing the reports without the audit indexes ...")
                before = run_reports(app, world, args.repeat, selected(world, args.only))
            with app.app_context():
                index_s, _ = timed(build_audit_indexes)
                vacuum_analyze()
        log("timing the reports with the audit indexes (migration 0006) ...")
        after = run_reports(app, world, args.repeat, selected(world, args.only))
        log("timing each report's floor (a bare count(*) with its filters) ...")
        with app.app_context():
            time_floors(after, world, args.repeat)
        log("measuring their CPU time, parallel query off ...")
        run_reports(serial, world, args.repeat, after, cpu_of=make_url(url).database)
        with serial.app_context():
            db.engine.dispose()
        with app.app_context():
            facts, definitions = server_facts(), index_definitions()
            db.session.remove()
            db.engine.dispose()
    end_load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(f"\nAudit benchmark: {machine(load)} load average {end_load:.2f} at the end")
    print(f"Database: {facts}")
    loaded = (
        "an existing benchmark database (--reuse)"
        if args.reuse
        else f"loaded by COPY in {load_s:.0f} s; audit indexes built in {index_s:.1f} s"
    )
    print(
        f"Data: {counts[0]:,} leads ({len(GROUPS)} groups, {len(BRANDS)} brands, {DEALERS:,} "
        f"stores in {len(CITIES)} cities, created {SPAN_START:%Y-%m-%d} + {SPAN_DAYS} days), "
        f"{counts[1]:,} offers, {counts[2]:,} events, {counts[3]:,} first-contact timers; "
        f"{loaded}; VACUUM ANALYZE after each step."
    )
    print(
        f"Reports read 2024 (one year): the auditor of 一汽-大众 with brand={world.target_brand}, "
        f"the group admin of the largest group with every brand. Times are whole HTTP requests "
        f"through the Flask test client (median of {args.repeat} after one warm-up run). CPU is "
        f"the time this process and the database's server processes spent on a request with "
        f"parallel query off: what it costs one otherwise idle core, whatever the load.\n"
    )
    missed = print_table(before, after)
    print(f"\nAudit indexes: {'; '.join(definitions)}")
    verdict = f"missed by: {', '.join(missed)}" if missed else "met by every report"
    print(
        f"Target (each report under {TARGET_S:.0f} s of wall and CPU time, and at most "
        f"{FLOOR_TIMES:.0f}x its floor): {verdict}"
    )
    print(f"Total runtime: {time.perf_counter() - started:.0f} s")
    return 1 if args.check and missed else 0


def selected(world: World, only: str | None) -> list[Measure]:
    """The reports whose name contains --only (every report without it)."""
    found = [m for m in reports(world) if only is None or only in m.name]
    if not found:
        raise SystemExit(f"no report named like {only!r}")
    return found


def audit_indexes() -> list[Index]:
    """The AUDIT_INDEXES as the models declare them (with their PostgreSQL INCLUDE columns)."""
    tables = (Lead.__table__, Offer.__table__)
    return [index for table in tables for index in table.indexes if index.name in AUDIT_INDEXES]


def drop_audit_indexes() -> None:
    for index in audit_indexes():
        index.drop(db.engine)


def build_audit_indexes() -> None:
    for index in audit_indexes():
        index.create(db.engine)


def index_definitions() -> list[str]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = ANY(:names) ORDER BY 1"),
            {"names": list(AUDIT_INDEXES)},
        )
        return [row[0] for row in rows]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
