"""The store import from a CSV, shared by `flask leadshare import-dealers` and the admin page.

A header row names the columns (CSV_FIELDS, any order, `code` required); each row is checked by
the API's text schema, then the good rows are created or updated by code in one unit of work
(tenancy.service.import_dealers). The report says, per line, created, updated or rejected and why.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from ..errors import Invalid
from .schemas import DealerTextSchema

CSV_FIELDS = (
    "code",
    "name",
    "brands",
    "address",
    "latitude",
    "longitude",
    "service_radius_km",
    "region_codes",
    "daily_capacity",
    "accepting_leads",
    "active",
    "webhook_url",
)
REPORT_HEADER = ("line", "code", "name", "outcome", "message")


@dataclass(frozen=True)
class ImportReport:
    """One `(line, code, name, outcome, message)` per data row of the file."""

    lines: list[tuple[int, str, str, str, str]]

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line[3] == outcome)

    @property
    def failures(self) -> list[tuple[int, str]]:
        return [
            (line, message)
            for line, _c, _n, outcome, message in self.lines
            if outcome == "rejected"
        ]


def row_payload(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row in the API's field names; lists are separated by | ; or ，."""
    payload: dict[str, Any] = {}
    for field in CSV_FIELDS:
        value = (row.get(field) or "").strip()
        if not value:
            continue
        if field in ("brands", "region_codes"):
            parts = value.replace("；", "|").replace(";", "|").replace("，", "|").split("|")
            payload[field] = [p.strip() for p in parts if p.strip()]
        else:
            payload[field] = value
    return payload


def _flatten(messages: dict, translate: Callable[[str], str] = str) -> str:
    out = []
    for field, errors in messages.items():
        items = errors if isinstance(errors, list) else [errors]
        text = "; ".join(translate(str(e)) for e in items)
        out.append(f"{field}: {text}")
    return ", ".join(out)


def read_rows(lines: Iterable[str]) -> list[dict[str, str]]:
    """The file's data rows by column name; Invalid (`bad_header`) when `code` is not a column."""
    rows = list(csv.DictReader(lines))
    if rows and "code" not in rows[0]:
        raise Invalid(
            "file",
            f"The header must name the columns: {', '.join(CSV_FIELDS)}.",
            reason="bad_header",
        )
    return rows


def import_rows(
    group_code: str,
    rows: list[dict[str, str]],
    progress: Callable[[list], Any] | None = None,
    translate: Callable[[str], str] = str,
) -> ImportReport:
    """Check every row, import the good ones into the group; NotFound for an unknown group.
    `progress(items)` may wrap the rows being written (the CLI's progress bar); `translate`
    puts the schema's messages in the reader's language (a page's)."""
    from .service import import_dealers

    schema = DealerTextSchema()
    results: dict[int, tuple[str, str]] = {}
    loaded: list[tuple[int, dict[str, Any]]] = []
    for line, row in enumerate(rows, start=2):
        try:
            loaded.append((line, schema.load(row_payload(row))))
        except ValidationError as exc:
            results[line] = ("rejected", _flatten(exc.messages, translate))
    if progress is None:
        results.update(import_dealers(group_code, loaded))
    else:
        with progress(loaded) as bar:
            results.update(import_dealers(group_code, bar))
    return ImportReport(
        [
            (line, row.get("code") or "", row.get("name") or "", *results[line])
            for line, row in enumerate(rows, start=2)
        ]
    )
