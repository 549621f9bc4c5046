"""Database engine tuning: SQLite gets WAL, a busy timeout and write-ready transactions."""

from __future__ import annotations

import fcntl
import os
import time

from flask import Flask, has_request_context
from sqlalchemy import event, exc

from .extensions import db
from .uow import writing


def configure_sqlite(app: Flask) -> None:
    """Make SQLite behave under several gunicorn workers: no 'database is locked' for users.

    pysqlite's own transaction handling is switched off. A unit of work's transaction starts
    with BEGIN IMMEDIATE: writers queue on the busy timeout instead of failing on a lock
    upgrade, and SAVEPOINTs work. In a request, what is read outside the unit of work (a GET's
    reads, a POST's actor and checks before its unit) only reads (reads never write) and starts
    deferred, so in WAL mode it takes no lock and never waits for a writer: the lock is held
    for the unit of work alone. Outside a request (commands, scripts, migrations) every
    transaction starts IMMEDIATE, as one that reads and then writes must.
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

    database = engine.url.database
    queue = (
        WriterQueue(f"{database}-writers", busy_ms) if database and database != ":memory:" else None
    )

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        reading = has_request_context() and not writing.get()
        if not reading and queue is not None:
            queue.enter(connection.info)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    if queue is not None:
        for name in ("commit", "rollback"):
            event.listen(engine, name, lambda connection: queue.leave(connection.info))
        event.listen(engine, "checkin", lambda _dbapi, record: queue.leave(record.info))
        event.listen(engine, "close", lambda _dbapi, record: queue.forget(record.info))


class WriterQueue:
    """SQLite writers of every process on this host queue on one lock file, first come first in.

    SQLite lets one writer in at a time, and a writer that finds the lock taken sleeps in its busy
    handler for steps of up to 100 ms before it looks again: with two busy workers one request
    often waits far longer than the writer before it took. Here a writer first takes an flock on
    a file beside the database (polled every half millisecond, up to the busy timeout) and holds
    it until its transaction ends, so the next writer is in within a millisecond of the last
    commit. After the timeout it goes on to BEGIN IMMEDIATE regardless: SQLite's own lock stays
    the rule, this only shortens the wait.
    """

    POLL_SECONDS = 0.0005

    def __init__(self, path: str, timeout_ms: int) -> None:
        self.path = path
        self.timeout = timeout_ms / 1000

    def enter(self, info: dict) -> None:
        if info.get("writer_locked"):
            return
        fd = info.get("writer_fd")
        if fd is None:
            fd = info["writer_fd"] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                info["writer_locked"] = True
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(self.POLL_SECONDS)

    def leave(self, info: dict) -> None:
        if info.pop("writer_locked", False):
            fcntl.flock(info["writer_fd"], fcntl.LOCK_UN)

    def forget(self, info: dict) -> None:
        self.leave(info)
        fd = info.pop("writer_fd", None)
        if fd is not None:
            os.close(fd)


UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)
"""Errors of a database that does not answer (down, unreachable, pool exhausted, locked)."""
RETRY_AFTER_SECONDS = 5


def is_unavailable(error: BaseException) -> bool:
    return isinstance(error, UNAVAILABLE)


def handle_unavailable(error: Exception):
    """503 `database_unavailable` with Retry-After, as JSON on the API and a page elsewhere."""
    from flask import current_app, jsonify, request

    from .json_errors import error_body, wants_json
    from .web.errors import error_page

    current_app.logger.warning(
        "database unavailable on %s %s: %s", request.method, request.path, type(error).__name__
    )
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_json():
        message = "The database is not answering; try again in a few seconds."
        return jsonify(error_body(503, message, "database_unavailable")), 503, headers

    page, status = error_page(503)
    return page, status, headers


def register_unavailable_handler(app: Flask) -> None:
    for error in UNAVAILABLE:
        app.register_error_handler(error, handle_unavailable)
