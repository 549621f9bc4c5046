"""Unknown, deactivated and existing accounts take the same time to refuse, with scrypt.

Slow on purpose (60 scrypt checks, ~10 s): part of `make test-slow`, which CI runs.
"""

from __future__ import annotations

import itertools
import statistics
import time

import pytest

from leadshare.vocabulary import Role

pytestmark = [pytest.mark.timing, pytest.mark.slow]  # scrypt, ~10 s: `make test-slow`

ATTEMPTS = 20
_addresses = (f"10.9.{n // 250}.{n % 250}" for n in itertools.count())


@pytest.fixture
def scrypt(app):
    """Production's hash method, for the users made here and for the dummy hash alike."""
    saved = app.config["PASSWORD_HASH_METHOD"]
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    try:
        yield
    finally:
        app.config["PASSWORD_HASH_METHOD"] = saved


def _seconds_to_refuse(client, email: str) -> float:
    """One refused sign-in from an address of its own, so throttling never answers first."""
    started = time.perf_counter()
    response = client.post(
        "/api/v1/auth/token",
        json={"email": email, "password": "wrong-password"},
        environ_base={"REMOTE_ADDR": next(_addresses)},
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 401, response.json
    return elapsed


def test_unknown_deactivated_and_existing_accounts_are_refused_in_the_same_time(
    client, make, scrypt
):
    existing = make.user(Role.PLATFORM_ADMIN)
    deactivated = make.user(Role.PLATFORM_ADMIN, is_active_user=False)
    assert existing.password_hash.startswith("scrypt:")
    emails = {"unknown": "nobody@example.com", "deactivated": deactivated.email}
    emails["existing"] = existing.email
    _seconds_to_refuse(client, "warm-up@example.com")  # the dummy hash is made once, here
    times: dict[str, list[float]] = {kind: [] for kind in emails}
    for _ in range(ATTEMPTS):  # interleaved, so a busy moment slows every kind alike
        for kind, email in emails.items():
            times[kind].append(_seconds_to_refuse(client, email))
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    print("median seconds to refuse:", {k: round(v, 4) for k, v in medians.items()})
    assert max(medians.values()) <= 1.2 * min(medians.values()), medians
