"""The unit of work on a database of its own: one commit per use case, nested units join it,
a failure undoes all of it, and on SQLite only a unit of work takes the write lock."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select, text

from leadshare.app import create_app
from leadshare.extensions import db
from leadshare.tenancy.models import Group
from leadshare.uow import in_unit_of_work, transactional, unit_of_work

from .. import TEST_SECRET_KEY
from .scratch import scratch_database

pytestmark = pytest.mark.no_rollback


def app_on(url: str):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url}
    )
    context = app.app_context()
    context.push()
    Group.__table__.create(db.engine)
    return app, context


@pytest.fixture
def scratch_app(tmp_path):
    """The suite's database kind (TEST_DATABASE_URL or SQLite), in a scratch database."""
    with scratch_database(tmp_path, "uow") as url:
        app, context = app_on(url)
        yield app
        db.session.remove()
        db.engine.dispose()
        context.pop()


@pytest.fixture
def sqlite_app(tmp_path):
    """SQLite whatever the suite runs on: the embedded default's own locking."""
    app, context = app_on(f"sqlite:///{tmp_path / 'uow.db'}")
    yield app
    db.session.remove()
    db.engine.dispose()
    context.pop()


def statements(app) -> list[str]:
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def groups() -> int:
    return db.session.scalar(select(func.count(Group.id)))


@transactional
def add_group(code: str, *, fail: bool = False) -> None:
    db.session.add(Group(name=code, code=code))
    db.session.flush()
    if fail:
        raise RuntimeError("refused after writing")


def test_nested_units_join_the_outer_one_and_commit_once(scratch_app):
    seen = statements(scratch_app)
    with unit_of_work():
        add_group("A")
        add_group("B")
        assert in_unit_of_work()
        assert not any(s.strip().upper() == "COMMIT" for s in seen)
    assert not in_unit_of_work()
    db.session.remove()
    assert groups() == 2


def test_a_failure_anywhere_undoes_the_whole_use_case(scratch_app):
    with pytest.raises(RuntimeError), unit_of_work():
        add_group("A")
        add_group("B", fail=True)
    db.session.remove()
    assert groups() == 0


def begins(seen: list[str]) -> list[str]:
    return [s for s in seen if s.upper().startswith("BEGIN")]


def test_on_sqlite_a_gets_reads_begin_deferred_and_a_unit_of_work_immediate(sqlite_app):
    seen = statements(sqlite_app)
    with sqlite_app.test_request_context("/api/v1/leads", method="GET"):
        db.session.execute(text("SELECT 1"))
        with unit_of_work():  # the read's transaction ends first: the unit's own takes the lock
            add_group("A")
        db.session.remove()
    assert begins(seen) == ["BEGIN", "BEGIN IMMEDIATE"], seen


def test_on_sqlite_a_post_takes_the_lock_only_for_its_unit_and_keeps_what_it_read(
    sqlite_app, tmp_path
):
    """What a POST reads before its unit of work (the actor) is read without the write lock and
    not read again: its read transaction ends keeping the rows, the unit's begins IMMEDIATE."""
    add_group("READ")
    db.session.remove()
    seen = statements(sqlite_app)
    with sqlite_app.test_request_context("/api/v1/leads", method="POST"):
        read = db.session.scalar(select(Group).where(Group.code == "READ"))
        assert writers_lock_is_free(tmp_path)  # the reads hold no place in the writers' queue
        with unit_of_work():
            add_group("A")
            assert not writers_lock_is_free(tmp_path)
            assert read.name == "READ"  # kept: not expired, not read again
        db.session.remove()
    assert begins(seen) == ["BEGIN", "BEGIN IMMEDIATE"], seen
    assert sum("FROM groups" in s for s in seen) == 1, seen
    assert groups() == 2


def test_on_sqlite_outside_a_request_every_transaction_begins_immediate(sqlite_app):
    """A command or script may read, then write, in one transaction: it must not upgrade."""
    seen = statements(sqlite_app)
    db.session.execute(text("SELECT 1"))
    db.session.add(Group(name="B", code="B"))
    db.session.flush()
    db.session.rollback()
    assert begins(seen) == ["BEGIN IMMEDIATE"], seen


def writers_lock_is_free(tmp_path) -> bool:
    """Whether another process could take the SQLite writers' queue lock right now."""
    import fcntl
    import os

    fd = os.open(tmp_path / "uow.db-writers", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops a lock taken here
    return True


@pytest.mark.parametrize("ending", ["commit", "rollback"])
def test_on_sqlite_a_writer_holds_the_queue_until_its_transaction_ends(
    sqlite_app, tmp_path, ending
):
    """Writers queue on a lock file (database.WriterQueue); the next one is let in at once."""
    db.session.add(Group(name="A", code="A"))
    db.session.flush()
    assert not writers_lock_is_free(tmp_path)
    getattr(db.session, ending)()
    assert writers_lock_is_free(tmp_path)
    with sqlite_app.test_request_context("/api/v1/leads", method="GET"):
        db.session.execute(text("SELECT 1"))  # a GET's read takes no place in the queue
        assert writers_lock_is_free(tmp_path)
        db.session.remove()


def test_on_sqlite_writers_of_two_threads_take_turns_and_all_land(sqlite_app):
    import threading

    def write(prefix: str) -> None:
        with sqlite_app.app_context():
            for n in range(25):
                with unit_of_work():
                    db.session.add(Group(name=prefix, code=f"{prefix}{n}"))
            db.session.remove()

    threads = [threading.Thread(target=write, args=(p,)) for p in "XY"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert groups() == 50
