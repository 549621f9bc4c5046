"""WeCom group robots take at most 20 messages a minute each: the plan for one robot's due
messages, as pure functions (the deliverer applies it inside its claim).

A robot is named by a hash of its URL (the URL carries the robot's secret key, so it is never
stored twice). The deliverer records every message it sends to a robot (a digest counts once);
before sending more it plans with the sends of the last minute: every due message on its own
while they fit; when more are due than the minute has room for, the room less one on their own
and all the others merged into one digest (nothing is dropped, nothing waits for the next
minute); with no room at all, the due messages wait until the oldest send of the minute leaves
it, under a minute. WeCom's own answer that the robot is over its limit (errcode 45009) makes a
message wait a minute and try again without counting as a failed attempt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

ROBOT_PER_MINUTE = 20
WINDOW = timedelta(minutes=1)
RATE_LIMIT_ERRCODES = frozenset({45009})  # "api freq out of limit"


def robot_key(url: str) -> str:
    """The robot a URL names: SHA-256 hex of the URL as stored, spaces trimmed."""
    return hashlib.sha256(url.strip().encode()).hexdigest()


def lock_number(key: str) -> int:
    """A signed 64-bit number for the robot (a PostgreSQL advisory lock key)."""
    return int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)


@dataclass(frozen=True)
class RobotPlan:
    """`alone` messages sent on their own, then the rest in one digest if `digest`; or none
    until `wait_until` when the minute has no room."""

    alone: int
    digest: bool = False
    wait_until: datetime | None = None

    @property
    def sends(self) -> int:
        return self.alone + (1 if self.digest else 0)


def plan(
    due: int, recent: Iterable[datetime], now: datetime, limit: int = ROBOT_PER_MINUTE
) -> RobotPlan:
    """How to send `due` messages to a robot that was sent `recent` messages (their times)."""
    window = sorted(t for t in recent if t > now - WINDOW)
    room = limit - len(window)
    if due <= 0:
        return RobotPlan(0)
    if room <= 0:  # a slot frees when the send `limit` places back leaves the minute
        return RobotPlan(0, wait_until=window[len(window) - limit] + WINDOW)
    if due <= room:
        return RobotPlan(due)
    return RobotPlan(room - 1, digest=True)
