"""The retail domain's vocabulary: how a report row stands, why it was refused, flag kinds.

Stored as their string values; no other module spells these strings out.
"""

from __future__ import annotations

from enum import StrEnum


class RowStatus(StrEnum):
    """A retail report row: counted (`good`), refused (`bad`), or a repeat of an earlier row."""

    GOOD = "good"
    BAD = "bad"
    DUPLICATE = "duplicate"


class RowProblem(StrEnum):
    """Why a row was refused, or repeats one (the per-row report's `reason`)."""

    MISSING_FIELD = "missing_field"
    INVALID_VIN = "invalid_vin"
    INVALID_DATE = "invalid_date"
    UNKNOWN_DEALER_CODE = "unknown_dealer_code"
    DUPLICATE_VIN = "duplicate_vin"


class FlagKind(StrEnum):
    """What group admins are told about: one VIN delivered twice in the group, or a VIN the
    OEM reports for another store than the lead's holder."""

    DUPLICATE_DELIVERY = "duplicate_delivery"
    OTHER_STORE = "other_store"
