"""What only the API's resources share: calling a list service for a page, and CSV answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..auth.current import current_actor


def filtered_page(list_rows: Callable[..., Any], args: dict[str, Any]) -> Any:
    """Call a `list_*(actor, filters, page, per_page)` service; the other arguments filter."""
    page, per_page = args.pop("page"), args.pop("per_page")
    return list_rows(current_actor(), args, page, per_page)


CSV_DOC = {
    "content_type": "text/csv",
    "schema": {"type": "string", "description": "UTF-8 CSV with a BOM and a header row"},
    "description": "JSON, or with format=csv a CSV attachment.",
}
