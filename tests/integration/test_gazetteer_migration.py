"""Revision 0011_adcodes_today moves stored codes retired since 1990 to their successors."""

from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db
from leadshare.routing.geocode.models import GeocodeCacheEntry
from leadshare.tenancy.models import Dealer, DealerRegion, Group

from .. import TEST_SECRET_KEY
from .scratch import scratch_database


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    with scratch_database(tmp_path, "adcodes") as url:
        yield url


def _online(adcode: str, district: str) -> dict:
    return {
        "latitude": 29.7,
        "longitude": 106.6,
        "precision": "exact",
        "province": "重庆市",
        "city": "重庆市",
        "district": district,
        "adcode": adcode,
        "source": "nominatim",
    }


def _group_of_that_revision(**values) -> int:
    """A group row with the columns the database has at that revision (the model has later
    ones), each at the model's default unless given."""
    table = sa.Table("groups", sa.MetaData(), autoload_with=db.session.connection())
    model = Group.__table__.c
    row = {
        column.name: model[column.name].default.arg
        for column in table.c
        if column.name in model
        and model[column.name].default is not None
        and not model[column.name].default.is_callable
    }
    row.update(created_at=datetime(2024, 1, 1), **values)
    return db.session.execute(table.insert().values(row)).inserted_primary_key[0]


@pytest.mark.no_rollback
def test_retired_codes_move_to_their_successors(scratch_url):
    app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0011_adcodes_today-1")  # just before it
        group_id = _group_of_that_revision(name="G", code="g")
        yubei = Dealer(group_id=group_id, code="cq", name="渝北店", adcode="500112")
        yubei.region_codes = ["500112", "500105", "500157", "3414", "340181", "44"]
        shenzhen = Dealer(group_id=group_id, code="sz", name="南山店", adcode="440305")
        shenzhen.region_codes = ["440305"]
        db.session.add_all([yubei, shenzhen])
        db.session.add_all(
            [
                GeocodeCacheEntry(key="重庆市渝北区", result=_online("500112", "渝北区")),
                GeocodeCacheEntry(key="重庆市渝中区", result=_online("500103", "渝中区")),
                GeocodeCacheEntry(
                    key="淮安市清江浦区",
                    result={**_online("320812", "清江浦区"), "source": "gazetteer"},
                ),
            ]
        )
        db.session.commit()
        db.session.remove()

        upgrade(directory=str(MIGRATIONS_DIR))

        dealers = {d.code: d for d in db.session.scalars(select(Dealer))}
        assert dealers["cq"].adcode == "500157"  # 渝北区 -> 两江新区
        assert dealers["sz"].adcode == "440305"
        regions = sorted(
            db.session.scalars(
                select(DealerRegion.code).where(DealerRegion.dealer_id == dealers["cq"].id)
            )
        )
        # 渝北/江北 -> 两江新区 once; the old 巢湖 city -> its counties' successors, of which
        # 340181 was already there; 44 stays
        assert regions == ["340124", "340181", "340281", "340522", "340523", "44", "500157"]
        assert dealers["sz"].region_codes == ["440305"]
        cache = {e.key: e.result for e in db.session.scalars(select(GeocodeCacheEntry))}
        assert set(cache) == {"重庆市渝北区", "重庆市渝中区"}  # the gazetteer's answer is dropped
        assert (cache["重庆市渝北区"]["adcode"], cache["重庆市渝北区"]["district"]) == (
            "500157",
            "两江新区",
        )
        assert cache["重庆市渝中区"] == _online("500103", "渝中区")
        db.session.remove()
        db.engine.dispose()
