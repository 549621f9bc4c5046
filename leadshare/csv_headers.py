"""The header of every CSV a person downloads, in the language they read.

The tables (leadshare.audit.export, leadshare.audit.league, leadshare.rewards.statements) name
their columns with stable English keys: the API's contract, kept unless `lang=zh` is asked. A
download linked from a page asks for the page's language. Each CSV has one label table here,
column key -> label through the catalogue (`_l`); `tests/web/test_csv_headers.py` checks that
every column of every table has its label.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from .audit.figures import STAGES
from .csvsafe import Table

CHINESE = "zh_Hans_CN"
"""The Babel locale of `lang=zh` (leadshare.web.i18n.DEFAULT_LOCALE: the pages' Chinese)."""

Labels = Mapping[str, object]

_REF = {"id": _l("ID"), "code": _l("Code"), "name": _l("Name")}


def _ref(prefix: str, whose: object) -> dict[str, object]:
    """`<prefix>_id`, `_code`, `_name` labelled `<whose> ID` ..."""
    return {
        f"{prefix}_{part}": _l("%(whose)s %(part)s", whose=whose, part=label)
        for part, label in _REF.items()
    }


STATEMENT = {
    "date": _l("Date"),
    "kind": _l("Entry"),
    "account": _l("Account"),
    "lead": _l("Lead"),
    "customer": _l("Customer"),
    "program": _l("Reward program"),
    "event": _l("Event"),
    "amount": _l("Amount"),
    "releases_at": _l("Released at"),
    "memo": _l("Memo"),
}

LEADS = {
    "id": _l("Lead"),
    "created_at": _l("Shared at"),
    "group_code": _l("Group code"),
    "group_name": _l("Group"),
    "brand": _l("Brand"),
    "model": _l("Model"),
    "status": _l("Status"),
    "stage_reached": _l("Stage reached"),
    "channel": _l("Channel"),
    "campaign": _l("Campaign"),
    "share_reason": _l("Why shared"),
    "province": _l("Province"),
    "city": _l("City"),
    "district": _l("District"),
    "referrer_code": _l("Referrer code"),
    "referrer_name": _l("Referrer"),
    "holder_code": _l("Holder code"),
    "holder_name": _l("Holder"),
    "customer_name": _l("Customer"),
    "customer_phone": _l("Phone"),
    "customer_wechat_id": _l("WeChat ID"),
    "offers_made": _l("Offers made"),
    "accepted_at": _l("Accepted at"),
    "minutes_to_accept": _l("Minutes to accept"),
    "lost_reason": _l("Lost reason"),
    "voided_at": _l("Voided at"),
    "void_reason": _l("Void reason"),
}

FUNNEL_STAGE = {
    "posted": _l("Posted"),
    "offered": _l("Offered or claimed"),
    "accepted": _l("Accepted"),
    "contacted": _l("Contacted"),
    "visited": _l("Visited"),
    "ordered": _l("Ordered"),
    "delivered": _l("Delivered"),
}
"""The funnel stage names of the pages (leadshare.web.i18n) and of the CSV headers."""
_COUNT_LABELS = {
    **FUNNEL_STAGE,
    "lost": _l("Lost"),
    "open": _l("On the board"),
    "unroutable": _l("Unroutable"),
    "withdrawn": _l("Withdrawn"),
    "returned": _l("Returned"),
    "lost_without_contact": _l("Lost without contact"),
}
_OFFER_LABELS = {
    "made": _l("made"),
    "pending": _l("waiting"),
    "accepted": _l("claimed"),
    "declined": _l("declined"),
    "expired": _l("expired"),
    "withdrawn": _l("withdrawn"),
    "resolved": _l("resolved"),
    "expired_share": _l("expired share"),
    "declined_share": _l("declined share"),
}

FUNNEL = {
    "scope": _l("Scope"),
    "key_id": _l("Key ID"),
    "key_code": _l("Key code"),
    "key_name": _l("Key"),
    **_COUNT_LABELS,
    **{
        f"{a}_to_{b}": _l("%(a)s to %(b)s rate", a=FUNNEL_STAGE[a], b=FUNNEL_STAGE[b])
        for a, b in (*pairwise(STAGES), ("posted", "delivered"))
    },
    "median_minutes_to_accept": _l("Median minutes to accept"),
    "p90_minutes_to_accept": _l("P90 minutes to accept"),
    **{f"offers_{key}": _l("Offers %(what)s", what=what) for key, what in _OFFER_LABELS.items()},
    "decline_reasons": _l("Decline reasons"),
    "lost_reasons": _l("Lost reasons"),
}

LOST_BY_HOLDER = {
    **_ref("holder", _l("Holder")),
    "held": _l("Held"),
    "lost": _l("Lost"),
    "lost_share": _l("Lost share"),
    "lost_without_contact": _l("Lost without contact"),
    "lost_reasons": _l("Lost reasons"),
}

FLOWS = {
    **_ref("from", _l("From")),
    **_ref("to", _l("To")),
    "leads": _l("Leads"),
    "accepted": _l("Accepted"),
    "delivered": _l("Delivered"),
    "accept_rate": _l("Accept rate"),
    "delivery_rate": _l("Delivery rate"),
}

RECIPROCITY = {
    **_ref("a", _l("Store A")),
    **_ref("b", _l("Store B")),
    "a_to_b": _l("A to B"),
    "b_to_a": _l("B to A"),
    "balance": _l("Exchange balance"),
}

VERIFY = {"id": _l("Lead"), "broken_at": _l("Broken at"), "reason": _l("Reason")}

LEAGUE = {
    **_ref("store", _l("Store")),
    "received": _l("Received"),
    "accepted": _l("Accepted"),
    "acceptance_rate": _l("Acceptance rate"),
    "median_minutes_to_accept": _l("Median minutes to accept"),
    "expired_unseen": _l("Expired unseen"),
    "declined": _l("Declined"),
    "held": _l("Held"),
    "visit_rate": _l("Visit rate"),
    "delivery_rate": _l("Delivery rate"),
    "lost_without_contact": _l("Lost without contact"),
    "contacted_in_sla_rate": _l("Contacted within SLA"),
    "median_open_minutes_to_contact": _l("Median open minutes to contact"),
    "shared": _l("Leads shared"),
    "given": _l("Given"),
    "taken": _l("Taken"),
    "balance": _l("Exchange balance"),
    "partners": _l("Partners"),
    "rewards_earned": _l("Rewards earned"),
}

ADMIN_CHANGES = {
    "at_utc": _l("When (UTC)"),
    "actor_id": _l("Admin ID"),
    "actor_email": _l("Admin"),
    "action": _l("Change"),
    "object_type": _l("Kind"),
    "object_id": _l("Object ID"),
    "before": _l("Before"),
    "after": _l("After"),
}

TABLES: dict[str, Labels] = {
    "statement": STATEMENT,
    "leads": LEADS,
    "funnel": FUNNEL,
    "lost-by-holder": LOST_BY_HOLDER,
    "flows": FLOWS,
    "reciprocity": RECIPROCITY,
    "verify": VERIFY,
    "league": LEAGUE,
    "admin-changes": ADMIN_CHANGES,
}
"""Each CSV by the name its file carries -> its label table."""


def in_language(name: str, table: Table, lang: str) -> Table:
    """The table with its header in `lang`: `en` keeps the stable English keys, `zh` writes the
    Chinese labels of CSV `name` (a column without a label keeps its key)."""
    header, rows = table
    if lang != "zh":
        return header, rows
    labels = TABLES[name]
    with force_locale(CHINESE):
        return [str(labels.get(key, key)) for key in header], rows
