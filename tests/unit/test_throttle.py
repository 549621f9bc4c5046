"""The throttling rules alone: streaks, doubling delays, sliding limits, Retry-After seconds."""

from __future__ import annotations

from datetime import datetime, timedelta

from leadshare.auth.throttle import Failure, LoginPolicy, retry_after

POLICY = LoginPolicy()
NOW = datetime(2026, 12, 2, 12, 0, 0)


def test_delay_starts_at_the_fifth_failure_and_doubles_up_to_an_hour():
    delays = [POLICY.delay_after(n).total_seconds() for n in range(1, 14)]
    assert delays == [0, 0, 0, 0, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert POLICY.delay_after(10_000) == timedelta(hours=1)


def test_a_failure_soon_after_a_delay_continues_the_streak():
    last = Failure(at=NOW - timedelta(seconds=61), streak=5)
    assert POLICY.next_streak(recent=5, last=last, now=NOW) == 6
    late = Failure(at=NOW - timedelta(hours=2), streak=11)
    assert POLICY.next_streak(recent=0, last=late, now=NOW) == 1
    saturated = Failure(at=NOW - timedelta(minutes=61), streak=11)
    assert POLICY.next_streak(recent=0, last=saturated, now=NOW) == 12


def test_below_the_threshold_only_failures_within_the_window_count():
    last = Failure(at=NOW - timedelta(minutes=20), streak=4)
    assert POLICY.next_streak(recent=0, last=last, now=NOW) == 1
    assert POLICY.next_streak(recent=3, last=last, now=NOW) == 4


def test_pair_and_limits_free_up_and_retry_after_rounds_up():
    assert POLICY.pair_free_at(Failure(at=NOW, streak=4)) is None
    assert POLICY.pair_free_at(Failure(at=NOW, streak=6)) == NOW + timedelta(minutes=2)
    assert POLICY.limit_free_at(None) is None
    assert POLICY.limit_free_at(NOW) == NOW + timedelta(hours=1)
    assert retry_after(NOW, None, None) == 0
    assert retry_after(NOW, NOW - timedelta(seconds=1)) == 0
    assert retry_after(NOW, NOW + timedelta(seconds=0.2)) == 1
    assert retry_after(NOW, NOW + timedelta(seconds=30), NOW + timedelta(seconds=90.5)) == 91


def test_old_failures_are_kept_only_as_long_as_they_can_refuse():
    assert POLICY.keep_for == timedelta(minutes=75)
