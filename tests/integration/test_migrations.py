"""Migrations upgrade an empty database to head and downgrade back to nothing, on both engines."""

import os

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from leadshare import MIGRATIONS_DIR, create_app
from leadshare.extensions import db


def _scratch_url(tmp_path) -> str:
    """A database of its own, so the round trip never touches the suite's schema."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    scratch = make_url(url).set(database="leadshare_migrations")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS leadshare_migrations WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE leadshare_migrations"))
    admin.dispose()
    return scratch.render_as_string(hide_password=False)


@pytest.mark.no_rollback
def test_migrations_upgrade_from_empty_and_downgrade_to_nothing(tmp_path):
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": _scratch_url(tmp_path)})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "groups",
            "oems",
            "oem_brands",
            "dealers",
            "dealer_brands",
            "users",
            "geocode_cache",
        } <= tables
        downgrade(directory=str(MIGRATIONS_DIR), revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=str(MIGRATIONS_DIR))
        assert "dealers" in inspect(db.engine).get_table_names()
        db.engine.dispose()


@pytest.mark.no_rollback
def test_models_match_the_migrations(tmp_path):
    """Autogenerate finds nothing to do: every model change has its revision."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": _scratch_url(tmp_path)})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == []
