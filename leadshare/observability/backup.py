"""A consistent copy of a SQLite database while it serves (`flask leadshare backup PATH`).

SQLite's online backup API copies the database in one step inside a read transaction: in WAL
mode writers go on meanwhile and the copy is the database as of one instant, every lead chain
whole. The copy is written beside the target and renamed into place only after its integrity
check passed. PostgreSQL has its own tools (pg_dump, pg_basebackup with WAL archiving for
point-in-time restore); the command says so instead of copying.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

POSTGRES_ADVICE = (
    "This database is PostgreSQL: take a logical copy with"
    " `pg_dump --format=custom --file=leadshare.dump DBNAME` (restore with pg_restore), and for"
    " point-in-time restore a base backup with `pg_basebackup --pgdata=DIR --wal-method=stream`"
    " plus WAL archiving (archive_mode=on, archive_command); see README, Backups."
)


class BackupRefused(RuntimeError):
    """The backup cannot be taken; the message says why and what to do instead."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    pages: int
    bytes: int


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if not url.get_backend_name() == "sqlite":
        raise BackupRefused(
            POSTGRES_ADVICE
            if url.get_backend_name() == "postgresql"
            else (f"Backups of {url.get_backend_name()} databases are not supported.")
        )
    if not url.database or url.database == ":memory:":
        raise BackupRefused("An in-memory SQLite database has nothing to back up.")
    return Path(url.database)


def backup_sqlite(database_url: str, target: Path, *, busy_timeout_ms: int = 15000) -> BackupReport:
    """Copy the database to `target` (which must not exist yet) and check the copy."""
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise BackupRefused(f"There is no database at {source_path}.")
    if target.exists():
        raise BackupRefused(f"{target} exists already; give a new file name.")
    if not target.parent.is_dir():
        raise BackupRefused(f"The folder {target.parent} does not exist.")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=busy_timeout_ms / 1000)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)  # pages=-1: the whole database in one step, one snapshot
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        pages = copy.execute("PRAGMA page_count").fetchone()[0]
    finally:
        copy.close()
        source.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"The copy failed its integrity check: {verdict}")
    os.replace(partial, target)
    return BackupReport(target, pages, target.stat().st_size)
