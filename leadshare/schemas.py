"""Schema pieces every domain's schemas share: strict input, pages, times, dates, brand lists.

Each domain keeps its own schemas beside it (`leads/schemas.py`, ...); the API and the pages
import them from there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from .clock import as_aware_utc, to_utc

MAX_INT = 2**31 - 1  # PostgreSQL `integer`: ids and counts beyond it cannot be stored
MAX_PAGE = 100_000
EARLIEST, LATEST = date(1900, 1, 1), date(9000, 12, 31)  # dates whose arithmetic cannot overflow


BAD_CHARS = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates: no database stores them


def bad_strings(value: Any, path: tuple = ()) -> list[tuple]:
    """Paths of the strings (keys included) in a JSON value holding a NUL or a lone surrogate."""
    if isinstance(value, str):
        return [path] if BAD_CHARS.search(value) else []
    found: list[tuple] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += [path + (key,)] if BAD_CHARS.search(key) else bad_strings(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += bad_strings(item, path + (index,))
    return found


def _with_inner(field: fields.Field) -> Iterable[fields.Field]:
    yield field
    inner = getattr(field, "inner", None)
    if inner is not None:
        yield from _with_inner(inner)


class InputSchema(ma.Schema):
    """Every schema that reads input: integers strict and bounded, booleans strict, clean strings.

    A JSON body's integers must be integers (5.9 is refused, not cut to 5) within PostgreSQL's
    `integer`, and its booleans true or false (not 0 or 1); query arguments (`from_query`) are
    text, so there integers are digits and booleans `true` or `false`.
    """

    from_query = False

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        for field in _with_inner(field_obj):
            if isinstance(field, fields.Integer):
                field.strict = not self.from_query
                if not any(isinstance(v, validate.Range) for v in field.validators):
                    field.validators.append(validate.Range(min=-MAX_INT - 1, max=MAX_INT))

    @ma.pre_load
    def strict_values(self, data, **kwargs):
        """Booleans are true or false; no string holds a NUL or a lone surrogate (web forms too)."""
        if not isinstance(data, Mapping):
            return data
        wrong = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            if key in data and bad_strings(data[key]):
                wrong[key] = ["NUL characters and lone surrogates are not allowed."]
            if not isinstance(field, fields.Boolean) or key not in data:
                continue
            value = data[key]
            if self.from_query:
                valid = value in ("true", "false")
            else:
                valid = isinstance(value, bool) or (value is None and field.allow_none)
            if not valid:
                wrong[key] = ["Not a valid boolean: use true or false."]
        if wrong:
            raise ma.ValidationError(wrong)
        return data


class QueryArgsSchema(InputSchema):
    from_query = True


class PageArgsSchema(QueryArgsSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
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


class UTCDateTime(fields.DateTime):
    """Times are stored as naive UTC; the API writes them with their offset and reads any offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(
            None if value is None else as_aware_utc(value), attr, obj, **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST <= moment.date() <= LATEST:
            raise ma.ValidationError(f"Use a time between {EARLIEST} and {LATEST}.")
        return to_utc(moment)


class Date(fields.Date):
    """A calendar day between EARLIEST and LATEST, so adding days to it cannot overflow."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST <= day <= LATEST:
            raise ma.ValidationError(f"Use a date between {EARLIEST} and {LATEST}.")
        return day


def format_arg() -> fields.String:
    """`format=json` (the default) or `format=csv`."""
    return fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


def lang_arg() -> fields.String:
    """`lang=en` (the default: stable English CSV headers) or `lang=zh` (Chinese headers)."""
    return fields.String(
        load_default="en",
        validate=validate.OneOf(("en", "zh")),
        metadata={"description": "CSV header language: `en` (stable keys) or `zh`"},
    )
