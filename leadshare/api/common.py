"""Pieces shared by every resource: pagination, the list envelope, times and CSV answers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC
from functools import cache
from typing import Any

import marshmallow as ma
from flask import Response
from marshmallow import fields, validate

from ..auth.current import current_actor


class PageArgsSchema(ma.Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


def filtered_page(list_rows: Callable[..., Any], args: dict[str, Any]) -> Any:
    """Call a `list_*(actor, filters, page, per_page)` service; the other arguments filter."""
    page, per_page = args.pop("page"), args.pop("per_page")
    return list_rows(current_actor(), args, page, per_page)


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


class UTCDateTime(fields.DateTime):
    """Times are stored as naive UTC; the API writes them with their offset and reads any offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment


def format_arg() -> fields.String:
    """`format=json` (the default) or `format=csv`."""
    return fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


def csv_attachment(body: str | Iterable[str], filename: str) -> Response:
    """A CSV body (text or chunks, its BOM included) sent as a file to save."""
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
