"""Tenancy tables: groups, OEMs and their brands, dealers with their brands and regions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from ..vocabulary import brand_key


class Group(db.Model):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(50), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    offer_ttl_minutes: Mapped[int] = mapped_column(default=120)
    max_offers_per_lead: Mapped[int] = mapped_column(default=5)
    dedup_window_days: Mapped[int] = mapped_column(default=90)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Store hours and service levels (issue 14): no opening_hours is open around the clock.
    opening_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    contact_sla_minutes: Mapped[int] = mapped_column(default=60)
    skip_closed_over_hours: Mapped[int | None] = mapped_column(default=72)
    release_on_missed_contact: Mapped[bool] = mapped_column(default=False)
    visit_sla_days: Mapped[int | None]
    sla_remind_at: Mapped[float] = mapped_column(default=0.8)
    # Returns and disputes (issue 17).
    return_window_days: Mapped[int] = mapped_column(default=7)
    dispute_window_hours: Mapped[int] = mapped_column(default=72)
    max_return_rate: Mapped[float] = mapped_column(default=0.2)
    # OEM retail confirmation (issue 17): a retail date this many days from a delivery confirms it.
    retail_match_days: Mapped[int] = mapped_column(default=30, server_default="30")
    # Privacy (issue 20): how long personal data is kept, when contact views alert, consent.
    retention_days: Mapped[int] = mapped_column(default=365)
    contact_views_alert_per_day: Mapped[int] = mapped_column(default=20)
    consent_required: Mapped[bool] = mapped_column(default=False)
    # Admin notices (issue 16/17/20): a WeCom group robot the group's admins are told through.
    admin_robot_url: Mapped[str | None] = mapped_column(String(1000))

    dealers: Mapped[list[Dealer]] = relationship(back_populates="group")


class Oem(db.Model):
    __tablename__ = "oems"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    brand_rows: Mapped[list[OemBrand]] = relationship(
        back_populates="oem", cascade="all, delete-orphan", order_by="OemBrand.id"
    )

    @property
    def brands(self) -> list[str]:
        return [b.name for b in self.brand_rows]


class OemBrand(db.Model):
    """A brand belongs to one OEM; `key` is the case-folded name used for matching."""

    __tablename__ = "oem_brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    oem_id: Mapped[int] = mapped_column(ForeignKey("oems.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100), unique=True)

    oem: Mapped[Oem] = relationship(back_populates="brand_rows")


class Dealer(db.Model):
    __tablename__ = "dealers"
    __table_args__ = (
        UniqueConstraint("group_id", "code"),
        Index("ix_dealers_group_radius", "group_id", "service_radius_km"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    geo_precision: Mapped[str | None] = mapped_column(String(20))
    adcode: Mapped[str | None] = mapped_column(String(12))
    service_radius_km: Mapped[float] = mapped_column(default=50.0)
    daily_capacity: Mapped[int | None]
    is_accepting: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    webhook_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    group: Mapped[Group] = relationship(back_populates="dealers")
    brand_rows: Mapped[list[DealerBrand]] = relationship(
        back_populates="dealer", cascade="all, delete-orphan", order_by="DealerBrand.position"
    )
    region_rows: Mapped[list[DealerRegion]] = relationship(
        cascade="all, delete-orphan", order_by="DealerRegion.id"
    )

    @property
    def brands(self) -> list[str]:
        return [b.name for b in self.brand_rows]

    @brands.setter
    def brands(self, names: list[str]) -> None:
        wanted: dict[str, str] = {}
        for name in names:
            wanted.setdefault(brand_key(name), " ".join(name.split()))
        existing = {b.key: b for b in self.brand_rows}
        self.brand_rows = [existing.get(key) or DealerBrand(key=key) for key in wanted]
        for position, row in enumerate(self.brand_rows):
            row.name, row.position = wanted[row.key], position

    @property
    def region_codes(self) -> list[str]:
        return [r.code for r in self.region_rows]

    @region_codes.setter
    def region_codes(self, codes: list[str]) -> None:
        existing = {r.code: r for r in self.region_rows}
        unique = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
        self.region_rows = [existing.get(c) or DealerRegion(code=c) for c in unique]

    def sells(self, brand: str) -> bool:
        return brand_key(brand) in {b.key for b in self.brand_rows}


class DealerBrand(db.Model):
    """One brand a dealer sells, with the dealer's group and position copied in.

    The copy makes (group, brand, latitude, longitude) one index: the nearest-dealer query
    reads a few index entries instead of every dealer of the group.
    """

    __tablename__ = "dealer_brands"
    __table_args__ = (
        UniqueConstraint("dealer_id", "key"),
        Index("ix_dealer_brands_spatial", "group_id", "key", "latitude", "longitude"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    name: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    dealer: Mapped[Dealer] = relationship(back_populates="brand_rows")


class DealerRegion(db.Model):
    """An administrative code a dealer also serves; a customer's code matches by prefix."""

    __tablename__ = "dealer_regions"
    __table_args__ = (
        UniqueConstraint("dealer_id", "code"),
        Index("ix_dealer_regions_code", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(12))


@event.listens_for(Session, "before_flush")
def _copy_dealer_position_to_brands(session: Session, _context, _instances) -> None:
    """Keep the brand rows' copy of group and position equal to their dealer's."""
    for obj in list(session.new) + list(session.dirty):
        # a dealer or a new brand row; another row linked to a store (an offer) moves nothing
        dealer = obj.dealer if isinstance(obj, DealerBrand) else obj
        if isinstance(dealer, Dealer):
            for row in dealer.brand_rows:
                if (row.group_id, row.latitude, row.longitude) != (
                    dealer.group_id,
                    dealer.latitude,
                    dealer.longitude,
                ):
                    row.group_id, row.latitude, row.longitude = (
                        dealer.group_id,
                        dealer.latitude,
                        dealer.longitude,
                    )
