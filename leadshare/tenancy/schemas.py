"""Tenancy schemas: groups, OEMs and dealers as the API and the pages read and write them."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

import marshmallow as ma
from flask import g
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from ..auth.scope import is_group_admin_of
from ..hours.schemas import OpeningHoursSchema
from ..notify.formats import is_wecom_robot
from ..notify.urls import UnsafeUrl, check_url
from ..schemas import InputSchema, PageArgsSchema, UTCDateTime, brand_list
from ..settings import current_settings

CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$", error="Use 1-50 letters, digits, - or _."
)


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _timezone(value: str) -> bool:
    if value not in _timezones():
        raise ma.ValidationError("Unknown time zone; use an IANA name like Asia/Shanghai.")
    return True


class GroupSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    code = fields.String()
    timezone = fields.String()
    offer_ttl_minutes = fields.Integer()
    max_offers_per_lead = fields.Integer()
    dedup_window_days = fields.Integer()
    currency = fields.String()
    opening_hours = fields.Nested(OpeningHoursSchema, allow_none=True)
    contact_sla_minutes = fields.Integer()
    skip_closed_over_hours = fields.Integer(allow_none=True)
    release_on_missed_contact = fields.Boolean()
    visit_sla_days = fields.Integer(allow_none=True)
    sla_remind_at = fields.Float()
    return_window_days = fields.Integer()
    dispute_window_hours = fields.Integer()
    max_return_rate = fields.Float()
    retail_match_days = fields.Integer()
    created_at = UTCDateTime()
    retention_days = fields.Integer()
    contact_views_alert_per_day = fields.Integer()
    consent_required = fields.Boolean()
    admin_robot_url = fields.Function(
        lambda group: _admin_robot_url(group),
        metadata={"description": "shown to the group's admins only (the URL carries its key)"},
    )


def _admin_robot_url(group) -> str | None:
    actor = g.get("actor")
    return group.admin_robot_url if actor and is_group_admin_of(actor, group.id) else None


def safe_webhook_url(value: str | None) -> None:
    """No loopback or private hosts unless ALLOW_PRIVATE_WEBHOOKS (see notify/urls.py)."""
    if value is not None:
        try:
            check_url(value, allow_private=current_settings().notify.allow_private)
        except UnsafeUrl as exc:
            raise ValidationError(str(exc)) from exc


class GroupWriteSchema(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(required=True, validate=CODE)
    timezone = fields.String(validate=_timezone)
    offer_ttl_minutes = fields.Integer(validate=validate.Range(min=1, max=7 * 24 * 60))
    max_offers_per_lead = fields.Integer(validate=validate.Range(min=1, max=50))
    dedup_window_days = fields.Integer(validate=validate.Range(min=0, max=3650))
    currency = fields.String(
        validate=validate.Regexp(r"^[A-Z]{3}$", error="Use an ISO 4217 code like CNY.")
    )
    opening_hours = fields.Nested(
        OpeningHoursSchema,
        allow_none=True,
        metadata={"description": "the group's default hours; null: open around the clock"},
    )
    contact_sla_minutes = fields.Integer(validate=validate.Range(min=1, max=7 * 24 * 60))
    skip_closed_over_hours = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=366 * 24),
        metadata={"description": "skip stores closed longer than this from the offer; null: never"},
    )
    release_on_missed_contact = fields.Boolean()
    visit_sla_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=365))
    sla_remind_at = fields.Float(validate=validate.Range(min=0, max=1))
    return_window_days = fields.Integer(
        validate=validate.Range(min=0, max=365),
        metadata={"description": "days after acceptance the holder may return a lead; 0: never"},
    )
    dispute_window_hours = fields.Integer(
        validate=validate.Range(min=1, max=30 * 24),
        metadata={"description": "wall-clock hours the referrer has to contest a return"},
    )
    max_return_rate = fields.Float(
        validate=validate.Range(min=0, max=1),
        metadata={
            "description": "share of a store's accepted leads (90 days, from 10 on) above which"
            " each of its returns waits for a group admin"
        },
    )
    retail_match_days = fields.Integer(
        validate=validate.Range(min=0, max=365),
        metadata={
            "description": "days between a delivery and the OEM's retail date that still"
            " confirm it (30)"
        },
    )
    retention_days = fields.Integer(
        validate=validate.Range(min=1, max=3650),
        metadata={"description": "days personal data is kept after a lead's last event at rest"},
    )
    contact_views_alert_per_day = fields.Integer(
        validate=validate.Range(min=0, max=100000),
        metadata={"description": "alert when a user opens more contacts of other stores' leads"},
    )
    consent_required = fields.Boolean(
        metadata={"description": "the intake must carry consent.text_version and consent.channel"}
    )
    admin_robot_url = fields.URL(
        allow_none=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=1000),
        metadata={
            "description": "a WeCom group robot (…/cgi-bin/webhook/send?key=…) the group's admins"
            " are told through, beside their notices page; null: none"
        },
    )

    @validates("admin_robot_url")
    def admin_robot_url_is_a_safe_robot(self, value, **kwargs):
        """A WeCom group robot's URL, checked like a store's webhook URL."""
        if value is not None and not is_wecom_robot(value):
            raise ValidationError("Give a WeCom group robot URL (…/cgi-bin/webhook/send?key=…).")
        safe_webhook_url(value)


class OemSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    brands = fields.List(fields.String())
    created_at = UTCDateTime()


class OemCreateSchema(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    brands = brand_list(required=True)


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
        safe_webhook_url(value)

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
