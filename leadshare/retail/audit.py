"""The retail audit: per store, its deliveries confirmed by the OEM, unconfirmed and flagged;
and the flags group admins look into. Reads only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, exists, func, select

from ..auth.models import User
from ..auth.scope import audited_brand_keys, require_role
from ..extensions import db
from ..leads.enums import LeadStatus
from ..leads.models import Lead
from ..pagination import Page, paginate
from ..tenancy.models import Dealer
from ..vocabulary import Role
from .models import RetailFlag, RetailMatch


def audit_by_store(actor: User) -> list[dict[str, Any]]:
    """Per holding store, its deliveries with a VIN (void leads left out): how many the OEM
    confirmed, how many not (yet), how many are flagged. A group admin reads its group, an OEM
    auditor its brands' deliveries in every group; others 403."""
    group_id, brand_keys = audited_brand_keys(actor)
    confirmed = exists().where(RetailMatch.lead_id == Lead.id)
    flagged = exists().where(RetailFlag.lead_id == Lead.id)
    query = (
        select(
            Dealer.id,
            Dealer.code,
            Dealer.name,
            func.count(Lead.id),
            func.sum(case((confirmed, 1), else_=0)),
            func.sum(case((flagged, 1), else_=0)),
        )
        .join(Dealer, Dealer.id == Lead.holder_id)
        .where(
            Lead.status == LeadStatus.DELIVERED,
            Lead.vin.is_not(None),
            Lead.voided_at.is_(None),
        )
        .group_by(Dealer.id, Dealer.code, Dealer.name)
        .order_by(Dealer.code, Dealer.id)
    )
    if group_id is not None:
        query = query.where(Lead.group_id == group_id)
    if brand_keys is not None:
        query = query.where(Lead.brand_key.in_(sorted(brand_keys)))
    return [
        {
            "dealer_id": dealer_id,
            "dealer_code": code,
            "dealer": name,
            "delivered": int(delivered),
            "confirmed": int(confirmed_count or 0),
            "unconfirmed": int(delivered) - int(confirmed_count or 0),
            "flagged": int(flagged_count or 0),
        }
        for dealer_id, code, name, delivered, confirmed_count, flagged_count in db.session.execute(
            query
        )
    ]


def list_flags(actor: User, filters: dict[str, Any], page: int, per_page: int) -> Page:
    """The group's retail flags, newest first (a `kind` filter); group admins only."""
    require_role(actor, Role.GROUP_ADMIN)
    query = (
        select(RetailFlag)
        .where(RetailFlag.group_id == actor.group_id)
        .order_by(RetailFlag.created_at.desc(), RetailFlag.id.desc())
    )
    if filters.get("kind"):
        query = query.where(RetailFlag.kind == filters["kind"])
    return paginate(query, page, per_page)
