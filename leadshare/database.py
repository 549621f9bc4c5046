"""Database engine tuning: SQLite gets WAL, a busy timeout and write-ready transactions."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from .extensions import db


def configure_sqlite(app: Flask) -> None:
    """Make SQLite behave under several gunicorn workers: no 'database is locked' for users.

    pysqlite's own transaction handling is switched off and every transaction starts with
    BEGIN IMMEDIATE: writers queue on the busy timeout instead of failing on a lock upgrade,
    and SAVEPOINTs work.
    """
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    busy_ms = app.config["SQLITE_BUSY_TIMEOUT_MS"]
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if ":memory:" not in app.config["SQLALCHEMY_DATABASE_URI"]:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
