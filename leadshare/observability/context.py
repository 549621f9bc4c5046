"""What the current request or worker cycle is: its request id and its SQL statement count.

Context variables, so the outbox can stamp the request id on the messages a request causes
and the engine's statement counter needs no Flask. Standard library only.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-Id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

request_id_var: ContextVar[str | None] = ContextVar("leadshare.request_id", default=None)
_statements: ContextVar[list[int] | None] = ContextVar("leadshare.statements", default=None)


def accepted_request_id(header: str | None) -> str:
    """The caller's X-Request-Id when it is well formed (1-64 of A-Z a-z 0-9 . _ : -), else new."""
    value = (header or "").strip()
    return value if _WELL_FORMED.fullmatch(value) else uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request (or of the message a worker is sending) in progress, if any."""
    return request_id_var.get()


def start_counting() -> list[int]:
    """Count the SQL statements from now on in this context; returns the live counter."""
    counter = [0]
    _statements.set(counter)
    return counter


def count_statement() -> None:
    """One more statement for whoever is counting in this context (nobody: nothing happens)."""
    counter = _statements.get()
    if counter is not None:
        counter[0] += 1
