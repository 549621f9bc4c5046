"""Revision 0015_brand_catalogue moves stored brands to their catalogue names (issue 15 item 1)."""

from collections.abc import Iterator
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db

from .. import TEST_SECRET_KEY
from .scratch import insert_row, old_tables, scratch_database


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    with scratch_database(tmp_path, "brands") as url:
        yield url


def _key(name: str) -> str:
    """The key as the old normaliser wrote it: blanks kept, case folded."""
    return " ".join(name.split()).casefold()


@pytest.mark.no_rollback
def test_stored_brands_move_to_catalogue_names(scratch_url):
    app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0015_brand_catalogue-1")
        names = ("groups", "dealers", "dealer_brands", "oems", "oem_brands", "users")
        names += ("reward_programs", "reward_rules", "leads")
        groups, dealers, dealer_brands, oems, oem_brands, users, programs, rules, leads = (
            old_tables(db.engine, *names)
        )
        with db.engine.begin() as conn:
            group = insert_row(conn, groups, name="G", code="g", timezone="Asia/Shanghai")

            def store(code: str, name: str, *brands: str) -> int:
                dealer = insert_row(conn, dealers, group_id=group, code=code, name=name)
                for position, brand in enumerate(brands):
                    insert_row(
                        conn,
                        dealer_brands,
                        dealer_id=dealer,
                        group_id=group,
                        name=brand,
                        key=_key(brand),
                        position=position,
                    )
                return dealer

            both = store("a", "宝马店", "BMW", "宝马", "Land  Rover")
            store("b", "极氪店", "ＶＷ", "极氪  Zeekr")
            store("c", "新店", "极氪zeekr")
            oem = insert_row(conn, oems, name="Daimler")
            insert_row(conn, oem_brands, oem_id=oem, name="Benz", key="benz")
            user = insert_row(conn, users, email="s@example.com", role="staff", password_hash="x")
            program = insert_row(
                conn, programs, group_id=group, name="p", starts_on=date(2026, 1, 1)
            )
            insert_row(
                conn, rules, program_id=program, event="accepted", amount_minor=100,
                brand="Volkswagen",
            )  # fmt: skip
            now = datetime(2026, 11, 1, 8, 0)
            for n, brand in ((1, "bmw"), (2, "极氪zeekr"), (3, "某个 没有 的牌子")):
                insert_row(
                    conn,
                    leads,
                    public_id=f"ld_{n}",
                    group_id=group,
                    referrer_id=both,
                    created_by_id=user,
                    status="open",
                    customer_name="张三",
                    brand=brand,
                    brand_key=_key(brand),
                    channel="livestream",
                    consent_at=now,
                    created_at=now,
                    updated_at=now,
                )

        upgrade(directory=str(MIGRATIONS_DIR), revision="0015_brand_catalogue")

        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.select(dealers.c.code, dealer_brands.c.name, dealer_brands.c.key)
                .join(dealer_brands, dealer_brands.c.dealer_id == dealers.c.id)
                .order_by(dealers.c.code, dealer_brands.c.position)
            ).all()
            assert [tuple(r) for r in rows] == [
                ("a", "宝马", "宝马"),  # BMW and 宝马 on one store: once
                ("a", "路虎", "路虎"),
                ("b", "大众", "大众"),
                ("b", "极氪 Zeekr", "极氪zeekr"),
                ("c", "极氪 Zeekr", "极氪zeekr"),  # the group's first spelling of a new brand
            ]
            assert conn.execute(sa.select(oem_brands.c.name, oem_brands.c.key)).all() == [
                ("奔驰", "奔驰")
            ]
            stored = conn.execute(
                sa.select(leads.c.public_id, leads.c.brand, leads.c.brand_key)
            ).all()
            assert sorted(tuple(r) for r in stored) == [
                ("ld_1", "宝马", "宝马"),
                ("ld_2", "极氪 Zeekr", "极氪zeekr"),
                ("ld_3", "某个 没有 的牌子", "某个没有的牌子"),
            ]
            assert conn.scalar(sa.select(rules.c.brand)) == "大众"
            assert conn.scalar(sa.text("SELECT location_candidates FROM leads LIMIT 1")) is None
        db.engine.dispose()
