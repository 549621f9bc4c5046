"""The JSON error shape of SPEC 8, for every surface that answers JSON (API, healthz, 503s)."""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

REASONS = {
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


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_body(code: int, message: str, reason: str | None = None, **extra) -> dict:
    body = {
        "code": code,
        "status": HTTP_STATUS_CODES.get(code, "Error"),
        "message": message,
        "reason": reason or REASONS.get(code, "error"),
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


def handle_http_exception(error: HTTPException):
    """An HTTP error on a JSON path as the error shape; other paths keep the error as it is."""
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
