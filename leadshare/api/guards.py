"""Checks every API request passes before a view parses it: size, sign-in, JSON shape, strings.

Order matters: a body over MAX_REQUEST_BYTES answers 413 unread; then a caller who is not
signed in answers 401 whatever the body holds; then malformed or too deeply nested JSON answers
400, and a NUL or lone surrogate in any string (body, query, path) 422 naming the field.
"""

from __future__ import annotations

import json
import re

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, NotFound, RequestEntityTooLarge, UnprocessableEntity

from ..auth import scope
from ..auth.current import current_actor
from ..schemas import BAD_CHARS, bad_strings

MAX_JSON_DEPTH = 64
MAX_ID = 2**31 - 1  # PostgreSQL `integer`: larger ids cannot exist
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(rb"[\[\]{}]")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _refuse(status, message: str, reason: str, errors: dict | None = None):
    error = status(description=message)
    error.data = {"message": message, "reason": reason, "errors": errors}
    return error


def too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects deeper than `limit` (strings are skipped)."""
    depth = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        depth += 1 if bracket.group() in b"[{" else -1
        if depth > limit:
            return True
    return False


def _nested(paths: list[tuple], message: str) -> dict:
    """{"customer": {"name": [message]}} for the path ("customer", "name")."""
    errors: dict = {}
    for path in paths:
        node = errors
        for part in path[:-1]:
            node = node.setdefault(_printable(part), {})
            if not isinstance(node, dict):
                break
        else:
            node[_printable(path[-1]) if path else "_schema"] = [message]
    return errors


def _printable(part) -> str | int:
    return BAD_CHARS.sub("\ufffd", part) if isinstance(part, str) else part


def _needs_body() -> bool:
    """Whether the view declares a required JSON body (flask-smorest's `arguments` doc)."""
    view = current_app.view_functions[request.endpoint]
    view = getattr(getattr(view, "view_class", None), request.method.lower(), view)
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p["in"] == "json" and p.get("required") for p in parameters)


def _check_body() -> None:
    raw = request.get_data(cache=True)
    if not raw.strip():
        if request.method in _BODY_METHODS and _needs_body():
            raise _refuse(
                UnprocessableEntity,
                "This request needs a JSON body (Content-Type: application/json).",
                "body_required",
                {"json": {"_schema": ["A JSON body is required."]}},
            )
        return
    if not request.is_json:
        return
    if too_deep(raw):
        raise _refuse(
            BadRequest, f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.", "too_deep"
        )
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise _refuse(BadRequest, "The body is not valid JSON.", "malformed_json") from None
    paths = bad_strings(body)
    if paths:
        raise _refuse(
            UnprocessableEntity,
            "Some fields are missing or invalid; see errors.",
            "invalid_characters",
            {"json": _nested(paths, "NUL characters and lone surrogates are not allowed.")},
        )


def _check_url() -> None:
    message = "NUL characters are not allowed."
    for location, values in (("query", request.args), ("path", request.view_args or {})):
        names = [
            (name,)
            for name, value in (values.items(multi=True) if location == "query" else values.items())
            if BAD_CHARS.search(name) or (isinstance(value, str) and BAD_CHARS.search(value))
        ]
        if names:
            raise _refuse(
                UnprocessableEntity,
                "Some fields are missing or invalid; see errors.",
                "invalid_characters",
                {location: _nested(names, message)},
            )
    if any(isinstance(v, int) and v > MAX_ID for v in (request.view_args or {}).values()):
        raise NotFound()


def guard_api_request() -> None:
    """before_request for /api/ paths: 413, 401, the route's role (403), 404 for impossible ids,
    then 400 and 422 for the body."""
    if not request.path.startswith("/api/"):
        return
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        raise _refuse(RequestEntityTooLarge, f"The body is larger than {limit} bytes.", "too_large")
    if request.endpoint is None:  # 404 or 405: let routing answer
        return
    if not scope.is_public(request.endpoint):
        scope.require_endpoint(current_actor(), request.endpoint, request.method)
    _check_url()
    _check_body()


def register_guards(app: Flask) -> None:
    app.before_request(guard_api_request)
