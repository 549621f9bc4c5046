"""The audit lead list: the leads in the reader's scope that match the filters, contacts masked."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import joinedload

from ..auth.models import User
from ..extensions import db
from ..leads.contact import mask_name, mask_phone, mask_wechat
from ..leads.models import Lead
from ..pagination import Page
from ..tenancy.models import Dealer, Group
from .figures import LADDER, minutes_to_accept
from .query import lead_conditions, ref, scope_conditions, tune_for_reports


def _lead_select(conditions: Sequence[ColumnElement[bool]]) -> Select:
    return (
        select(Lead)
        .options(joinedload(Lead.group), joinedload(Lead.referrer), joinedload(Lead.holder))
        .where(*conditions)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
    )


def list_audit_leads(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    """One page of the leads in scope that match the filters, newest first, contacts masked."""
    tune_for_reports()
    conditions = lead_conditions(actor, filters)
    total = db.session.scalar(select(func.count(Lead.id)).where(*conditions)) or 0
    leads = db.session.scalars(
        _lead_select(conditions).limit(per_page).offset((page - 1) * per_page)
    )
    items = [audit_lead(lead) for lead in leads]
    return Page(items=items, page=page, per_page=per_page, total=total)


def iter_audit_leads(actor: User, filters: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every matching lead, fetched in batches (for CSV); the scope is checked before streaming."""
    query = _lead_select(lead_conditions(actor, filters)).execution_options(yield_per=1000)

    def rows() -> Iterator[dict[str, Any]]:
        for lead in db.session.scalars(query):
            yield audit_lead(lead)

    return rows()


def groups_in_scope(actor: User) -> list[tuple[int, str]]:
    """The groups that have leads in the reader's audit scope, by name: the list's group filter."""
    query = (
        select(Group.id, Group.name)
        .where(Group.id.in_(select(Lead.group_id).where(*scope_conditions(actor)).distinct()))
        .order_by(Group.name)
    )
    return [(group_id, name) for group_id, name in db.session.execute(query)]


def _dealer_ref(dealer: Dealer | None) -> dict[str, Any] | None:
    return None if dealer is None else ref(dealer.id, dealer.code, dealer.name)


def audit_lead(lead: Lead) -> dict[str, Any]:
    """A lead as auditors see it: contact details always masked, no address, no notes."""
    return {
        "id": lead.public_id,
        "status": lead.status,
        "stage_reached": LADDER[lead.progress_rank - 1] if lead.progress_rank else None,
        "share_reason": lead.share_reason,
        "brand": lead.brand,
        "model": lead.model,
        "channel": lead.channel,
        "campaign": lead.campaign,
        "group": ref(lead.group.id, lead.group.code, lead.group.name),
        "timezone": lead.group.timezone,
        "referrer": _dealer_ref(lead.referrer),
        "holder": _dealer_ref(lead.holder),
        "customer": {
            "name": mask_name(lead.customer_name),
            "phone": mask_phone(lead.phone),
            "wechat_id": mask_wechat(lead.wechat_id),
            "masked": True,
        },
        "location": {
            "province": lead.province,
            "city": lead.city,
            "district": lead.district,
            "adcode": lead.adcode,
            "precision": lead.geo_precision,
        },
        "offers_made": lead.offers_made,
        "lost_reason": lead.lost_reason,
        "created_at": lead.created_at,
        "accepted_at": lead.accepted_at,
        "minutes_to_accept": minutes_to_accept(lead.created_at, lead.accepted_at),
        "voided_at": lead.voided_at,
        "void_reason": lead.void_reason,
    }
