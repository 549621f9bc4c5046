"""Revision 0022_admin_notices: the outbox rows there are stay webhook messages to their stores,
an app message may share an offer's event with its webhook message, and going back removes
what only the new channels carried."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db

from .. import TEST_SECRET_KEY
from .scratch import insert_row, old_tables, scratch_database

BEFORE = "0022_admin_notices-1"


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    with scratch_database(tmp_path, "admin_notices") as url:
        yield url


@pytest.mark.no_rollback
def test_old_messages_stay_webhook_messages_and_new_channels_go_on_downgrade(scratch_url):
    app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision=BEFORE)
        groups, dealers, notifications = old_tables(db.engine, "groups", "dealers", "notifications")
        with db.engine.begin() as conn:
            group = insert_row(conn, groups, code="g", name="G")
            dealer = insert_row(conn, dealers, group_id=group, code="d")
            insert_row(
                conn,
                notifications,
                message_id="msg_old",
                group_id=group,
                dealer_id=dealer,
                event="offered",
                status="pending",
            )
        db.engine.dispose()

        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            old = conn.execute(
                sa.text("SELECT channel, dealer_id, user_id FROM notifications")
            ).one()
            assert tuple(old) == ("webhook", dealer, None)
            assert conn.execute(sa.text("SELECT admin_robot_url FROM groups")).scalar() is None
            [notifications] = old_tables(conn, "notifications")
            insert_row(
                conn,
                notifications,
                message_id="msg_app",
                group_id=group,
                channel="wecom_app",
                event="offered",
                status="pending",
            )  # no store: the group's admins
        db.engine.dispose()

        downgrade(directory=str(MIGRATIONS_DIR), revision=BEFORE)
        with db.engine.connect() as conn:
            left = conn.execute(sa.text("SELECT message_id FROM notifications")).scalars()
            assert list(left) == ["msg_old"]
        db.engine.dispose()
