"""Tokens: trade an email and password for an expiring Bearer token."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from ..auth.current import current_actor
from ..auth.public import public
from ..auth.service import authenticate
from ..auth.tokens import issue_token
from ..schemas import InputSchema, UTCDateTime
from .errors import ErrorSchema
from .openapi import refusals
from .users import UserSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign in")


class TokenRequestSchema(InputSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class TokenSchema(ma.Schema):
    token = fields.String()
    expires_at = UTCDateTime()


@blp.route("/token")
@public
class Token(MethodView):
    @blp.doc(security=[])
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    @refusals(blp, {401: "Wrong email or password; reason: invalid_credentials."})
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
        user = authenticate(args["email"], args["password"], request.remote_addr)
        token, expires_at = issue_token(
            user, current_app.config["SECRET_KEY"], current_app.config["TOKEN_TTL_SECONDS"]
        )
        return {"token": token, "expires_at": expires_at}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """The signed-in user."""
        return current_actor()
