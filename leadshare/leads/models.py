"""Lead tables: leads, offers, the hash-chained trail and idempotency records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from ..tenancy.models import Dealer, Group

AUDIT_LEAD_COLUMNS = (
    "id",
    "referrer_id",
    "holder_id",
    "status",
    "channel",
    "province",
    "city",
    "offers_made",
    "progress_rank",
    "accepted_at",
    "voided_at",
    "lost_reason",
)


"""The lead columns the audit funnel and flows read, carried in the audit indexes."""


class Lead(db.Model):
    """One customer's interest in a car: shared by its referrer, held by the store claiming it."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_group_phone", "group_id", "phone"),
        Index("ix_leads_group_wechat", "group_id", "wechat_id"),
        Index("ix_leads_group_phone_key", "group_id", "phone_key"),
        Index("ix_leads_group_wechat_key", "group_id", "wechat_key"),
        Index("ix_leads_group_status", "group_id", "status"),
        Index("ix_leads_referrer_created", "referrer_id", "created_at"),
        Index("ix_leads_holder_status", "holder_id", "status"),
        # The audit reports read one brand (an OEM auditor) or one group (its admin) over a
        # date range; on PostgreSQL the INCLUDE columns let them run from the index alone.
        Index(
            "ix_leads_brand_created",
            "brand_key",
            "created_at",
            postgresql_include=["group_id", *AUDIT_LEAD_COLUMNS],
        ),
        Index(
            "ix_leads_group_created",
            "group_id",
            "created_at",
            postgresql_include=["brand_key", *AUDIT_LEAD_COLUMNS],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20))
    share_reason: Mapped[str | None] = mapped_column(String(30))

    customer_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    wechat_id: Mapped[str | None] = mapped_column(String(100))
    brand: Mapped[str] = mapped_column(String(100))
    brand_key: Mapped[str] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    budget: Mapped[str | None] = mapped_column(String(100))
    timeframe: Mapped[str | None] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(20))
    campaign: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime]
    consent_text_version: Mapped[str | None] = mapped_column(String(50))
    consent_channel: Mapped[str | None] = mapped_column(String(30))

    address: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    geo_precision: Mapped[str | None] = mapped_column(String(20))
    geo_source: Mapped[str | None] = mapped_column(String(30))
    province: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(50))
    district: Mapped[str | None] = mapped_column(String(50))
    adcode: Mapped[str | None] = mapped_column(String(12))
    location_candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """The places an ambiguous address may mean (`朝阳区` in 北京 or 长春): "which city?"."""

    order_ref: Mapped[str | None] = mapped_column(String(100))
    vin: Mapped[str | None] = mapped_column(String(17))
    lost_reason: Mapped[str | None] = mapped_column(String(500))
    lost_note: Mapped[str | None] = mapped_column(String(500))
    offers_made: Mapped[int] = mapped_column(default=0)
    progress_rank: Mapped[int] = mapped_column(default=0)
    """Furthest ladder stage reached (0 none, 1 accepted ... 5 delivered); kept when lost."""
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(String(500))
    event_seq: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[str | None] = mapped_column(String(64))
    erased_at: Mapped[datetime | None]
    """When the customer's personal data was erased (a request or retention)."""
    phone_key: Mapped[str | None] = mapped_column(String(64))
    wechat_key: Mapped[str | None] = mapped_column(String(64))
    """Keyed hashes of the normalised phone and the WeChat ID, kept after erasure so the
    customer is still de-duplicated within the window (contact.contact_key)."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    accepted_at: Mapped[datetime | None]

    group: Mapped[Group] = relationship()
    referrer: Mapped[Dealer] = relationship(foreign_keys=[referrer_id])
    holder: Mapped[Dealer | None] = relationship(foreign_keys=[holder_id])
    offers: Mapped[list[Offer]] = relationship(
        back_populates="lead", order_by="Offer.id", cascade="all, delete-orphan"
    )


class Offer(db.Model):
    """One routing attempt to one store (or a claim from the board); one per store and lead."""

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("lead_id", "dealer_id"),
        Index("ix_offers_dealer_status", "dealer_id", "status"),
        Index("ix_offers_status_expires", "status", "expires_at"),
        # The funnel and flows probe each counted lead's offers: index-only on PostgreSQL.
        Index(
            "ix_offers_lead_outcome",
            "lead_id",
            postgresql_include=["kind", "status", "decline_reason", "dealer_id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    kind: Mapped[str] = mapped_column(String(10), default="routed")
    status: Mapped[str] = mapped_column(String(10))
    distance_km: Mapped[float | None]
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decline_reason: Mapped[str | None] = mapped_column(String(30))
    decline_note: Mapped[str | None] = mapped_column(String(500))

    lead: Mapped[Lead] = relationship(back_populates="offers")
    dealer: Mapped[Dealer] = relationship()


class LeadEvent(db.Model):
    """An append-only, hash-chained record of one change to a lead."""

    __tablename__ = "lead_events"
    __table_args__ = (UniqueConstraint("lead_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    lead: Mapped[Lead] = relationship()
    """Set on a new event, so a lead not yet flushed and its events are inserted together."""


class IdempotencyRecord(db.Model):
    """The first answer to a POST carrying an Idempotency-Key, replayed for 24 h per user."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(Text)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    """The lead the request created, committed with it: the answer can be rebuilt from it if
    the process died before storing the body."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LeadReturn(db.Model):
    """The holder's return of a lead (issue 17): its reason, the referrer's answer and the end.

    At most one per lead: a return that was kept is decided, and the lead cannot be returned again.
    """

    __tablename__ = "lead_returns"
    __table_args__ = (
        UniqueConstraint("lead_id"),
        Index("ix_lead_returns_group_status", "group_id", "status"),
        Index("ix_lead_returns_status_due", "status", "dispute_due_at"),
        Index("ix_lead_returns_holder_requested", "holder_id", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(1000))
    lead_status: Mapped[str] = mapped_column(String(20))
    """The lead's status when it was returned: a kept lead goes on from there."""
    requested_at: Mapped[datetime]
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    dispute_due_at: Mapped[datetime]
    is_over_rate: Mapped[bool] = mapped_column(default=False)
    """The store was over the group's return rate: a group admin decides, silence does not."""
    contest_note: Mapped[str | None] = mapped_column(String(1000))
    contested_at: Mapped[datetime | None]
    contested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str | None] = mapped_column(String(1000))

    lead: Mapped[Lead] = relationship()
    holder: Mapped[Dealer] = relationship(foreign_keys=[holder_id])
    referrer: Mapped[Dealer] = relationship(foreign_keys=[referrer_id])


class DuplicateRefusal(db.Model):
    """A share refused as a duplicate (issue 15): no customer data, only who, which brand, how
    and when (the brand puts it in an OEM auditor's scope).

    `customer_key` is a keyed hash of the phone (else the WeChat ID); the unique constraint makes
    the same customer refused again by the same store and channel on the same day count once.
    """

    __tablename__ = "duplicate_refusals"
    __table_args__ = (
        UniqueConstraint("dealer_id", "channel", "day", "customer_key"),
        Index("ix_duplicate_refusals_group_day", "group_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    brand_key: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    day: Mapped[date]
    customer_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
