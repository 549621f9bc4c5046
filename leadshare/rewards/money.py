"""Money is exact: integer minor units (fen) inside, decimal strings with two places outside."""

from __future__ import annotations

import re
from decimal import Decimal

MINOR_PER_MAJOR = 100
MAX_AMOUNT_MAJOR = 10**12
MAX_AMOUNT_MINOR = MAX_AMOUNT_MAJOR * MINOR_PER_MAJOR

_FEN = Decimal("0.01")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_amount(text: str | int | Decimal, *, allow_zero: bool = False) -> int:
    """Minor units of a decimal amount (`"200.00"` -> 20000); ValueError for anything inexact.

    Accepts a plain decimal string, an int or a Decimal, in major units (yuan). Refuses floats
    (already inexact), bools, exponents, NaN and Infinity, negative amounts, zero unless
    `allow_zero`, fractions of a fen (`"1.005"`) and amounts above 10^12.
    """
    value = _to_decimal(text)
    if not value.is_finite():
        raise ValueError(f"{text!r} is not an amount: it must be a finite number")
    if value < 0:
        raise ValueError(f"{text!r} is negative: amounts must be positive")
    if value == 0 and not allow_zero:
        raise ValueError(f"{text!r} is zero: amounts must be positive")
    if value > MAX_AMOUNT_MAJOR:
        raise ValueError(f"{text!r} is too large: at most {MAX_AMOUNT_MAJOR}")
    whole_fen = value.quantize(_FEN)
    if whole_fen != value:
        raise ValueError(f"{text!r} has more than 2 decimal places: amounts are whole fen")
    return int(whole_fen * MINOR_PER_MAJOR)


def format_amount(minor: int) -> str:
    """The decimal string of an amount in minor units, two places, no separators: `"-0.50"`."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError(f"an amount in minor units is an int, not {type(minor).__name__}")
    sign = "-" if minor < 0 else ""
    major, fraction = divmod(abs(minor), MINOR_PER_MAJOR)
    return f"{sign}{major}.{fraction:02d}"


def _to_decimal(text: str | int | Decimal) -> Decimal:
    if isinstance(text, Decimal):
        return text
    if isinstance(text, int) and not isinstance(text, bool):
        return Decimal(text)
    if isinstance(text, str):
        cleaned = text.strip()
        if not _DECIMAL_TEXT.fullmatch(cleaned):
            raise ValueError(f"{text!r} is not an amount: write it like 200.00")
        return Decimal(cleaned)
    raise ValueError(
        f"an amount is given as a decimal string, int or Decimal, not {type(text).__name__}"
    )
