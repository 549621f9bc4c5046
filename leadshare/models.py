"""ORM tables. Money is stored in minor units, times are UTC, enums are stored as strings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Role(StrEnum):
    STAFF = "staff"
    MANAGER = "manager"
    GROUP_ADMIN = "group_admin"
    OEM_AUDITOR = "oem_auditor"
    PLATFORM_ADMIN = "platform_admin"


DEALER_ROLES = (Role.STAFF, Role.MANAGER)


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
        dealer = obj if isinstance(obj, Dealer) else getattr(obj, "dealer", None)
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


def brand_key(name: str) -> str:
    """Brands match case-insensitively and ignoring surrounding blanks."""
    return " ".join(name.split()).casefold()


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(100))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"), index=True)
    oem_id: Mapped[int | None] = mapped_column(ForeignKey("oems.id"), index=True)
    is_active_user: Mapped[bool] = mapped_column("is_active", default=True)
    auth_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[Group | None] = relationship()
    dealer: Mapped[Dealer | None] = relationship()
    oem: Mapped[Oem | None] = relationship()

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.is_active_user

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    # The web session this object was loaded for (not a column): Flask-Login stores get_id()
    # in the cookie, so the cookie names a server-side session that can be ended.
    session_token = None

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("a web session starts with auth.sessions.start_session")
        return self.session_token

    def set_password(self, password: str, method: str) -> None:
        """Hash with the given werkzeug method (PASSWORD_HASH_METHOD: scrypt, or fast in tests)."""
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class UserSession(db.Model):
    """A signed-in web session; the cookie holds a random token, the row only its hash."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class LoginFailure(db.Model):
    """One refused sign-in: keyed by a hash of the email and the client address, never a password.

    `streak` is the pair's consecutive failures including this one (auth/throttle.py), so the
    growing delay is read from the pair's latest row alone.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_account_occurred", "account_hash", "occurred_at"),
        Index("ix_login_failures_address_occurred", "address", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_hash: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    streak: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(index=True)


class GeocodeCacheEntry(db.Model):
    """A geocoding answer keyed by normalised address, so each address is resolved once."""

    __tablename__ = "geocode_cache"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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

    address: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    geo_precision: Mapped[str | None] = mapped_column(String(20))
    geo_source: Mapped[str | None] = mapped_column(String(30))
    province: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(50))
    district: Mapped[str | None] = mapped_column(String(50))
    adcode: Mapped[str | None] = mapped_column(String(12))

    order_ref: Mapped[str | None] = mapped_column(String(100))
    vin: Mapped[str | None] = mapped_column(String(17))
    lost_reason: Mapped[str | None] = mapped_column(String(500))
    offers_made: Mapped[int] = mapped_column(default=0)
    progress_rank: Mapped[int] = mapped_column(default=0)
    """Furthest ladder stage reached (0 none, 1 accepted ... 5 delivered); kept when lost."""
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(String(500))
    event_seq: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[str | None] = mapped_column(String(64))

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


class RewardProgram(db.Model):
    """A group-funded incentive: covers leads created within its dates (SPEC 6)."""

    __tablename__ = "reward_programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    per_dealer_monthly_cap_minor: Mapped[int | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    rules: Mapped[list[RewardRule]] = relationship(
        cascade="all, delete-orphan", order_by="RewardRule.id"
    )


class RewardRule(db.Model):
    """Pay `amount_minor` when a covered lead reaches `event` (optionally for a brand/channel)."""

    __tablename__ = "reward_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("reward_programs.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    brand: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(20))


class LedgerAccount(db.Model):
    """One account of the double-entry ledger; `balance_minor` moves with every posting to it."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int]
    key: Mapped[str] = mapped_column(String(50))
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerEntry(db.Model):
    """A journal entry: postings that sum to zero. A reversal names the entry it undoes (once)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("reverses_id"),
        Index("ix_ledger_entries_group_created", "group_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    kind: Mapped[str] = mapped_column(String(20))
    memo: Mapped[str | None] = mapped_column(String(500))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("reward_programs.id"))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"))
    event: Mapped[str | None] = mapped_column(String(20))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    postings: Mapped[list[LedgerPosting]] = relationship(
        cascade="all, delete-orphan", order_by="LedgerPosting.id"
    )
    lead: Mapped[Lead | None] = relationship()


class LedgerPosting(db.Model):
    __tablename__ = "ledger_postings"
    __table_args__ = (Index("ix_ledger_postings_account_entry", "account_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    account: Mapped[LedgerAccount] = relationship()


class RewardCredit(db.Model):
    """A credit made to a referrer: at most one per (program, lead, event), by constraint."""

    __tablename__ = "reward_credits"
    __table_args__ = (
        UniqueConstraint("program_id", "lead_id", "event"),
        Index("ix_reward_credits_program_dealer_created", "program_id", "dealer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("reward_programs.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    event: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("reward_rules.id", ondelete="SET NULL"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RewardSkip(db.Model):
    """A credit that was due but did not fit the budget or the dealer's monthly cap."""

    __tablename__ = "reward_skips"
    __table_args__ = (UniqueConstraint("program_id", "lead_id", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("reward_programs.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    event: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship()


class Notification(db.Model):
    """An outbox row: one message to one store's webhook, written in the transaction of its change.

    A deliverer claims due rows with a lease (`claimed_by`, `claimed_until`), sends them and marks
    them `sent`, or schedules a retry, or marks them `dead` after the last attempt.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("message_id"),
        UniqueConstraint("offer_id", "event"),
        Index("ix_notifications_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_notifications_group_status", "group_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]

    dealer: Mapped[Dealer] = relationship()
    lead: Mapped[Lead | None] = relationship()


class WebhookSecret(db.Model):
    """The key a store's receiver checks the X-Leadshare-Signature of signed JSON messages with."""

    __tablename__ = "webhook_secrets"
    __table_args__ = (UniqueConstraint("dealer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id", ondelete="CASCADE"))
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
