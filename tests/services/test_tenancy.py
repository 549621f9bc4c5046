"""Tenancy services called directly: dealers and their brands, a store's fixed group, scope
refusals, the pages' lookups, and the geocoder asked before any unit of work opens."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadshare.errors import Conflict, Forbidden, Invalid, NotFound
from leadshare.extensions import db
from leadshare.routing.geocode.chain import GeocodeChain
from leadshare.routing.geocode.gazetteer import Gazetteer, Place
from leadshare.tenancy import service
from leadshare.tenancy.models import Dealer
from leadshare.uow import in_unit_of_work
from leadshare.vocabulary import Role

NANSHAN = {"latitude": 22.53, "longitude": 113.93}
NOWHERE = "Nowhere Lane 42"  # the gazetteer knows no such place, so the online step is asked


def dealer_data(**kw):
    return {"code": "SZ1", "name": "深圳南山店", "brands": ["奥迪", "宝马"], **NANSHAN, **kw}


class RecordingGeocoder:
    """An online geocoder that notes, at each call, whether a unit of work was open and whether
    the session held rows waiting to be written."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def lookup(self, text: str) -> Place:
        session = db.session()
        self.calls.append(
            {
                "address": text,
                "in_unit_of_work": in_unit_of_work(session),
                "pending_rows": bool(session.new or session.dirty or session.deleted),
            }
        )
        return Place(30.27, 120.15, "exact", None, None, None, None, source="fake")


@pytest.fixture
def online(app, monkeypatch) -> RecordingGeocoder:
    fake = RecordingGeocoder()
    chain = GeocodeChain(Gazetteer.default(), fake)
    monkeypatch.setitem(app.extensions, "leadshare.geocode_chain", chain)
    return fake


def outside_any_unit_of_work(calls: list[dict]) -> bool:
    return bool(calls) and not any(c["in_unit_of_work"] or c["pending_rows"] for c in calls)


def test_a_new_dealer_keeps_its_brands_in_order_and_gets_its_district(ctx, make):
    admin = make.user(Role.GROUP_ADMIN, group=make.group())
    dealer = service.create_dealer(admin, dealer_data(brands=["宝马", "奥迪", "宝马"]))
    assert dealer.group_id == admin.group_id and dealer.brands == ["宝马", "奥迪"]
    assert dealer.geo_precision == "exact" and dealer.adcode.startswith("4403")
    assert db.session.get(Dealer, dealer.id) is dealer


def test_a_second_dealer_with_the_same_code_is_code_taken(ctx, make):
    admin = make.user(Role.GROUP_ADMIN, group=make.group())
    service.create_dealer(admin, dealer_data())
    with pytest.raises(Conflict) as refused:
        service.create_dealer(admin, dealer_data(name="又一家"))
    assert refused.value.reason == "code_taken"


def test_a_stores_group_is_fixed_once_created(ctx, make):
    group = make.group()
    dealer = make.dealer(group)
    admin = make.user(Role.PLATFORM_ADMIN)
    with pytest.raises(Invalid) as refused:
        service.update_dealer(admin, dealer.id, {"group_id": make.group().id})
    assert refused.value.reason == "immutable_field"
    assert db.session.get(Dealer, dealer.id).group_id == group.id


def test_a_group_admin_cannot_create_a_store_in_another_group(ctx, make):
    admin = make.user(Role.GROUP_ADMIN, group=make.group())
    with pytest.raises(Invalid) as refused:
        service.create_dealer(admin, dealer_data(group_id=make.group().id))
    assert refused.value.reason == "unknown_group"


def test_staff_may_not_create_a_store(ctx, make):
    staff = make.user(Role.STAFF, dealer=make.dealer(make.group()))
    with pytest.raises(Forbidden) as refused:
        service.create_dealer(staff, dealer_data())
    assert refused.value.reason == "role_not_allowed"


def test_another_groups_store_is_not_found(ctx, make):
    admin = make.user(Role.GROUP_ADMIN, group=make.group())
    other = make.dealer(make.group())
    with pytest.raises(NotFound):
        service.get_dealer(admin, other.id)
    with pytest.raises(NotFound):
        service.update_dealer(admin, other.id, {"name": "改名"})


