"""Answers both surfaces send the same way: a CSV file to save."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response


def csv_attachment(body: str | Iterable[str], filename: str) -> Response:
    """A CSV body (text or chunks, its BOM included) sent as a file to save."""
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
