"""Language and time for the pages: Chinese by default, English on request, group time zone.

English msgids live in the code and templates (`_()`, `_l()`); the Chinese catalogue is
`leadshare/translations/zh_Hans_CN/LC_MESSAGES/messages.po` (compiled to `.mo` beside it).
"""

from __future__ import annotations

from datetime import datetime

from flask import session
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..clock import iso_z
from ..csv_headers import FUNNEL_STAGE

DEFAULT_LOCALE = "zh_Hans_CN"
DEFAULT_TIMEZONE = "Asia/Shanghai"
LANGUAGES = {"zh": DEFAULT_LOCALE, "en": "en"}
"""The switch's choices: what is stored in the session -> the Babel locale it selects."""


def select_locale() -> str:
    """Chinese first; English only when the person chose it with the language switch."""
    return LANGUAGES.get(session.get("lang", ""), DEFAULT_LOCALE)


def select_timezone() -> str | None:
    """Times are shown in the signed-in user's group time zone (None: the default zone)."""
    if current_user.is_authenticated and current_user.group is not None:
        return current_user.group.timezone
    return None


def current_language() -> str:
    """`zh` or `en`: the key of LANGUAGES in use."""
    return "en" if str(get_locale()) == "en" else "zh"


def localtime(moment: datetime | None, pattern: str = "yyyy-MM-dd HH:mm") -> str:
    """Jinja filter: a stored (naive UTC) time in the group's time zone; blank for None."""
    return "" if moment is None else format_datetime(moment, pattern)


def iso_utc(moment: datetime | None) -> str:
    """Jinja filter: a stored time as ISO-8601 UTC with `Z`, for `<time datetime>` and scripts."""
    return iso_z(moment) or ""


