"""The service-level vocabulary: which timer runs after a claim, and how it ended.

Stored as their string values; no other module spells these strings out.
"""

from __future__ import annotations

from enum import StrEnum


class SlaKind(StrEnum):
    """First contact after the claim (open minutes), or the visit after the contact (days)."""

    CONTACT = "contact"
    VISIT = "visit"


class SlaState(StrEnum):
    """How one timer stands: running, met in time, missed, or ended without an outcome."""

    RUNNING = "running"
    MET = "met"
    MISSED = "missed"
    CLOSED = "closed"
