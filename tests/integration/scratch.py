"""A scratch database of a test's own, so it never touches the suite's schema.

A temp SQLite file by default; when TEST_DATABASE_URL points at PostgreSQL, a database named after
the suite's (`<dbname>_<suffix>`), so suites pointed at different databases never collide.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db

from .. import TEST_SECRET_KEY

_DROP = "DROP DATABASE IF EXISTS {} WITH (FORCE)"
_CREATE = "CREATE DATABASE {}"


@contextmanager
def scratch_database(tmp_path: Path, suffix: str) -> Iterator[str]:
    """Yield the URL of an empty database, dropped again afterwards on PostgreSQL."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / f'{suffix}.db'}"
        return
    suite = make_url(url)
    name = f"{suite.database}_{suffix}"
    _admin(url, name, _DROP, _CREATE)
    try:
        yield suite.set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(url, name, _DROP)


@contextmanager
def migrated_app(tmp_path: Path, suffix: str, **config: Any) -> Iterator[Flask]:
    """The app on a scratch database of its own, migrated to the head (`config` adds to the
    settings); its sessions and engine are let go before the database is dropped."""
    with scratch_database(tmp_path, suffix) as url:
        app = create_app(
            {
                "SECRET_KEY": TEST_SECRET_KEY,
                "SQLALCHEMY_DATABASE_URI": url,
                "GEOCODER": "none",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                **config,
            }
        )
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _admin(url: str, name: str, *statements: str) -> None:
    """Run each statement, `{}` standing for the quoted database name, outside a transaction."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(name)
            for statement in statements:
                conn.execute(text(statement.format(quoted)))
    finally:
        engine.dispose()


def old_tables(engine: sa.Engine, *names: str) -> list[sa.Table]:
    """Tables as the database has them now (at an older revision): a migration test writes its
    rows through these, never through today's models, which may have columns added since."""
    metadata = sa.MetaData()
    metadata.reflect(engine, only=list(names))
    return [metadata.tables[name] for name in names]


def _filler(column: sa.Column) -> Any:
    """A value for a NOT NULL column the test does not care about (the models' defaults are
    Python-side, so a Core insert must give one)."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer | sa.Float | sa.Numeric):
        return 0
    if isinstance(kind, sa.DateTime):
        return datetime.now(UTC).replace(tzinfo=None)
    if isinstance(kind, sa.Date):
        return datetime.now(UTC).date()
    if isinstance(kind, sa.JSON):
        return {}
    return ""


def insert_row(conn: sa.Connection, table: sa.Table, **values: Any) -> int:
    """Insert one row, NOT NULL columns not given filled in; returns its primary key."""
    row = {
        c.name: _filler(c)
        for c in table.columns
        if not c.nullable and not c.primary_key and c.server_default is None
    }
    row.update(values)
    return conn.execute(table.insert().values(**row)).inserted_primary_key[0]
