"""The pure rules of returns (issue 17): the return window, the dispute window, the rate cap."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from leadshare.leads.enums import LeadStatus, ReturnReason, ReturnStatus
from leadshare.leads.returns import (
    BLOCKS_NEW_SHARE,
    RATE_FROM_ACCEPTED,
    ReturnRefusal,
    accept_refusal,
    accepted_in_silence,
    contest_refusal,
    decide_refusal,
    dispute_due_at,
    in_return_window,
    over_return_rate,
    request_refusal,
    return_window_closes_at,
    status_on_request,
)

S, R = LeadStatus, ReturnStatus
ACCEPTED_AT = datetime(2026, 11, 2, 8, 0)


def refusal(status=S.ACCEPTED, existing=None, *, days_after=1.0, window=7):
    return request_refusal(
        status,
        existing,
        accepted_at=ACCEPTED_AT,
        now=ACCEPTED_AT + timedelta(days=days_after),
        window_days=window,
    )


# --- the return window ------------------------------------------------------------------------


def test_the_window_runs_whole_days_from_acceptance() -> None:
    assert return_window_closes_at(ACCEPTED_AT, 7) == datetime(2026, 11, 9, 8, 0)


@pytest.mark.parametrize(
    ("after", "open_"),
    [
        (timedelta(0), True),
        (timedelta(days=6, hours=23, minutes=59), True),
        (timedelta(days=7), False),
        (timedelta(days=7, seconds=1), False),
    ],
)
def test_the_window_is_open_until_exactly_its_end(after: timedelta, open_: bool) -> None:
    assert in_return_window(ACCEPTED_AT, ACCEPTED_AT + after, 7) is open_


def test_a_lead_never_accepted_has_no_window() -> None:
    assert not in_return_window(None, ACCEPTED_AT, 7)


def test_a_zero_day_window_allows_no_return() -> None:
    assert not in_return_window(ACCEPTED_AT, ACCEPTED_AT, 0)


@pytest.mark.parametrize("status", [S.ACCEPTED, S.CONTACTED, S.VISITED])
def test_a_held_lead_before_ordered_may_be_returned_in_the_window(status: LeadStatus) -> None:
    assert refusal(status) is None


@pytest.mark.parametrize(
    "status", [S.ORDERED, S.DELIVERED, S.LOST, S.OFFERED, S.OPEN, S.WITHDRAWN, S.RETURNED]
)
def test_other_statuses_may_not_be_returned(status: LeadStatus) -> None:
    assert refusal(status) == ReturnRefusal.NOT_RETURNABLE


def test_past_the_window_the_return_is_refused() -> None:
    assert refusal(days_after=7) == ReturnRefusal.RETURN_WINDOW_CLOSED
    assert refusal(days_after=10, window=14) is None


@pytest.mark.parametrize("existing", [R.PENDING, R.CONTESTED, R.REVIEW])
def test_an_open_return_refuses_a_second_one(existing: ReturnStatus) -> None:
    assert refusal(existing=existing) == ReturnRefusal.RETURN_PENDING


@pytest.mark.parametrize("existing", [R.ACCEPTED, R.KEPT])
def test_a_decided_return_is_not_made_again(existing: ReturnStatus) -> None:
    assert refusal(existing=existing) == ReturnRefusal.RETURN_DECIDED


# --- the rate cap -------------------------------------------------------------------------------


def test_the_rate_applies_from_ten_accepted_leads() -> None:
    assert RATE_FROM_ACCEPTED == 10
    assert not over_return_rate(returns=9, accepted=9, max_rate=0.2)
    assert over_return_rate(returns=3, accepted=10, max_rate=0.2)


@pytest.mark.parametrize(
    ("returns", "accepted", "over"),
    [(0, 10, False), (2, 10, False), (3, 10, True), (4, 20, False), (5, 20, True), (21, 100, True)],
)
def test_only_returns_exceeding_the_rate_are_over_it(returns: int, accepted: int, over: bool):
    assert over_return_rate(returns=returns, accepted=accepted, max_rate=0.2) is over


def test_a_zero_rate_sends_every_return_after_ten_leads_to_an_admin() -> None:
    assert not over_return_rate(returns=0, accepted=10, max_rate=0.0)
    assert over_return_rate(returns=1, accepted=10, max_rate=0.0)


def test_over_the_rate_a_return_waits_for_review() -> None:
    assert status_on_request(over_rate=True) == R.REVIEW
    assert status_on_request(over_rate=False) == R.PENDING


# --- the dispute ----------------------------------------------------------------------------------


def test_the_dispute_window_is_wall_clock_hours() -> None:
    assert dispute_due_at(ACCEPTED_AT, 72) == ACCEPTED_AT + timedelta(days=3)


def test_silence_accepts_only_a_pending_return_past_its_window() -> None:
    due = ACCEPTED_AT + timedelta(hours=72)
    assert accepted_in_silence(R.PENDING, due, due)
    assert not accepted_in_silence(R.PENDING, due, due - timedelta(seconds=1))
    for status in (R.CONTESTED, R.REVIEW, R.ACCEPTED, R.KEPT):
        assert not accepted_in_silence(status, due, due + timedelta(days=1))


def test_the_referrer_accepts_only_a_return_waiting_for_it() -> None:
    assert accept_refusal(R.PENDING) is None
    assert accept_refusal(None) == ReturnRefusal.NO_RETURN
    assert accept_refusal(R.CONTESTED) == ReturnRefusal.AWAITING_ADMIN
    assert accept_refusal(R.REVIEW) == ReturnRefusal.AWAITING_ADMIN
    assert accept_refusal(R.ACCEPTED) == ReturnRefusal.RETURN_DECIDED
    assert accept_refusal(R.KEPT) == ReturnRefusal.RETURN_DECIDED


def test_the_referrer_contests_within_the_window_once() -> None:
    due = ACCEPTED_AT + timedelta(hours=72)
    assert contest_refusal(R.PENDING, due, due - timedelta(minutes=1)) is None
    assert contest_refusal(R.PENDING, due, due) == ReturnRefusal.DISPUTE_WINDOW_CLOSED
    assert contest_refusal(R.CONTESTED, due, ACCEPTED_AT) == ReturnRefusal.AWAITING_ADMIN
    assert contest_refusal(R.REVIEW, due, due + timedelta(days=1)) is None
    assert contest_refusal(R.KEPT, due, ACCEPTED_AT) == ReturnRefusal.RETURN_DECIDED
    assert contest_refusal(None, None, ACCEPTED_AT) == ReturnRefusal.NO_RETURN


def test_a_group_admin_decides_only_what_waits_for_one() -> None:
    assert decide_refusal(R.CONTESTED) is None
    assert decide_refusal(R.REVIEW) is None
    assert decide_refusal(R.PENDING) == ReturnRefusal.NOT_DISPUTED
    assert decide_refusal(R.ACCEPTED) == ReturnRefusal.RETURN_DECIDED
    assert decide_refusal(None) == ReturnRefusal.NO_RETURN


def test_own_customer_and_spam_returns_still_block_a_new_share() -> None:
    assert {ReturnReason.DUPLICATE_OF_OWN_CUSTOMER, ReturnReason.SPAM} == BLOCKS_NEW_SHARE