STATUS = {
    "needs_location": _l("Needs location"),
    "offered": _l("Offered"),
    "open": _l("On the board"),
    "accepted": _l("Accepted"),
    "contacted": _l("Contacted"),
    "visited": _l("Visited"),
    "ordered": _l("Ordered"),
    "delivered": _l("Delivered"),
    "lost": _l("Lost"),
    "unroutable": _l("Unroutable"),
    "withdrawn": _l("Withdrawn"),
    "returned": _l("Returned"),
}
PROGRESS_ACTION = {
    "contacted": _l("Contacted the customer"),
    "visited": _l("Customer visited"),
    "ordered": _l("Order signed"),
    "delivered": _l("Car delivered"),
    "lost": _l("Customer lost"),
}
DECLINE_REASON = {
    "no_stock": _l("No stock of this model"),
    "too_far": _l("Customer too far away"),
    "capacity": _l("No capacity right now"),
    "invalid_contact": _l("Contact details do not work"),
    "duplicate": _l("We already have this customer"),
    "other": _l("Other reason"),
}
CHANNEL = {
    "livestream": _l("Livestream"),
    "short_video": _l("Short video"),
    "vertical_media": _l("Vertical media (Autohome, Dongchedi)"),
    "wecom": _l("WeCom"),
    "walk_in": _l("Walk-in"),
    "event": _l("Event / QR code"),
    "phone": _l("Phone call"),
    "website": _l("Website"),
    "referral": _l("Referral"),
    "other": _l("Other"),
}
TIMEFRAME = {
    "now": _l("Buying now"),
    "1m": _l("Within a month"),
    "3m": _l("Within 3 months"),
    "6m": _l("Within 6 months"),
    "later": _l("Later"),
}
SHARE_REASON = {
    "out_of_region": _l("Customer lives outside the referrer's area"),
    "brand_not_carried": _l("Referrer does not sell this brand"),
}
PRECISION = {
    "exact": _l("exact point"),
    "district": _l("district"),
    "city": _l("city"),
    "province": _l("province"),
}
ROLE = {
    "staff": _l("Staff"),
    "manager": _l("Manager"),
    "group_admin": _l("Group admin"),
    "oem_auditor": _l("OEM auditor"),
    "platform_admin": _l("Platform admin"),
}
EVENT = {
    "posted": _l("Posted"),
    "needs_location": _l("Waiting for a location"),
    "located": _l("Location added"),
    "offered": _l("Offered to a store"),
    "expired": _l("Offer expired"),
    "declined": _l("Offer declined"),
    "claimed": _l("Claimed"),
    "opened": _l("Put on the board"),
    "unroutable": _l("No store can take it"),
    "contacted": _l("Contacted"),
    "visited": _l("Visited"),
    "ordered": _l("Ordered"),
    "delivered": _l("Delivered"),
    "lost": _l("Lost"),
    "withdrawn": _l("Withdrawn"),
    "voided": _l("Voided"),
    "return_requested": _l("Returned by the holder"),
    "return_contested": _l("Return contested"),
    "return_decided": _l("Return decided"),
    "returned": _l("Return accepted"),
    "corrected": _l("Corrected by the referrer"),
    "progress_undone": _l("Step undone"),
    "chain_anchored": _l("Trail sealed and anchored"),
    "erased": _l("Personal data erased"),
    "retail_confirmed": _l("Confirmed by the OEM's retail report"),
    "retail_flagged": _l("Flagged: VIN delivered twice or reported for another store"),
    "retail_unconfirmed": _l("No retail confirmation by the deadline"),
    "sla_missed": _l("Service time missed"),
    "consultant_assigned": _l("Handed to a consultant"),
}
CONSENT_CHANNEL = {
    "in_person": _l("In person"),
    "phone": _l("On the phone"),
    "wecom": _l("In WeCom"),
    "qr_notice": _l("Through the notice's QR code"),
    "online_form": _l("In an online form"),
    "other": _l("Another way"),
}
EXCLUSION = {
    "group": _l("other group or the referrer"),
    "brand": _l("do not sell the brand"),
    "active": _l("inactive or not accepting"),
    "area": _l("customer outside their area"),
    "offered_before": _l("offered before"),
    "capacity": _l("at daily capacity"),
    "closed": _l("closed too long (a closure or a holiday)"),
}
OPENED_WHY = {
    "max_offers_reached": _l("the most offers per lead were made"),
    "no_eligible_dealer": _l("no eligible store was left"),
    "brand_not_sold_elsewhere": _l("no other store of the group sells this brand"),
}
OFFER = {
    "pending": _l("waiting"),
    "accepted": _l("claimed"),
    "declined": _l("declined"),
    "expired": _l("expired"),
    "withdrawn": _l("withdrawn"),
}
FIELD = {
    "order_ref": _l("Order number"),
    "vin": _l("VIN"),
    "lost_reason": _l("Why lost"),
    "lost_note": _l("Note on the loss"),
    "brand": _l("Brand"),
    "model": _l("Model"),
    "location": _l("Location"),
}
REWARD_EVENT = {
    "accepted": _l("Lead accepted"),
    "visited": _l("Customer visited"),
    "ordered": _l("Order signed"),
    "delivered": _l("Car delivered"),
}
SKIP_REASON = {
    "budget_exhausted": _l("program budget used up"),
    "dealer_cap_reached": _l("store's monthly cap reached"),
}
ACCOUNT = {
    "treasury": _l("Group treasury"),
    "program": _l("Program budget"),
    "dealer_rewards": _l("Store rewards"),
    "paid_out": _l("Paid out to store"),
    "dealer_pending": _l("Store rewards on hold"),
}
ENTRY = {
    "funding": _l("Funding"),
    "credit": _l("Credit"),
    "reversal": _l("Reversal"),
    "payout": _l("Payout"),
    "opening_balance": _l("Opening balance"),
    "closing_balance": _l("Closing balance"),
    "release": _l("Hold over"),
}
MONEY = {
    "pending": _l("On hold"),
    "available": _l("Available"),
}
RETURN_REASON = {
    "invalid_contact": _l("Contact details do not work"),
    "duplicate_of_own_customer": _l("Already our own customer"),
    "already_bought": _l("Customer already bought"),
    "not_in_market": _l("Customer is not buying"),
    "spam": _l("Spam or fake lead"),
}
RETURN_STATUS = {
    "pending": _l("Waiting for the referrer"),
    "contested": _l("Contested: a group admin decides"),
    "review": _l("Over the return rate: a group admin decides"),
    "accepted": _l("Return accepted"),
    "kept": _l("Kept by the holder"),
}
RETURN_OUTCOME = {
    "returned": _l("Returned: the lead is closed"),
    "kept": _l("Kept: the lead goes back to its holder"),
}
RETURNED_BY = {
    "referrer": _l("the referrer accepted"),
    "silence": _l("no answer in time"),
    "group_admin": _l("a group admin decided"),
}
LOST_REASON = {
    "bought_elsewhere": _l("Bought from another dealer"),
    "bought_other_brand": _l("Bought another brand"),
    "price": _l("Price"),
    "unreachable": _l("Customer unreachable"),
    "postponed": _l("Purchase postponed"),
    "not_interested": _l("No longer interested"),
    "financing_declined": _l("Financing declined"),
    "other": _l("Other reason"),
}

LABELS = {
    "status": STATUS,
    "progress": PROGRESS_ACTION,
    "decline_reason": DECLINE_REASON,
    "channel": CHANNEL,
    "timeframe": TIMEFRAME,
    "share_reason": SHARE_REASON,
    "precision": PRECISION,
    "role": ROLE,
    "event": EVENT,
    "exclusion": EXCLUSION,
    "opened_why": OPENED_WHY,
    "field": FIELD,
    "offer": OFFER,
    "reward_event": REWARD_EVENT,
    "skip_reason": SKIP_REASON,
    "account": ACCOUNT,
    "entry": ENTRY,
    "funnel_stage": FUNNEL_STAGE,
    "money": MONEY,
    "return_reason": RETURN_REASON,
    "return_status": RETURN_STATUS,
    "return_outcome": RETURN_OUTCOME,
    "returned_by": RETURNED_BY,
    "lost_reason": LOST_REASON,
    "consent_channel": CONSENT_CHANNEL,
}


def label(kind: str, value: str | None) -> str:
    """Jinja global: the translated label of a stored code, or the code itself when unknown."""
    if value is None:
        return ""
    found = LABELS[kind].get(str(value))
    return str(found) if found is not None else str(value)
