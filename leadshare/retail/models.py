"""Retail tables: the dealer codes an OEM knows each store by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from ..tenancy.models import Oem


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
