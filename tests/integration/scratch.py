"""A scratch database of a test's own, so it never touches the suite's schema.

A temp SQLite file by default; when TEST_DATABASE_URL points at PostgreSQL, a database named after
the suite's (`<dbname>_<suffix>`), so suites pointed at different databases never collide.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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
