"""Production guards (security, item 10): a strong SECRET_KEY on a shared database, and no demo
users with a published password there unless asked for with --force."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from leadshare.app import create_app
from leadshare.settings import ConfigError, load_config

from .. import TEST_SECRET_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # never reached: the guard comes first


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=REPO_ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("key", [None, "", "short-key", "x" * 31])
def test_a_shared_database_refuses_a_missing_or_short_secret_key(tmp_path, monkeypatch, key):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal/leadshare")
    with pytest.raises(ConfigError, match="SECRET_KEY must be set to at least 32 characters"):
        load_config(tmp_path, {"SECRET_KEY": key} if key is not None else None)
    assert not (tmp_path / "secret_key").exists()  # no per-host key was made instead


def test_a_shared_database_starts_with_a_long_key_and_sqlite_without_one(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal/leadshare")
    assert load_config(tmp_path, {"SECRET_KEY": "k" * 32})["SECRET_KEY"] == "k" * 32
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    generated = load_config(tmp_path)["SECRET_KEY"]
    assert len(generated) >= 32 and (tmp_path / "secret_key").read_text() == generated


def test_the_commands_refuse_to_start_with_a_clear_message_not_a_traceback():
    result = _flask({"DATABASE_URL": POSTGRES, "SECRET_KEY": "too-short"}, "leadshare", "sweep")
    assert result.returncode == 4
    assert result.stderr.startswith(
        "leadshare cannot start: SECRET_KEY must be set to at least 32 characters"
    )
    assert "only 9 characters long" in result.stderr and "Traceback" not in result.stderr


def test_gunicorn_stops_instead_of_respawning_workers(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "wsgi:app"],
        cwd=REPO_ROOT,
        env={**environ, "DATABASE_URL": POSTGRES},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "leadshare cannot start: SECRET_KEY must be set" in result.stderr
    assert "it is not set." in result.stderr


def test_the_demo_refuses_a_database_that_is_not_sqlite_without_force():
    app = create_app({"SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": POSTGRES})
    result = app.test_cli_runner().invoke(args=["leadshare", "demo"])
    assert result.exit_code == 1
    assert "published" in result.output and "--force" in result.output
    assert "Traceback" not in result.output


def test_the_demo_runs_on_the_suite_database_with_force_there(app, database_url):
    args = ["leadshare", "demo"] + ([] if database_url.startswith("sqlite") else ["--force"])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Every demo user's password" in result.output
    if not database_url.startswith("sqlite"):
        refused = app.test_cli_runner().invoke(args=["leadshare", "demo"])
        assert refused.exit_code == 1 and "--force" in refused.output
