"""Revision 0016_lead_fixes moves old free-text lost reasons to `other`, their text the note."""

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db

from .. import TEST_SECRET_KEY
from .scratch import scratch_database

BEFORE = "0016_lead_fixes-1"
NOW = datetime(2026, 11, 1, 8, 0)


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    with scratch_database(tmp_path, "lost_reasons") as url:
        yield url


def _filler(column: sa.Column) -> Any:
    """A value for a NOT NULL column the test does not care about."""
    python = column.type.python_type
    if python is bool:
        return False
    if python is int:
        return 0
    if python is float:
        return 0.0
    if python is datetime:
        return NOW
    if python is date:
        return NOW.date()
    return "x"


def _insert(conn, table: sa.Table, **values: Any) -> int:
    """Insert a row giving every required column a value (as the schema stood then)."""
    for column in table.columns:
        needed = not column.nullable and column.server_default is None
        if needed and not column.primary_key and column.name not in values:
            values[column.name] = _filler(column)
    return conn.execute(table.insert().values(**values)).inserted_primary_key[0]


@pytest.mark.no_rollback
def test_old_lost_reasons_become_other_with_their_text_as_the_note(scratch_url):
    app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision=BEFORE)
        meta = sa.MetaData()
        meta.reflect(db.engine, only=["groups", "dealers", "users", "leads"])
        t = meta.tables
        with db.engine.begin() as conn:
            group = _insert(conn, t["groups"], code="g", name="G")
            dealer = _insert(conn, t["dealers"], group_id=group, code="d")
            user = _insert(conn, t["users"], email="u@example.cn", group_id=group)
            for n, reason in enumerate(("客户失联", "price", None)):
                _insert(
                    conn,
                    t["leads"],
                    public_id=f"ld_{n}",
                    group_id=group,
                    referrer_id=dealer,
                    created_by_id=user,
                    status="lost" if reason else "open",
                    lost_reason=reason,
                )
        db.engine.dispose()

        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT public_id, lost_reason, lost_note FROM leads ORDER BY public_id")
            ).all()
        assert [tuple(r) for r in rows] == [
            ("ld_0", "other", "客户失联"),
            ("ld_1", "price", None),
            ("ld_2", None, None),
        ]
        db.engine.dispose()

        downgrade(directory=str(MIGRATIONS_DIR), revision=BEFORE)
        with db.engine.connect() as conn:
            back = conn.execute(
                sa.text("SELECT lost_reason FROM leads ORDER BY public_id")
            ).scalars()
            assert list(back) == ["客户失联", "price", None]
        db.engine.dispose()
