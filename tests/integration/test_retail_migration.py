"""Revision 0021_retail_reports: groups that existed match within 30 days, programs that existed
require no retail confirmation and their credits keep no deadline; down and up again with rows."""

from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db

from .. import TEST_SECRET_KEY
from .scratch import insert_row, old_tables, scratch_database

BEFORE = "0021_retail_reports-1"


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    with scratch_database(tmp_path, "retail_mig") as url:
        yield url


@pytest.mark.no_rollback
def test_existing_groups_programs_and_credits_keep_their_behaviour(scratch_url):
    app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision=BEFORE)
        groups, dealers, programs = old_tables(db.engine, "groups", "dealers", "reward_programs")
        with db.engine.begin() as conn:
            group = insert_row(conn, groups, name="G", code="g", timezone="Asia/Shanghai")
            insert_row(conn, dealers, group_id=group, code="d", name="店")
            insert_row(
                conn, programs, group_id=group, name="P", starts_on=date(2026, 1, 1), hold_days=30
            )
        db.engine.dispose()

        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT retail_match_days FROM groups")).scalar() == 30
            program = conn.execute(
                sa.text(
                    "SELECT requires_retail_confirmation, retail_deadline_days FROM reward_programs"
                )
            ).one()
            assert (bool(program[0]), program[1]) == (False, 60)
        db.engine.dispose()

        downgrade(directory=str(MIGRATIONS_DIR), revision=BEFORE)
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM groups")).scalar() == 1
            columns = {c["name"] for c in sa.inspect(conn).get_columns("groups")}
            assert "retail_match_days" not in columns
        db.engine.dispose()
        upgrade(directory=str(MIGRATIONS_DIR))
        db.engine.dispose()
