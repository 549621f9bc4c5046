"""The API's one mapping of domain errors and HTTP errors to the JSON error shape of SPEC 8."""

from __future__ import annotations

import logging
import traceback

import marshmallow as ma
from flask import Flask, jsonify, request
from marshmallow import fields
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..errors import DomainError, Invalid
from ..json_errors import error_body, handle_http_exception, wants_json

log = logging.getLogger(__name__)


class ErrorSchema(ma.Schema):
    """Every error answer; some refusals add fields of their own (`duplicate_of`, `balance`)."""

    class Meta:
        unknown = ma.INCLUDE

    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String(required=True)
    reason = fields.String(required=True)
    errors = fields.Dict(metadata={"description": "offending fields by location (422)"})


def handle_domain_error(error: DomainError):
    """The one mapping of a domain refusal to HTTP on the API: its status, reason and extras.

    Nothing to undo here: the refused service's unit of work has rolled back, and the session
    of the request is removed (rolled back) when the request ends.
    """
    extra = dict(error.extra)
    if isinstance(error, Invalid):
        extra["errors"] = {"json": {error.field: [error.message]}}
    body = error_body(error.status, error.message, error.reason, **extra)
    return jsonify(body), error.status, error.headers


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
    """Log the bug and answer a JSON 500 that leaks nothing (the request's session is removed,
    so whatever the failed request left open is rolled back)."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log_unexpected(error)
    if not wants_json():
        return InternalServerError()
    body = error_body(500, "Something went wrong on our side; it has been logged.")
    return jsonify(body), 500


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
