"""Retail schemas: a store's OEM dealer codes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from ..schemas import InputSchema


class OemCodeSchema(ma.Schema):
    oem_id = fields.Integer(required=True)
    oem = fields.Function(lambda row: row.oem.name, dump_only=True)
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[0-9A-Za-z._-]{1,50}$", error="Use 1-50 letters, digits, . _ -"
        ),
    )


class OemCodeInSchema(OemCodeSchema, InputSchema):
    pass


class OemCodesSchema(ma.Schema):
    dealer_id = fields.Integer()
    codes = fields.List(fields.Nested(OemCodeSchema))


class OemCodesInSchema(InputSchema):
    codes = fields.List(
        fields.Nested(OemCodeInSchema), required=True, validate=validate.Length(max=50)
    )

    @validates_schema
    def one_code_per_oem(self, data, **kwargs):
        oems = [row["oem_id"] for row in data.get("codes", [])]
        if len(oems) != len(set(oems)):
            raise ValidationError("A store has one code per OEM.", "codes")
