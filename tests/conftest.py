"""Test app on a migrated database; every test runs inside a transaction that is rolled back.

SQLite by default; set TEST_DATABASE_URL (as `.ci/run` does) to run the same suite on PostgreSQL.
"""

from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db

from . import TEST_SECRET_KEY
from .factories import Factory


def reset_database(url: str) -> None:
    """Start from an empty database, so migrations are exercised from nothing."""
    if url.startswith("postgresql"):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
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


@pytest.fixture(autouse=True)
def _rollback(request, app):
    """Bind every session of the test to one connection whose transaction is rolled back.

    No app context stays pushed during the test: each request gets its own, as in production,
    so a service that forgets to commit is caught. Tests read the database in `with app_ctx:`.
    """
    if "no_rollback" in request.keywords:
        yield
        return
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        engines[None] = engine
        outer.rollback()
        connection.close()


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

    def headers(user, password: str = "password123") -> dict[str, str]:
        response = client.post(
            "/api/v1/auth/token", json={"email": user.email, "password": password}
        )
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['token']}"}

    return headers
