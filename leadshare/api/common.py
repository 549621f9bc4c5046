"""Schemas shared by every resource: pagination and the list envelope."""

from __future__ import annotations

from functools import cache

import marshmallow as ma
from marshmallow import fields, validate


class PageArgsSchema(ma.Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


@cache
def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The `{items, page, per_page, total}` envelope around one item schema."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(
        name,
        (ma.Schema,),
        {
            "items": fields.List(fields.Nested(item_schema)),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
            "total": fields.Integer(),
        },
    )


def brand_list(**kwargs) -> fields.List:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        validate=validate.Length(min=1, max=50),
        **kwargs,
    )
