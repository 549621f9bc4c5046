"""OEMs (manufacturers) and the brands whose lead flow their auditors watch."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from ..auth.current import current_actor
from ..schemas import InputSchema, PageArgsSchema, UTCDateTime, brand_list, page_of
from ..tenancy import service
from .openapi import refusals

blp = Blueprint("oems", __name__, url_prefix="/api/v1/oems", description="Manufacturers")


class OemSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    brands = fields.List(fields.String())
    created_at = UTCDateTime()


class OemCreateSchema(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    brands = brand_list(required=True)


@blp.route("")
class Oems(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_of(OemSchema))
    def get(self, args):
        """List OEMs."""
        return service.list_oems(current_actor(), args["page"], args["per_page"])

    @blp.arguments(OemCreateSchema)
    @blp.response(201, OemSchema)
    @refusals(blp, {409: "Name or brand taken; reasons: name_taken, brand_taken."})
    def post(self, data):
        """Create an OEM with its brands (platform admin)."""
        return service.create_oem(current_actor(), data)
