"""Audit pages for OEM auditors and group admins: the funnel, the flow matrix and a map.

The figures come from the same report services the API uses (leadshare.audit); the
charts are server-rendered SVG and tables coloured by CSS classes (the CSP allows no inline
styles), and each page links to the API's CSV export of the same report.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import render_template, request, url_for

from ..audit.figures import STAGES
from ..audit.flows import LEVELS, flow_report, mapped_stores
from ..audit.funnel import accept_minutes, funnel_report
from ..clock import iso_z
from ..tenancy.models import Dealer
from ..vocabulary import Role
from . import blp
from .leads import date_box
from .lookups import actor, group_brands, oem_brands, store_label
from .views import roles_required

AUDIT_ROLES = (Role.OEM_AUDITOR, Role.GROUP_ADMIN)
RATES = (
    ("posted", "offered", "posted_to_offered"),
    ("offered", "accepted", "offered_to_accepted"),
    ("accepted", "contacted", "accepted_to_contacted"),
    ("contacted", "visited", "contacted_to_visited"),
    ("visited", "ordered", "visited_to_ordered"),
    ("ordered", "delivered", "ordered_to_delivered"),
)
# Time to accept, in minutes: the histogram's bins (upper bounds; the last is open).
TTA_BINS = (
    (15, "<15m"),
    (30, "15–30m"),
    (60, "30–60m"),
    (120, "1–2h"),
    (240, "2–4h"),
    (480, "4–8h"),
    (1440, "8–24h"),
    (None, ">24h"),
)
HEAT_LEVELS = 5
FLOW_CELLS = 200
MATRIX_SIDE = 20
# China's bounding box for the equirectangular map.
LON_MIN, LON_MAX, LAT_MIN, LAT_MAX = 73.0, 135.5, 18.0, 53.6
MAP_W, MAP_H = 640, 365


def _filters() -> tuple[dict[str, Any], dict[str, str]]:
    """Report filters from the query string (brand, from, to) and the values to show back."""
    args = {k: (request.args.get(k) or "").strip() for k in ("brand", "from", "to")}
    filters: dict[str, Any] = {}
    if args["brand"]:
        filters["brand"] = args["brand"][:100]
    start, end = date_box(args["from"]), date_box(args["to"], end=True)
    if start:
        filters["created_from"] = start
    if end:
        filters["created_to"] = end
    return filters, args


def _api_link(path: str, filters: dict[str, Any], **extra: str) -> str:
    """The API's CSV export of the same report (the API accepts the session cookie for GET)."""
    query: dict[str, str] = {"format": "csv", **extra}
    if filters.get("brand"):
        query["brand"] = filters["brand"]
    for name in ("created_from", "created_to"):
        if filters.get(name):
            query[name] = iso_z(filters[name], "auto")
    return f"{path}?{urlencode(query)}"


def _brands() -> list[str]:
    user = actor()
    return oem_brands(user.oem_id) if user.oem_id is not None else group_brands(user.group_id)


