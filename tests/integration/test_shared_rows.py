"""The `shared_rows` fixture: a module's rows are made once, each test's changes are undone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadshare.extensions import db
from leadshare.tenancy.models import Group

from ..factories import Factory


@pytest.fixture(scope="module")
def group_code(app, shared_rows) -> str:
    return Factory(app).group(name="共享集团").code


def test_a_test_sees_the_shared_rows_and_changes_them(app, group_code):
    with app.app_context():
        group = db.session.scalar(select(Group).where(Group.code == group_code))
        assert group.name == "共享集团"
        group.name = "改过的名字"
        db.session.add(Group(name="多出来的集团", code="EXTRA-1"))
        db.session.commit()


def test_the_next_test_sees_the_shared_rows_as_they_were_made(app, group_code):
    with app.app_context():
        assert db.session.scalar(select(Group.name).where(Group.code == group_code)) == "共享集团"
        assert db.session.scalar(select(Group).where(Group.code == "EXTRA-1")) is None
