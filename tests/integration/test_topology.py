"""The production topology on this machine: PostgreSQL, two app processes (gunicorn with
deploy/gunicorn.conf.py) on two ports, two `flask leadshare worker` processes and a webhook
receiver, all local processes.

Leads are posted to both apps; mid-run one app and one worker are killed (SIGKILL), and later
the other worker is stopped cleanly (SIGTERM) and a new one started. Afterwards every lead
posted is there once and routed, every offer made due expired exactly once and its lead moved on,
every message reached the receiver (at least once; more than once only for a message the killed
worker may have sent without recording it, and exactly once across the clean restart), and
`/readyz` told the truth throughout: ready while the database answered at head, never 503 for
losing workers, and it saw the workers come and go.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from leadshare.demo import DEMO_PASSWORD

from ..demo_leads import CUSTOMERS, REFERRERS
from ..webhook_receiver import Receiver
from .scratch import scratch_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.no_rollback,
    pytest.mark.skipif(
        not PG_URL.startswith("postgresql"),
        reason="the production topology runs on PostgreSQL: `make test-pg` (TEST_DATABASE_URL)",
    ),
]

LEADS = 30
KILL_AFTER = 14  # leads posted before one app and one worker are killed
WORKER_STALE = 4  # seconds without a beat before /readyz stops counting a worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(
    url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@dataclass
class Process:
    """A child in its own process group, so a kill reaches gunicorn's workers too."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> Process:
        out = self.log.open("a")
        self.popen = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        return self

    def signal(self, sig: int) -> None:
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM and wait; None if it had to be killed."""
        if not self.popen:
            return None
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait()
            return None

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.popen:
            self.popen.wait(timeout=30)


@dataclass
class Readiness:
    """Polls /readyz of each app four times a second; every answer is kept with its time."""

    bases: dict[str, str]
    seen: list[tuple[float, str, int | None, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, base in self.bases.items():
                try:
                    status, body = _call(f"{base}/readyz", timeout=5)
                except OSError:  # refused: the process is gone, which is no lie
                    status, body = None, None
                self.seen.append((time.monotonic(), name, status, body))
            self._stop.wait(0.25)

    def start(self) -> Readiness:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def latest(self, name: str) -> Any:
        for _t, who, status, body in reversed(self.seen):
            if who == name and status is not None:
                return body
        return None


def _until(what: str, condition: Callable[[], Any], seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.25)


def _alive(readiness: Readiness, app: str) -> int | None:
    body = readiness.latest(app)
    return body["advisories"]["worker"]["alive"] if body else None


def test_two_apps_and_two_workers_survive_kills_and_lose_nothing(tmp_path):
    with scratch_database(tmp_path, "topology") as url, Receiver() as receiver:
        _run_topology(tmp_path, url, receiver)


def _run_topology(tmp_path: Path, url: str, receiver: Receiver) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    env.update(
        DATABASE_URL=url,
        SECRET_KEY="topology-test-" + "k" * 48,
        ALLOW_PRIVATE_WEBHOOKS="1",
        NOTIFY_TIMEOUT="1",  # a killed worker's lease: 30 s + batch x timeout x 2
        WORKER_STALE_SECONDS=str(WORKER_STALE),
        GUNICORN_WORKERS="1",
    )
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    for step in (["db", "upgrade"], ["leadshare", "demo", "--force"]):
        subprocess.run([*flask, *step], cwd=ROOT, env=env, check=True, capture_output=True)
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # every store sends its webhooks to the local receiver
        conn.execute(
            sa.text("UPDATE dealers SET webhook_url = :u || code"), {"u": receiver.url("/hook/")}
        )

    ports = {"a": _free_port(), "b": _free_port()}
    apps = {
        name: Process(
            f"app-{name}",
            [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy/gunicorn.conf.py"), "wsgi:app"],
            {
                **env,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{name}"),
            },
            tmp_path / f"app-{name}.log",
        )
        for name, port in ports.items()
    }
    worker_argv = [*flask, "leadshare", "worker", "--interval", "1", "--deliver-interval", "0.5"]
    worker_argv += ["--batch", "2"]
    workers = {
        n: Process(f"worker-{n}", worker_argv, env, tmp_path / f"worker-{n}.log") for n in (1, 2)
    }
    bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    readiness = Readiness(bases)
    started: list[Process] = []
    try:
        for process in [*apps.values(), *workers.values()]:
            started.append(process.start())
        for base in bases.values():
            _until("the apps to listen", lambda b=base: _answers(b), 60)
        readiness.start()
        _until("/readyz to count both workers", lambda: _alive(readiness, "b") == 2, 60)
        _exercise(bases, apps, workers, readiness, engine, receiver, tmp_path, started)
    finally:
        readiness.stop()
        for process in started:
            process.stop(timeout=30)
        engine.dispose()
    logs = "\n".join(p.log.read_text() for p in started if p.log.exists())
    assert "Traceback" not in logs, logs[-4000:]


def _answers(base: str) -> bool:
    try:
        return _call(f"{base}/healthz", timeout=2)[0] == 200
    except OSError:
        return False


def _exercise(bases, apps, workers, readiness, engine, receiver, tmp_path, started) -> None:
    tokens = {}
    for code in REFERRERS:
        email = f"staff.{code}@demo.leadshare.cn"
        status, body = _call(
            f"{bases['b']}/api/v1/auth/token", {"email": email, "password": DEMO_PASSWORD}
        )
        assert status == 200, body
        tokens[code] = {"Authorization": f"Bearer {body['token']}"}

    with engine.connect() as conn:
        before = conn.scalar(sa.text("SELECT count(*) FROM leads"))  # the demo's
    made: dict[str, str] = {}  # idempotency key -> lead id
    killed_at = None
    for n in range(LEADS):
        if n == KILL_AFTER:
            apps["a"].kill()
            workers[1].kill()
            killed_at = time.monotonic()
        lat, lon = CUSTOMERS[n % len(CUSTOMERS)]
        body = {
            "customer": {"name": "赵六", "phone": f"1370000{n:04d}"},
            "location": {"latitude": lat, "longitude": lon},
            "brand": "大众",
            "source": {"channel": "walk_in"},
            "consent_to_share": True,
        }
        key = f"topology-{n}"
        headers = {**tokens[REFERRERS[n % len(REFERRERS)]], "Idempotency-Key": key}
        order = ["a", "b"] if n % 2 == 0 else ["b", "a"]
        for attempt, app in enumerate(order):
            try:
                status, answer = _call(f"{bases[app]}/api/v1/leads", body, headers)
                break
            except OSError:  # that app is gone: the same request, same key, to the other
                assert attempt == 0
        if status == 201:
            made[key] = answer["id"]
        else:  # a customer in the referrer's own area is not shareable: said, not lost
            assert status in (409, 422) and answer.get("reason"), answer
    assert len(made) >= 15, made
    assert killed_at is not None

    # /readyz sees the killed worker go (it stops beating) while the app stays ready
    _until("/readyz to notice the killed worker", lambda: _alive(readiness, "b") == 1, 30)

    receiver.gate.clear()  # answers wait: the surviving worker is caught mid-delivery below
    with engine.begin() as conn:  # time passes for half of the leads: their offers fall due
        due = conn.scalars(
            sa.text(
                "UPDATE offers SET expires_at = now() AT TIME ZONE 'UTC' - interval '1 second' "
                "WHERE status = 'pending' AND lead_id IN "
                "(SELECT id FROM leads WHERE public_id = ANY(:ids)) RETURNING id"
            ),
            {"ids": sorted(made.values())[::2]},
        ).all()
    assert len(due) >= 5, due

    def delivering() -> bool:  # the surviving worker holds a batch of the new offers' messages
        with engine.connect() as conn:
            return bool(
                conn.scalar(
                    sa.text("SELECT count(*) FROM notifications WHERE claimed_by IS NOT NULL")
                )
            )

    _until("the surviving worker to be sending", delivering, 60)
    workers[2].signal(signal.SIGTERM)  # ... stop it cleanly while a message is in flight
    time.sleep(0.5)
    receiver.gate.set()
    assert workers[2].popen.wait(timeout=60) == 0, workers[2].log.read_text()[-3000:]
    clean_restart_at = time.monotonic()
    replacement = Process("worker-3", workers[2].argv, workers[2].env, tmp_path / "worker-3.log")
    started.append(replacement.start())

    def settled() -> bool:
        with engine.connect() as conn:
            overdue = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM offers WHERE status = 'pending' "
                    "AND expires_at <= now() AT TIME ZONE 'UTC'"
                )
            )
            unsent = conn.scalar(
                sa.text("SELECT count(*) FROM notifications WHERE status <> 'sent'")
            )
        return overdue == 0 and unsent == 0

    _until("every due offer swept and every message sent", settled, 120)
    assert replacement.popen and replacement.popen.poll() is None

    _check_leads(engine, made, due, before)
    _check_messages(engine, receiver, killed_at, clean_restart_at)
    _check_readiness(readiness, killed_at)

    for process in (replacement,):  # losing every worker must not make the apps unready
        assert process.stop(timeout=60) == 0
    _until(
        "/readyz to report no live worker",
        lambda: "worker" in (readiness.latest("b") or {}).get("warnings", []),
        WORKER_STALE + 30,
    )
    status, body = _call(f"{bases['b']}/readyz")
    assert status == 200 and body["status"] == "ready" and body["failed"] == []
    assert body["advisories"]["worker"]["alive"] == 0


def _check_leads(engine, made: dict[str, str], due: list[int], before: int) -> None:
    with engine.connect() as conn:
        leads = conn.execute(
            sa.text("SELECT id, public_id, status FROM leads WHERE public_id = ANY(:ids)"),
            {"ids": list(made.values())},
        ).all()
        assert len(leads) == len(made) == len(set(made.values()))  # retries made no copies
        assert conn.scalar(sa.text("SELECT count(*) FROM leads")) == before + len(made)
        assert {status for _i, _p, status in leads} <= {"offered", "open"}, leads  # all routed
        expired = conn.execute(
            sa.text("SELECT id, status FROM offers WHERE id = ANY(:ids)"), {"ids": due}
        ).all()
        assert {status for _i, status in expired} == {"expired"}
        events = Counter(
            conn.execute(
                sa.text("SELECT lead_id, type FROM lead_events WHERE lead_id = ANY(:ids)"),
                {"ids": [i for i, _p, _s in leads]},
            ).all()
        )
        offers = Counter(
            conn.execute(
                sa.text("SELECT lead_id, status FROM offers WHERE lead_id = ANY(:ids)"),
                {"ids": [i for i, _p, _s in leads]},
            ).all()
        )
        for lead_id, _public, status in leads:
            # each expired offer is one `expired` event (never two), and the lead moved on: an
            # offered lead has one pending offer, an open one (on the board) none
            assert events[(lead_id, "expired")] == offers[(lead_id, "expired")], lead_id
            assert offers[(lead_id, "pending")] == (1 if status == "offered" else 0), lead_id
            assert events[(lead_id, "offered")] == sum(
                n for (lead, _s), n in offers.items() if lead == lead_id
            ), lead_id
        due_leads = {
            row.lead_id
            for row in conn.execute(
                sa.text("SELECT lead_id FROM offers WHERE id = ANY(:ids)"), {"ids": due}
            )
        }
        for lead_id in due_leads:
            assert events[(lead_id, "expired")] >= 1
            assert events[(lead_id, "offered")] + events[(lead_id, "opened")] >= 2, lead_id


def _check_messages(engine, receiver: Receiver, killed_at: float, clean_at: float) -> None:
    with engine.connect() as conn:
        stored = set(conn.scalars(sa.text("SELECT message_id FROM notifications")))
    assert stored
    received = [(r.headers.get("X-Leadshare-Message-Id"), r.at) for r in receiver.requests]
    counts = Counter(mid for mid, _at in received)
    assert set(counts) == stored  # every message arrived, nothing unknown did
    first = {}
    for mid, at in received:
        first.setdefault(mid, at)
    twice = {mid for mid, n in counts.items() if n > 1}
    # only the SIGKILLed worker can have sent a message without recording it
    assert all(first[mid] <= killed_at for mid in twice), twice
    after_clean = {mid for mid, at in first.items() if at >= clean_at}
    assert after_clean and not (twice & after_clean)  # the restart sent some, each once
    print(  # shown with -s: what this run did
        f"topology: {len(stored)} messages, {len(twice)} received twice, "
        f"{len(after_clean)} first sent after the clean restart"
    )


def _check_readiness(readiness: Readiness, killed_at: float) -> None:
    answered = [(t, who, status, body) for t, who, status, body in readiness.seen if status]
    assert answered
    for _t, _who, status, body in answered:  # the database answered at head all along
        assert status == 200 and body["status"] == "ready" and body["failed"] == [], body
        assert body["checks"]["migrations"]["ok"]
    a_after = [s for t, who, s, _b in readiness.seen if who == "a" and t > killed_at + 1]
    assert a_after and set(a_after) == {None}  # the killed app answers nothing, not "ready"
    alive = [body["advisories"]["worker"]["alive"] for _t, _w, _s, body in answered]
    assert 2 in alive and 1 in alive
