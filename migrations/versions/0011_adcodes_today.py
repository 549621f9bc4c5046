"""adcodes today: stored codes retired since 1990 move to their successors (issue 18)

Revision ID: 0011_adcodes_today
Revises: 0012_observability
Create Date: 2026-12-03 13:00:00.000000

A data migration, no schema change. The gazetteer now knows today's divisions; codes it no
longer has (渝北区 500112 -> 两江新区 500157, 下城区 330103 -> 拱墅区 330105, the old 巢湖 city
3414 -> its counties' successors ...) are moved, using the mapping frozen in
``leadshare/routing/geocode/data/history.csv`` and ``divisions.csv`` of this revision:

* ``dealers.adcode``: a retired code becomes its successor;
* ``dealer_regions.code`` (prefixes of 2, 4 or 6 digits): a retired 6-digit code becomes its
  successor; a retired 4-digit city prefix becomes the codes its former members became (so a
  dealer keeps serving the same ground), without duplicates or codes another row already covers;
* ``geocode_cache``: answers of the offline gazetteer are deleted (it answers again at once and
  better); online answers carrying a retired code get the successor's code and names.

Leads keep the adcode they were located with (their trail records it); the gazetteer's
``by_adcode`` answers a retired code with its successor wherever a lead's code is shown.
Downgrade leaves the data as it is (the old codes are not restored).
"""

import csv
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_adcodes_today"
down_revision = "0012_observability"
branch_labels = None
depends_on = None

DATA = Path(__file__).resolve().parents[2] / "leadshare" / "routing" / "geocode" / "data"


def _tables() -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """(current code -> name, retired code -> successor, retired city prefix -> successors)."""
    with open(DATA / "divisions.csv", encoding="utf-8", newline="") as handle:
        current = {row["adcode"]: row["name"] for row in csv.DictReader(handle)}
    retired: dict[str, str] = {}
    members: dict[str, set[str]] = {}
    with open(DATA / "history.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            old, successor, parent = row["old_code"], row["successor"], row["old_parent"]
            if successor not in current:
                continue
            if old not in current:
                retired.setdefault(old, successor)
            if parent and parent[4:] == "00" and parent[2:] != "0000":
                members.setdefault(parent[:4], set()).add(successor)
    for code, successor in retired.items():
        if code[4:] == "00" and code[2:] != "0000":
            members.setdefault(code[:4], set()).add(successor)
    gone = {prefix: codes for prefix, codes in members.items() if prefix + "00" in retired}
    return current, retired, gone


def _names(current: dict[str, str], code: str) -> tuple[str | None, str | None, str | None]:
    province = current.get(code[:2] + "0000")
    city_like = code[:2] in ("11", "12", "31", "50", "81", "82")
    if code[2:] == "0000":
        return province, (province if city_like else None), None
    city = current.get(code[:4] + "00")
    if city is None or city in ("市辖区", "县") or "直辖" in city:
        city = province if city_like else None
    if code[4:] == "00" or (city is None and not city_like):
        return province, current.get(code), None
    return province, city, current.get(code)


def upgrade():
    current, retired, gone = _tables()
    conn = op.get_bind()
    dealers = sa.table("dealers", sa.column("id"), sa.column("adcode"))
    for dealer_id, code in conn.execute(sa.select(dealers.c.id, dealers.c.adcode)).all():
        if code and code[:6] in retired:
            conn.execute(
                dealers.update()
                .where(dealers.c.id == dealer_id)
                .values(adcode=retired[code[:6]])
            )

    regions = sa.table("dealer_regions", sa.column("id"), sa.column("dealer_id"), sa.column("code"))
    by_dealer: dict[int, list[tuple[int, str]]] = {}
    for row_id, dealer_id, code in conn.execute(
        sa.select(regions.c.id, regions.c.dealer_id, regions.c.code).order_by(regions.c.id)
    ).all():
        by_dealer.setdefault(dealer_id, []).append((row_id, code))
    for dealer_id, rows in by_dealer.items():
        wanted: list[str] = []
        for _, code in rows:
            if len(code) == 6 and code in retired:
                wanted.append(retired[code])
            elif len(code) == 4 and code in gone:
                wanted.extend(sorted(gone[code]))
            else:
                wanted.append(code)
        unique = list(dict.fromkeys(wanted))
        kept = [c for c in unique if not any(o != c and c.startswith(o) for o in unique)]
        if kept == [code for _, code in rows]:
            continue
        conn.execute(regions.delete().where(regions.c.dealer_id == dealer_id))
        for code in kept:
            conn.execute(regions.insert().values(dealer_id=dealer_id, code=code))

    cache = sa.table("geocode_cache", sa.column("id"), sa.column("result", sa.JSON))
    for row_id, result in conn.execute(sa.select(cache.c.id, cache.c.result)).all():
        answer = json.loads(result) if isinstance(result, str) else dict(result or {})
        if answer.get("source") == "gazetteer":
            conn.execute(cache.delete().where(cache.c.id == row_id))
            continue
        code = answer.get("adcode")
        if code and code[:6] in retired:
            successor = retired[code[:6]]
            province, city, district = _names(current, successor)
            answer.update(adcode=successor, province=province, city=city, district=district)
            conn.execute(cache.update().where(cache.c.id == row_id).values(result=answer))


def downgrade():
    # a data migration: the retired codes are not restored
    pass
