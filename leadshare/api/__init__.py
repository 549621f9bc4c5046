"""The JSON API under /api/v1 (flask-smorest), with offline Swagger UI assets."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Flask, send_from_directory

from ..auth.public import public
from ..extensions import api, csrf
from . import (
    audit,
    auth,
    brands,
    dealers,
    geocode,
    groups,
    leads,
    notifications,
    oems,
    privacy,
    retail,
    returns,
    rewards,
    sla,
    users,
    wecom,
)
from .errors import ErrorSchema, register_error_handlers
from .guards import register_guards
from .openapi import RefusalsPlugin

SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
BLUEPRINTS = (
    auth.blp,
    groups.blp,
    oems.blp,
    dealers.blp,
    users.blp,
    geocode.blp,
    leads.blp,
    rewards.blp,
    audit.blp,
    notifications.blp,
    wecom.blp,
    brands.blp,
    retail.blp,
    sla.blp,
    returns.blp,
    privacy.blp,
)


def register_api(app: Flask) -> None:
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
            "info": {"description": "Lead-sharing marketplace for car dealer groups."},
        },
    )
    api.ERROR_SCHEMA = ErrorSchema
    api.DEFAULT_ERROR_RESPONSE_NAME = None  # each operation lists its statuses instead
    api.init_app(app, spec_kwargs={"extra_plugins": [RefusalsPlugin()]})
    for blueprint in BLUEPRINTS:
        csrf.exempt(blueprint)  # the API authenticates writes by Bearer token, not cookies
        api.register_blueprint(blueprint)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api-docs."):  # the OpenAPI document and the docs page
            app.view_functions[endpoint] = public(view)
    register_error_handlers(app)
    register_guards(app)

    @app.get("/api/v1/docs/assets/<path:filename>")
    @public
    def swagger_assets(filename: str):
        """Swagger UI's files from the installed package: the docs work with no network."""
        return send_from_directory(SWAGGER_DIST, filename, max_age=86400)
