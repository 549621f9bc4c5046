"""Revision 0015_brand_catalogue moves stored brands to their catalogue names (issue 15 item 1)."""

from collections.abc import Iterator
from datetime import date, datetime

import pytest
from flask_migrate import upgrade
from sqlalchemy import insert, select

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.auth.models import User
from leadshare.extensions import db
from leadshare.leads.models import Lead
from leadshare.rewards.models import RewardProgram, RewardRule
from leadshare.tenancy.models import Dealer, DealerBrand, Group, Oem, OemBrand

from .. import TEST_SECRET_KEY
from .scratch import scratch_database


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    with scratch_database(tmp_path, "brands") as url:
        yield url


def _old_brands(*names: str) -> list[DealerBrand]:
    """Rows as the old normaliser wrote them: the name as typed, blanks kept in the key."""
    return [
        DealerBrand(name=n, key=" ".join(n.split()).casefold(), position=i)
        for i, n in enumerate(names)
    ]


def _lead(group_id: int, dealer_id: int, user_id: int, n: int, brand: str) -> dict:
    now = datetime(2026, 11, 1, 8, 0)
    return {
        "public_id": f"ld_{n}",
        "group_id": group_id,
        "referrer_id": dealer_id,
        "created_by_id": user_id,
        "status": "open",
        "customer_name": "张三",
        "brand": brand,
        "brand_key": " ".join(brand.split()).casefold(),
        "channel": "livestream",
        "consent_at": now,
        "offers_made": 0,
        "progress_rank": 0,
        "event_seq": 0,
        "created_at": now,
        "updated_at": now,
    }


@pytest.mark.no_rollback
def test_stored_brands_move_to_catalogue_names(scratch_url):
    app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0015_brand_catalogue-1")
        group = Group(name="G", code="g")
        db.session.add(group)
        db.session.flush()
        both = Dealer(group_id=group.id, code="a", name="宝马店")
        both.brand_rows = _old_brands("BMW", "宝马", "Land  Rover")
        other = Dealer(group_id=group.id, code="b", name="极氪店")
        other.brand_rows = _old_brands("ＶＷ", "极氪  Zeekr")
        third = Dealer(group_id=group.id, code="c", name="新店")
        third.brand_rows = _old_brands("极氪zeekr")
        oem = Oem(name="Daimler", brand_rows=[OemBrand(name="Benz", key="benz")])
        user = User(email="s@example.com", role="staff")
        user.password_hash = "x"
        program = RewardProgram(group_id=group.id, name="p", starts_on=date(2026, 1, 1))
        program.rules = [RewardRule(event="accepted", amount_minor=100, brand="Volkswagen")]
        db.session.add_all([both, other, third, oem, user, program])
        db.session.flush()
        db.session.execute(
            insert(Lead.__table__),
            [
                _lead(group.id, both.id, user.id, 1, "bmw"),
                _lead(group.id, both.id, user.id, 2, "极氪zeekr"),
                _lead(group.id, both.id, user.id, 3, "某个 没有 的牌子"),
            ],
        )
        db.session.commit()
        db.session.remove()

        upgrade(directory=str(MIGRATIONS_DIR))

        rows = db.session.execute(
            select(Dealer.code, DealerBrand.name, DealerBrand.key)
            .join(DealerBrand)
            .order_by(Dealer.code, DealerBrand.position)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("a", "宝马", "宝马"),  # BMW and 宝马 on one store: once
            ("a", "路虎", "路虎"),
            ("b", "大众", "大众"),
            ("b", "极氪 Zeekr", "极氪zeekr"),
            ("c", "极氪 Zeekr", "极氪zeekr"),  # the group's first spelling of a new brand
        ]
        assert [(b.name, b.key) for b in db.session.scalars(select(OemBrand))] == [("奔驰", "奔驰")]
        leads = db.session.execute(select(Lead.public_id, Lead.brand, Lead.brand_key)).all()
        assert sorted(tuple(r) for r in leads) == [
            ("ld_1", "宝马", "宝马"),
            ("ld_2", "极氪 Zeekr", "极氪zeekr"),
            ("ld_3", "某个 没有 的牌子", "某个没有的牌子"),
        ]
        assert db.session.scalar(select(RewardRule.brand)) == "大众"
        assert db.session.scalar(select(Lead.location_candidates)) is None
