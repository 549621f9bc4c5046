"""The effective state a read shows: a due offer reads as expired, its lead as being routed on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from leadshare.leads.effective import current_offer, is_due, offer_status, routing_pending
from leadshare.leads.enums import LeadStatus, OfferStatus

NOW = datetime(2026, 3, 1, 12, 0)


@dataclass
class FakeOffer:
    id: int
    status: str
    expires_at: datetime | None


def pending(id_: int = 1, minutes_left: float = 10) -> FakeOffer:
    return FakeOffer(id_, OfferStatus.PENDING, NOW + timedelta(minutes=minutes_left))


def test_a_pending_offer_reads_as_pending_until_its_time_is_up():
    offer = pending(minutes_left=0.5)
    assert offer_status(offer, NOW) == OfferStatus.PENDING
    assert offer_status(offer, NOW + timedelta(minutes=1)) == OfferStatus.EXPIRED


def test_an_offer_is_due_at_the_very_moment_it_expires_as_the_sweep_decides():
    assert is_due(pending(minutes_left=0), NOW)
    assert not is_due(pending(minutes_left=0.01), NOW)


@pytest.mark.parametrize(
    "status", [OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.EXPIRED, "withdrawn"]
)
def test_an_answered_offer_keeps_its_stored_status_however_late(status):
    offer = FakeOffer(1, status, NOW - timedelta(hours=1))
    assert not is_due(offer, NOW)
    assert offer_status(offer, NOW) == status


def test_a_board_claim_without_a_deadline_is_never_due():
    assert not is_due(FakeOffer(1, OfferStatus.PENDING, None), NOW)


def test_the_current_offer_is_the_latest_pending_one():
    offers = [
        FakeOffer(1, OfferStatus.DECLINED, NOW),
        pending(3, minutes_left=-5),
        FakeOffer(4, OfferStatus.EXPIRED, NOW),
        pending(2),
    ]
    assert current_offer(offers).id == 3
    assert current_offer([FakeOffer(1, OfferStatus.ACCEPTED, NOW)]) is None
    assert current_offer([]) is None


def test_an_offered_lead_whose_offer_ran_out_is_being_routed_on():
    assert routing_pending(LeadStatus.OFFERED, pending(minutes_left=-1), NOW)
    assert not routing_pending(LeadStatus.OFFERED, pending(minutes_left=1), NOW)
    assert not routing_pending(LeadStatus.OFFERED, None, NOW)


@pytest.mark.parametrize("status", [LeadStatus.ACCEPTED, LeadStatus.OPEN, LeadStatus.WITHDRAWN])
def test_a_lead_that_is_not_offered_is_not_being_routed(status):
    assert not routing_pending(status, pending(minutes_left=-1), NOW)
