"""Audit pages for OEM auditors and group admins: the funnel and speed, trends, the flow
matrix, a tile map of the provinces, and the store league table (which managers see too).

The figures come from the same report services the API uses (leadshare.audit). Every page
shows them as tables (server-rendered, coloured by CSS classes: the CSP allows no inline styles)
and hands the same figures to static/charts.js as a `<script type="application/json">` block,
which draws them with the vendored Apache ECharts; each page links to the API's CSV export.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import render_template, request, url_for
from flask_babel import gettext as _

from ..audit.figures import STAGES
from ..audit.flows import LEVELS, flow_report, mapped_stores
from ..audit.funnel import funnel_report
from ..audit.league import SORTS, league_report
from ..audit.trends import BYS, PERIODS, SPEED_BINS, RangeTooLong, speed_report, trend_report
from ..clock import iso_z
from ..routing.geocode import Gazetteer
from ..tenancy.models import Dealer
from ..vocabulary import Role
from . import blp
from .i18n import current_language, label
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
HEAT_LEVELS = 5
FLOW_CELLS = 200
MATRIX_SIDE = 20


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


def _api_link(path: str, filters: dict[str, Any], *, csv: bool = True, **extra: str) -> str:
    """The API's CSV export (or JSON) of the same report (the API takes the session for GET);
    a CSV's header is in the page's language."""
    query: dict[str, str] = (
        {"format": "csv", "lang": current_language(), **extra} if csv else dict(extra)
    )
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


def histogram(report: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A speed histogram's bins with each bar's height in percent of the tallest."""
    if report is None:
        return []
    most = max((b["count"] for b in report["bins"]), default=0)
    return [
        {**b, "height": 0 if not most else round(100 * b["count"] / most)} for b in report["bins"]
    ]


def mark_at(value: float | None) -> float | None:
    """Where a number of minutes falls on the histogram's category axis (bin i spans i +- 0.5)."""
    if value is None:
        return None
    lower = 0.0
    for index, (upper, _label) in enumerate(SPEED_BINS):
        if upper is None:
            return index
        if value < upper:
            return round(index - 0.5 + (value - lower) / (upper - lower), 3)
        lower = upper
    return None


