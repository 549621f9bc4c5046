"""Retail tables: the dealer codes an OEM knows each store by, the OEM's retail reports and
their rows, the deliveries they confirm and the flags they raise."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db
from ..leads.models import Lead
from ..tenancy.models import Dealer, Oem

Index("ix_leads_vin", Lead.__table__.c.vin, Lead.__table__.c.group_id, Lead.__table__.c.status)
"""A report's VINs find their deliveries, and a delivery the group's others of its VIN (the
leads table is the leads domain's; the index is the retail matching's). Status and group are in
it so that no planner prefers the group's whole status index for the second."""


class DealerOemCode(db.Model):
    """The code an OEM's retail reports name a store by: one per store and OEM, and an OEM's
    code names one store only (both by constraint)."""

    __tablename__ = "dealer_oem_codes"
    __table_args__ = (
        UniqueConstraint("oem_id", "code"),
        UniqueConstraint("dealer_id", "oem_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id", ondelete="CASCADE"))
    oem_id: Mapped[int] = mapped_column(ForeignKey("oems.id"))
    code: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    oem: Mapped[Oem] = relationship()


class RetailReport(db.Model):
    """One upload of an OEM's retail report. The same bytes uploaded again in the same scope
    (the OEM, or the OEM and one group) are the same report: (scope, sha256) is unique."""

    __tablename__ = "retail_reports"
    __table_args__ = (
        UniqueConstraint("scope", "sha256"),
        Index("ix_retail_reports_oem_created", "oem_id", "created_at"),
        Index("ix_retail_reports_group_created", "group_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    oem_id: Mapped[int] = mapped_column(ForeignKey("oems.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    """A group admin's upload names that group's stores only; an OEM auditor's every group's."""
    scope: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """None for an import at the console (`flask leadshare retail-import`)."""
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_good: Mapped[int] = mapped_column(default=0)
    rows_bad: Mapped[int] = mapped_column(default=0)
    rows_duplicate: Mapped[int] = mapped_column(default=0)
    confirmed: Mapped[int] = mapped_column(default=0)
    """Deliveries this report confirmed when it was imported."""
    flagged: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    oem: Mapped[Oem] = relationship()
    uploaded_by: Mapped[User | None] = relationship()


class RetailReportRow(db.Model):
    """One line of a report as read: good rows confirm deliveries, the others say why not."""

    __tablename__ = "retail_report_rows"
    __table_args__ = (
        Index("ix_retail_report_rows_report_row", "report_id", "row_number"),
        Index("ix_retail_report_rows_vin_status", "vin", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("retail_reports.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    """The line of the file (the header is line 1)."""
    vin: Mapped[str] = mapped_column(String(40))
    dealer_code: Mapped[str] = mapped_column(String(50))
    retail_date: Mapped[date | None]
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"))
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(String(200))

    dealer: Mapped[Dealer | None] = relationship()


class RetailMatch(db.Model):
    """A delivery the OEM's retail record confirms: one per lead (by constraint)."""

    __tablename__ = "retail_matches"
    __table_args__ = (UniqueConstraint("lead_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    row_id: Mapped[int] = mapped_column(ForeignKey("retail_report_rows.id"))
    report_id: Mapped[int] = mapped_column(ForeignKey("retail_reports.id"))
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    delivered_at: Mapped[datetime]
    retail_date: Mapped[date]
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetailFlag(db.Model):
    """Something group admins look into: a VIN delivered twice in the group, or reported for
    another store. Once per lead, kind and cause (`ref`: the other lead or the report row)."""

    __tablename__ = "retail_flags"
    __table_args__ = (
        UniqueConstraint("lead_id", "kind", "ref"),
        Index("ix_retail_flags_group_created", "group_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(40))
    vin: Mapped[str] = mapped_column(String(17))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"))
    other_dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"))
    """The store the OEM reported the VIN for, or the holder of the other delivery."""
    other_lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    row_id: Mapped[int | None] = mapped_column(ForeignKey("retail_report_rows.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship(foreign_keys=[lead_id])
    other_lead: Mapped[Lead | None] = relationship(foreign_keys=[other_lead_id])
    holder: Mapped[Dealer | None] = relationship(foreign_keys=[holder_id])
    other_dealer: Mapped[Dealer | None] = relationship(foreign_keys=[other_dealer_id])
