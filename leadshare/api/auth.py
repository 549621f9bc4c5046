"""Tokens: trade an email and password for an expiring Bearer token."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..auth.public import public
from ..auth.schemas import TokenRequestSchema, TokenSchema, UserSchema
from ..auth.service import authenticate
from ..auth.tokens import issue_token
from ..errors import Forbidden
from ..settings import current_settings
from .errors import ErrorSchema
from .openapi import refusals

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign in")


@blp.route("/token")
@public
class Token(MethodView):
    @blp.doc(security=[])
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    @refusals(
        blp,
        {
            401: "Wrong email or password; reason: invalid_credentials.",
            403: "The password is a temporary one an admin set: change it on the web page "
            "/account/password first; reason: password_change_required.",
        },
    )
    @blp.alt_response(
        429,
        schema=ErrorSchema,
        description=(
            "Too many failed sign-ins for this account or from this address (reason "
            "`too_many_attempts`); `Retry-After` says how many seconds to wait."
        ),
        headers={"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    )
    def post(self, args):
        """Sign in and get a Bearer token."""
        settings = current_settings()
        user = authenticate(args["email"], args["password"], request.remote_addr, settings)
        if user.must_change_password:
            raise Forbidden(
                "This is a temporary password: change it at /account/password first.",
                reason="password_change_required",
            )
        token, expires_at = issue_token(user, settings.secret_key, settings.token_ttl_seconds)
        return {"token": token, "expires_at": expires_at}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """The signed-in user."""
        return current_actor()
