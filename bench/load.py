"""The load half of the intake benchmark: the real service and the bare anchor under wrk.

Both apps are served by gunicorn with the same settings (2 sync workers) on 127.0.0.1 and loaded
by the same wrk Lua script (`bench/wrk/*.lua`), interleaved (anchor, service, anchor, service), so
that a busy machine slows both alike and the ratio stays meaningful. The service runs on the
benchmark's database (SQLite WAL or PostgreSQL); the anchor always on its own SQLite WAL file.

Called by `bench/intake.py`; `python -m bench.intake --help` lists the options.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "wrk"
WORKERS = 2


@dataclass
class Run:
    """One wrk run: what it did and how fast."""

    app: str
    kind: str
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}):\n{log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not listen on {port}:\n{log.read_text()[-2000:]}")


@contextmanager
def gunicorn(app: str, env: dict[str, str], workdir: Path, name: str) -> Iterator[tuple[int, int]]:
    """Serve `app` with gunicorn (2 sync workers); yield (port, master pid)."""
    port = free_port()
    log = workdir / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
        app,
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL
    )
    try:
        wait_until_up(port, process, log)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), in MB."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


WRK_SUMMARY = re.compile(r"^@@ (\{.*\})$", re.MULTILINE)
FIRST_REFUSED = re.compile(r"^!! (.*)$", re.MULTILINE)
NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def wrk(
    port: int,
    script: Path,
    args: Sequence[str],
    *,
    app: str,
    kind: str,
    connections: int,
    seconds: float,
) -> Run:
    """One wrk run against 127.0.0.1:port; the Lua script's done() prints a JSON summary."""
    threads = min(2, connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
        "--",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    out = done.stdout
    found = WRK_SUMMARY.search(out)
    if not found:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    summary = json.loads(found.group(1))
    non_2xx = NON_2XX.search(out)
    for refused in FIRST_REFUSED.findall(out):
        print(f"  {app} {kind}: first refused answer: {refused}", file=sys.stderr)
    return Run(
        app=app,
        kind=kind,
        connections=connections,
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=summary["errors"],
    )


def lua_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def lua_table(rows: Sequence) -> str:
    """A Lua table literal of strings, numbers and nested sequences."""

    def one(value) -> str:
        if isinstance(value, str):
            return lua_string(value)
        if isinstance(value, (int, float)):
            return repr(value)
        return lua_table(value)

    return "{" + ",".join(one(v) for v in rows) + "}"


def write_data(workdir: Path, name: str, **tables: Sequence) -> Path:
    """A Lua file of data tables that the wrk scripts `dofile`."""
    path = workdir / f"{name}.lua"
    path.write_text(
        "\n".join(f"{key} = {lua_table(rows)}" for key, rows in tables.items()) + "\n",
        encoding="utf-8",
    )
    return path


def scratch_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="leadshare-load-")
