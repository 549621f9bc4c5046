"""The OpenAPI document tells every status an operation can answer, with its reasons.

The refusals every operation of a kind shares are added here (401 and 403 unless public, 404
for a path with an id, 400, 413 and 422 for a body, 422 for query arguments); the ones
particular to an operation (409 ..., 429) are declared beside the view with `refusals`.
"""

from __future__ import annotations

from apispec import BasePlugin
from flask_smorest import Blueprint

from .errors import ErrorSchema

ERROR_REF = {"$ref": "#/components/schemas/Error"}
REQUEST_BODY_REASONS = {
    400: "The body is not JSON or nests too deep; reasons: malformed_json, too_deep.",
    413: "The body is larger than MAX_REQUEST_BYTES; reason: too_large.",
    422: "Fields are missing or invalid (see `errors`); reasons: validation_error, "
    "invalid_characters, body_required, and the operation's own.",
}
SIGNED_IN_REASONS = {
    401: "Not signed in, or the token is bad; reasons: unauthenticated, invalid_token.",
    403: "Your role may not do this; reasons: role_not_allowed, and the operation's own.",
}


def error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


class RefusalsPlugin(BasePlugin):
    """apispec plugin: the shared refusals of each operation, unless the view declared them."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            shared: dict[int, str] = {}
            if operation.get("security") != []:
                shared.update(SIGNED_IN_REASONS)
            if "{" in (path or ""):
                shared[404] = "Missing, or outside your scope; reason: not_found."
            if operation.get("requestBody"):
                shared.update(REQUEST_BODY_REASONS)
            elif any(p.get("in") == "query" for p in operation.get("parameters", [])):
                shared[422] = "Query arguments are invalid (see `errors`); reasons: "
                shared[422] += "validation_error, invalid_characters."
            for status, description in shared.items():
                if str(status) not in responses and status not in responses:
                    responses[str(status)] = error_response(description)


def refusals(blp: Blueprint, statuses: dict[int, str]):
    """Document an operation's own refusals: `@refusals(blp, {409: "reasons: already_claimed"})`."""

    def decorator(view):
        for status, description in statuses.items():
            view = blp.alt_response(status, schema=ErrorSchema, description=description)(view)
        return view

    return decorator
