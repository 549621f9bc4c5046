"""The production recipe in deploy/: the units, the compose file and the gunicorn config pass
their linters, and gunicorn with that config serves /readyz and multi-process /metrics."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def _environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    return {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.db'}", **extra}


def test_the_systemd_units_verify_without_a_warning(tmp_path):
    """Installed at /opt/leadshare; here that path is this checkout, so the commands exist."""
    assert shutil.which("systemd-analyze"), "needs systemd-analyze (apt-get install systemd)"
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        name = unit.name.replace("@.", "@1.")  # verify an instance of the template
        (tmp_path / name).write_text(unit.read_text().replace("/opt/leadshare", str(ROOT)))
        units.append(str(tmp_path / name))
    assert len(units) == 2
    result = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stderr


def test_the_compose_file_follows_the_compose_specification():
    result = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(DEPLOY / "compose.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_gunicorn_accepts_the_config_and_loads_the_app(tmp_path):
    result = subprocess.run(
        [
            str(BIN / "gunicorn"),
            "--check-config",
            "-c",
            str(DEPLOY / "gunicorn.conf.py"),
            "wsgi:app",
        ],
        cwd=ROOT,
        env=_environ(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _readyz_count(base: str) -> float:
    status, text = _get(f"{base}/metrics")
    assert status == 200
    key = 'leadshare_http_request_duration_seconds_count{method="GET",route="/readyz",status="200"}'
    [line] = [line for line in text.splitlines() if line.startswith(key)]
    return float(line.rsplit(" ", 1)[1])


@pytest.mark.slow
@pytest.mark.no_rollback
def test_gunicorn_with_the_config_is_ready_and_its_metrics_sum_every_worker(tmp_path):
    port, metrics_dir = _free_port(), tmp_path / "metrics"
    env = _environ(
        tmp_path,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 45
        while True:
            try:
                status, body = _get(f"{base}/readyz")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "gunicorn.log"
                ).read_text()
                time.sleep(0.2)
        assert status == 200 and '"status":"ready"' in body.replace(" ", "")
        before = _readyz_count(base)
        for _ in range(20):
            assert _get(f"{base}/readyz")[0] == 200
        assert _readyz_count(base) == before + 20  # whichever worker answered each one
        # each worker sets its pool size (5) when it has loaded the app: once both have, the
        # scrape sums them (the second may still be loading when the first answers)
        deadline = time.monotonic() + 30
        while "leadshare_db_pool_size 10.0" not in _get(f"{base}/metrics")[1].splitlines():
            assert time.monotonic() < deadline, _get(f"{base}/metrics")[1]
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
        log.close()
    assert code == 0, (tmp_path / "gunicorn.log").read_text()
    lines = (tmp_path / "gunicorn.log").read_text()
    assert '"route": "/readyz"' in lines and '"logger": "leadshare.request"' in lines
