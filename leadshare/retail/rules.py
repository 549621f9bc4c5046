"""Reading an OEM's retail report and matching it to deliveries: pure rules, no database.

A report is a CSV with a header row naming the VIN, the OEM's dealer code and the retail date
(English or Chinese column names). Each line is checked on its own: a row is `good`, `bad` with
a reason, or a `duplicate` of an earlier good row with the same VIN (the first one counts).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from ..leads.vin import normalize_vin, vin_error
from .enums import RowProblem, RowStatus

COLUMNS: dict[str, tuple[str, ...]] = {
    "vin": ("vin", "车架号", "车辆识别代号"),
    "dealer_code": ("dealer_code", "经销商代码", "经销商编码"),
    "retail_date": ("retail_date", "零售日期", "销售日期"),
}
"""Each column and the header names that may stand for it (compared case-folded)."""
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d")
MAX_CELL = 40
"""Longer cells are cut to this for the per-row report (a VIN has 17 characters)."""


class BadReport(ValueError):
    """The file as a whole cannot be read: `reason` is not_utf8, bad_header or no_rows."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ReportRow:
    """One line as read: the row number is the file's line (the header is line 1)."""

    row_number: int
    vin: str
    dealer_code: str
    retail_date: date | None
    status: RowStatus
    reason: RowProblem | None = None
    detail: str | None = None


def content_hash(content: bytes) -> str:
    """What makes two uploads the same report: the SHA-256 of their bytes."""
    return hashlib.sha256(content).hexdigest()


def decode(content: bytes) -> str:
    """The file's text: UTF-8 (with or without a BOM), else GB18030, as Excel saves it in China."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadReport("not_utf8", "The file is neither UTF-8 nor GB18030 text.")


def _header(names: Iterable[str]) -> dict[str, int]:
    wanted = {alias.casefold(): column for column, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for position, name in enumerate(names):
        column = wanted.get(name.strip().casefold())
        if column and column not in found:
            found[column] = position
    if set(found) != set(COLUMNS):
        raise BadReport(
            "bad_header", "The first row must name the columns vin, dealer_code and retail_date."
        )
    return found


def parse_date(text: str) -> date | None:
    """A retail date in one of DATE_FORMATS, or None."""
    try:
        return date.fromisoformat(text)  # the usual 2026-12-01 (and 20261201), fast
    except ValueError:
        pass
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def read_report(text: str, known_codes: Mapping[str, int], today: date) -> list[ReportRow]:
    """Every data line of the report, checked: VIN (leads/vin.py), date (not after `today`),
    dealer code (one of `known_codes`), and repeats of a VIN already counted."""
    lines = csv.reader(io.StringIO(text, newline=""))
    header = next(lines, None)
    if header is None:
        raise BadReport("no_rows", "The file is empty.")
    columns = _header(header)
    rows: list[ReportRow] = []
    first_row_of: dict[str, int] = {}
    for row_number, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        value = {
            column: (cells[i].strip() if i < len(cells) else "")[:MAX_CELL]
            for column, i in columns.items()
        }
        rows.append(_check(row_number, value, known_codes, today, first_row_of))
    if not rows:
        raise BadReport("no_rows", "The file has a header but no rows.")
    return rows


def _check(
    row_number: int,
    value: Mapping[str, str],
    known_codes: Mapping[str, int],
    today: date,
    first_row_of: dict[str, int],
) -> ReportRow:
    vin, code, when = normalize_vin(value["vin"]), value["dealer_code"], value["retail_date"]

    def bad(reason: RowProblem, detail: str, retail_date: date | None = None) -> ReportRow:
        return ReportRow(row_number, vin, code, retail_date, RowStatus.BAD, reason, detail)

    missing = [column for column in COLUMNS if not value[column]]
    if missing:
        return bad(RowProblem.MISSING_FIELD, f"empty: {', '.join(missing)}")
    problem = vin_error(vin)
    if problem:
        return bad(RowProblem.INVALID_VIN, problem)
    retail_date = parse_date(when)
    if retail_date is None:
        return bad(RowProblem.INVALID_DATE, f"{when!r} is not a date like 2026-12-01")
    if retail_date > today:
        return bad(RowProblem.INVALID_DATE, f"{retail_date} is in the future", retail_date)
    if code not in known_codes:
        return bad(RowProblem.UNKNOWN_DEALER_CODE, f"no store has the code {code!r}", retail_date)
    if vin in first_row_of:
        return ReportRow(
            row_number,
            vin,
            code,
            retail_date,
            RowStatus.DUPLICATE,
            RowProblem.DUPLICATE_VIN,
            f"the VIN was already on row {first_row_of[vin]}",
        )
    first_row_of[vin] = row_number
    return ReportRow(row_number, vin, code, retail_date, RowStatus.GOOD)


def within_match_window(delivered_on: date, retail_date: date, match_days: int) -> bool:
    """A retail date confirms a delivery when it is at most `match_days` days before or after
    the day of the delivery (the group's local day)."""
    return abs((retail_date - delivered_on).days) <= match_days
