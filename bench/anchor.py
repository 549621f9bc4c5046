"""The bare anchor of the intake benchmark: Flask + marshmallow + one INSERT into SQLite (WAL).

It validates the same body as `POST /api/v1/leads` with the service's own marshmallow schema
(`leads/schemas.py`: the same fields, rules and phone normalisation), inserts one row of
similar width, commits, and answers 201 with the row's id: the least a lead intake can cost on
this stack. `bench/intake.py` serves it with the same gunicorn settings as the real service and
loads both with the same wrk script, so the ratio of the two is what the service's own work costs.

    ANCHOR_DATABASE=/tmp/anchor.db gunicorn --workers 2 'bench.anchor:create_app()'
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from marshmallow import ValidationError

from leadshare.leads.schemas import LeadCreateSchema

COLUMNS = (
    "customer_name",
    "customer_phone",
    "latitude",
    "longitude",
    "brand",
    "model",
    "timeframe",
    "channel",
    "campaign",
    "status",
    "created_at",
)


def create_app() -> Flask:
    path = os.environ.get("ANCHOR_DATABASE", "anchor.db")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS leads (id INTEGER PRIMARY KEY, "
            + ", ".join(f"{c} TEXT" for c in COLUMNS)
            + ")"
        )
    local = threading.local()
    schema = LeadCreateSchema()
    insert = f"INSERT INTO leads ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    app = Flask(__name__)

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(path, timeout=15)
            conn.execute("PRAGMA busy_timeout=15000")
        return conn

    @app.post("/leads")
    def post_lead():
        try:
            body = schema.load(request.get_json(force=True))
        except ValidationError as exc:
            return jsonify(errors=exc.messages), 422
        conn = connection()
        with conn:
            row = conn.execute(
                insert,
                (
                    body["customer"]["name"],
                    body["customer"].get("phone"),
                    body["location"].get("latitude"),
                    body["location"].get("longitude"),
                    body["brand"],
                    body.get("model"),
                    body.get("timeframe"),
                    body["source"].get("channel"),
                    body["source"].get("campaign"),
                    "open",
                    datetime.now(UTC).isoformat(),
                ),
            )
        return jsonify(id=row.lastrowid, status="open"), 201

    return app
