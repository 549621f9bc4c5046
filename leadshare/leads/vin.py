"""Vehicle identification numbers: 17 characters, no I/O/Q, ISO 3779 check digit at position 9."""

from __future__ import annotations

VIN_LENGTH = 17
CHECK_DIGIT_INDEX = 8
FORBIDDEN_LETTERS = frozenset("IOQ")

_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VALUES: dict[str, int] = {
    **{str(digit): digit for digit in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}


def normalize_vin(vin: str) -> str:
    """The canonical form of a VIN: surrounding blanks removed, upper case."""
    return vin.strip().upper()


def check_digit(vin: str) -> str:
    """The check character ('0'-'9' or 'X') a 17-character VIN of allowed characters must carry."""
    total = sum(_VALUES[char] * weight for char, weight in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_error(vin: str) -> str | None:
    """Why a VIN is not valid (length, forbidden or unknown character, check digit), or None."""
    vin = normalize_vin(vin)
    if len(vin) != VIN_LENGTH:
        return f"a VIN has {VIN_LENGTH} characters, this one has {len(vin)}"
    for position, char in enumerate(vin, start=1):
        if char in FORBIDDEN_LETTERS:
            return f"a VIN never contains the letter {char} (position {position})"
        if char not in _VALUES:
            return f"a VIN has only letters and digits, not {char!r} (position {position})"
    expected = check_digit(vin)
    if vin[CHECK_DIGIT_INDEX] != expected:
        return f"check digit (position 9) is {vin[CHECK_DIGIT_INDEX]}, it should be {expected}"
    return None


def is_valid_vin(vin: str) -> bool:
    """A VIN is valid when it has 17 allowed characters and its check digit matches."""
    return vin_error(vin) is None
