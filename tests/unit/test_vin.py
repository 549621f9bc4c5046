"""VIN validation: length, forbidden letters and the ISO 3779 check digit."""

from __future__ import annotations

import pytest

from leadshare.leads.vin import check_digit, is_valid_vin, normalize_vin, vin_error


@pytest.mark.parametrize(
    "vin",
    [
        "1M8GDM9AXKP042788",  # the textbook example; remainder 10 gives check digit X
        "11111111111111111",
        "1HGCM82633A004352",
        "LSVAU2A31N2123456",  # SAIC-Volkswagen WMI; check digit 1 worked by hand
        "LFV2A21K8P4012345",  # FAW-Volkswagen
        "LVSHFFAL9HS123456",  # Changan Ford
    ],
)
def test_valid_vins(vin: str) -> None:
    assert is_valid_vin(vin)
    assert vin_error(vin) is None


def test_lower_case_and_blanks_are_normalised() -> None:
    assert normalize_vin("  1m8gdm9axkp042788\n") == "1M8GDM9AXKP042788"
    assert is_valid_vin(" 1m8gdm9axkp042788 ")


@pytest.mark.parametrize(
    ("vin", "fragment"),
    [
        ("", "has 0"),
        ("1M8GDM9AXKP04278", "has 16"),
        ("1M8GDM9AXKP0427881", "has 18"),
        ("1M8GDM9AXKP04 788", "not ' '"),
        ("1M8GDM9AXKP0-2788", "not '-'"),
        ("IM8GDM9AXKP042788", "letter I (position 1)"),
        ("1M8GDM9AXKO042788", "letter O (position 11)"),
        ("1M8GDM9AXKP04278Q", "letter Q (position 17)"),
        ("1M8GDM9A1KP042788", "is 1, it should be X"),
        ("1M8GDM9AXKP042789", "it should be"),
        ("11111111111111112", "it should be"),
        ("WP0ZZZ99ZTS392124", "is Z, it should be 8"),  # European VINs carry no check digit
        ("LSVAU2A30N2123456", "is 0, it should be 1"),
    ],
)
def test_invalid_vins_say_why(vin: str, fragment: str) -> None:
    error = vin_error(vin)
    assert error is not None
    assert fragment in error
    assert not is_valid_vin(vin)


def test_check_digit_is_weighted_sum_mod_11() -> None:
    assert check_digit("1M8GDM9A0KP042788") == "X"
    assert check_digit("11111111111111111") == "1"
    assert check_digit("LSVAU2A30N2123456") == "1"


def test_changing_any_weighted_character_invalidates_a_vin() -> None:
    vin = "11111111111111111"
    for position in range(17):
        if position == 8:
            continue
        altered = vin[:position] + "2" + vin[position + 1 :]
        assert not is_valid_vin(altered), altered
