"""Test app on a migrated database; every test runs inside a transaction that is rolled back.

SQLite by default; set TEST_DATABASE_URL (as `.ci/run` does) to run the same suite on PostgreSQL.
"""

from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db

from . import TEST_SECRET_KEY
from .factories import Factory, token_headers


def reset_database(url: str) -> None:
    """Start from an empty database, so migrations are exercised from nothing."""
    if url.startswith("postgresql"):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own, `<dbname>_<worker>`
    (made on first use), and the scratch databases of its tests are named after that one."""
    suite = make_url(url)
    name = f"{suite.database}_{worker}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if found.scalar() is None:
                quoted = conn.dialect.identifier_preparer.quote(name)
                conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        engine.dispose()
    own = suite.set(database=name).render_as_string(hide_password=False)
    os.environ["TEST_DATABASE_URL"] = own  # read by tests/integration/scratch.py
    return own


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and url.startswith("postgresql"):
        url = worker_database(url, worker)
    reset_database(url)
    return url


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET_KEY,
            "ALLOW_PRIVATE_WEBHOOKS": True,  # the fake receivers listen on 127.0.0.1
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": True,
            "GEOCODER": "none",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # scrypt in production; speed here
        }
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        db.session.configure(join_transaction_mode="create_savepoint")
    return app


def _bind_to_one_connection(app):
    """Bind the app's sessions to one connection inside a transaction; undo with the result."""
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection

    def undo() -> None:
        with app.app_context():
            db.session.remove()
        engines[None] = engine
        outer.rollback()
        connection.close()

    return connection, undo


@pytest.fixture(scope="module")
def shared_rows(app):
    """Opt-in for a module whose tests read one costly world: rows made in this fixture's
    transaction are seen by every test of the module, each test's own changes are rolled back
    to a savepoint after it, and the whole module's rows are rolled back at its end."""
    connection, undo = _bind_to_one_connection(app)
    try:
        yield connection
    finally:
        undo()


@pytest.fixture(autouse=True)
def _rollback(request, app):
    """Bind every session of the test to one connection whose transaction is rolled back.

    No app context stays pushed during the test: each request gets its own, as in production,
    so a service that forgets to commit is caught. Tests read the database in `with app_ctx:`.
    In a module using `shared_rows`, the test runs in a savepoint of the module's transaction.
    """
    if "no_rollback" in request.keywords:
        yield
        return
    if "shared_rows" in request.fixturenames:
        connection = request.getfixturevalue("shared_rows")
        savepoint = connection.begin_nested()
        try:
            yield
        finally:
            with app.app_context():
                db.session.remove()
            if savepoint.is_active:
                savepoint.rollback()
        return
    _connection, undo = _bind_to_one_connection(app)
    try:
        yield
    finally:
        undo()


@pytest.fixture
def app_ctx(app):
    """An app context to enter around direct database reads: `with app_ctx: ...`."""
    return app.app_context()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    """Factories: `make.group()`, `make.dealer(group, brands=[...])`, `make.user(role, ...)`."""
    return Factory(app)


@pytest.fixture
def auth(client):
    """`auth(user)` -> headers with a fresh Bearer token for that user."""
    return token_headers(client)
