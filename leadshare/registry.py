"""Every domain's tables, imported in one place so the mapper and migrations see them all."""

from .auth.models import LoginFailure, User, UserSession
from .brands.models import BrandAlias
from .hours.models import CalendarDay, FollowUpNote, SlaTimer, StoreClosure, StoreHours
from .leads.models import IdempotencyRecord, Lead, LeadEvent
from .notify.models import Notification, WebhookSecret
from .observability.models import WorkerHeartbeat
from .privacy.models import AdminChange, ContactAccess, PersonalDatum
from .retail.models import (
    DealerOemCode,
    RetailFlag,
    RetailMatch,
    RetailReport,
    RetailReportRow,
)
from .rewards.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    RewardAlert,
    RewardCredit,
    RewardProgram,
    RewardRule,
    RewardSkip,
)
from .routing.geocode.models import GeocodeCacheEntry
from .tenancy.models import Dealer, DealerBrand, DealerRegion, Group, Oem, OemBrand
from .wecom.models import WecomApp, WecomMember

__all__ = [
    "BrandAlias",
    "CalendarDay",
    "Dealer",
    "DealerBrand",
    "DealerRegion",
    "GeocodeCacheEntry",
    "Group",
    "IdempotencyRecord",
    "Lead",
    "LeadEvent",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerPosting",
    "LoginFailure",
    "Notification",
    "Oem",
    "OemBrand",
    "RewardCredit",
    "RewardProgram",
    "RewardRule",
    "RewardSkip",
    "StoreClosure",
    "StoreHours",
    "User",
    "UserSession",
    "WebhookSecret",
    "WorkerHeartbeat",
    "WecomApp",
    "WecomMember",
    "RewardAlert",
    "DealerOemCode",
    "SlaTimer",
    "FollowUpNote",
    "AdminChange",
    "ContactAccess",
    "PersonalDatum",
    "RetailFlag",
    "RetailMatch",
    "RetailReport",
    "RetailReportRow",
]
