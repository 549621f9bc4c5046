"""Small read-only lookups the pages need for choices and names (never for access decisions)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from ..extensions import db
from ..models import Dealer, DealerBrand, OemBrand


def group_brands(group_id: int) -> list[str]:
    """The brands some store of the group sells: suggestions for the post-a-lead form."""
    names = db.session.scalars(
        select(DealerBrand.name).where(DealerBrand.group_id == group_id).distinct()
    )
    return sorted(set(names))


def oem_brands(oem_id: int | None) -> list[str]:
    return list(
        db.session.scalars(
            select(OemBrand.name).where(OemBrand.oem_id == oem_id).order_by(OemBrand.id)
        )
    )


def group_dealers(group_id: int) -> list[Dealer]:
    """The group's stores by code, for store pickers."""
    return list(
        db.session.scalars(select(Dealer).where(Dealer.group_id == group_id).order_by(Dealer.code))
    )


def dealer_names(ids: Iterable[int | None]) -> dict[int, str]:
    """`{id: "GZ01 广州天河…"}` for the stores a routing decision mentions."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Dealer.id, Dealer.code, Dealer.name).where(Dealer.id.in_(wanted))
    )
    return {row.id: f"{row.code} {row.name}" for row in rows}
