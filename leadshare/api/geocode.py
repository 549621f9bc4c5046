"""Where an address lands, through the geocoding chain of SPEC section 4."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from ..auth.current import current_actor
from ..leads.schemas import CandidateSchema
from ..routing.ambiguity import address_candidates
from ..routing.geocode.service import locate
from ..schemas import QueryArgsSchema
from .openapi import refusals

blp = Blueprint("geocode", __name__, url_prefix="/api/v1/geocode", description="Geocoding")


class GeocodeArgsSchema(QueryArgsSchema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=500))


class PlaceSchema(ma.Schema):
    latitude = fields.Float()
    longitude = fields.Float()
    precision = fields.String(
        metadata={
            "description": "exact, district, city or province; ambiguous (no coordinates) when "
            "the address names a district several cities share: see candidates"
        }
    )
    province = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    district = fields.String(allow_none=True)
    adcode = fields.String(allow_none=True)
    source = fields.String()
    candidates = fields.List(fields.Nested(CandidateSchema))


@blp.route("")
class Geocode(MethodView):
    @blp.arguments(GeocodeArgsSchema, location="query")
    @blp.response(200, PlaceSchema)
    @refusals(blp, {404: "The address cannot be located; reason: not_found."})
    def get(self, args):
        """Locate an address, or list the cities an ambiguous one may mean."""
        current_actor()
        candidates = address_candidates(args["q"])
        if candidates:
            return {"precision": "ambiguous", "source": "gazetteer", "candidates": candidates}
        return locate(args["q"]).to_dict()
