"""Revision 0011_adcodes_today moves stored codes retired since 1990 to their successors.

The rows are written and read with SQLAlchemy Core on the tables as they are at each revision
(reflected), not with today's models: later revisions add columns the old tables do not have.
"""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db

from .. import TEST_SECRET_KEY
from .scratch import insert_row, old_tables, scratch_database


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


@pytest.mark.no_rollback
def test_retired_codes_move_to_their_successors(scratch_url):
    app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0011_adcodes_today-1")  # just before it
        groups, dealers, regions, cache = old_tables(
            db.engine, "groups", "dealers", "dealer_regions", "geocode_cache"
        )
        with db.engine.begin() as conn:
            group = insert_row(conn, groups, name="G", code="g")
            yubei = insert_row(
                conn, dealers, group_id=group, code="cq", name="渝北店", adcode="500112"
            )
            shenzhen = insert_row(
                conn, dealers, group_id=group, code="sz", name="南山店", adcode="440305"
            )
            for code in ["500112", "500105", "500157", "3414", "340181", "44"]:
                insert_row(conn, regions, dealer_id=yubei, code=code)
            insert_row(conn, regions, dealer_id=shenzhen, code="440305")
            insert_row(conn, cache, key="重庆市渝北区", result=_online("500112", "渝北区"))
            insert_row(conn, cache, key="重庆市渝中区", result=_online("500103", "渝中区"))
            insert_row(
                conn,
                cache,
                key="淮安市清江浦区",
                result={**_online("320812", "清江浦区"), "source": "gazetteer"},
            )

        upgrade(directory=str(MIGRATIONS_DIR), revision="0011_adcodes_today")

        with db.engine.connect() as conn:
            adcodes = dict(conn.execute(sa.select(dealers.c.code, dealers.c.adcode)).all())
            assert adcodes == {"cq": "500157", "sz": "440305"}  # 渝北区 -> 两江新区

            def region_codes(dealer_id: int) -> list[str]:
                query = sa.select(regions.c.code).where(regions.c.dealer_id == dealer_id)
                return sorted(conn.scalars(query))

            # 渝北/江北 -> 两江新区 once; the old 巢湖 city -> its counties' successors, of which
            # 340181 was already there; 44 stays
            assert region_codes(yubei) == [
                "340124", "340181", "340281", "340522", "340523", "44", "500157"
            ]  # fmt: skip
            assert region_codes(shenzhen) == ["440305"]
            stored = dict(conn.execute(sa.select(cache.c.key, cache.c.result)).all())
            # the gazetteer's answer is dropped
            assert set(stored) == {"重庆市渝北区", "重庆市渝中区"}
            assert (stored["重庆市渝北区"]["adcode"], stored["重庆市渝北区"]["district"]) == (
                "500157",
                "两江新区",
            )
            assert stored["重庆市渝中区"] == _online("500103", "渝中区")
        db.engine.dispose()