def heat(count: int, most: int) -> int:
    """A count's colour bucket 0..4: 0 for nothing, 4 for the busiest cell."""
    if count <= 0 or most <= 0:
        return 0
    return max(1, min(HEAT_LEVELS - 1, -(-(HEAT_LEVELS - 1) * count // most)))


def histogram(minutes: list[float]) -> list[dict[str, Any]]:
    bins = [{"label": text, "count": 0} for _, text in TTA_BINS]
    for value in minutes:
        for index, (upper, _text) in enumerate(TTA_BINS):
            if upper is None or value < upper:
                bins[index]["count"] += 1
                break
    most = max((b["count"] for b in bins), default=0)
    for b in bins:
        b["height"] = 0 if not most else round(100 * b["count"] / most)
    return bins


@blp.get("/audit/funnel")
@roles_required(*AUDIT_ROLES)
def funnel():
    """Counts per stage, conversion rates, time to accept, decline and lost reasons."""
    user = actor()
    filters, args = _filters()
    report = funnel_report(user, filters, "none")
    total = report["total"]
    counts = total["counts"]
    most = max([counts.get(stage, 0) for stage in STAGES] + [1])
    stages = [
        {
            "stage": stage,
            "count": counts.get(stage, 0),
            "width": round(100 * counts.get(stage, 0) / most),
        }
        for stage in STAGES
    ]
    rates = [(a, b, total["rates"].get(key)) for a, b, key in RATES]
    return render_template(
        "audit/funnel.html",
        args=args,
        brands=_brands(),
        total=total,
        stages=stages,
        rates=rates,
        bins=histogram(accept_minutes(user, filters)),
        lost_by_holder=report["lost_by_holder"],
        csv_funnel=_api_link("/api/v1/audit/funnel", filters),
        csv_lost=_api_link("/api/v1/audit/funnel", filters, table="lost_by_holder"),
    )


def _matrix(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows (referrers) x columns (receivers) of the busiest ends, each cell with its bucket."""

    def key(ref: dict[str, Any]) -> str:
        return str(ref.get("id") or ref.get("code") or "")

    def name(ref: dict[str, Any]) -> str:
        return " ".join(str(p) for p in (ref.get("code"), ref.get("name")) if p) or "?"

    rows: dict[str, str] = {}
    cols: dict[str, str] = {}
    by: dict[tuple[str, str], dict[str, Any]] = {}
    for cell in cells:
        source, target = key(cell["from"]), key(cell["to"])
        if source not in rows and len(rows) >= MATRIX_SIDE:
            continue
        if target not in cols and len(cols) >= MATRIX_SIDE:
            continue
        rows.setdefault(source, name(cell["from"]))
        cols.setdefault(target, name(cell["to"]))
        by[(source, target)] = cell
    most = max((c["leads"] for c in by.values()), default=0)
    return {
        "rows": list(rows.items()),
        "cols": list(cols.items()),
        "cells": {k: {**c, "heat": heat(c["leads"], most)} for k, c in by.items()},
        "most": most,
    }


def busy_ids(cells: list[dict[str, Any]]) -> set[int]:
    """The stores at either end of a dealer-level cell."""
    return {c[end]["id"] for c in cells for end in ("from", "to") if c[end].get("id")}


def project(lon: float, lat: float) -> tuple[float, float]:
    """Equirectangular: longitude and latitude to x, y on the map's canvas."""
    x = (lon - LON_MIN) / (LON_MAX - LON_MIN) * MAP_W
    y = (LAT_MAX - lat) / (LAT_MAX - LAT_MIN) * MAP_H
    return round(x, 1), round(y, 1)


def flow_map(cells: list[dict[str, Any]], stores: list[Dealer]) -> dict[str, Any]:
    """Stores as dots and referrer -> holder flows as lines, from dealer-level cells."""
    ids = busy_ids(cells)
    located = {d.id: d for d in stores}
    points = {i: project(d.longitude, d.latitude) for i, d in located.items()}
    most = max((c["leads"] for c in cells), default=0)
    lines = []
    for cell in cells:
        a, b = points.get(cell["from"].get("id")), points.get(cell["to"].get("id"))
        if a and b and a != b:
            lines.append(
                {
                    "a": a,
                    "b": b,
                    "leads": cell["leads"],
                    "weight": heat(cell["leads"], most),
                    "title": f"{cell['from'].get('name')} → {cell['to'].get('name')}",
                }
            )
    dots = [
        {"x": points[i][0], "y": points[i][1], "name": store_label(d), "busy": i in ids}
        for i, d in located.items()
    ]
    return {"width": MAP_W, "height": MAP_H, "lines": lines, "dots": dots}


@blp.get("/audit/flows")
@roles_required(*AUDIT_ROLES)
def flows():
    """Referrer -> store matrix at dealer, city or province level, and a map of the flows."""
    user = actor()
    filters, args = _filters()
    level = request.args.get("level", "dealer")
    if level not in LEVELS:
        level = "dealer"
    report = flow_report(user, filters, level, FLOW_CELLS)
    dealer_cells = (
        report["cells"]
        if level == "dealer"
        else flow_report(user, filters, "dealer", FLOW_CELLS)["cells"]
    )
    return render_template(
        "audit/flows.html",
        args=args,
        level=level,
        levels=LEVELS,
        brands=_brands(),
        report=report,
        matrix=_matrix(report["cells"]),
        map=flow_map(dealer_cells, mapped_stores(user, busy_ids(dealer_cells))),
        csv_flows=_api_link("/api/v1/audit/flows", filters, level=level),
        csv_pairs=_api_link("/api/v1/audit/flows", filters, table="reciprocity"),
        level_link=lambda value: url_for("web.flows", **{**request.args.to_dict(), "level": value}),
    )
