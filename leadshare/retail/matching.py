"""Matching the OEM's retail rows to deliveries, in both orders, and flagging what does not fit.

A delivery (a lead delivered with a VIN) is confirmed by a good report row with its VIN for its
holder (the holder's code with that OEM) whose retail date is within the group's
`retail_match_days` of the day of the delivery; only the OEM's own brands count, and a group
admin's report only that group's leads. A report imported later confirms past deliveries
(`match_rows`); a delivery recorded later finds the reports already imported (the lead-event
handler below, one indexed query). The same VIN delivered twice in a group, and a VIN reported
for another store than the holder, are flagged to the group's admins. Confirmations and flags
are events on the lead's trail; a confirmation releases the credits that waited for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, Integer, String, cast, delete, func, literal, null, or_, select

from ..auth.models import User
from ..clock import local_date
from ..extensions import db
from ..leads.enums import EventType, LeadStatus
from ..leads.events import append_event, on_event
from ..leads.models import Lead, LeadEvent
from ..rewards import credits as _credits  # noqa: F401 - its handler first: credits exist to confirm
from ..rewards.holds import confirm_retail_credits
from ..tenancy.models import OemBrand
from .enums import FlagKind, RowStatus
from .models import RetailFlag, RetailMatch, RetailReport, RetailReportRow
from .rules import within_match_window


@dataclass(frozen=True)
class Reported:
    """A good report row as matching needs it."""

    row_id: int
    vin: str
    row_number: int
    report_id: int
    dealer_id: int
    retail_date: date
    uploaded_by_id: int | None


@dataclass
class Outcome:
    confirmed: int = 0
    flagged: int = 0


def _confirm(
    lead: Lead, row: Reported, delivered_at: datetime, actor: User | None, now: datetime
) -> None:
    db.session.add(
        RetailMatch(
            lead_id=lead.id,
            row_id=row.row_id,
            report_id=row.report_id,
            dealer_id=lead.holder_id,
            delivered_at=delivered_at,
            retail_date=row.retail_date,
            confirmed_at=now,
        )
    )
    append_event(
        lead,
        EventType.RETAIL_CONFIRMED,
        at=now,
        actor=actor,
        dealer_id=lead.holder_id,
        data={
            "vin": lead.vin,
            "report_id": row.report_id,
            "row": row.row_number,
            "retail_date": row.retail_date.isoformat(),
        },
    )
    confirm_retail_credits(lead, now)


def _flag(
    lead: Lead,
    kind: FlagKind,
    actor: User | None,
    now: datetime,
    *,
    other_dealer_id: int | None,
    row: Reported | None = None,
    other_lead: Lead | None = None,
) -> bool:
    """Flag the lead once per kind and cause (the report row, or the other delivery)."""
    ref = f"row:{row.row_id}" if row is not None else f"lead:{other_lead.id}"
    seen = db.session.scalar(
        select(RetailFlag.id).where(
            RetailFlag.lead_id == lead.id, RetailFlag.kind == kind, RetailFlag.ref == ref
        )
    )
    if seen is not None:
        return False
    db.session.add(
        RetailFlag(
            group_id=lead.group_id,
            lead_id=lead.id,
            kind=kind,
            ref=ref,
            vin=lead.vin,
            holder_id=lead.holder_id,
            other_dealer_id=other_dealer_id,
            other_lead_id=other_lead.id if other_lead is not None else None,
            row_id=row.row_id if row is not None else None,
            created_at=now,
        )
    )
    data: dict[str, object] = {"kind": kind.value, "vin": lead.vin, "dealer_id": other_dealer_id}
    if row is not None:
        data.update(report_id=row.report_id, row=row.row_number)
    if other_lead is not None:
        data["other_lead_id"] = other_lead.public_id
    append_event(
        lead, EventType.RETAIL_FLAGGED, at=now, actor=actor, dealer_id=lead.holder_id, data=data
    )
    return True


def _settle(
    lead: Lead,
    rows: Sequence[Reported],
    delivered_at: datetime,
    actor_of,
    now: datetime,
    matched: bool,
) -> Outcome:
    """Confirm the delivery by the first row for its holder within the window (unless it is
    confirmed already) and flag every row for another store."""
    outcome = Outcome()
    delivered_on = local_date(delivered_at, lead.group.timezone)
    for row in rows:
        if row.dealer_id != lead.holder_id:
            outcome.flagged += _flag(
                lead,
                FlagKind.OTHER_STORE,
                actor_of(row),
                now,
                other_dealer_id=row.dealer_id,
                row=row,
            )
        elif not matched and within_match_window(
            delivered_on, row.retail_date, lead.group.retail_match_days
        ):
            _confirm(lead, row, delivered_at, actor_of(row), now)
            matched = True
            outcome.confirmed += 1
    return outcome


def match_rows(
    report: RetailReport, rows: Sequence[Reported], actor: User, now: datetime
) -> Outcome:
    """A report's good rows (each naming a store) against the deliveries already recorded (at
    import, in its unit of work): the leads are locked in id order before their trails grow."""
    by_vin = {row.vin: row for row in rows}
    outcome = Outcome()
    if not by_vin:
        return outcome
    query = (
        select(Lead)
        .where(
            Lead.vin.in_(sorted(by_vin)),
            Lead.status == LeadStatus.DELIVERED,
            Lead.voided_at.is_(None),
            Lead.brand_key.in_(select(OemBrand.key).where(OemBrand.oem_id == report.oem_id)),
        )
        .order_by(Lead.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if report.group_id is not None:
        query = query.where(Lead.group_id == report.group_id)
    leads = list(db.session.scalars(query))
    if not leads:
        return outcome
    ids = [lead.id for lead in leads]
    delivered = dict(
        db.session.execute(
            select(LeadEvent.lead_id, func.max(LeadEvent.at))
            .where(LeadEvent.lead_id.in_(ids), LeadEvent.type == EventType.DELIVERED)
            .group_by(LeadEvent.lead_id)
        ).all()
    )
    matched = set(
        db.session.scalars(select(RetailMatch.lead_id).where(RetailMatch.lead_id.in_(ids)))
    )
    for lead in leads:
        done = _settle(
            lead,
            [by_vin[lead.vin]],
            delivered[lead.id],
            lambda _row: actor,
            now,
            lead.id in matched,
        )
        outcome.confirmed += done.confirmed
        outcome.flagged += done.flagged
    return outcome


def _reported_and_delivered(lead: Lead):
    """One statement: the good report rows with the lead's VIN for the OEM of its brand (the
    group's, or every group's), and the group's other deliveries of the VIN."""
    rows = (
        select(
            literal("row", String).label("kind"),
            RetailReportRow.id.label("id"),
            RetailReportRow.vin.label("vin"),
            RetailReportRow.row_number.label("row_number"),
            RetailReportRow.report_id.label("report_id"),
            RetailReportRow.dealer_id.label("dealer_id"),
            RetailReportRow.retail_date.label("retail_date"),
            RetailReport.uploaded_by_id.label("uploaded_by_id"),
        )
        .join(RetailReport, RetailReport.id == RetailReportRow.report_id)
        .where(
            RetailReportRow.vin == lead.vin,
            RetailReportRow.status == RowStatus.GOOD,
            RetailReportRow.dealer_id.is_not(None),
            RetailReport.oem_id.in_(select(OemBrand.oem_id).where(OemBrand.key == lead.brand_key)),
            or_(RetailReport.group_id.is_(None), RetailReport.group_id == lead.group_id),
        )
    )
    others = select(
        literal("lead", String),
        Lead.id,
        Lead.vin,
        cast(null(), Integer),
        cast(null(), Integer),
        Lead.holder_id,
        cast(null(), Date),
        cast(null(), Integer),
    ).where(
        Lead.vin == lead.vin,
        Lead.group_id == lead.group_id,
        Lead.id != lead.id,
        Lead.status == LeadStatus.DELIVERED,
        Lead.voided_at.is_(None),
    )
    return db.session.execute(rows.union_all(others).order_by("kind", "id")).all()


@on_event
def _retail_on_lead_event(lead: Lead, event: LeadEvent) -> None:
    """A delivery with a VIN meets the reports already imported and the group's other
    deliveries; undoing a delivery forgets its confirmation (the trail keeps both)."""
    if event.type == EventType.DELIVERED and lead.vin and lead.voided_at is None:
        found = _reported_and_delivered(lead)
        if not found:
            return
        actor = db.session.get(User, event.actor_id) if event.actor_id else None
        for kind, other_id, *_ in found:
            if kind == "lead":
                other = db.session.get(Lead, other_id)
                _flag(
                    lead,
                    FlagKind.DUPLICATE_DELIVERY,
                    actor,
                    event.at,
                    other_dealer_id=other.holder_id,
                    other_lead=other,
                )
        rows = [Reported(*values[1:]) for values in found if values[0] == "row"]
        _settle(
            lead,
            rows,
            event.at,
            lambda row: db.session.get(User, row.uploaded_by_id) if row.uploaded_by_id else None,
            event.at,
            matched=False,
        )
    elif event.type == EventType.PROGRESS_UNDONE and LeadStatus.DELIVERED in event.data["undone"]:
        db.session.execute(delete(RetailMatch).where(RetailMatch.lead_id == lead.id))
