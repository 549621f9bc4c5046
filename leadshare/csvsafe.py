"""Every CSV the service writes, made for Excel: UTF-8 with a BOM, CRLF rows, a header row, and
text that starts like a formula made inert.

Without the BOM Excel reads UTF-8 as the local code page and Chinese turns to mojibake. Text that
starts with =, +, -, @, a tab or a carriage return is prefixed with an apostrophe, so a memo, a
program or store name or a lost reason typed by someone cannot run as a formula (or a
=HYPERLINK) on the reader's machine (CSV injection). Numbers (int, float, Decimal) stay numbers,
and a column of amounts the service formats itself (`-20.00`) is written as it is: Excel reads
it as a number, not a formula. Only text goes through `cell`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FLUSH_CHARS = 64 * 1024

Table = tuple[Sequence[str], Iterable[Sequence[Any]]]
"""A header and its rows of cells (see `cell`), ready for csv_chunks."""


def cell(value: Any) -> Any:
    """One value as Excel should read it: numbers as they are, empty for None, times as
    'YYYY-MM-DD HH:MM:SS', formula-like text prefixed with an apostrophe."""
    if type(value) is int or type(value) is float:  # most cells: numbers, as they are
        return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cells(values: Iterable[Any]) -> list[Any]:
    return list(map(cell, values))


def csv_chunks(table: Table) -> Iterator[str]:
    """The table as CSV text in chunks of about 64 KB, the BOM first (rows may be streamed).

    Rows are written as they come: each table makes its own cells, so a matrix of numbers does
    not pay for a formula check on every figure.
    """
    header, rows = table
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= FLUSH_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_text(table: Table) -> str:
    """The whole table as one CSV text, BOM first."""
    return "".join(csv_chunks(table))


def zoned(moment: datetime | None, zone: str) -> str:
    """A stored (naive UTC) time in the time zone `zone` with its offset written, as Excel and
    people read it: `2026-12-04 19:30:00+08:00`; empty for None."""
    if moment is None:
        return ""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(ZoneInfo(zone)).replace(microsecond=0).isoformat(sep=" ")
