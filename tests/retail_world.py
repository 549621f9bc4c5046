"""OEM retail reports for tests: valid VINs, a report's CSV bytes, an OEM knowing the stores."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from leadshare.leads.vin import CHECK_DIGIT_INDEX, check_digit

HEADER = ("vin", "dealer_code", "retail_date")


def vin(n: int) -> str:
    """A valid VIN numbered n (its check digit computed)."""
    body = f"LSVAU2A30N2{n:06d}"
    return body[:CHECK_DIGIT_INDEX] + check_digit(body) + body[CHECK_DIGIT_INDEX + 1 :]


def report_csv(rows: Iterable[tuple[str, str, date | str]], header=HEADER) -> bytes:
    """A retail report's bytes: a header row, then one line per (VIN, dealer code, date)."""
    lines = [",".join(header)]
    lines += [f"{v},{code},{when}" for v, code, when in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")
