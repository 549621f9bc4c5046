"""The audit report services called directly, over a small hand-built world of leads and offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from leadshare.audit.flows import flow_report, mapped_stores
from leadshare.audit.funnel import accept_minutes, funnel_report
from leadshare.audit.lead_list import list_audit_leads
from leadshare.audit.verify import verify_range
from leadshare.auth.models import User
from leadshare.errors import Forbidden
from leadshare.extensions import db
from leadshare.leads.enums import DeclineReason, LeadStatus, OfferKind, OfferStatus
from leadshare.leads.models import Lead, Offer
from leadshare.tenancy.models import Dealer
from leadshare.vocabulary import Role, brand_key

POSTED = datetime(2024, 6, 3, 2, 0)
EVERYTHING: dict[str, Any] = {}


@dataclass
class Audited:
    stores: dict[str, Dealer]
    leads: dict[str, Lead]
    auditor: User
    toyota_auditor: User
    admin: User
    admin_b: User


def _lead(name: str, referrer: Dealer, creator: User, **kw: Any) -> Lead:
    brand = kw.pop("brand", "奥迪")
    lead = Lead(
        public_id=f"L-{name}",
        group_id=referrer.group_id,
        referrer_id=referrer.id,
        created_by_id=creator.id,
        customer_name="张三丰",
        phone="+8613800000001",
        brand=brand,
        brand_key=brand_key(brand),
        channel="livestream",
        consent_at=POSTED,
        created_at=POSTED,
        **kw,
    )
    db.session.add(lead)
    db.session.flush()
    return lead


def _offer(lead: Lead, dealer: Dealer, status: OfferStatus, **kw: Any) -> None:
    db.session.add(
        Offer(lead_id=lead.id, dealer_id=dealer.id, kind=OfferKind.ROUTED, status=status, **kw)
    )


@pytest.fixture
def audited(ctx, make) -> Audited:
    """Brand 奥迪 in group A: `delivered` (10 min to accept), `lost` (declined by GZ2, accepted
    by GZ1 in 30 min, lost with no contact), `offered` (pending at GZ1), `voided` (accepted, then
    voided); `toyota` (丰田, open) in group A; `lonely` (奥迪, unroutable) in group B."""
    group_a, group_b = make.group(), make.group()
    stores = {
        "SZ1": make.dealer(group_a, code="SZ1", brands=["奥迪"], at=(22.53, 113.93)),
        "GZ1": make.dealer(group_a, code="GZ1", brands=["奥迪"], at=(23.12, 113.36)),
        "GZ2": make.dealer(group_a, code="GZ2", brands=["奥迪", "大众"], at=(23.18, 113.27)),
        "SZ2": make.dealer(group_a, code="SZ2", brands=["丰田"], at=(22.54, 114.05)),
        "B1": make.dealer(group_b, code="B1", brands=["奥迪"], at=(22.53, 113.93)),
    }
    staff = make.user(Role.STAFF, dealer=stores["SZ1"])
    sz1, gz1, gz2 = stores["SZ1"], stores["GZ1"], stores["GZ2"]
    leads = {
        "delivered": _lead(
            "delivered",
            sz1,
            staff,
            status=LeadStatus.DELIVERED,
            holder_id=gz1.id,
            progress_rank=5,
            offers_made=1,
            accepted_at=POSTED + timedelta(minutes=10),
        ),
        "lost": _lead(
            "lost",
            sz1,
            staff,
            status=LeadStatus.LOST,
            holder_id=gz1.id,
            progress_rank=1,
            offers_made=2,
            lost_reason="unreachable",
            accepted_at=POSTED + timedelta(minutes=30),
        ),
        "offered": _lead("offered", sz1, staff, status=LeadStatus.OFFERED, offers_made=1),
        "voided": _lead(
            "voided",
            sz1,
            staff,
            status=LeadStatus.ACCEPTED,
            holder_id=gz1.id,
            progress_rank=1,
            offers_made=1,
            accepted_at=POSTED + timedelta(minutes=500),
            voided_at=POSTED + timedelta(days=1),
            void_reason="刷单",
        ),
        "toyota": _lead("toyota", sz1, staff, status=LeadStatus.OPEN, brand="丰田"),
        "lonely": _lead(
            "lonely",
            stores["B1"],
            make.user(Role.STAFF, dealer=stores["B1"]),
            status=LeadStatus.UNROUTABLE,
        ),
    }
    _offer(leads["delivered"], gz1, OfferStatus.ACCEPTED)
    _offer(leads["lost"], gz2, OfferStatus.DECLINED, decline_reason=DeclineReason.NO_STOCK)
    _offer(leads["lost"], gz1, OfferStatus.ACCEPTED)
    _offer(leads["offered"], gz1, OfferStatus.PENDING)
    _offer(leads["voided"], gz1, OfferStatus.ACCEPTED)
    db.session.flush()
    return Audited(
        stores=stores,
        leads=leads,
        auditor=make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"])),
        toyota_auditor=make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["丰田"])),
        admin=make.user(Role.GROUP_ADMIN, group=group_a),
        admin_b=make.user(Role.GROUP_ADMIN, group=group_b),
    )


def _listed(actor: User, **filters: Any) -> set[str]:
    return {lead["id"] for lead in list_audit_leads(actor, filters, 1, 100).items}


def test_an_auditor_reads_its_brands_in_every_group_and_an_admin_its_group(audited):
    everything = {"L-delivered", "L-lost", "L-offered", "L-voided"}
    assert _listed(audited.auditor) == everything | {"L-lonely"}
    assert _listed(audited.admin) == everything | {"L-toyota"}
    assert _listed(audited.admin_b) == {"L-lonely"}
    assert _listed(audited.toyota_auditor) == {"L-toyota"}
    assert _listed(audited.auditor, brand="丰田") == set()  # not one of its brands
    assert _listed(audited.admin, brand="丰田") == {"L-toyota"}


def test_listed_leads_are_masked(audited):
    (lead,) = list_audit_leads(audited.admin_b, {}, 1, 10).items
    assert lead["customer"]["masked"] is True and "13800000001" not in lead["customer"]["phone"]


def test_the_funnel_of_the_hand_built_world(audited):
    total = funnel_report(audited.auditor, EVERYTHING)["total"]
    assert total["counts"] == {
        "posted": 4,
        "offered": 3,
        "accepted": 2,
        "contacted": 1,
        "visited": 1,
        "ordered": 1,
        "delivered": 1,
        "lost": 1,
        "open": 0,
        "unroutable": 1,
        "withdrawn": 0,
        "returned": 0,
        "lost_without_contact": 1,
    }
    assert total["rates"]["posted_to_offered"] == 0.75
    assert total["rates"]["offered_to_accepted"] == 0.6667
    assert total["rates"]["posted_to_delivered"] == 0.25
    assert total["time_to_accept"] == {"accepted": 2, "median_minutes": 20.0, "p90_minutes": 28.0}
    offers = total["offers"]
    assert (offers["made"], offers["pending"], offers["accepted"], offers["declined"]) == (
        4,
        1,
        2,
        1,
    )
    assert (offers["resolved"], offers["expired_share"], offers["declined_share"]) == (
        3,
        0.0,
        0.3333,
    )
    assert offers["decline_reasons"] == [{"reason": "no_stock", "count": 1, "share": 1.0}]
    assert total["lost_reasons"] == [{"reason": "unreachable", "count": 1, "share": 1.0}]


def test_the_funnel_loses_per_holder_and_groups_by_key(audited):
    report = funnel_report(audited.admin, EVERYTHING, "dealer")
    (holder,) = report["lost_by_holder"]
    assert holder["holder"]["code"] == "GZ1"
    assert (holder["held"], holder["lost"], holder["lost_share"]) == (2, 1, 0.5)
    assert holder["lost_without_contact"] == 1
    offered = {(row["key"] or {}).get("code"): row["offers"]["made"] for row in report["rows"]}
    assert offered == {"GZ1": 3, "GZ2": 1, None: 0}  # offers by store offered; None: not held
    assert funnel_report(audited.admin, EVERYTHING)["total"]["counts"]["open"] == 1


def test_time_to_accept_counts_accepted_leads_that_are_not_voided(audited):
    assert sorted(accept_minutes(audited.auditor, EVERYTHING)) == [10.0, 30.0]
    assert accept_minutes(audited.admin_b, EVERYTHING) == []


def test_flows_count_offers_per_referrer_and_store_and_the_reciprocity(audited):
    report = flow_report(audited.auditor, EVERYTHING)
    cells = {(c["from"]["code"], c["to"]["code"]): c for c in report["cells"]}
    assert set(cells) == {("SZ1", "GZ1"), ("SZ1", "GZ2")}
    gz1 = cells[("SZ1", "GZ1")]
    assert (gz1["leads"], gz1["accepted"], gz1["delivered"]) == (3, 2, 1)
    assert cells[("SZ1", "GZ2")]["accepted"] == 0
    (pair,) = report["pairs"]
    assert (pair["a"]["code"], pair["b"]["code"], pair["balance"]) == ("SZ1", "GZ1", 2)


def test_the_flow_map_places_only_stores_in_the_readers_scope(audited):
    stores = audited.stores
    every = [store.id for store in stores.values()]

    def codes(actor: User) -> set[str]:
        return {store.code for store in mapped_stores(actor, every)}

    assert codes(audited.auditor) == {"SZ1", "GZ1", "GZ2", "B1"}  # the stores selling 奥迪
    assert codes(audited.toyota_auditor) == {"SZ2"}
    assert codes(audited.admin) == {"SZ1", "GZ1", "GZ2", "SZ2"}  # not group B's store
    assert codes(audited.admin_b) == {"B1"}
    assert {s.code for s in mapped_stores(audited.auditor, [stores["GZ1"].id])} == {"GZ1"}


def test_range_verification_checks_the_leads_in_scope_created_in_the_range(audited):
    day = (POSTED - timedelta(hours=1), POSTED + timedelta(hours=1))
    assert verify_range(audited.admin_b, *day)["checked"] == 1
    assert verify_range(audited.auditor, *day)["checked"] == 5
    assert verify_range(
        audited.auditor, POSTED + timedelta(hours=1), POSTED + timedelta(days=1)
    ) == {
        "checked": 0,
        "broken": [],
    }


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER, Role.PLATFORM_ADMIN])
def test_other_roles_may_not_read_audit_reports(audited, make, role):
    store = audited.stores["SZ1"]
    actor = make.user(role, dealer=store) if role in (Role.STAFF, Role.MANAGER) else make.user(role)
    for report in (funnel_report, flow_report):
        with pytest.raises(Forbidden):
            report(actor, EVERYTHING)
    with pytest.raises(Forbidden):
        mapped_stores(actor, [store.id])
