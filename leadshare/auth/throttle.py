"""Sign-in throttling rules (pure): when failures make an account, an address or a pair wait.

Per (account, client address), `pair_max_failures` failures within `pair_window` start a delay
of `delay` that doubles with each further failure up to `delay_max`; a further failure within
`pair_window` after the delay ends continues the streak. Per account over every address and per
address over every account, `*_max_failures` failures within `limit_window` refuse until the
oldest of them leaves the window. Only failures count; attempts refused while waiting do not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Failure:
    """The latest failure of a pair: when, and how long its streak is with it."""

    at: datetime
    streak: int


@dataclass(frozen=True)
class LoginPolicy:
    """The limits, the README defaults unless the LOGIN_* settings say otherwise
    (settings.LoginSettings.policy)."""

    pair_max_failures: int = 5
    pair_window: timedelta = timedelta(minutes=15)
    delay: timedelta = timedelta(minutes=1)
    delay_max: timedelta = timedelta(hours=1)
    account_max_failures: int = 50
    address_max_failures: int = 100
    limit_window: timedelta = timedelta(hours=1)

    @property
    def keep_for(self) -> timedelta:
        """Failures older than this can no longer refuse anyone, so they are deleted."""
        return max(self.limit_window, self.delay_max + self.pair_window)

    def delay_after(self, streak: int) -> timedelta:
        """The wait after a pair's `streak`-th failure in a row: none, then 1, 2, 4 ... minutes."""
        extra = streak - self.pair_max_failures
        if extra < 0:
            return timedelta(0)
        if extra >= 32:  # far past any sensible maximum; keeps the power small
            return self.delay_max
        return min(self.delay * 2**extra, self.delay_max)

    def next_streak(self, recent: int, last: Failure | None, now: datetime) -> int:
        """The streak of a new failure, given the pair's failures within `pair_window`.

        A streak that reached a delay continues while failures keep coming within `pair_window`
        of the delay's end, so each further failure doubles the delay.
        """
        streak = recent + 1
        reach = self.pair_free_at(last)
        if last is not None and reach is not None and now < reach + self.pair_window:
            streak = max(streak, last.streak + 1)
        return streak

    def pair_free_at(self, last: Failure | None) -> datetime | None:
        """When the pair may try again after its latest failure (None: no delay)."""
        if last is None or last.streak < self.pair_max_failures:
            return None
        return last.at + self.delay_after(last.streak)

    def limit_free_at(self, nth_newest: datetime | None) -> datetime | None:
        """When a limit frees up, given its `*_max_failures`-th newest failure in the window."""
        return None if nth_newest is None else nth_newest + self.limit_window


def retry_after(now: datetime, *free_at: datetime | None) -> int:
    """Whole seconds until every limit frees up; 0 when nothing refuses now."""
    latest = max((at for at in free_at if at is not None), default=None)
    if latest is None or latest <= now:
        return 0
    return max(1, math.ceil((latest - now).total_seconds()))
