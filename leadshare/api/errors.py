"""One place that turns domain errors and HTTP errors into the JSON error shape of SPEC 8."""

from __future__ import annotations

import logging
import traceback

import marshmallow as ma
from flask import Flask, jsonify, request
from marshmallow import fields
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from ..errors import DomainError, Invalid
from ..extensions import db
from ..leads.states import InvalidTransition

log = logging.getLogger(__name__)

_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
}


MAX_LISTED_ERRORS = 20  # an error answer names at most this many fields per level
MAX_KEY_CHARS = 100


class ErrorSchema(ma.Schema):
    """Every error answer; some refusals add fields of their own (`duplicate_of`, `balance`)."""

    class Meta:
        unknown = ma.INCLUDE

    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String(required=True)
    reason = fields.String(required=True)
    errors = fields.Dict(metadata={"description": "offending fields by location (422)"})


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_body(code: int, message: str, reason: str | None = None, **extra) -> dict:
    body = {
        "code": code,
        "status": HTTP_STATUS_CODES.get(code, "Error"),
        "message": message,
        "reason": reason or _REASONS.get(code, "error"),
    }
    body.update(extra)
    return body


def bounded(errors):
    """The first MAX_LISTED_ERRORS entries at each level: a huge bad body gets a short answer."""
    if isinstance(errors, dict):
        items = list(errors.items())[:MAX_LISTED_ERRORS]
        return {str(key)[:MAX_KEY_CHARS]: bounded(value) for key, value in items}
    if isinstance(errors, list | tuple):
        return [bounded(value) for value in errors[:MAX_LISTED_ERRORS]]
    return errors


def handle_domain_error(error: DomainError):
    db.session.rollback()
    extra = dict(error.extra)
    if isinstance(error, Invalid):
        extra["errors"] = {"json": {error.field: [error.message]}}
    body = error_body(error.status, error.message, error.reason, **extra)
    return jsonify(body), error.status, error.headers


def handle_invalid_transition(error: InvalidTransition):
    db.session.rollback()
    message = f"A lead that is {error.current} cannot move to {error.target}."
    return jsonify(error_body(409, message, error.reason)), 409


def handle_http_exception(error: HTTPException):
    if not wants_json():
        return error
    data = getattr(error, "data", None) or {}
    message = data.get("message") or error.description or error.name
    extra = {}
    errors = data.get("errors") or data.get("messages")
    if errors:
        extra["errors"] = bounded(errors)
        if error.code == 422:
            message = "Some fields are missing or invalid; see errors."
    body = error_body(error.code or 500, message, data.get("reason"), **extra)
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    headers.extend((data.get("headers") or {}).items())
    return jsonify(body), error.code, headers


def log_unexpected(error: Exception) -> None:
    """Log a bug with its traceback; a database error without the values of its row.

    The engine hides bound parameters (`hide_parameters`), but PostgreSQL's own DETAIL
    ("Failing row contains (...)") would still carry a customer's phone: log the primary
    message and the statement only.
    """
    if not isinstance(error, DBAPIError):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return
    diag = getattr(error.orig, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(error.orig).split("\n")[0]
    log.error(
        "unhandled %s on %s %s: %s [SQL: %s]\n%s",
        type(error.orig).__name__,
        request.method,
        request.path,
        primary,
        error.statement,
        "".join(traceback.format_tb(error.__traceback__)),
    )


def handle_unexpected(error: Exception):
    """Log the bug, roll back, and answer a JSON 500 that leaks nothing."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log_unexpected(error)
    db.session.rollback()
    if not wants_json():
        return InternalServerError()
    body = error_body(500, "Something went wrong on our side; it has been logged.")
    return jsonify(body), 500


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(InvalidTransition, handle_invalid_transition)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
