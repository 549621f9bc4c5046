"""The catalogue as the API shows it, and the alias a group admin adds."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..schemas import InputSchema, QueryArgsSchema


class BrandSchema(ma.Schema):
    name = fields.String(metadata={"description": "the catalogue name leads are stored under"})
    aliases = fields.List(
        fields.String(), metadata={"description": "built-in aliases, then the group's own"}
    )


class BrandListSchema(ma.Schema):
    items = fields.List(fields.Nested(BrandSchema))


class BrandArgsSchema(QueryArgsSchema):
    group_id = fields.Integer(
        metadata={"description": "the group (platform admins; members read their own)"}
    )


class AliasSchema(InputSchema):
    alias = fields.String(required=True, validate=validate.Length(min=1, max=100))
