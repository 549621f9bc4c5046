"""Intake services called directly: routed, needs location, duplicate, not shareable, replay."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from leadshare.errors import Conflict, Invalid
from leadshare.extensions import db
from leadshare.leads import idempotency, intake
from leadshare.leads.models import IdempotencyRecord, Lead
from leadshare.routing.geocode.chain import GeocodeChain
from leadshare.routing.geocode.gazetteer import Gazetteer, Place
from leadshare.routing.geocode.models import GeocodeCacheEntry
from leadshare.uow import in_unit_of_work

from ..api.lead_world import GZ_TIANHE
from .lead_world import event_types, intake_data, service_world, stored

UNKNOWN_TO_THE_GAZETTEER = "一个地名册里没有的地方"


@pytest.fixture
def world(make, ctx):
    return service_world(make)


def test_a_lead_out_of_region_is_offered_to_the_nearest_store(world):
    lead = intake.post_lead(world.users["referrer"], intake_data())
    lead = stored(lead.public_id)
    assert lead.status == "offered" and lead.share_reason == "out_of_region"
    assert event_types(lead) == ["posted", "offered"]


def test_a_lead_without_a_place_waits_as_needs_location(world):
    lead = intake.post_lead(world.users["referrer"], intake_data(location={"address": "不知道"}))
    lead = stored(lead.public_id)
    assert lead.status == "needs_location" and lead.offers_made == 0
    assert event_types(lead) == ["posted", "needs_location"]


def test_the_same_customer_again_is_refused_as_a_duplicate(world):
    first = intake.post_lead(world.users["referrer"], intake_data())
    with pytest.raises(Conflict) as refused:
        intake.post_lead(world.users["baiyun"], intake_data())
    assert refused.value.reason == "duplicate_lead"
    assert refused.value.extra == {"duplicate_of": first.public_id}
    assert db.session.scalar(select(func.count(Lead.id))) == 1


def test_a_store_that_serves_the_customer_itself_may_not_share(world):
    with pytest.raises(Conflict) as refused:
        intake.post_lead(world.users["tianhe"], intake_data())
    assert refused.value.reason == "not_shareable"
    assert db.session.scalar(select(func.count(Lead.id))) == 0


def test_a_brand_outside_the_catalogue_is_refused_with_suggestions(world):
    with pytest.raises(Invalid) as refused:
        intake.post_lead(world.users["referrer"], intake_data(brand="奥迪迪"))
    assert refused.value.reason == "unknown_brand"
    assert refused.value.extra == {"suggestions": ["奥迪"]}
    assert db.session.scalar(select(func.count(Lead.id))) == 0


def test_a_referrer_far_away_selling_the_only_brand_still_makes_it_unroutable(make, world):
    far = make.dealer(world.group, brands=["路特斯"], service_radius_km=10)  # Shenzhen
    staff = make.user(dealer=far)
    lead = intake.post_lead(staff, intake_data(brand="路特斯"))
    lead = stored(lead.public_id)
    assert lead.share_reason == "out_of_region" and lead.status == "unroutable"


def test_a_lead_no_store_reaches_goes_to_the_board_not_unroutable(world):
    data = intake_data(location={"latitude": 43.8256, "longitude": 87.6168})  # Urumqi
    lead = stored(intake.post_lead(world.users["referrer"], data).public_id)
    assert lead.status == "open"
    assert event_types(lead) == ["posted", "opened"]


def test_an_idempotent_post_stores_its_answer_with_the_lead(world):
    actor = world.users["referrer"]
    once = idempotency.Once(
        "key-1", "print", lambda lead: (201, json.dumps({"id": lead.public_id}))
    )
    lead = intake.post_lead(actor, intake_data(), idempotency=once)
    assert once.answer == (201, json.dumps({"id": lead.public_id}))
    replay = idempotency.lookup(actor, "key-1", "print")
    assert (replay.status_code, replay.body) == once.answer
    record = db.session.scalar(select(IdempotencyRecord))
    assert record.lead_id == lead.id


def test_a_refused_idempotent_post_keeps_no_reservation(world):
    once = idempotency.Once("key-2", "print", lambda lead: (201, "{}"))
    with pytest.raises(Conflict):
        intake.post_lead(world.users["tianhe"], intake_data(), idempotency=once)
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 0
    assert idempotency.lookup(world.users["tianhe"], "key-2", "print") is None


def test_a_reused_key_with_another_body_is_refused(world):
    actor = world.users["referrer"]
    intake.post_lead(actor, intake_data(), idempotency=idempotency.Once("k", "a", _answer))
    with pytest.raises(Conflict) as refused:
        idempotency.lookup(actor, "k", "b")
    assert refused.value.reason == "idempotency_key_reused"


def test_a_concurrent_holder_of_the_key_makes_the_post_give_way(world):
    actor = world.users["referrer"]
    intake.post_lead(actor, intake_data(), idempotency=idempotency.Once("k", "a", _answer))
    again = intake_data(customer={"name": "李四", "phone": "13900001111"})
    with pytest.raises(idempotency.KeyTaken):
        intake.post_lead(actor, again, idempotency=idempotency.Once("k", "a", _answer))
    assert db.session.scalar(select(func.count(Lead.id))) == 1


def _answer(lead: Lead) -> tuple[int, str]:
    return 201, "{}"


def test_fixing_the_location_routes_the_lead(world):
    actor = world.users["referrer"]
    lead = intake.post_lead(actor, intake_data(location={"address": "不知道"}))
    intake.set_location(actor, lead.public_id, {"latitude": 23.13, "longitude": 113.36})
    lead = stored(lead.public_id)
    assert lead.status == "offered" and lead.share_reason == "out_of_region"
    assert event_types(lead) == ["posted", "needs_location", "located", "offered"]


# --- network before locks -------------------------------------------------------------------


class RecordingGeocoder:
    """An online geocoder that notes, at each call, whether a unit of work was open and which
    locking or writing statements the session had sent before it."""

    def __init__(self) -> None:
        self.calls: list[tuple[bool, list[str]]] = []
        self.statements: list[str] = []

    def lookup(self, text: str) -> Place | None:
        self.calls.append((in_unit_of_work(), list(self.statements)))
        if text != UNKNOWN_TO_THE_GAZETTEER:
            return None
        return Place(
            latitude=GZ_TIANHE[0] + 0.005,
            longitude=GZ_TIANHE[1],
            precision="exact",
            province=None,
            city=None,
            district=None,
            adcode=None,
            source="online",
        )

    def saw(self, conn, cursor, statement, parameters, context, executemany) -> None:
        first, words = statement.split()[0].upper(), statement.upper()
        if first in ("INSERT", "UPDATE", "DELETE") or "FOR UPDATE" in words:
            self.statements.append(first)
        elif "PG_ADVISORY" in words:
            self.statements.append("LOCK")


@pytest.fixture
def online(app, monkeypatch):
    geocoder = RecordingGeocoder()
    chain = GeocodeChain(Gazetteer.default(), geocoder)
    monkeypatch.setitem(app.extensions, "leadshare.geocode_chain", chain)
    event.listen(Engine, "before_cursor_execute", geocoder.saw)
    yield geocoder
    event.remove(Engine, "before_cursor_execute", geocoder.saw)


def test_intake_calls_the_online_geocoder_before_any_unit_of_work_or_lock(world, online):
    data = intake_data(location={"address": UNKNOWN_TO_THE_GAZETTEER})
    once = idempotency.Once("k", "a", _answer)  # the key is reserved with an INSERT
    lead = intake.post_lead(world.users["referrer"], data, idempotency=once)
    assert online.calls == [(False, [])]
    assert stored(lead.public_id).status == "offered"
    assert any(s in ("INSERT", "UPDATE") for s in online.statements)  # the writes came after


def test_a_location_fix_calls_the_online_geocoder_before_locking_the_lead(world, online):
    actor = world.users["referrer"]
    lead = intake.post_lead(actor, intake_data(location={"address": "不知道"}))
    online.calls.clear()
    online.statements.clear()
    intake.set_location(actor, lead.public_id, {"address": UNKNOWN_TO_THE_GAZETTEER})
    assert online.calls == [(False, [])]
    assert stored(lead.public_id).status == "offered"


def test_what_the_online_geocoder_learned_is_cached_with_the_lead(world, online):
    data = intake_data(location={"address": UNKNOWN_TO_THE_GAZETTEER})
    intake.post_lead(world.users["referrer"], data)
    intake.post_lead(
        world.users["futian"],
        intake_data(
            brand="丰田",
            location={"address": UNKNOWN_TO_THE_GAZETTEER},
            customer={"name": "李四", "phone": "13900001111"},
        ),
    )
    assert len(online.calls) == 1  # the second intake read the cache
    assert db.session.scalar(select(func.count(GeocodeCacheEntry.id))) == 1
