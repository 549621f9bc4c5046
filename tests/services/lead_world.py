"""The lead world of the API tests, built without tokens, and small helpers for service tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from leadshare.extensions import db
from leadshare.leads.contact import normalise_phone
from leadshare.leads.models import Lead, LeadEvent, Offer

from ..api.lead_world import World, build_world, lead_payload


def service_world(make, **group_settings: Any) -> World:
    return build_world(make, lambda user: {}, **group_settings)


def intake_data(**overrides: Any) -> dict[str, Any]:
    """A parsed lead as LeadCreateSchema hands it to the service."""
    data = lead_payload(**overrides)
    customer = data["customer"]
    data["customer"] = {**customer, "phone": normalise_phone(customer["phone"])}
    data.pop("consent_to_share")
    return data


def stored(public_id: str) -> Lead:
    """The lead as the database has it now."""
    return db.session.scalar(
        select(Lead).where(Lead.public_id == public_id).execution_options(populate_existing=True)
    )


def event_types(lead: Lead) -> list[str]:
    return list(
        db.session.scalars(
            select(LeadEvent.type).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.seq)
        )
    )


def offers_of(lead: Lead) -> list[tuple[int, str]]:
    """(dealer id, status) of every offer of the lead, oldest first."""
    rows = db.session.execute(
        select(Offer.dealer_id, Offer.status)
        .where(Offer.lead_id == lead.id)
        .order_by(Offer.id)
        .execution_options(populate_existing=True)
    )
    return [(dealer_id, status) for dealer_id, status in rows]


def last_event(lead: Lead) -> LeadEvent:
    return db.session.scalar(
        select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.seq.desc())
    )
