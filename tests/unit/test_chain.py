"""The event hash chain: canonical JSON, hashing, and detection of any alteration."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from leadshare.leads.chain import (
    GENESIS_HASH,
    PAYLOAD_FIELDS,
    ChainReport,
    canonical_json,
    event_hash,
    event_payload,
    verify_chain,
)

START = datetime(2024, 5, 1, 8, 0, 0)
TYPES = ["created", "offered", "declined", "offered", "accepted", "progressed"]


def make_chain(count: int = len(TYPES)) -> list[dict[str, Any]]:
    """Events of one lead, hashed the way the service stores them."""
    events: list[dict[str, Any]] = []
    previous: str | None = None
    for seq in range(1, count + 1):
        event: dict[str, Any] = {
            "lead_id": 42,
            "seq": seq,
            "type": TYPES[(seq - 1) % len(TYPES)],
            "at": START + timedelta(minutes=seq),
            "actor_id": 7,
            "dealer_id": None if seq == 1 else 10 + seq,
            "data": {"distance_km": 3.25, "note": "客户在南山区", "stages": ["contacted"]},
        }
        event["prev_hash"] = previous
        event["hash"] = event_hash(previous, event_payload(event))
        previous = event["hash"]
        events.append(event)
    return events


def test_canonical_json_is_compact_sorted_and_keeps_unicode() -> None:
    assert (
        canonical_json({"b": 1, "a": [1, "深圳"], "c": None}) == '{"a":[1,"深圳"],"b":1,"c":null}'
    )
    assert canonical_json({"z": {"y": 1, "x": 2}}) == '{"z":{"x":2,"y":1}}'


def test_canonical_json_writes_datetimes_as_utc_with_microseconds() -> None:
    naive = datetime(2024, 5, 1, 8, 0, 0)
    aware = datetime(2024, 5, 1, 16, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    assert canonical_json(naive) == '"2024-05-01T08:00:00.000000Z"'
    assert canonical_json(aware) == canonical_json(naive)
    assert canonical_json(naive.replace(tzinfo=UTC, microsecond=5)) == (
        '"2024-05-01T08:00:00.000005Z"'
    )


def test_canonical_json_other_types() -> None:
    uuid = UUID("12345678-1234-5678-1234-567812345678")
    assert canonical_json([date(2024, 5, 1), Decimal("200.00"), uuid]) == (
        '["2024-05-01","200.00","12345678-1234-5678-1234-567812345678"]'
    )
    with pytest.raises(TypeError):
        canonical_json({"x": object()})


def test_event_hash_is_sha256_of_previous_hash_and_payload() -> None:
    payload = {"seq": 1, "type": "created"}
    expected = hashlib.sha256((GENESIS_HASH + '{"seq":1,"type":"created"}').encode()).hexdigest()
    assert event_hash(None, payload) == expected
    assert event_hash(GENESIS_HASH, payload) == expected
    assert event_hash("a" * 64, payload) != expected


def test_event_payload_takes_exactly_the_hashed_fields() -> None:
    event = {"seq": 3, "type": "offered", "hash": "h", "prev_hash": "p", "extra": 1}
    payload = event_payload(event)
    assert list(payload) == list(PAYLOAD_FIELDS)
    assert payload["seq"] == 3
    assert payload["dealer_id"] is None


def test_intact_chain_verifies() -> None:
    report = verify_chain(make_chain())
    assert report == ChainReport(ok=True, events=6, broken_at=None, reason=None)
    assert report.to_dict() == {"ok": True, "events": 6, "broken_at": None, "reason": None}


def test_empty_chain_is_ok() -> None:
    assert verify_chain([]) == ChainReport(ok=True, events=0)


def test_first_event_may_store_genesis_as_prev_hash() -> None:
    events = make_chain()
    events[0]["prev_hash"] = GENESIS_HASH
    assert verify_chain(events).ok


ALTERATIONS = {
    "lead_id": lambda e: 43,
    "type": lambda e: "delivered",
    "at": lambda e: e["at"] + timedelta(microseconds=1),
    "actor_id": lambda e: 8,
    "dealer_id": lambda e: 99,
    "data": lambda e: {**e["data"], "distance_km": 3.26},
    "seq": lambda e: e["seq"] + 1,
    "prev_hash": lambda e: "f" * 64,
    "hash": lambda e: "0" + e["hash"][1:] if e["hash"][0] != "0" else "1" + e["hash"][1:],
}


@pytest.mark.parametrize("field", list(ALTERATIONS))
@pytest.mark.parametrize("index", range(len(TYPES)))
def test_altering_any_field_of_any_event_is_detected(field: str, index: int) -> None:
    events = make_chain()
    events[index][field] = ALTERATIONS[field](events[index])
    report = verify_chain(events)
    assert not report.ok
    assert report.broken_at == index + 1
    assert report.reason in {"seq_mismatch", "prev_hash_mismatch", "hash_mismatch"}
    assert report.events == len(TYPES)


def test_nested_data_change_is_detected() -> None:
    events = make_chain()
    events[2]["data"]["stages"].append("visited")
    assert verify_chain(events).reason == "hash_mismatch"


def test_rehashing_an_altered_event_still_breaks_the_next_link() -> None:
    events = make_chain()
    events[2]["type"] = "accepted"
    events[2]["hash"] = event_hash(events[2]["prev_hash"], event_payload(events[2]))
    report = verify_chain(events)
    assert (report.ok, report.broken_at, report.reason) == (False, 4, "prev_hash_mismatch")


def test_reordering_events_is_detected() -> None:
    events = make_chain()
    events[2], events[3] = events[3], events[2]
    report = verify_chain(events)
    assert (report.ok, report.broken_at, report.reason) == (False, 3, "seq_mismatch")


def test_reordering_with_renumbered_seqs_is_detected() -> None:
    events = make_chain()
    events[2], events[3] = events[3], events[2]
    events[2]["seq"], events[3]["seq"] = 3, 4
    assert not verify_chain(events).ok


@pytest.mark.parametrize("index", range(len(TYPES) - 1))
def test_deleting_an_event_is_detected(index: int) -> None:
    events = make_chain()
    del events[index]
    report = verify_chain(events)
    assert not report.ok
    assert report.broken_at == index + 1


def test_deleting_an_event_and_renumbering_is_detected() -> None:
    events = make_chain()
    del events[2]
    for seq, event in enumerate(events, start=1):
        event["seq"] = seq
    report = verify_chain(events)
    assert (report.ok, report.broken_at, report.reason) == (False, 3, "prev_hash_mismatch")


def test_deleting_the_last_event_is_detected_against_the_recorded_head() -> None:
    events = make_chain()
    head = events[-1]["hash"]
    assert verify_chain(events, head_hash=head).ok
    truncated = events[:-1]
    assert verify_chain(truncated).ok  # a chain alone cannot tell
    report = verify_chain(truncated, head_hash=head)
    assert (report.ok, report.broken_at, report.reason) == (False, 5, "head_mismatch")
    assert verify_chain([], head_hash=head) == ChainReport(False, 0, None, "head_mismatch")


def test_chain_verifies_when_times_come_back_in_another_timezone() -> None:
    events = make_chain()
    for event in events:
        event["at"] = event["at"].replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=8)))
    assert verify_chain(events).ok
