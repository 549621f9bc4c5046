"""`flask leadshare backup PATH`: copies taken while another thread writes leads restore to a
database whose every lead chain verifies; PostgreSQL gets directions to its own tools."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.extensions import db
from leadshare.leads.events import verify_lead_chains
from leadshare.leads.models import Lead
from tests import TEST_SECRET_KEY
from tests.api.lead_world import build_world, lead_payload
from tests.factories import Factory, token_headers

pytestmark = pytest.mark.no_rollback  # a SQLite database of its own, whatever the suite runs on


def _app(url: str):
    return create_app(
        {
            "SECRET_KEY": TEST_SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "GEOCODER": "none",
        }
    )


def _write_leads(app, world, stop: threading.Event, done: list[str], errors: list[str]) -> None:
    """Post leads and claim and progress each, until told to stop (at least 40 leads)."""
    client = app.test_client()
    n = 0
    while not stop.is_set() or n < 40:
        n += 1
        customer = {"name": f"客户{n}", "phone": f"139{n:08d}"}
        posted = client.post(
            "/api/v1/leads", json=lead_payload(customer=customer), headers=world.headers["referrer"]
        )
        if posted.status_code != 201:
            errors.append(f"post {n}: {posted.status_code} {posted.json}")
            return
        lead = posted.json["id"]
        claimed = client.post(f"/api/v1/leads/{lead}/claim", headers=world.headers["tianhe"])
        moved = client.post(
            f"/api/v1/leads/{lead}/progress",
            json={"status": "visited"},
            headers=world.headers["tianhe"],
        )
        if claimed.status_code != 200 or moved.status_code != 200:
            errors.append(f"lead {n}: {claimed.status_code} {moved.status_code}")
            return
        done.append(lead)


def test_backups_taken_during_writes_restore_with_every_lead_chain_whole(tmp_path):
    app = _app(f"sqlite:///{tmp_path / 'live.db'}")
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
    world = build_world(Factory(app), token_headers(app.test_client()))
    stop, done, errors = threading.Event(), [], []
    writer = threading.Thread(target=_write_leads, args=(app, world, stop, done, errors))
    writer.start()
    copies = []
    try:
        runner = app.test_cli_runner()
        for i in range(3):
            while len(done) < 5 * (i + 1) and writer.is_alive():
                stop.wait(0.05)
            target = tmp_path / f"copy-{i}.db"
            result = runner.invoke(args=["leadshare", "backup", str(target)])
            assert result.exit_code == 0, result.output
            assert result.output.startswith("Backed up ") and str(target) in result.output
            copies.append(target)
    finally:
        stop.set()
        writer.join(timeout=120)
    assert not errors, errors

    counts = []
    for target in copies:
        assert sqlite3.connect(target).execute("PRAGMA integrity_check").fetchone() == ("ok",)
        restored = _app(f"sqlite:///{target}")
        with restored.app_context():
            leads = list(db.session.scalars(select(Lead)))
            reports = verify_lead_chains(leads)
            db.engine.dispose()
        assert leads and all(report.ok for report in reports), [
            (lead.public_id, report)
            for lead, report in zip(leads, reports, strict=True)
            if not report.ok
        ]
        assert restored.test_client().get("/readyz").json["status"] == "ready"
        counts.append(len(leads))
    assert counts == sorted(counts) and counts[-1] < len(done)  # taken while leads kept coming
    with app.app_context():
        db.engine.dispose()


def test_the_backup_refuses_an_existing_file_and_never_leaves_half_a_copy(tmp_path):
    app = _app(f"sqlite:///{tmp_path / 'live.db'}")
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        db.engine.dispose()
    target = tmp_path / "taken.db"
    target.write_text("an older backup")
    result = app.test_cli_runner().invoke(args=["leadshare", "backup", str(target)])
    assert result.exit_code == 1 and "exists already" in result.output
    assert target.read_text() == "an older backup"
    missing = app.test_cli_runner().invoke(args=["leadshare", "backup", str(tmp_path / "no/x.db")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    assert not list(tmp_path.glob("*.partial"))


def test_on_postgresql_it_points_at_pg_dump_and_pg_basebackup():
    app = _app("postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = app.test_cli_runner().invoke(args=["leadshare", "backup", "/tmp/never.db"])
    assert result.exit_code == 1
    assert "pg_dump --format=custom" in result.output and "pg_basebackup" in result.output
