"""`flask leadshare check`: each problem of the configuration on its own line, exit 1 if fatal."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db
from tests import TEST_SECRET_KEY
from tests.integration.scratch import scratch_database

SHARED = "postgresql+psycopg://app@db.internal/leadshare"


def run_check(app):
    result = app.test_cli_runner().invoke(args=["leadshare", "check"])
    lines = result.output.strip().splitlines()
    return result.exit_code, {line.split(":")[0]: line for line in lines[:-1]}, lines[-1]


def test_a_sound_configuration_passes_with_the_missing_worker_as_a_warning(app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://leads.example.cn")
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    code, found, summary = run_check(app)
    assert code == 0, found
    assert found["OK       database"].endswith("the database answers")
    assert found["OK       migrations"].endswith("the schema is at head")
    assert found["OK       secret_key"] and found["OK       webhooks"]
    assert found["WARNING  worker"].endswith("no worker has ever reported")
    assert summary == "0 fatal, 1 warnings."


def test_on_a_shared_database_a_weak_key_and_private_webhooks_are_fatal(app, monkeypatch):
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", SHARED)  # as the settings see it
    monkeypatch.setitem(app.config, "SECRET_KEY", "ab" * 20)  # long, but two characters
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", True)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://leads.example.cn")
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", False)
    code, found, summary = run_check(app)
    assert code == 1
    assert "SECRET_KEY is weak (40 characters, 2 different ones)" in found["FATAL    secret_key"]
    assert "ALLOW_PRIVATE_WEBHOOKS=1" in found["FATAL    webhooks"]
    assert "SESSION_COOKIE_SECURE is not 1" in found["WARNING  session_cookie_secure"]
    assert summary.startswith("2 fatal, ")
    assert list(found)[:2] == ["FATAL    secret_key", "FATAL    webhooks"]  # fatal ones first


def test_on_sqlite_the_same_two_are_warnings(app, monkeypatch):
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", "sqlite:///one-host.db")
    monkeypatch.setitem(app.config, "SECRET_KEY", "changeme")
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", True)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    code, found, _ = run_check(app)
    assert "WARNING  secret_key" in found and "WARNING  webhooks" in found
    assert "WARNING  public_base_url" not in found  # a local demo may link to itself
    assert code == 0


def test_an_unreachable_database_is_fatal():
    app = create_app(
        {
            "SECRET_KEY": TEST_SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )
    code, found, summary = run_check(app)
    assert code == 1
    assert found["FATAL    database"].startswith("FATAL    database: the database does not answer")
    assert "WARNING  public_base_url" in found  # a shared database, links to 127.0.0.1
    assert summary.startswith("1 fatal")


@pytest.mark.no_rollback
def test_migrations_behind_are_fatal(tmp_path):
    with scratch_database(tmp_path, "check") as url:
        app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR), revision="0008_sign_in_security")
        code, found, _ = run_check(app)
        assert code == 1
        assert found["FATAL    migrations"].endswith(
            "the schema is not at head: run flask db upgrade"
        )
        with app.app_context():
            db.engine.dispose()
