"""The codes each OEM knows a store by, set by the group's admins (issue 17 item 3).

An OEM's code names one store across every group: the database's unique (OEM, code) decides
between two admins giving the same code at once, and the loser gets a 409 `code_taken`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..auth.scope import is_group_admin_of, require_role, sees_group
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..tenancy.models import Dealer, Oem
from ..uow import transactional
from ..vocabulary import Role
from .models import DealerOemCode


def _dealer(actor: User, dealer_id: int) -> Dealer:
    """Outside the group: 404; the group's staff and managers: 403 (the codes are admins')."""
    dealer = db.session.get(Dealer, dealer_id)
    if dealer is None or not sees_group(actor, dealer.group_id):
        raise NotFound("No such dealer.")
    require_role(actor, Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
    if not is_group_admin_of(actor, dealer.group_id):
        raise NotFound("No such dealer.")
    return dealer


def oem_codes(actor: User, dealer_id: int) -> dict[str, Any]:
    """A store's OEM dealer codes, by OEM."""
    dealer = _dealer(actor, dealer_id)
    rows = db.session.scalars(
        select(DealerOemCode)
        .where(DealerOemCode.dealer_id == dealer.id)
        .order_by(DealerOemCode.oem_id)
    )
    return {"dealer_id": dealer.id, "codes": list(rows)}


def code_boxes(actor: User, dealer_id: int) -> list[tuple[Oem, str | None]]:
    """The OEMs a store's page offers a code box for (those whose brands it sells, and any it
    has a code with already), each with its current code."""
    dealer = _dealer(actor, dealer_id)
    held = {row.oem_id: row.code for row in oem_codes(actor, dealer.id)["codes"]}
    return [
        (oem, held.get(oem.id))
        for oem in db.session.scalars(select(Oem).order_by(Oem.name))
        if oem.id in held or set(oem.brands) & set(dealer.brands)
    ]


@transactional
def set_oem_codes(actor: User, dealer_id: int, codes: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Replace a store's OEM dealer codes; 422 for an unknown OEM, 409 for a code another store
    already has with that OEM."""
    dealer = _dealer(actor, dealer_id)
    for index, row in enumerate(codes):
        if db.session.get(Oem, row["oem_id"]) is None:
            raise Invalid(f"codes.{index}.oem_id", "No such OEM.", reason="unknown_oem")
    db.session.execute(delete(DealerOemCode).where(DealerOemCode.dealer_id == dealer.id))
    for row in codes:
        taken = db.session.scalar(
            select(DealerOemCode.dealer_id).where(
                DealerOemCode.oem_id == row["oem_id"], DealerOemCode.code == row["code"]
            )
        )
        if taken is not None:
            raise _code_taken(row)
        try:
            with db.session.begin_nested():
                db.session.add(
                    DealerOemCode(dealer_id=dealer.id, oem_id=row["oem_id"], code=row["code"])
                )
        except IntegrityError:  # given to another store by a concurrent admin
            raise _code_taken(row) from None
    db.session.flush()
    return oem_codes(actor, dealer.id)


def _code_taken(row: Mapping[str, Any]) -> Conflict:
    return Conflict(
        f"The OEM already knows another store by the code {row['code']}.",
        reason="code_taken",
        oem_id=row["oem_id"],
        oem_code=row["code"],
    )
