"""Sign-in failures are counted in the database: two live servers on one database share them.

Two gunicorn processes (one worker each) serve one scratch database; failures sent to both count
together, as they would across workers and hosts.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.auth.models import User
from leadshare.extensions import db
from leadshare.vocabulary import Role

from .scratch import scratch_database
from .test_concurrency import Server, _free_port, _start_gunicorn, _stop_gunicorn, _wait_healthy

pytestmark = [pytest.mark.no_rollback, pytest.mark.slow]  # multi-process: `make test-slow`

SECRET_KEY = "sign-in-processes-test-secret-of-32-characters-or-more"
EMAIL = "throttled@example.com"
PASSWORD = "password123"


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[tuple[Server, Server]]:
    tmp = tmp_path_factory.mktemp("sign_in_processes")
    with scratch_database(tmp, "sign_in") as url:
        app = create_app({"SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
            user = User(email=EMAIL, role=str(Role.PLATFORM_ADMIN))
            user.password_hash = generate_password_hash(PASSWORD)
            db.session.add(user)
            db.session.commit()
            db.engine.dispose()
        procs = []
        try:
            pair = []
            for name in ("a", "b"):
                server = Server(port=_free_port(), log_path=tmp / f"{name}.log", dealer_ids={})
                procs.append(
                    _start_gunicorn(url, server.port, server.log_path, SECRET_KEY, workers=1)
                )
                pair.append(server)
            for proc, server in zip(procs, pair, strict=True):
                _wait_healthy(proc, server)
            yield pair[0], pair[1]
        finally:
            for proc in procs:
                _stop_gunicorn(proc, signal.SIGINT)


def _sign_in(server: Server, password: str, email: str = EMAIL) -> tuple[int, dict, str]:
    return server.call("POST", "/api/v1/auth/token", body={"email": email, "password": password})


def test_failures_split_across_two_servers_are_counted_together(servers):
    a, b = servers
    for server in (a, b, a, b, a):
        status, body, raw = _sign_in(server, "wrong-password")
        assert status == 401, raw
        assert body["reason"] == "invalid_credentials"
    for server in (b, a):
        status, body, raw = _sign_in(server, PASSWORD)
        assert status == 429, raw
        assert body["reason"] == "too_many_attempts"
        assert 1 <= body["retry_after"] <= 60


def test_simultaneous_failures_on_both_servers_are_each_refused_cleanly(servers):
    """Concurrent failures, each writing and pruning (SKIP LOCKED on PostgreSQL): never a 5xx."""
    jobs = [(servers[n % 2], f"ghost{n}@example.com") for n in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda job: _sign_in(job[0], "wrong", job[1]), jobs))
    assert [status for status, _body, _raw in results] == [401] * len(jobs), results
