"""The change log page's words: what the group's admins (a platform admin: any group's)
changed, filtered by who, what kind and when, each change's fields before and after as a person
reads them, and the link to the same changes as CSV."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..clock import iso_z
from ..privacy.admin_log import CHANGE_KINDS
from ..vocabulary import Role
from .i18n import current_language, label
from .leads import date_box
from .lookups import dealer_names

ROWS = 200
"""Changes a page shows; the CSV holds every one the filters match."""

KIND = {
    "user": _l("User"),
    "group": _l("Group settings"),
    "store": _l("Store"),
    "store_brand": _l("Store brand"),
    "store_region": _l("Store region"),
    "store_hours": _l("Store hours"),
    "store_closure": _l("Store closure"),
    "calendar_day": _l("Holiday calendar"),
    "program": _l("Reward program"),
    "rule": _l("Reward rule"),
    "ledger_entry": _l("Funding or payout"),
    "lead": _l("Lead (void, holder)"),
    "return": _l("Return decision"),
    "wecom_app": _l("WeCom app"),
    "wecom_member": _l("WeCom member"),
    "brand_alias": _l("Brand alias"),
    "store_oem_code": _l("Store's OEM code"),
    "webhook_secret": _l("Webhook secret"),
    "oem": _l("OEM"),
    "oem_brand": _l("OEM brand"),
}
ACTION = {"create": _l("added"), "change": _l("changed"), "delete": _l("removed")}
FIELD = {
    "name": _l("Name"),
    "code": _l("Code"),
    "email": _l("Email"),
    "role": _l("Role"),
    "group_id": _l("Group"),
    "dealer_id": _l("Store"),
    "is_active_user": _l("Can sign in"),
    "must_change_password": _l("Must change password"),
    "auth_epoch": _l("Sessions signed out"),
    "timezone": _l("Time zone"),
    "offer_ttl_minutes": _l("Offer time (minutes)"),
    "max_offers_per_lead": _l("Max offers per lead"),
    "dedup_window_days": _l("Duplicate window (days)"),
    "opening_hours": _l("Opening hours"),
    "contact_sla_minutes": _l("First contact within (open minutes)"),
    "skip_closed_over_hours": _l("Skip stores closed longer than (hours)"),
    "release_on_missed_contact": _l("Release on a missed contact"),
    "visit_sla_days": _l("Visit within (days)"),
    "sla_remind_at": _l("Remind at (share of the time)"),
    "return_window_days": _l("Return window (days)"),
    "dispute_window_hours": _l("Dispute window (hours)"),
    "max_return_rate": _l("Max return rate"),
    "retention_days": _l("Keep personal data (days)"),
    "contact_views_alert_per_day": _l("Contact views alert per day"),
    "consent_required": _l("Consent required"),
    "address": _l("Address"),
    "service_radius_km": _l("Service radius (km)"),
    "daily_capacity": _l("Daily capacity"),
    "is_accepting": _l("Accepting leads"),
    "is_active": _l("Active"),
    "webhook_url": _l("Webhook address"),
    "weekly": _l("Weekly hours"),
    "holidays": _l("Hours on holidays"),
    "starts_on": _l("First day"),
    "ends_on": _l("Last day"),
    "reason": _l("Reason"),
    "day": _l("Date"),
    "kind": _l("Kind"),
    "amount_minor": _l("Amount"),
    "memo": _l("Memo"),
    "program_id": _l("Program"),
    "event": _l("Event"),
    "hold_days": _l("Hold days"),
    "per_dealer_monthly_cap_minor": _l("Monthly cap per store"),
    "alert_below_minor": _l("Alert below"),
    "status": _l("Status"),
    "holder_id": _l("Holder"),
    "voided_at": _l("Voided at"),
    "decision_note": _l("Decision note"),
    "decided_at": _l("Decided at"),
    "brand": _l("Brand"),
    "channel": _l("Channel"),
}
DAY = {"mon": "一", "tue": "二", "wed": "三", "thu": "四", "fri": "五", "sat": "六", "sun": "日"}
DAY_KIND = {"holiday": _l("Statutory holiday"), "workday": _l("Make-up workday")}
VALUE_LABELS = {"role": "role", "event": "reward_event", "channel": "channel"}
"""Fields whose stored code has a label the pages already know."""
STORE_FIELDS = ("dealer_id", "holder_id")
HIDDEN = {"id", "group_id"}
"""Fields not shown: a row's own id, and its group (the one whose log this is)."""
SAME_ACTION = timedelta(seconds=2)
"""Rows of one kind an admin added or removed this close together are one action (a calendar
saved, a program's rules)."""
MONEY_FIELDS = ("amount_minor", "per_dealer_monthly_cap_minor", "alert_below_minor")


def _intervals(intervals: list[list[str]] | None) -> str:
    return "、".join(f"{a}-{b}" for a, b in intervals or []) or _("closed")


