"""Holder progress and referrer withdrawal called directly."""

from __future__ import annotations

import pytest

from leadshare.errors import Conflict, Forbidden, Invalid
from leadshare.leads import intake, offers, progress
from leadshare.leads.chain import is_sealed
from leadshare.leads.events import personal_values
from leadshare.leads.states import InvalidTransition

from .lead_world import event_types, intake_data, last_event, offers_of, service_world, stored

VIN = "1M8GDM9AXKP042788"


@pytest.fixture
def world(make, ctx):
    return service_world(make)


@pytest.fixture
def held(world):
    """A lead Tianhe claimed."""
    lead = intake.post_lead(world.users["referrer"], intake_data())
    offers.claim_lead(world.users["tianhe"], lead.public_id)
    return lead.public_id


def test_skipped_stages_are_recorded_as_reached(world, held):
    progress.record_progress(world.users["tianhe"], held, {"status": "visited"})
    lead = stored(held)
    assert lead.status == "visited" and lead.progress_rank == 3
    assert event_types(lead)[-2:] == ["contacted", "visited"]
    assert last_event(lead).data == {"skipped": False}


def test_delivery_records_order_and_vin_on_its_event(world, held):
    data = {"status": "delivered", "order_ref": "SO-1", "vin": VIN.lower()}
    progress.record_progress(world.users["tianhe"], held, data)
    lead = stored(held)
    assert (lead.status, lead.progress_rank, lead.vin, lead.order_ref) == (
        "delivered",
        5,
        VIN,
        "SO-1",
    )
    assert event_types(lead)[-4:] == ["contacted", "visited", "ordered", "delivered"]
    assert last_event(lead).data == {"skipped": False, "order_ref": "SO-1", "vin": VIN}


def test_a_move_missing_its_field_is_refused(world, held):
    with pytest.raises(Invalid) as refused:
        progress.record_progress(world.users["tianhe"], held, {"status": "ordered"})
    assert refused.value.reason == "missing_field"
    assert stored(held).status == "accepted"


def test_a_bad_vin_is_refused(world, held):
    data = {"status": "delivered", "order_ref": "SO-1", "vin": "NOT-A-VIN"}
    with pytest.raises(Invalid) as refused:
        progress.record_progress(world.users["tianhe"], held, data)
    assert refused.value.reason == "invalid_vin"


def test_lost_keeps_the_reason_and_the_rank_reached(world, held):
    progress.record_progress(world.users["tianhe"], held, {"status": "contacted"})
    progress.record_progress(
        world.users["tianhe"], held, {"status": "lost", "lost_reason": "price"}
    )
    lead = stored(held)
    assert (lead.status, lead.lost_reason, lead.progress_rank) == ("lost", "price", 2)


def test_moving_backwards_is_an_invalid_transition(world, held):
    progress.record_progress(world.users["tianhe"], held, {"status": "visited"})
    with pytest.raises(InvalidTransition):
        progress.record_progress(world.users["tianhe"], held, {"status": "contacted"})
    assert stored(held).status == "visited"


def test_only_the_holder_records_progress(world, held):
    with pytest.raises(Forbidden) as refused:
        progress.record_progress(world.users["referrer"], held, {"status": "contacted"})
    assert refused.value.reason == "not_holder"


def test_withdrawing_an_offered_lead_withdraws_its_pending_offer(world):
    lead = intake.post_lead(world.users["referrer"], intake_data())
    progress.withdraw_lead(world.users["referrer"], lead.public_id, "客户不需要了")
    lead = stored(lead.public_id)
    assert lead.status == "withdrawn"
    assert offers_of(lead) == [(world.tianhe.id, "withdrawn")]
    event = last_event(lead)  # the free-text reason is sealed out of the hashed data
    [reason] = personal_values([lead.id])[(lead.id, event.seq)].values()
    assert is_sealed(event.data["reason"]) and reason.value == "客户不需要了"


def test_a_held_lead_can_no_longer_be_withdrawn(world, held):
    with pytest.raises(Conflict) as refused:
        progress.withdraw_lead(world.users["referrer"], held)
    assert refused.value.reason == "invalid_transition"
    assert stored(held).status == "accepted"


def test_only_the_referrer_withdraws(world, held):
    with pytest.raises(Forbidden) as refused:
        progress.withdraw_lead(world.users["tianhe"], held)
    assert refused.value.reason == "not_referrer"
