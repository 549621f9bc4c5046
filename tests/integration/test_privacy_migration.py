"""Revision 0017_privacy seals the personal data of existing trails and anchors every chain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db
from leadshare.leads.chain import GENESIS_HASH, event_hash, event_payload, is_sealed, verify_chain

from .. import TEST_SECRET_KEY
from .scratch import scratch_database

BEFORE = "0017_privacy-1"  # the revision just before it
AT = datetime(2025, 3, 1, 8, 0, 0, 123456)


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    with scratch_database(tmp_path, "privacy") as url:
        yield url


def _filled(table: sa.Table, **values) -> dict:
    """The values given, and a plain one for every other required column without a default."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        if column.primary_key:
            continue
        kind = column.type.python_type
        row[column.name] = {int: 1, bool: False, float: 0.0, datetime: AT}.get(kind, "x")
    return row


OLD_EVENTS = [
    ("posted", {"channel": "livestream", "location": {"district": "天河区", "adcode": "440106"}}),
    ("offered", {"distance_km": 3.2, "offer": 1}),
    ("declined", {"reason": "no_stock", "note": "客户张三说下周再来"}),
    ("withdrawn", {"reason": "客户不想被联系"}),
]


def _old_chain(conn, tables, public_id: str) -> tuple[int, str]:
    """A lead and its trail written the way the code before 0017 wrote them: data in clear."""
    groups, dealers, users, leads, events = tables
    group_id = conn.execute(
        groups.insert().values(_filled(groups, name="G", code=public_id))
    ).inserted_primary_key[0]
    dealer_id = conn.execute(
        dealers.insert().values(
            _filled(dealers, group_id=group_id, code=f"D{public_id}", name="店")
        )
    ).inserted_primary_key[0]
    user_id = conn.execute(
        users.insert().values(
            _filled(users, email=f"{public_id}@example.com", dealer_id=dealer_id, group_id=group_id)
        )
    ).inserted_primary_key[0]
    lead_id = conn.execute(
        leads.insert().values(
            _filled(
                leads,
                public_id=public_id,
                group_id=group_id,
                referrer_id=dealer_id,
                created_by_id=user_id,
                status="withdrawn",
                event_seq=len(OLD_EVENTS),
                offers_made=1,
                progress_rank=0,
            )
        )
    ).inserted_primary_key[0]
    previous = None
    for seq, (kind, data) in enumerate(OLD_EVENTS, start=1):
        payload = {
            "lead_id": public_id,
            "seq": seq,
            "type": kind,
            "at": AT,
            "actor_id": None,
            "dealer_id": None,
            "data": data,
        }
        new_hash = event_hash(previous, event_payload(payload))
        conn.execute(
            events.insert().values(
                lead_id=lead_id,
                seq=seq,
                type=kind,
                at=AT,
                data=data,
                prev_hash=previous or GENESIS_HASH,
                hash=new_hash,
            )
        )
        previous = new_hash
    conn.execute(leads.update().where(leads.c.id == lead_id).values(head_hash=previous))
    return lead_id, previous


def _chain(conn, lead_id: int) -> list[dict]:
    events = sa.Table("lead_events", sa.MetaData(), autoload_with=conn)
    public_id = conn.execute(
        sa.text("SELECT public_id FROM leads WHERE id = :i"), {"i": lead_id}
    ).scalar()
    rows = conn.execute(
        sa.select(events).where(events.c.lead_id == lead_id).order_by(events.c.seq)
    ).mappings()
    return [{**row, "lead_id": public_id} for row in rows]


@pytest.mark.no_rollback
def test_old_chains_are_sealed_and_anchored_and_verify_both_ways(scratch_url):
    app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision=BEFORE)
        with db.engine.begin() as conn:
            meta = sa.MetaData()
            tables = [
                sa.Table(n, meta, autoload_with=conn)
                for n in ("groups", "dealers", "users", "leads", "lead_events")
            ]
            first, first_head = _old_chain(conn, tables, "L1")
            second, second_head = _old_chain(conn, tables, "L2")
            assert verify_chain(_chain(conn, first), head_hash=first_head).ok

        upgrade(directory=str(MIGRATIONS_DIR))

        from leadshare.leads.models import Lead
        from leadshare.privacy.service import anchor_check

        with db.engine.connect() as conn:
            for lead_id, old_head in ((first, first_head), (second, second_head)):
                chain = _chain(conn, lead_id)
                head = conn.execute(
                    sa.text("SELECT head_hash FROM leads WHERE id = :i"), {"i": lead_id}
                ).scalar()
                assert verify_chain(chain, head_hash=head).ok  # the new chain verifies
                anchor = chain[-1]
                assert anchor["type"] == "chain_anchored" and anchor["seq"] == 5
                assert anchor["data"]["old_head_hash"] == old_head
                assert anchor["data"]["old_events"] == 4 and anchor["data"]["sealed"] == 3
                assert is_sealed(chain[0]["data"]["location"]) and is_sealed(
                    chain[2]["data"]["note"]
                )
                assert (
                    is_sealed(chain[3]["data"]["reason"])
                    and chain[2]["data"]["reason"] == "no_stock"
                )
                assert "张三" not in str([e["data"] for e in chain])
            personal = sa.Table("lead_personal_data", sa.MetaData(), autoload_with=conn)
            stored = conn.execute(
                sa.select(personal.c.value).where(
                    personal.c.lead_id == first, personal.c.key == "note"
                )
            ).scalar()
            assert stored == "客户张三说下周再来"
        lead = db.session.get(Lead, first)
        check = anchor_check(lead)  # the old way: values put back, the old head comes out
        assert check["ok"] is True and check["rebuilt_head_hash"] == first_head
        db.session.remove()

        downgrade(directory=str(MIGRATIONS_DIR), revision=BEFORE)
        with db.engine.connect() as conn:
            chain = _chain(conn, first)
            assert [e["data"] for e in chain] == [data for _, data in OLD_EVENTS]
            assert chain[-1]["hash"] == first_head  # the old chain, hash for hash
        db.engine.dispose()
