"""The acting user of a request: a Bearer token, or the web session for safe reads."""

from __future__ import annotations

from flask import abort, current_app, g, request
from flask_login import current_user

from ..errors import Unauthorized
from ..settings import current_settings
from ..vocabulary import SAFE_METHODS
from . import scope
from .models import User
from .tokens import user_from_token


def bearer_user() -> User | None:
    """The user of the request's Bearer token; a bad or expired token is a 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    settings = current_settings()
    user = user_from_token(token.strip(), settings.secret_key, settings.token_ttl_seconds)
    if user is None:
        raise Unauthorized(
            "The token is invalid or has expired; sign in again.", reason="invalid_token"
        )
    return user


def current_actor() -> User:
    """Bearer tokens work for every method; a session cookie only for reads (no CSRF on writes)."""
    if "actor" in g:
        return g.actor
    actor = bearer_user() if "Authorization" in request.headers else None
    if actor is None and request.method in SAFE_METHODS and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if actor is None:
        raise Unauthorized(
            "Sign in first: send 'Authorization: Bearer <token>'.", reason="unauthenticated"
        )
    g.actor = actor
    return actor


def guard_request():
    """Before every view: the route's rule in auth/scope.py (sign-in, then the role) is checked.

    Pages send a signed-out visitor to the sign-in page and show the 403 page to a role that may
    not open them (API routes: api/guards.py, as JSON). A route with no rule is closed.
    """
    endpoint = request.endpoint
    if endpoint is None or scope.is_public(endpoint):
        return None
    if request.path.startswith("/api/"):  # api/guards.py asks the same rule, before parsing
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    allowed = scope.roles_for(endpoint, request.method)
    if not allowed or current_user.role not in allowed:
        abort(403)
    return None
