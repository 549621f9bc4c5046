"""CSV forms of the audit reports as tables for leadshare.csvsafe (BOM, CRLF, formula-like text
made inert, so a lost reason typed by a store cannot run on an auditor's machine). Times are
in each lead's group time zone with the offset written (`2026-12-04 19:30:00+08:00`), so a
cross-group auditor file reads every row in its own group's clock. The columns are stable English
keys; their page labels are in leadshare.csv_headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..csvsafe import Table, cell, cells, zoned
from .figures import COUNTS, OFFER_OUTCOMES, RATES


def _ref(ref: Mapping[str, Any] | None) -> list[Any]:
    ref = ref or {}
    return cells((ref.get("id"), ref.get("code"), ref.get("name")))


def _ref_cells() -> Callable[[Mapping[str, Any] | None], list[Any]]:
    """_ref remembered per store or place: a matrix names the same few thousand again and again."""
    made: dict[tuple, list[Any]] = {}

    def ref_cells(ref: Mapping[str, Any] | None) -> list[Any]:
        key = (ref["id"], ref["code"], ref["name"]) if ref else None
        found = made.get(key)
        if found is None:
            found = made[key] = _ref(ref)
        return found

    return ref_cells


def _reasons(reasons: Iterable[Mapping[str, Any]]) -> str:
    return "; ".join(f"{r['reason']}: {r['count']}" for r in reasons)


LEAD_HEADER = (
    "id",
    "created_at",
    "group_code",
    "group_name",
    "brand",
    "model",
    "status",
    "stage_reached",
    "channel",
    "campaign",
    "share_reason",
    "province",
    "city",
    "district",
    "referrer_code",
    "referrer_name",
    "holder_code",
    "holder_name",
    "customer_name",
    "customer_phone",
    "customer_wechat_id",
    "offers_made",
    "accepted_at",
    "minutes_to_accept",
    "lost_reason",
    "voided_at",
    "void_reason",
)


def lead_table(leads: Iterable[Mapping[str, Any]]) -> Table:
    """Audit lead rows (already masked) as one CSV line each."""

    def rows() -> Iterator[list[Any]]:
        for lead in leads:
            referrer, holder = lead["referrer"] or {}, lead["holder"] or {}
            customer, location = lead["customer"], lead["location"]
            zone = lead["timezone"]
            yield cells(
                [
                    lead["id"],
                    zoned(lead["created_at"], zone),
                    lead["group"]["code"],
                    lead["group"]["name"],
                    lead["brand"],
                    lead["model"],
                    lead["status"],
                    lead["stage_reached"],
                    lead["channel"],
                    lead["campaign"],
                    lead["share_reason"],
                    location["province"],
                    location["city"],
                    location["district"],
                    referrer.get("code"),
                    referrer.get("name"),
                    holder.get("code"),
                    holder.get("name"),
                    customer["name"],
                    customer["phone"],
                    customer["wechat_id"],
                    lead["offers_made"],
                    zoned(lead["accepted_at"], zone),
                    lead["minutes_to_accept"],
                    lead["lost_reason"],
                    zoned(lead["voided_at"], zone),
                    lead["void_reason"],
                ]
            )

    return LEAD_HEADER, rows()


OFFER_COLUMNS = ("made", *OFFER_OUTCOMES, "resolved", "expired_share", "declined_share")


def funnel_table(report: Mapping[str, Any]) -> Table:
    """The total row first (scope `total`), then one row per group_by key."""
    header = (
        "scope",
        "key_id",
        "key_code",
        "key_name",
        *COUNTS,
        *RATES,
        "median_minutes_to_accept",
        "p90_minutes_to_accept",
        *(f"offers_{name}" for name in OFFER_COLUMNS),
        "decline_reasons",
        "lost_reasons",
    )
    rows = [("total", report["total"])] + [(report["group_by"], row) for row in report["rows"]]
    return header, (
        cells(
            [
                scope,
                *_ref(row["key"]),
                *(row["counts"][name] for name in COUNTS),
                *(row["rates"][name] for name in RATES),
                row["time_to_accept"]["median_minutes"],
                row["time_to_accept"]["p90_minutes"],
                *(row["offers"][name] for name in OFFER_COLUMNS),
                _reasons(row["offers"]["decline_reasons"]),
                _reasons(row["lost_reasons"]),
            ]
        )
        for scope, row in rows
    )


def lost_by_holder_table(report: Mapping[str, Any]) -> Table:
    """One row per holder that marked leads lost, most lost first."""
    header = (
        "holder_id",
        "holder_code",
        "holder_name",
        "held",
        "lost",
        "lost_share",
        "lost_without_contact",
        "lost_reasons",
    )
    return header, (
        [
            *_ref(h["holder"]),
            h["held"],
            h["lost"],
            h["lost_share"],
            h["lost_without_contact"],
            cell(_reasons(h["lost_reasons"])),
        ]
        for h in report["lost_by_holder"]
    )


def flow_table(report: Mapping[str, Any]) -> Table:
    """Every cell of the referrer -> store matrix (not only the first `limit`); the figures
    are numbers or None, written as they are."""
    ref = _ref_cells()
    header = (
        "from_id",
        "from_code",
        "from_name",
        "to_id",
        "to_code",
        "to_name",
        "leads",
        "accepted",
        "delivered",
        "accept_rate",
        "delivery_rate",
    )
    return header, (
        [
            *ref(c["from"]),
            *ref(c["to"]),
            c["leads"],
            c["accepted"],
            c["delivered"],
            c["accept_rate"],
            c["delivery_rate"],
        ]
        for c in report["cells"]
    )


def reciprocity_table(report: Mapping[str, Any]) -> Table:
    """Every pair of stores with leads handed between them, the one that gave more first."""
    ref = _ref_cells()
    header = (
        "a_id",
        "a_code",
        "a_name",
        "b_id",
        "b_code",
        "b_name",
        "a_to_b",
        "b_to_a",
        "balance",
    )
    return header, (
        [*ref(p["a"]), *ref(p["b"]), p["a_to_b"], p["b_to_a"], p["balance"]]
        for p in report["pairs"]
    )


def verify_table(report: Mapping[str, Any]) -> Table:
    """The broken chains of a range check, one row each."""
    return ("id", "broken_at", "reason"), (
        cells((b["id"], b["broken_at"], b["reason"])) for b in report["broken"]
    )
