"""The unit of work: one transaction per use case, committed once or rolled back.

A service runs its whole use case inside `unit_of_work()` (or is decorated with
`@transactional`). Services call each other freely: an inner unit joins the outer one and
commits nothing, so only the outermost commits, once. Any exception rolls the whole use case
back and propagates. Surfaces (API, pages, CLI, handlers) never commit or roll back themselves.

In a web request only the unit of work takes write locks: what a request reads before it (the
actor, the scope check, the body's brand) is read in a plain transaction (on SQLite a deferred
BEGIN, no lock: database.py), and the outermost unit starts a fresh transaction of its own (on
SQLite BEGIN IMMEDIATE), so SQLite's one writer at a time holds the lock only for the use case
itself, not for the request's parsing and reads. A request that may change something (POST,
PUT, PATCH, DELETE) ends its clean read-only transaction keeping what it read (no expiry: the
actor is not read again); anywhere else (a GET, a command that read before) it is rolled back.
Once the unit has committed, the request only reads (its answer), and nothing it holds is
expired: the answer is made of the rows as this unit wrote them, without reading them back
(rows made beside each other are linked through their relationships, so collections stay whole).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import g, has_request_context, request
from sqlalchemy.orm import Session

from .extensions import db
from .vocabulary import SAFE_METHODS

P = ParamSpec("P")
T = TypeVar("T")
DEPTH = "leadshare.uow_depth"
APART = "leadshare.uow_apart"
"""Marks the session of a unit of work apart (its listeners may tell it from the request's)."""
writing: ContextVar[bool] = ContextVar("leadshare.uow_writing", default=False)
"""True inside the outermost unit of work: a transaction begun now is for writing."""


def request_writes() -> bool:
    """True in a web request whose method may change something and that has not committed yet:
    it writes from the start."""
    return (
        has_request_context()
        and request.method not in SAFE_METHODS
        and not g.get("_leadshare_committed", False)
    )


def in_unit_of_work(session: Session | None = None) -> bool:
    """True while a unit of work is open on the session."""
    return (session or db.session()).info.get(DEPTH, 0) > 0


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Open (or join) the use case's transaction; the outermost commits on success."""
    session = db.session()
    depth = session.info.get(DEPTH, 0)
    token = None
    if depth == 0:
        clean = not (session.new or session.dirty or session.deleted)
        if session.in_transaction() and clean:  # end the read-only transaction before it
            if request_writes():
                _commit_keeping_rows(session)  # what the request read stays as read
            else:
                session.rollback()
        token = writing.set(True)
    session.info[DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            if request_writes():
                _commit_keeping_rows(session)
                g._leadshare_committed = True
            else:
                session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[DEPTH] = depth
        if token is not None:
            writing.reset(token)


@contextmanager
def unit_of_work_apart() -> Iterator[Session]:
    """A short transaction of its own, on a session beside the request's: committed at once,
    whatever the request then does. The access log's records use it: the one write a read
    (a GET) may make, and it must not wait for, or ride on, the request's own transaction.

    Outside a unit of work, a clean read-only transaction of the request's session is ended
    first, as `unit_of_work` does: nothing the request read holds a snapshot or a lock while
    the record is written (and the record cannot be undone by the request ending its own).
    """
    current = db.session()
    clean = not (current.new or current.dirty or current.deleted)
    if not in_unit_of_work(current) and current.in_transaction() and clean:
        current.rollback()
    session = Session(bind=db.engine, join_transaction_mode="create_savepoint", info={APART: True})
    token = writing.set(True)  # SQLite: BEGIN IMMEDIATE, queued with the other writers
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        writing.reset(token)


def _commit_keeping_rows(session: Session) -> None:
    """Commit without expiring what the session holds: the request's answer reads the rows as
    written instead of loading them again (the session ends with the request)."""
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def transactional(func: Callable[P, T]) -> Callable[P, T]:
    """Run a service function as one unit of work (joining the caller's when there is one)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with unit_of_work():
            return func(*args, **kwargs)

    return wrapper
