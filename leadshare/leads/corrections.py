"""The referrer puts a shared lead right (issue 15): brand, model and location, then routing again.

Only while no store holds the lead and it is `needs_location`, `unroutable` or `open` (states.py
decides). Like intake, the place is located before the unit of work that locks the lead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..auth.models import User
from ..brands import service as brands
from ..clock import utcnow
from ..errors import Conflict, Forbidden, Invalid
from ..routing.geocode.gazetteer import Place
from ..uow import unit_of_work
from ..vocabulary import DEALER_ROLES, brand_key
from .access import visible
from .enums import EventType, LeadStatus
from .events import append_event
from .intake import locate, location_data, not_shareable, refuse_ambiguous, set_place, share_reason
from .models import Lead
from .offers import route_next
from .states import CorrectionRefusal, correction_refusal

REFUSALS = {
    CorrectionRefusal.LEAD_HELD: "A store holds this lead now: only it can change the lead.",
    CorrectionRefusal.NOT_CORRECTABLE: "A lead that is %s cannot be corrected any more.",
}


def correct_lead(
    actor: User, public_id: str, data: Mapping[str, Any], now: datetime | None = None
) -> Lead:
    """The referrer corrects brand, model and/or location; the lead is routed again when it has
    a place. Every change is on the trail (`corrected`, with what changed from what)."""
    now = now or utcnow()
    shown = visible(actor, public_id)
    _may_correct(actor, shown)
    if data.get("brand"):  # through the group's catalogue: an alias, or 422 unknown_brand
        data = {**data, "brand": brands.group_brand(shown.group_id, data["brand"])}
    if data.get("location"):
        refuse_ambiguous(data["location"], "location.address")
    place = locate(data["location"]) if data.get("location") else None
    if data.get("location") and place is None:
        raise Invalid(
            "location.address",
            "This address could not be located; give latitude and longitude.",
            reason="address_not_found",
        )
    with unit_of_work():
        lead = visible(actor, public_id, lock=True)
        _may_correct(actor, lead)
        _apply(actor, lead, data, place, now)
    return lead


def _may_correct(actor: User, lead: Lead) -> None:
    if actor.role not in DEALER_ROLES or actor.dealer_id != lead.referrer_id:
        raise Forbidden(
            "Only the store that posted the lead may correct it.", reason="not_referrer"
        )
    refusal = correction_refusal(lead.status, held=lead.holder_id is not None)
    if refusal == CorrectionRefusal.LEAD_HELD:
        raise Conflict(REFUSALS[refusal], reason=refusal.value)
    if refusal is not None:
        raise Conflict(
            REFUSALS[refusal] % lead.status, reason=refusal.value, lead_status=lead.status
        )


def _changes(lead: Lead, data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What the correction changes, as {field: {"from": old, "to": new}}."""
    changes = {}
    if data.get("brand") and brand_key(data["brand"]) != lead.brand_key:
        changes["brand"] = {"from": lead.brand, "to": data["brand"]}
    if "model" in data and (data["model"] or None) != lead.model:
        changes["model"] = {"from": lead.model, "to": data["model"] or None}
    return changes


def _apply(
    actor: User, lead: Lead, data: Mapping[str, Any], place: Place | None, now: datetime
) -> None:
    changes = _changes(lead, data)
    before = location_data(lead)
    if "brand" in changes:
        lead.brand, lead.brand_key = data["brand"], brand_key(data["brand"])
    if "model" in changes:
        lead.model = changes["model"]["to"]
    if place is not None:
        lead.address = data["location"].get("address") or lead.address
        set_place(lead, place)
        changes["location"] = {"from": before, "to": location_data(lead)}
    if not changes:
        raise Invalid(
            "brand",
            "Nothing to correct: give a new brand, model or location.",
            reason="nothing_to_correct",
        )
    if lead.latitude is not None:
        reason = share_reason(lead.referrer, lead.brand, _lead_place(lead))
        if reason is None:
            raise not_shareable()
        lead.share_reason = reason
    append_event(
        lead,
        EventType.CORRECTED,
        at=now,
        actor=actor,
        dealer_id=lead.referrer_id,
        data={"changes": changes, "share_reason": lead.share_reason},
    )
    if lead.latitude is None:
        return
    if lead.status == LeadStatus.NEEDS_LOCATION:
        append_event(
            lead,
            EventType.LOCATED,
            at=now,
            actor=actor,
            dealer_id=lead.referrer_id,
            data={"share_reason": lead.share_reason, "location": location_data(lead)},
        )
    route_next(lead, now)


def _lead_place(lead: Lead) -> Place:
    return Place(
        latitude=lead.latitude,
        longitude=lead.longitude,
        precision=lead.geo_precision,
        province=lead.province,
        city=lead.city,
        district=lead.district,
        adcode=lead.adcode,
        source=lead.geo_source,
    )
