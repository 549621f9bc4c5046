"""Migrations upgrade an empty database to head and downgrade back to nothing, on both engines."""

from collections.abc import Iterator

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db

from .. import TEST_SECRET_KEY
from .scratch import scratch_database


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    """A database of its own, so the round trip never touches the suite's schema."""
    with scratch_database(tmp_path, "migrations") as url:
        yield url


@pytest.mark.no_rollback
def test_migrations_upgrade_from_empty_and_downgrade_to_nothing(scratch_url):
    app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": scratch_url})
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
def test_models_match_the_migrations(scratch_url):
    """Autogenerate finds nothing to do: every model change has its revision."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == []
