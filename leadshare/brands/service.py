"""The catalogue of a group (or of an auditor's OEM) and every brand given anywhere matched to it.

Reads open no unit of work; adding an alias is one unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import null, select, union_all
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..auth.scope import require_role, sees_group
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..tenancy.models import DealerBrand, OemBrand
from ..uow import transactional
from ..vocabulary import DEALER_ROLES, Role, brand_key
from .matching import Catalogue, builtin, canonical_name
from .models import BrandAlias

MEMBER_ROLES = (Role.GROUP_ADMIN, *DEALER_ROLES)


def group_catalogue(group_id: int) -> Catalogue:
    """The brands the group's stores sell, with the built-in aliases and the group's own (one
    statement: intake reads it on every share)."""
    sold = (
        select(DealerBrand.name, null().label("alias"), null().label("id"))
        .where(DealerBrand.group_id == group_id)
        .group_by(DealerBrand.name)  # each name once, not once per store that sells it
    )
    own = select(BrandAlias.name, BrandAlias.alias, BrandAlias.id).where(
        BrandAlias.group_id == group_id
    )
    rows = db.session.execute(union_all(sold, own).order_by("id")).all()
    names = [name for name, alias, _id in rows if alias is None]
    return Catalogue.of(names, [(name, alias) for name, alias, _id in rows if alias is not None])


def oem_catalogue(oem_id: int | None) -> Catalogue:
    """An OEM's brand names with their built-in aliases (an auditor's filters match these)."""
    return Catalogue.of(db.session.scalars(select(OemBrand.name).where(OemBrand.oem_id == oem_id)))


def every_brand() -> Catalogue:
    """Above every group (a platform admin's filters): the built-in list and every brand sold."""
    return Catalogue.of([*builtin().aliases, *db.session.scalars(select(DealerBrand.name))])


def catalogue_for(actor: User, group_id: int | None = None) -> Catalogue:
    """The catalogue the actor's brands are matched against: its group's, its OEM's, or (for a
    platform admin) the given group's or every brand."""
    if actor.role == Role.OEM_AUDITOR:
        return oem_catalogue(actor.oem_id)
    if actor.role == Role.PLATFORM_ADMIN:
        return group_catalogue(group_id) if group_id is not None else every_brand()
    return group_catalogue(actor.group_id)


def unknown_brand(catalogue: Catalogue, text: str, field: str = "brand") -> Invalid:
    return Invalid(
        field,
        "This brand is not one your group's stores sell; choose one of the suggestions or the "
        "list of brands.",
        reason="unknown_brand",
        suggestions=catalogue.suggest(text),
    )


def resolve(catalogue: Catalogue, text: str, field: str = "brand") -> str:
    """The catalogue name `text` means; 422 `unknown_brand` with the nearest names if none."""
    name = catalogue.resolve(text)
    if name is None:
        raise unknown_brand(catalogue, text, field)
    return name


def group_brand(group_id: int, text: str, field: str = "brand") -> str:
    """A brand given for the group (a lead, a reward rule) as its catalogue name, or 422."""
    return resolve(group_catalogue(group_id), text, field)


def filter_key(actor: User, text: str, group_id: int | None = None) -> str:
    """The match key a list or report filter asks for: `Volkswagen` and `大众` ask for the same
    leads; a brand outside the catalogue keeps its own key (and finds nothing)."""
    return brand_key(catalogue_for(actor, group_id).resolve(text) or text)


def store_brands(group_id: int, names: Iterable[str]) -> list[str]:
    """The names a store's brands are stored under: an alias (built-in or the group's) becomes
    its catalogue name; a brand outside both enters the catalogue as written."""
    known = list(
        db.session.scalars(select(DealerBrand.name).where(DealerBrand.group_id == group_id))
    )
    own = dict(
        db.session.execute(
            select(BrandAlias.key, BrandAlias.name).where(BrandAlias.group_id == group_id)
        ).all()
    )
    return [canonical_name(name, known, own) for name in names]


def oem_brand_names(names: Iterable[str]) -> list[str]:
    """An OEM's brands under their built-in catalogue names (`BMW` -> 宝马)."""
    return [canonical_name(name) for name in names]


def _listed(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [{"name": n, "aliases": catalogue.aliases(n)} for n in catalogue.names]


def list_brands(actor: User, group_id: int | None = None) -> list[dict[str, Any]]:
    """GET /brands: a group's members its catalogue, an auditor its OEM's brands, a platform
    admin the given group's."""
    if actor.role == Role.OEM_AUDITOR:
        return _listed(oem_catalogue(actor.oem_id))
    if actor.role == Role.PLATFORM_ADMIN:
        if group_id is None:
            raise Invalid(
                "group_id", "Name the group whose brands to list.", reason="group_required"
            )
        return _listed(group_catalogue(group_id))
    require_role(actor, *MEMBER_ROLES)
    if group_id is not None and group_id != actor.group_id:
        raise NotFound("No such group.")
    return _listed(group_catalogue(actor.group_id))


@transactional
def add_alias(actor: User, name: str, alias: str, group_id: int | None = None) -> dict[str, Any]:
    """A group admin names one of its catalogue brands another way; an alias that already
    names another brand of the group is 409 `alias_taken` (the same brand again: no change)."""
    group_id = actor.group_id if group_id is None else group_id
    if not sees_group(actor, group_id):
        raise NotFound("No such group.")
    require_role(actor, Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
    catalogue = group_catalogue(group_id)
    target = catalogue.resolve(name)
    if target is None:
        raise NotFound("Your group's stores sell no such brand.", reason="unknown_brand")
    named = catalogue.resolve(alias)
    if named is not None and named != target:
        raise Conflict(f"{alias!r} already names {named}.", reason="alias_taken", brand=named)
    if named is None:
        tidy = " ".join(alias.split())
        db.session.add(BrandAlias(group_id=group_id, name=target, alias=tidy, key=brand_key(tidy)))
        try:
            db.session.flush()
        except IntegrityError as exc:  # a concurrent admin added the same alias first
            raise Conflict(f"{alias!r} is already an alias.", reason="alias_taken") from exc
        catalogue = group_catalogue(group_id)
    return {"name": target, "aliases": catalogue.aliases(target)}