def speed_chart(report: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    if report is None or not report["leads"]:
        return None
    marks = []
    for key, text in (("median_minutes", _("Median")), ("p90_minutes", _("90th percentile"))):
        at = mark_at(report[key])
        if at is not None:
            marks.append(
                {"at": at, "text": _("%(text)s %(minutes).0f min", text=text, minutes=report[key])}
            )
    return {
        "kind": "histogram",
        "name": name,
        "categories": [b["label"] for b in report["bins"]],
        "counts": [b["count"] for b in report["bins"]],
        "marks": marks,
    }


def reason_chart(
    reasons: list[dict[str, Any]], kind: str | None, name: str
) -> dict[str, Any] | None:
    if not reasons:
        return None
    return {
        "kind": "bars",
        "horizontal": True,
        "show_values": True,
        "categories": [label(kind, r["reason"]) if kind else r["reason"] for r in reasons],
        "series": [{"name": name, "values": [r["count"] for r in reasons]}],
    }


def funnel_chart(total: dict[str, Any]) -> dict[str, Any]:
    """Stages as bars, each labelled with its count and its rate from the stage before."""
    counts = total["counts"]
    texts = []
    for index, stage in enumerate(STAGES):
        if index == 0:
            texts.append(str(counts[stage]))
            continue
        share = total["rates"].get(f"{STAGES[index - 1]}_to_{stage}")
        texts.append(
            f"{counts[stage]} · {share * 100:.0f}%" if share is not None else str(counts[stage])
        )
    return {
        "kind": "bars",
        "horizontal": True,
        "fixed": True,
        "categories": [label("funnel_stage", stage) for stage in STAGES],
        "series": [{"name": _("Leads"), "values": [counts[s] for s in STAGES], "labels": texts}],
    }


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
    speed = speed_report(user, filters)
    charts = {
        "funnel": funnel_chart(total),
        "accept": speed_chart(speed["to_accept"], _("Accepted leads")),
        "contact": speed_chart(speed["to_contact"], _("Contacted leads")),
        "declines": reason_chart(total["offers"]["decline_reasons"], "decline_reason", _("Offers")),
        "lost": reason_chart(total["lost_reasons"], "lost_reason", _("Leads")),
    }
    return render_template(
        "audit/funnel.html",
        args=args,
        brands=_brands(),
        total=total,
        stages=stages,
        rates=rates,
        speed=speed,
        bins=histogram(speed["to_accept"]),
        contact_bins=histogram(speed["to_contact"]),
        charts={k: v for k, v in charts.items() if v},
        lost_by_holder=report["lost_by_holder"],
        duplicates=report["duplicates"],
        duplicates_total=report["duplicates_total"],
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
    return render_template(
        "audit/flows.html",
        args=args,
        level=level,
        levels=LEVELS,
        brands=_brands(),
        report=report,
        matrix=_matrix(report["cells"]),
        map_link=url_for("web.flow_map", **{k: v for k, v in args.items() if v}),
        csv_flows=_api_link("/api/v1/audit/flows", filters, level=level),
        csv_pairs=_api_link("/api/v1/audit/flows", filters, table="reciprocity"),
        level_link=lambda value: url_for("web.flows", **{**request.args.to_dict(), "level": value}),
    )


# --- trends -----------------------------------------------------------------------------------


def _trend_label(start: str, period: str) -> str:
    return start[:7] if period == "month" else start[5:]


def trend_charts(report: dict[str, Any]) -> dict[str, Any]:
    """The totals per period with the previous range dashed; shared per key when grouped."""
    period = report["period"]
    points = report["points"]
    categories = [_trend_label(p["start"], period) for p in points]
    charts: dict[str, Any] = {
        "trend": {
            "kind": "lines",
            "categories": categories,
            "series": [
                {"name": _("Leads shared"), "type": "bar", "values": [p["shared"] for p in points]},
                {"name": _("Accepted"), "values": [p["accepted"] for p in points]},
                {"name": _("Delivered"), "values": [p["delivered"] for p in points]},
                {
                    "name": _("Leads shared, previous period"),
                    "values": [p["previous"]["shared"] for p in points],
                    "dashed": True,
                    "faded": True,
                    "color": "#86909c",
                },
                {
                    "name": _("Conversion"),
                    "values": [p["conversion"] for p in points],
                    "axis": 1,
                    "dashed": True,
                },
                {
                    "name": _("Conversion, previous period"),
                    "values": [p["previous"]["conversion"] for p in points],
                    "axis": 1,
                    "dashed": True,
                    "faded": True,
                },
            ],
        }
    }
    if report["series"]:
        charts["by"] = {
            "kind": "lines",
            "categories": categories,
            "series": [
                {
                    "name": (s["key"] or {}).get("name") or _("Unknown"),
                    "values": [p["shared"] for p in s["points"]],
                }
                for s in report["series"]
            ],
        }
    return charts


@blp.get("/audit/trends")
@roles_required(*AUDIT_ROLES)
def trends():
    """Leads shared, accepted, delivered and the conversion per week or month, the previous
    range beside, by brand, group or province."""
    user = actor()
    filters, args = _filters()
    period = request.args.get("period") if request.args.get("period") in PERIODS else "week"
    by = request.args.get("by") if request.args.get("by") in BYS else "none"
    args.update(period=period, by=by)
    too_long = False
    try:
        report = trend_report(user, filters, period, by)
    except RangeTooLong:
        too_long = True
        filters = {k: v for k, v in filters.items() if k not in ("created_from", "created_to")}
        report = trend_report(user, filters, period, by)
    return render_template(
        "audit/trends.html",
        args=args,
        brands=_brands(),
        periods=PERIODS,
        bys=BYS,
        report=report,
        too_long=too_long,
        label_of=lambda start: _trend_label(start, period),
        charts=trend_charts(report),
        json_link=_api_link("/api/v1/audit/trends", filters, csv=False, period=period, by=by),
    )


# --- the tile map -------------------------------------------------------------------------

# One square per province-level division in its rough place (column, row), by the first two
# digits of its administrative code, with its short name. No outline: see the map page.
TILES: dict[str, tuple[int, int, str]] = {
    "23": (8, 0, "黑龙江"),
    "15": (5, 1, "内蒙古"),
    "11": (6, 1, "北京"),
    "22": (8, 1, "吉林"),
    "65": (1, 2, "新疆"),
    "62": (3, 2, "甘肃"),
    "64": (4, 2, "宁夏"),
    "14": (5, 2, "山西"),
    "13": (6, 2, "河北"),
    "12": (7, 2, "天津"),
    "21": (8, 2, "辽宁"),
    "63": (2, 3, "青海"),
    "61": (4, 3, "陕西"),
    "41": (5, 3, "河南"),
    "37": (6, 3, "山东"),
    "54": (2, 4, "西藏"),
    "51": (3, 4, "四川"),
    "50": (4, 4, "重庆"),
    "42": (5, 4, "湖北"),
    "34": (6, 4, "安徽"),
    "32": (7, 4, "江苏"),
    "31": (8, 4, "上海"),
    "53": (3, 5, "云南"),
    "52": (4, 5, "贵州"),
    "43": (5, 5, "湖南"),
    "36": (6, 5, "江西"),
    "33": (7, 5, "浙江"),
    "45": (4, 6, "广西"),
    "44": (5, 6, "广东"),
    "35": (6, 6, "福建"),
    "71": (7, 6, "台湾"),
    "46": (4, 7, "海南"),
    "82": (5, 7, "澳门"),
    "81": (6, 7, "香港"),
}
MAP_FLOWS = 300


def province_of(code: str | None) -> str | None:
    """The two-digit province code of an administrative code (None when there is none)."""
    return code[:2] if code and code[:2] in TILES else None


STORE_SPREAD = 36  # how far from a square's centre its stores may sit, in map units (square: 44)


def flow_tip(a: str | None, b: str | None, cell: dict[str, Any]) -> str:
    """A flow's tooltip: from -> to, then its leads, accepted and delivered."""
    return f"{a} → {b}: " + _(
        "%(leads)d leads, %(accepted)d accepted, %(delivered)d delivered",
        leads=cell["leads"],
        accepted=cell["accepted"],
        delivered=cell["delivered"],
    )


def store_province(dealer: Dealer) -> str | None:
    """The two-digit province of a store: from its administrative code, or else from the
    district nearest its coordinates (stores placed by hand may have no code)."""
    code = province_of(dealer.adcode)
    if code or dealer.latitude is None or dealer.longitude is None:
        return code
    place = Gazetteer.default().nearest_district(dealer.latitude, dealer.longitude)
    return province_of(place.adcode) if place else None


def store_offset(dealer: Dealer, province: str | None = None) -> tuple[float, float]:
    """Where a store sits inside its province's square: its place within the box around the
    province's division seats, scaled to the square (the centre when the box is a point)."""
    bounds = Gazetteer.default().province_bounds(province or dealer.adcode or "")
    if bounds is None or dealer.longitude is None or dealer.latitude is None:
        return 0.0, 0.0
    west, south, east, north = bounds

    def share(value: float, low: float, high: float) -> float:
        return min(max((value - low) / (high - low), 0.0), 1.0) - 0.5 if high > low else 0.0

    return (
        round(share(dealer.longitude, west, east) * STORE_SPREAD, 1),
        round(-share(dealer.latitude, south, north) * STORE_SPREAD, 1),
    )


def _store_points(stores: list[Dealer], busy: set[int]) -> list[dict[str, Any]]:
    points = []
    for dealer in stores:
        code = store_province(dealer)
        if not code:
            continue
        dx, dy = store_offset(dealer, code)
        points.append(
            {
                "id": dealer.id,
                "province": code,
                "dx": dx,
                "dy": dy,
                "name": store_label(dealer),
                "busy": dealer.id in busy,
            }
        )
    return points


def _store_flows(cells: list[dict[str, Any]], placed: set[int]) -> list[dict[str, Any]]:
    flows = []
    for cell in cells:
        a, b = cell["from"].get("id"), cell["to"].get("id")
        if a in placed and b in placed and a != b:
            flows.append(
                {
                    "from": a,
                    "to": b,
                    "leads": cell["leads"],
                    "tip": flow_tip(cell["from"].get("name"), cell["to"].get("name"), cell),
                }
            )
    return flows


def tile_map(
    cells: list[dict[str, Any]],
    stores: list[Dealer],
    store_cells: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Tiles with their stores and leads received, province -> province flows, and the stores
    as points inside their squares with store -> store flows (shown when zoomed in)."""
    stores_in: dict[str, int] = {}
    for dealer in stores:
        code = store_province(dealer)
        if code:
            stores_in[code] = stores_in.get(code, 0) + 1
    received: dict[str, int] = {}
    sent: dict[str, int] = {}
    within: dict[str, int] = {}
    flows = []
    for cell in cells:
        a, b = province_of(cell["from"].get("code")), province_of(cell["to"].get("code"))
        if not a or not b:
            continue
        received[b] = received.get(b, 0) + cell["leads"]
        sent[a] = sent.get(a, 0) + cell["leads"]
        if a == b:
            within[a] = within.get(a, 0) + cell["leads"]
            continue
        flows.append(
            {
                "from": a,
                "to": b,
                "leads": cell["leads"],
                "tip": flow_tip(TILES[a][2], TILES[b][2], cell),
            }
        )
    tiles = [
        {
            "code": code,
            "x": x,
            "y": y,
            "name": name,
            "value": received.get(code, 0),
            "label": f"{name}\n{received[code]}" if received.get(code) else name,
            "tip": _(
                "%(name)s: %(stores)d stores, %(received)d leads received, %(sent)d sent, "
                "%(within)d within the province",
                name=name,
                stores=stores_in.get(code, 0),
                received=received.get(code, 0),
                sent=sent.get(code, 0),
                within=within.get(code, 0),
            ),
        }
        for code, (x, y, name) in TILES.items()
    ]
    store_cells = store_cells or []
    points = _store_points(stores, busy_ids(store_cells))
    return {
        "kind": "tiles",
        "tiles": tiles,
        "flows": flows,
        "stores": points,
        "store_flows": _store_flows(store_cells, {p["id"] for p in points}),
    }


@blp.get("/audit/map", endpoint="flow_map")
@roles_required(*AUDIT_ROLES)
def flow_map_page():
    """A tile map of the provinces with the leads flowing between them."""
    user = actor()
    filters, args = _filters()
    report = flow_report(user, filters, "province", MAP_FLOWS, parts=("matrix",))
    dealer_cells = flow_report(user, filters, "dealer", FLOW_CELLS, parts=("matrix",))["cells"]
    stores = mapped_stores(user, busy_ids(dealer_cells))
    tiles = tile_map(report["cells"], stores, dealer_cells)
    names = {code: name for code, (_x, _y, name) in TILES.items()}
    rows = [
        {
            **c,
            "a": names.get(province_of(c["from"].get("code")) or "", c["from"].get("name")),
            "b": names.get(province_of(c["to"].get("code")) or "", c["to"].get("name")),
        }
        for c in report["cells"]
    ]
    return render_template(
        "audit/map.html",
        args=args,
        brands=_brands(),
        report=report,
        rows=rows,
        stores=len(stores),
        charts={"map": tiles},
        csv_flows=_api_link("/api/v1/audit/flows", filters, level="province"),
    )


# --- the store league table -------------------------------------------------------------

LEAGUE_ROLES = (*AUDIT_ROLES, Role.MANAGER)
LEAGUE_ROWS = 500


def league_charts(report: dict[str, Any], manager: bool) -> dict[str, Any]:
    """A manager: its store's rates beside the group's median; others: who gives more than it
    takes (the 20 most unbalanced stores)."""
    if manager:
        rates = ("acceptance_rate", "visit_rate", "delivery_rate")
        names = {
            "acceptance_rate": _("Acceptance rate"),
            "visit_rate": _("Visit rate"),
            "delivery_rate": _("Delivery rate"),
        }
        own = report["rows"][0] if report["rows"] else {}
        return {
            "compare": {
                "kind": "bars",
                "percent": True,
                "legend": True,
                "show_values": True,
                "categories": [names[r] for r in rates],
                "series": [
                    {"name": _("Your store"), "values": [own.get(r) for r in rates]},
                    {
                        "name": _("Group median"),
                        "values": [report["median"].get(r) for r in rates],
                        "color": "#86909c",
                    },
                ],
            }
        }
    ranked = sorted(
        (r for r in report["rows"] if r["given"] or r["taken"]),
        key=lambda r: (-abs(r["balance"]), r["store"]["id"]),
    )[:20]
    if not ranked:
        return {}
    return {
        "balance": {
            "kind": "bars",
            "horizontal": True,
            "legend": True,
            "fixed": True,
            "stacked": True,
            "categories": [f"{r['store']['code']} {r['store']['name']}" for r in ranked],
            "series": [
                {
                    "name": _("Given (its leads others accepted)"),
                    "values": [r["given"] for r in ranked],
                },
                {
                    "name": _("Taken (others' leads it accepted)"),
                    "values": [-r["taken"] for r in ranked],
                    "color": "#f77234",
                },
            ],
        }
    }


@blp.get("/audit/league")
@roles_required(*LEAGUE_ROLES)
def league():
    """The store league table, sortable, with a CSV; a manager sees its store and the median."""
    user = actor()
    filters, args = _filters()
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "received"
    order = "asc" if request.args.get("order") == "asc" else "desc"
    report = league_report(user, filters, sort, order, LEAGUE_ROWS)
    manager = user.role == Role.MANAGER

    def sort_link(name: str) -> str:
        flip = "asc" if report["sort"] == name and report["order"] == "desc" else "desc"
        return url_for("web.league", **{**request.args.to_dict(), "sort": name, "order": flip})

    return render_template(
        "audit/league.html",
        args=args,
        brands=_brands(),
        report=report,
        manager=manager,
        sort_link=sort_link,
        charts=league_charts(report, manager),
        csv_league=_api_link("/api/v1/audit/league", filters, sort=sort, order=order),
    )
