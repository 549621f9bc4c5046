"""OEM retail reports: the import's time per report size, and what the delivery hook costs.

A group of 20 Audi stores, each known to the OEM by a code, delivers `--deliveries` leads through
the services (share, claim, deliver with a VIN); then one retail report of `--rows` rows (every
delivery's VIN for its holder, the rest VINs nobody delivered, a few bad and repeated rows) is
imported, and imported again (the same file: answered from its hash). It prints the seconds of
each import and the statements a delivery sends with the retail hook and without it (the hook
unhooked), with no report and with a report naming the VIN.

    python -m bench.retail [--rows 20000] [--deliveries 200] [--database-url URL]

Without --database-url a fresh SQLite file in a temporary directory is used; a PostgreSQL URL
names a scratch database (its name must contain "bench") that is dropped and created again.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta

from flask_migrate import upgrade
from sqlalchemy import event

from bench.routing import database
from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.auth.models import User
from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads import events, intake, offers, progress
from leadshare.retail import matching
from leadshare.retail.models import DealerOemCode
from leadshare.retail.reports import import_report
from leadshare.tenancy.models import Dealer, Group, Oem, OemBrand
from leadshare.vocabulary import Role, brand_key
from tests.api.lead_world import lead_payload
from tests.retail_world import report_csv, vin

STORES = 20
SECRET_KEY = "bench-retail-secret-key-of-at-least-32-characters"


def build(stores: int) -> tuple[User, User, list[User], Oem]:
    group = Group(name="零售集团", code="RETAIL")
    oem = Oem(name="一汽-大众")
    oem.brand_rows = [OemBrand(name="奥迪", key=brand_key("奥迪"))]
    db.session.add_all([group, oem])
    db.session.flush()
    dealers = []
    for n in range(stores):
        dealer = Dealer(
            group_id=group.id,
            code=f"GZ{n}",
            name=f"广州奥迪{n}",
            latitude=23.12 + n * 0.001,
            longitude=113.36,
            geo_precision="exact",
            service_radius_km=80,
        )
        dealer.brands = ["奥迪"]
        dealers.append(dealer)
    origin = Dealer(
        group_id=group.id,
        code="SZ0",
        name="深圳大众",
        latitude=22.53,
        longitude=113.93,
        geo_precision="exact",
        service_radius_km=20,
    )
    origin.brands = ["大众"]  # shares Audi leads it cannot serve
    db.session.add_all([*dealers, origin])
    db.session.flush()
    db.session.add_all(
        DealerOemCode(dealer_id=d.id, oem_id=oem.id, code=f"FAW-{d.code}") for d in dealers
    )
    users = [
        User(email=f"s{d.id}@bench", role=Role.STAFF, group_id=group.id, dealer_id=d.id)
        for d in dealers
    ]
    referrer = User(email="sz@bench", role=Role.STAFF, group_id=group.id, dealer_id=origin.id)
    auditor = User(email="oem@bench", role=Role.OEM_AUDITOR, oem_id=oem.id)
    for user in [*users, referrer, auditor]:
        user.set_password("bench-password", "pbkdf2:sha256:1000")
    db.session.add_all([*users, referrer, auditor])
    db.session.commit()
    return referrer, auditor, users, oem


def deliver(referrer: User, users: dict[int, User], n: int, at) -> tuple[str, int]:
    data = lead_payload(customer={"name": f"客户{n}", "phone": f"1390000{n:04d}"})
    data["location"] = {"latitude": 23.13, "longitude": 113.36}
    lead = intake.post_lead(referrer, data, now=at)
    holder_id = lead.offers[-1].dealer_id
    offers.claim_lead(users[holder_id], lead.public_id, now=at)
    step = {"status": "delivered", "order_ref": f"SO-{n}", "vin": vin(n)}
    progress.record_progress(users[holder_id], lead.public_id, step, now=at)
    return vin(n), holder_id


class Statements:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args) -> None:
        self.count += 1


def hook_cost(referrer, users, base: int, at, auditor) -> dict[str, float]:
    """Statements of one delivery step, with and without the retail handler."""
    counter = Statements()
    event.listen(db.engine, "before_cursor_execute", counter)
    figures: dict[str, list[int]] = {"unhooked": [], "no report": [], "report names it": []}
    try:
        for k in range(5):
            for name in figures:
                n = base + 10 * k + list(figures).index(name)
                if name == "report names it":
                    import_report(auditor, None, report_csv([(vin(n), "FAW-GZ0", date.today())]))
                data = lead_payload(customer={"name": f"客户{n}", "phone": f"1370000{n:04d}"})
                data["location"] = {"latitude": 23.12, "longitude": 113.36}
                lead = intake.post_lead(referrer, data, now=at)
                holder = users[lead.offers[-1].dealer_id]
                offers.claim_lead(holder, lead.public_id, now=at)
                step = {"status": "delivered", "order_ref": f"SO-{n}", "vin": vin(n)}
                if name == "unhooked":
                    events._handlers.remove(matching._retail_on_lead_event)
                counter.count = 0
                try:
                    progress.record_progress(holder, lead.public_id, step, now=at)
                finally:
                    if name == "unhooked":
                        events._handlers.append(matching._retail_on_lead_event)
                figures[name].append(counter.count)
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return {name: statistics.median(counts) for name, counts in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with database(args.database_url, False) as (url, described):
        app = create_app(
            {"SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url, "GEOCODER": "none"}
        )
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
            referrer, auditor, staff, _oem = build(STORES)
            users = {user.dealer_id: user for user in staff}
            at = utcnow() - timedelta(days=2)
            started = time.perf_counter()
            delivered = [deliver(referrer, users, n, at) for n in range(1, args.deliveries + 1)]
            per_delivery = (time.perf_counter() - started) / len(delivered)
            codes = {d.id: f"FAW-{d.code}" for d in db.session.query(Dealer) if d.code != "SZ0"}
            rows = [(v, codes[holder], date.today()) for v, holder in delivered]
            rows += [
                (vin(100_000 + n), codes[staff[n % STORES].dealer_id], date.today())
                for n in range(args.rows - len(rows) - 20)
            ]
            rows += [("BADVIN", "FAW-GZ0", date.today())] * 10 + rows[:10]
            content = report_csv(rows)
            started = time.perf_counter()
            done = import_report(auditor, None, content, "bench.csv")
            first = time.perf_counter() - started
            counted = (
                f"{done.report.rows_good} good, {done.report.rows_bad} bad, "
                f"{done.report.rows_duplicate} repeated; {done.report.confirmed} confirmed"
            )
            started = time.perf_counter()
            again = import_report(auditor, None, content, "bench.csv")
            second = time.perf_counter() - started
            created_again = again.created
            costs = hook_cost(referrer, users, 900_000, at, auditor)
        each = per_delivery * 1000
        print(f"database: {described}; {args.deliveries} deliveries ({each:.0f} ms each)")
        print(
            f"import of {len(rows)} rows ({len(content) / 1024:.0f} KiB): {first:.2f} s; {counted}"
        )
        print(f"the same file again: {second * 1000:.1f} ms (created: {created_again})")
        print(
            "statements of a delivery step (median of 5): "
            + ", ".join(f"{name} {count:.0f}" for name, count in costs.items())
        )


if __name__ == "__main__":
    main()