def test_a_manager_changes_only_the_operating_settings_of_its_own_store(ctx, make):
    group = make.group()
    store = make.dealer(group)
    manager = make.user(Role.MANAGER, dealer=store)
    changed = service.update_dealer(manager, store.id, {"daily_capacity": 3})
    assert changed.daily_capacity == 3
    with pytest.raises(Forbidden) as refused:
        service.update_dealer(manager, store.id, {"name": "改名"})
    assert refused.value.reason == "field_not_allowed"
    neighbour = make.dealer(group)
    with pytest.raises(Forbidden) as refused:
        service.update_dealer(manager, neighbour.id, {"daily_capacity": 3})
    assert refused.value.reason == "role_not_allowed"


def test_the_pages_lookups_refuse_another_group(ctx, make):
    group, other = make.group(), make.group()
    make.dealer(group, brands=["丰田"])
    make.dealer(other, brands=["宝马"])
    admin = make.user(Role.GROUP_ADMIN, group=group)
    assert service.group_brands(admin, group.id) == ["丰田"]
    assert [d.group_id for d in service.group_dealers(admin, group.id)] == [group.id]
    with pytest.raises(NotFound):
        service.group_brands(admin, other.id)
    with pytest.raises(NotFound):
        service.group_dealers(admin, other.id)


def test_store_names_are_told_only_within_the_readers_scope(ctx, make):
    own, foreign = make.dealer(make.group()), make.dealer(make.group())
    staff = make.user(Role.STAFF, dealer=own)
    auditor = make.user(Role.OEM_AUDITOR, oem=make.oem())
    assert [row.id for row in service.dealer_labels(staff, [own.id, foreign.id])] == [own.id]
    assert {row.id for row in service.dealer_labels(auditor, [own.id, foreign.id])} == {
        own.id,
        foreign.id,
    }


def test_an_oems_brands_are_for_its_own_auditors(ctx, make):
    oem = make.oem(brands=["大众", "奥迪"])
    assert service.oem_brands(make.user(Role.OEM_AUDITOR, oem=oem), oem.id) == ["大众", "奥迪"]
    with pytest.raises(NotFound):
        service.oem_brands(make.user(Role.OEM_AUDITOR, oem=make.oem()), oem.id)


def test_a_new_stores_address_is_geocoded_before_the_unit_of_work_opens(ctx, make, online):
    admin = make.user(Role.GROUP_ADMIN, group=make.group())
    data = {"code": "HZ1", "name": "杭州店", "brands": ["丰田"], "address": NOWHERE}
    dealer = service.create_dealer(admin, data)
    assert [c["address"] for c in online.calls] == [NOWHERE]
    assert outside_any_unit_of_work(online.calls)
    assert (dealer.latitude, dealer.longitude, dealer.geo_precision) == (30.27, 120.15, "exact")


def test_a_changed_address_is_geocoded_before_the_unit_of_work_opens(ctx, make, online):
    group = make.group()
    dealer = make.dealer(group)
    changed = service.update_dealer(
        make.user(Role.GROUP_ADMIN, group=group), dealer.id, {"address": NOWHERE}
    )
    assert outside_any_unit_of_work(online.calls) and changed.latitude == 30.27


def test_an_import_locates_every_row_before_it_writes_any(ctx, make, online):
    group = make.group(code="IMPORT")
    make.dealer(group, code="OLD")
    rows = [
        (2, {"code": "NEW", "name": "新店", "brands": ["丰田"], "address": NOWHERE}),
        (3, {"code": "OLD", "name": "老店", "address": NOWHERE + " 2"}),
        (4, {"code": "BAD", "name": "坏店", "brands": ["丰田"], "address": "qwertyuiop"}),
    ]
    online_answers = online.lookup
    online.lookup = lambda text: None if text == "qwertyuiop" else online_answers(text)
    outcomes = service.import_dealers("IMPORT", rows)
    assert outcomes == {
        2: ("created", ""),
        3: ("updated", ""),
        4: ("rejected", "address: This address could not be located; give latitude and longitude."),
    }
    assert len(online.calls) == 2 and outside_any_unit_of_work(online.calls)
    names = db.session.scalars(select(Dealer.name).where(Dealer.group_id == group.id))
    assert sorted(names) == ["新店", "老店"]


def test_an_import_into_an_unknown_group_is_not_found(ctx):
    with pytest.raises(NotFound):
        service.import_dealers("NOPE", [])
