"""Per request: the request id (accepted or made, and answered), one JSON log line, the latency
histogram; per engine: the statement counter and the connection pool gauges."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import metrics
from .context import (
    REQUEST_ID_HEADER,
    accepted_request_id,
    count_statement,
    request_id_var,
    start_counting,
)

log = logging.getLogger("leadshare.request")


def _start() -> None:
    g.request_id = accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
    g.request_id_token = request_id_var.set(g.request_id)
    g.request_started = time.perf_counter()
    g.request_statements = start_counting()


def _actor():
    """The signed-in user the request already loaded (never a query of its own)."""
    for user in (g.get("actor"), g.get("_login_user")):
        if user is not None and getattr(user, "is_authenticated", False):
            return user
    return None


def _finish(response: Response) -> Response:
    if "request_id" not in g:  # failed before the first hook ran
        _start()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    seconds = time.perf_counter() - g.request_started
    route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    user = _actor()
    log.info(
        "request",
        extra={
            "request_id": g.request_id,
            "user_id": user.id if user is not None else None,
            "role": str(user.role) if user is not None else None,
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
            "statements": g.request_statements[0],
        },
    )
    metrics.REQUEST_SECONDS.labels(request.method, route, str(response.status_code)).observe(
        seconds
    )
    return response


def _end(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (a streamed answer): forget it all the same
            request_id_var.set(None)


def register_request_hooks(app: Flask) -> None:
    """The id is set before any other hook (the sign-in door included), so every answer has it."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_end)


def instrument_engine(engine: Engine) -> None:
    """Count statements (for whoever counts in this context) and connections in use."""
    event.listen(engine, "before_cursor_execute", lambda *_: count_statement())
    event.listen(engine, "checkout", lambda *_: metrics.DB_POOL_CHECKED_OUT.inc())
    event.listen(engine, "checkin", lambda *_: metrics.DB_POOL_CHECKED_OUT.dec())
    size = getattr(engine.pool, "size", None)
    if callable(size):
        metrics.DB_POOL_SIZE.set(size())
