"""Claims, declines and expiry called directly: one winner, the board, the cascade, the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from leadshare.errors import Conflict
from leadshare.extensions import db
from leadshare.leads import intake, offers
from leadshare.leads.enums import OfferKind

from .lead_world import event_types, intake_data, last_event, offers_of, service_world, stored

URUMQI = {"latitude": 43.8256, "longitude": 87.6168}


@pytest.fixture
def world(make, ctx):
    return service_world(make)


def _offered(world):
    """A lead offered to Tianhe (nearest), with Baiyun and Panyu next."""
    lead = intake.post_lead(world.users["referrer"], intake_data())
    return stored(lead.public_id)


def _open(world):
    lead = intake.post_lead(world.users["referrer"], intake_data(location=URUMQI))
    return stored(lead.public_id)


def test_the_offered_store_wins_its_offer(world):
    lead = _offered(world)
    offers.claim_lead(world.users["tianhe"], lead.public_id)
    lead = stored(lead.public_id)
    assert lead.status == "accepted" and lead.holder_id == world.tianhe.id
    assert lead.progress_rank == 1
    assert offers_of(lead) == [(world.tianhe.id, "accepted")]
    assert event_types(lead)[-1] == "claimed" and last_event(lead).data == {"via": "offer"}


def test_an_eligible_store_claims_an_open_lead_from_the_board(world):
    lead = _open(world)
    assert lead.status == "open"
    offers.claim_lead(world.users["panyu"], lead.public_id)
    lead = stored(lead.public_id)
    assert lead.status == "accepted" and lead.holder_id == world.panyu.id
    assert offers_of(lead) == [(world.panyu.id, "accepted")]
    assert last_event(lead).data == {"via": "board"}


def test_two_claims_have_one_winner(world):
    lead = _offered(world)
    offers.claim_lead(world.users["tianhe"], lead.public_id)
    with pytest.raises(Conflict) as lost:
        offers.claim_lead(world.users["tianhe2"], lead.public_id)
    assert lost.value.reason == "already_claimed"
    assert stored(lead.public_id).holder_id == world.tianhe.id


def test_the_conditional_update_decides_a_board_race(world, monkeypatch):
    lead = _open(world)
    path = offers.claim_path

    def another_store_claims_first(*args, **kwargs):
        db.session.execute(
            text("UPDATE leads SET status = 'accepted', holder_id = :d WHERE id = :id"),
            {"d": world.baiyun.id, "id": lead.id},
        )
        return path(*args, **kwargs)

    monkeypatch.setattr(offers, "claim_path", another_store_claims_first)
    with pytest.raises(Conflict) as lost:
        offers.claim_lead(world.users["panyu"], lead.public_id)
    assert lost.value.reason == "already_claimed"
    assert offers_of(stored(lead.public_id)) == []


def test_a_retried_claim_by_the_winner_answers_the_lead_again(world):
    lead = _offered(world)
    offers.claim_lead(world.users["tianhe"], lead.public_id)
    again = offers.claim_lead(world.users["tianhe"], lead.public_id)
    assert again.holder_id == world.tianhe.id
    assert event_types(stored(lead.public_id)).count("claimed") == 1


def test_a_store_never_offered_the_lead_is_refused(world):
    lead = _offered(world)
    with pytest.raises(Conflict) as refused:
        offers.claim_lead(world.users["baiyun"], lead.public_id)
    assert refused.value.reason == "not_offered"


def test_an_expired_offer_is_refused_and_its_expiry_is_kept(world):
    lead = _offered(world)
    (offer,) = lead.offers
    later = offer.expires_at + timedelta(seconds=1)
    with pytest.raises(Conflict) as refused:
        offers.claim_lead(world.users["tianhe"], lead.public_id, now=later)
    assert refused.value.reason == "offer_expired"
    lead = stored(lead.public_id)  # the unit of work committed the expiry before refusing
    assert offers_of(lead) == [(world.tianhe.id, "expired"), (world.baiyun.id, "pending")]
    assert event_types(lead) == ["posted", "offered", "expired", "offered"]


def test_decline_routes_to_the_next_nearest(world):
    lead = _offered(world)
    offers.decline_lead(world.users["tianhe"], lead.public_id, "no_stock", "none left")
    lead = stored(lead.public_id)
    assert lead.status == "offered"
    assert offers_of(lead) == [(world.tianhe.id, "declined"), (world.baiyun.id, "pending")]
    assert lead.offers[0].decline_reason == "no_stock"
    assert event_types(lead) == ["posted", "offered", "declined", "offered"]


def test_decline_after_the_last_offer_opens_the_lead(make, ctx):
    world = service_world(make, max_offers_per_lead=1)
    lead = _offered(world)
    offers.decline_lead(world.users["tianhe"], lead.public_id, "capacity")
    lead = stored(lead.public_id)
    assert lead.status == "open" and event_types(lead)[-1] == "opened"
    assert last_event(lead).data == {"why": "max_offers_reached", "offers_made": 1}


def test_declining_an_expired_offer_is_refused_and_its_expiry_is_kept(world):
    lead = _offered(world)
    later = lead.offers[0].expires_at + timedelta(minutes=1)
    with pytest.raises(Conflict) as refused:
        offers.decline_lead(world.users["tianhe"], lead.public_id, "other", now=later)
    assert refused.value.reason == "offer_expired"
    assert offers_of(stored(lead.public_id))[0] == (world.tianhe.id, "expired")


def test_the_sweep_expires_due_offers_and_routes_on(world):
    lead = _offered(world)
    later = lead.offers[0].expires_at + timedelta(seconds=1)
    assert offers.sweep(later - timedelta(minutes=2)).expired == 0
    result = offers.sweep(later)
    assert (result.expired, result.leads) == (1, 1)
    assert offers_of(stored(lead.public_id))[-1] == (world.baiyun.id, "pending")


def test_a_board_claim_leaves_a_board_offer(world):
    lead = _open(world)
    offers.claim_lead(world.users["baiyun"], lead.public_id)
    (offer,) = stored(lead.public_id).offers
    assert offer.kind == OfferKind.BOARD and offer.expires_at is None
