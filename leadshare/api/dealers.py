"""Dealers (stores): where they are, what they sell, whether they take leads."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from ..auth.current import current_actor
from ..auth.scope import is_group_admin_of
from ..notify.urls import UnsafeUrl, check_url
from ..schemas import InputSchema, PageArgsSchema, UTCDateTime, brand_list, page_of
from ..tenancy import service
from .common import filtered_page
from .openapi import refusals

blp = Blueprint("dealers", __name__, url_prefix="/api/v1/dealers", description="Dealers")

REGION_CODE = validate.Regexp(r"^\d{2,12}$", error="Use an administrative code of 2-12 digits.")


def _webhook_url(dealer) -> str | None:
    """A WeCom robot URL carries its key: only the group's admins see it."""
    actor = g.get("actor")
    return dealer.webhook_url if actor and is_group_admin_of(actor, dealer.group_id) else None


class DealerSchema(ma.Schema):
    id = fields.Integer()
    group_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    brands = fields.List(fields.String())
    address = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    geo_precision = fields.String(allow_none=True)
    adcode = fields.String(allow_none=True)
    service_radius_km = fields.Float()
    region_codes = fields.List(fields.String())
    daily_capacity = fields.Integer(allow_none=True)
    accepting_leads = fields.Boolean(attribute="is_accepting")
    active = fields.Boolean(attribute="is_active")
    webhook_url = fields.Function(_webhook_url)
    created_at = UTCDateTime()


class DealerWriteSchema(InputSchema):
    group_id = fields.Integer()
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$", error="Use 1-50 letters, digits, '.', '-' or '_'."
        ),
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    brands = brand_list(required=True)
    address = fields.String(validate=validate.Length(min=1, max=500))
    latitude = fields.Float(validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(validate=validate.Range(min=-180, max=180))
    service_radius_km = fields.Float(validate=validate.Range(min=0.1, max=2000))
    region_codes = fields.List(
        fields.String(validate=REGION_CODE), validate=validate.Length(max=200)
    )
    daily_capacity = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100000))
    is_accepting = fields.Boolean(data_key="accepting_leads")
    is_active = fields.Boolean(data_key="active")
    webhook_url = fields.URL(
        allow_none=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=1000),
    )

    @validates("webhook_url")
    def webhook_url_is_safe(self, value, **kwargs):
        """No loopback or private hosts unless ALLOW_PRIVATE_WEBHOOKS (see notify/urls.py)."""
        if value is not None:
            try:
                check_url(value, allow_private=current_app.config["ALLOW_PRIVATE_WEBHOOKS"])
            except UnsafeUrl as exc:
                raise ValidationError(str(exc)) from exc

    @validates_schema
    def coordinates_come_in_pairs(self, data, partial=None, **kwargs):
        if ("latitude" in data) != ("longitude" in data):
            raise ValidationError("Give latitude and longitude together.", "latitude")
        if not partial and "latitude" not in data and not data.get("address"):
            raise ValidationError("Give an address, or latitude and longitude.", "address")


class DealerTextSchema(DealerWriteSchema):
    """A dealer from text (a CSV row): numbers as digits, booleans as true or false."""

    from_query = True


class DealerQueryArgsSchema(PageArgsSchema):
    group_id = fields.Integer()
    brand = fields.String()
    active = fields.Boolean()
    accepting_leads = fields.Boolean()
    q = fields.String(validate=validate.Length(max=100))


@blp.route("")
class Dealers(MethodView):
    @blp.arguments(DealerQueryArgsSchema, location="query")
    @blp.response(200, page_of(DealerSchema))
    def get(self, args):
        """List the dealers of your group."""
        return filtered_page(service.list_dealers, args)

    @blp.arguments(DealerWriteSchema)
    @blp.response(201, DealerSchema)
    @refusals(blp, {409: "The group has a dealer with this code; reason: code_taken."})
    def post(self, data):
        """Create a dealer (group admin); the address is geocoded when no coordinates are given."""
        return service.create_dealer(current_actor(), data)


@blp.route("/<int:dealer_id>")
class DealerById(MethodView):
    @blp.response(200, DealerSchema)
    def get(self, dealer_id):
        """One dealer."""
        return service.get_dealer(current_actor(), dealer_id)

    @blp.arguments(DealerWriteSchema(partial=True))
    @blp.response(200, DealerSchema)
    @refusals(
        blp,
        {
            403: "reasons: role_not_allowed, field_not_allowed.",
            409: "The group has a dealer with this code; reason: code_taken.",
        },
    )
    def patch(self, data, dealer_id):
        """Change a dealer (group admin; its manager: operating settings only)."""
        return service.update_dealer(current_actor(), dealer_id, data)
