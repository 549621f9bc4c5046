"""Money is exact: decimal amounts parse to whole fen and format back to two places."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadshare.rewards.money import MAX_AMOUNT_MINOR, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("200.00", 20000),
        ("200", 20000),
        ("0.5", 50),
        ("0.01", 1),
        (".5", 50),
        ("5.", 500),
        (" 12.30 ", 1230),
        ("+3", 300),
        ("1.000", 100),  # trailing zeros are still whole fen
        ("1234567.89", 123456789),
        ("1000000000000", MAX_AMOUNT_MINOR),
        (200, 20000),
        (Decimal("0.05"), 5),
        (Decimal("1E+2"), 10000),
    ],
)
def test_parse_amount_gives_exact_minor_units(text: str | int | Decimal, minor: int) -> None:
    assert parse_amount(text) == minor


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-1", "negative"),
        ("-0.01", "negative"),
        (-5, "negative"),
        ("0", "zero"),
        ("0.00", "zero"),
        ("-0", "zero"),
        (0, "zero"),
        ("1.005", "2 decimal places"),
        ("0.001", "2 decimal places"),
        (Decimal("0.001"), "2 decimal places"),
        ("1.0000000000000000000000000001", "2 decimal places"),
        ("abc", "not an amount"),
        ("", "not an amount"),
        ("1e2", "not an amount"),
        ("1,000", "not an amount"),
        ("1_000", "not an amount"),
        ("¥200", "not an amount"),
        ("２００", "not an amount"),
        ("NaN", "not an amount"),
        ("Infinity", "not an amount"),
        (Decimal("NaN"), "finite"),
        (Decimal("-Infinity"), "finite"),
        (1.5, "float"),
        (200.0, "float"),
        (True, "bool"),
        (None, "NoneType"),
        ("1000000000000.01", "too large"),
        (10**13, "too large"),
    ],
)
def test_parse_amount_refuses_inexact_or_unreasonable_amounts(text: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_amount(text)  # type: ignore[arg-type]


def test_parse_amount_allows_zero_only_when_asked() -> None:
    assert parse_amount("0", allow_zero=True) == 0
    assert parse_amount("0.00", allow_zero=True) == 0
    with pytest.raises(ValueError, match="negative"):
        parse_amount("-1", allow_zero=True)


@pytest.mark.parametrize(
    ("minor", "text"),
    [
        (20000, "200.00"),
        (-50, "-0.50"),
        (0, "0.00"),
        (1, "0.01"),
        (-1, "-0.01"),
        (123456789, "1234567.89"),
        (MAX_AMOUNT_MINOR, "1000000000000.00"),
    ],
)
def test_format_amount_has_two_places_and_no_separators(minor: int, text: str) -> None:
    assert format_amount(minor) == text


@pytest.mark.parametrize("value", [1.5, Decimal("1.50"), "150", True])
def test_format_amount_takes_only_int_minor_units(value: object) -> None:
    with pytest.raises(TypeError):
        format_amount(value)  # type: ignore[arg-type]


@given(st.integers(min_value=1, max_value=MAX_AMOUNT_MINOR))
def test_format_then_parse_round_trips(minor: int) -> None:
    assert parse_amount(format_amount(minor)) == minor
