"""Small read-only lookups the pages need for choices and names (never for access decisions)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..tenancy.models import Dealer, DealerBrand, OemBrand


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


def store_label(dealer: Any) -> str:
    """How the pages name a store: its code, then its name (`GZ01 广州天河…`)."""
    return f"{dealer.code} {dealer.name}"


def store_names(dealers: Iterable[Any]) -> dict[int, str]:
    """`{id: "GZ01 广州天河…"}` for stores (or rows with id, code and name)."""
    return {dealer.id: store_label(dealer) for dealer in dealers}


def dealer_names(ids: Iterable[int | None]) -> dict[int, str]:
    """`{id: "GZ01 广州天河…"}` for the stores a routing decision mentions."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Dealer.id, Dealer.code, Dealer.name).where(Dealer.id.in_(wanted))
    )
    return store_names(rows)
