"""The hash chain of a lead's events: each event's hash covers its payload and the previous hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from leadshare.clock import iso_z

GENESIS_HASH = "0" * 64
"""What the first event of a lead chains to (its stored prev_hash is None)."""

PAYLOAD_FIELDS = ("lead_id", "seq", "type", "at", "actor_id", "dealer_id", "data")
"""The event fields a hash covers; seq starts at 1 and grows by one per event of the lead."""


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_z(value, timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no canonical JSON form")


def canonical_json(obj: Any) -> str:
    """The one text a value hashes as: sorted keys, no spaces, UTF-8 kept as is.

    Datetimes become UTC ISO-8601 with microseconds and a 'Z' (2024-05-01T08:00:00.000000Z);
    naive datetimes are taken as UTC, the project's storage convention. Dates are ISO-8601,
    Decimals and UUIDs their str(); any other non-JSON type raises TypeError.
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_encode
    )


def event_payload(event: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed part of an event: every PAYLOAD_FIELDS entry, None where absent."""
    return {name: event.get(name) for name in PAYLOAD_FIELDS}


def event_hash(prev_hash: str | None, payload: Mapping[str, Any]) -> str:
    """SHA-256 hex of the previous hash (64 zeros for the first event) + canonical JSON payload."""
    text = (prev_hash or GENESIS_HASH) + canonical_json(payload)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of verifying a lead's chain; broken_at is the seq where it first breaks."""

    ok: bool
    events: int
    broken_at: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form answered by the verify endpoint."""
        return {
            "ok": self.ok,
            "events": self.events,
            "broken_at": self.broken_at,
            "reason": self.reason,
        }


def verify_chain(
    events: Sequence[Mapping[str, Any]], *, head_hash: str | None = None
) -> ChainReport:
    """A lead's events are intact when seqs run 1, 2, ... and every link and hash matches.

    Events come in stored order; each must carry seq = its position, prev_hash = the previous
    event's hash (None, or 64 zeros, for the first) and hash = event_hash(prev_hash, payload).
    A chain alone cannot reveal its last events being deleted: pass head_hash (the hash the
    lead recorded for its latest event) to check the tail too. Reasons: `seq_mismatch`,
    `prev_hash_mismatch`, `hash_mismatch`, `head_mismatch`; broken_at is the seq the broken
    event should have (for `head_mismatch` the last seq present, None without events).
    """
    previous = GENESIS_HASH
    for position, event in enumerate(events, start=1):
        if event.get("seq") != position:
            return ChainReport(False, len(events), position, "seq_mismatch")
        if (event.get("prev_hash") or GENESIS_HASH) != previous:
            return ChainReport(False, len(events), position, "prev_hash_mismatch")
        expected = event_hash(previous, event_payload(event))
        if event.get("hash") != expected:
            return ChainReport(False, len(events), position, "hash_mismatch")
        previous = expected
    if head_hash is not None and head_hash != (events[-1].get("hash") if events else None):
        return ChainReport(False, len(events), len(events) or None, "head_mismatch")
    return ChainReport(True, len(events))


# --- personal data outside the chain ----------------------------------------------------------

PERSONAL_KEYS = ("location", "note", "lost_reason", "lost_note")
"""Event data keys that hold personal data in every event type (the customer's place, notes;
`lost_reason` was free text before the fixed list of issue 15, `lost_note` is)."""
FREE_TEXT_REASONS = frozenset({"withdrawn", "voided", "progress_undone"})
"""Event types whose `reason` is free text a person typed (a decline's reason is a code)."""
SEALED = "sealed"
"""The key of the marker that stands for a personal value in the hashed data:
{"sealed": "<commitment>"}."""


def personal_keys(event_type: str, data: Mapping[str, Any]) -> list[str]:
    """The keys of an event's data that hold personal data (a None value holds none)."""
    keys = [*PERSONAL_KEYS, *(("reason",) if event_type in FREE_TEXT_REASONS else ())]
    return [key for key in keys if data.get(key) is not None and not is_sealed(data[key])]


def commitment(salt: str, value: Any) -> str:
    """SHA-256 hex of the salt and the value's canonical JSON: binds the chain to the value
    without revealing it (the salt keeps a short value from being guessed)."""
    return hashlib.sha256(f"{salt}:{canonical_json(value)}".encode()).hexdigest()


def is_sealed(value: Any) -> bool:
    """True for the marker that stands for a personal value: {"sealed": "<commitment>"}."""
    return isinstance(value, Mapping) and set(value) == {SEALED}


def seal(
    event_type: str, data: Mapping[str, Any], salts: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the data to hash, with each personal value replaced by its sealed commitment; the
    personal values taken out, by key). `salts` gives a salt for every personal key."""
    keys = personal_keys(event_type, data)
    sealed = {
        key: {SEALED: commitment(salts[key], value)} if key in keys else value
        for key, value in data.items()
    }
    return sealed, {key: data[key] for key in keys}


def unseal(data: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The event data with each sealed key given back its value (those in `values`)."""
    return {
        key: values.get(key, value) if is_sealed(value) else value for key, value in data.items()
    }


def opens(sealed: Any, salt: str | None, value: Any) -> bool:
    """True when the value and salt are the ones the sealed marker commits to."""
    return is_sealed(sealed) and salt is not None and commitment(salt, value) == sealed[SEALED]


def legacy_head(events: Sequence[Mapping[str, Any]]) -> str | None:
    """The head hash the chain had before its personal data was sealed: every event's hash
    recomputed over its data with the values put back (events carry the unsealed data)."""
    previous: str | None = None
    for event in events:
        previous = event_hash(previous, event_payload(event))
    return previous