def _week(weekly: dict[str, Any]) -> str:
    """A week's hours with alike days run together: "周一至周五 09:00-21:00；周六、周日 休息"."""
    runs: list[tuple[list[str], str]] = []
    for day in DAY:
        hours = _intervals(weekly.get(day))
        if runs and runs[-1][1] == hours:
            runs[-1][0].append(DAY[day])
        else:
            runs.append(([DAY[day]], hours))
    named = []
    for days, hours in runs:
        span = f"周{days[0]}至周{days[-1]}" if len(days) > 2 else "、".join(f"周{d}" for d in days)
        named.append(f"{span} {hours}")
    return "；".join(named)


def shown_value(kind: str, field: str, value: Any, stores: dict[int, str]) -> str:
    """A stored value as a person reads it."""
    if value is None:
        return str(_("open around the clock (not set)")) if field == "opening_hours" else "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field in STORE_FIELDS and isinstance(value, int):
        return stores.get(value, f"#{value}")
    if field in MONEY_FIELDS and isinstance(value, int):
        return f"{value / 100:,.2f}"
    if field == "weekly" and isinstance(value, dict):
        return _week(value)
    if field == "holidays" and isinstance(value, list):
        return _intervals(value)
    if field == "opening_hours" and isinstance(value, dict):
        weekly = shown_value(kind, "weekly", value.get("weekly"), stores)
        holidays = value.get("holidays")
        on_holidays = _("as on other days") if holidays is None else _intervals(holidays)
        return _("%(weekly)s; holidays %(holidays)s", weekly=weekly, holidays=on_holidays)
    if field == "kind" and kind == "calendar_day":
        return str(DAY_KIND.get(value, _("ordinary day")))
    if field == "kind" and kind == "ledger_entry":
        return label("entry", value)
    if field == "status":
        return label("return_status" if kind == "return" else "status", value)
    if field in VALUE_LABELS:
        return label(VALUE_LABELS[field], value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def change_lines(change: Any, stores: dict[int, str]) -> list[dict[str, Any]]:
    """Each field of a change: its label (or its key), the value before and after in words."""
    before, after = change.before or {}, change.after or {}
    lines = []
    for field in sorted(set(before) | set(after) - HIDDEN):
        lines.append(
            {
                "label": FIELD.get(field),
                "key": field,
                "before": field in before
                and shown_value(change.object_type, field, before[field], stores),
                "after": field in after
                and shown_value(change.object_type, field, after[field], stores),
            }
        )
    return lines


def stores_named(changes: list[Any]) -> dict[int, str]:
    ids = set()
    for change in changes:
        for values in (change.before or {}, change.after or {}):
            ids |= {values[f] for f in STORE_FIELDS if isinstance(values.get(f), int)}
        if change.object_type in ("store", "store_hours") and (change.object_id or "").isdigit():
            ids.add(int(change.object_id))
    return dealer_names(ids) if ids else {}


def change_filters(user) -> tuple[dict[str, str], dict[str, Any]]:
    """The query string's filters as shown back, and as the service takes them."""
    shown = {k: (request.args.get(k) or "").strip() for k in ("who", "kind", "from", "to", "group")}
    args: dict[str, Any] = {}
    if shown["who"].isdigit():
        args["actor_id"] = int(shown["who"])
    if shown["kind"] in CHANGE_KINDS:
        args["object_type"] = shown["kind"]
    if shown["group"].isdigit() and user.role == Role.PLATFORM_ADMIN:
        args["group_id"] = int(shown["group"])
    start, end = date_box(shown["from"]), date_box(shown["to"], end=True)
    if start:
        args["from"] = start
    if end:
        args["to"] = end
    return shown, args


def csv_link(args: dict[str, Any]) -> str:
    query = {
        "format": "csv",
        "lang": current_language(),
        "actor_id": args.get("actor_id"),
        "object_type": args.get("object_type"),
        "group_id": args.get("group_id"),
        "from": iso_z(args["from"]) if args.get("from") else None,
        "to": iso_z(args["to"]) if args.get("to") else None,
    }
    return url_for("privacy.changes", **{k: v for k, v in query.items() if v is not None})


def change_cards(changes: list[Any], stores: dict[int, str]) -> list[dict[str, Any]]:
    """The changes as cards, newest first: one per change, except that rows of one kind an
    admin added (or removed) together share a card, as a table of their fields."""
    cards: list[dict[str, Any]] = []
    for change in changes:
        last = cards[-1] if cards else None
        if (
            last is not None
            and not change.action.endswith(".change")
            and (last["first"].actor_id, last["first"].action) == (change.actor_id, change.action)
            and last["items"][-1][0].at - change.at <= SAME_ACTION
        ):
            last["items"].append((change, change_lines(change, stores)))
            continue
        cards.append({"first": change, "items": [(change, change_lines(change, stores))]})
    for card in cards:
        card["items"].reverse()  # in the order they were made
        keys = []
        for _change, lines in card["items"]:
            keys += [line["key"] for line in lines if line["key"] not in keys]
        card["columns"] = [(key, FIELD.get(key)) for key in keys]
        card["rows"] = [
            [next((line for line in lines if line["key"] == key), None) for key in keys]
            for _change, lines in card["items"]
        ]
    return cards
