"""Groups, OEMs, dealers and users: create, read, change, within the caller's scope.

Every change is one unit of work (leadshare/uow.py). Reads open none: they never write. A dealer
edit locates its address (the online geocoder, up to seconds) before its unit of work opens:
network before locks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..auth import scope
from ..auth.models import User
from ..auth.scope import is_group_admin_of, require_role, sees_group
from ..auth.sessions import end_every_session
from ..brands import service as brands
from ..errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from ..extensions import db
from ..hours import service as hours
from ..pagination import Page, paginate
from ..routing.geocode.gazetteer import Gazetteer
from ..routing.geocode.service import geocode_address, geocode_many
from ..settings import Settings
from ..uow import transactional, unit_of_work
from ..vocabulary import DEALER_ROLES, Role, brand_key
from .models import Dealer, DealerBrand, Group, Oem, OemBrand

ADMINS = (Role.PLATFORM_ADMIN, Role.GROUP_ADMIN)
DEALER_OPERATING_FIELDS = frozenset({"is_accepting", "daily_capacity", "service_radius_km"})


def console_operator() -> User:
    """The person at the console (`flask leadshare create-admin`, the demo): above every scope.

    A platform admin that exists in no table, so the CLI creates rows through the same services
    and rules as the API; never added to the session.
    """
    return User(email="console", role=Role.PLATFORM_ADMIN)


def _flush(conflict_reason: str, message: str) -> None:
    """Write now, inside the unit of work: a unique constraint hit by a concurrent writer becomes
    a clear 409 (and the unit of work rolls back)."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(message, reason=conflict_reason) from exc


# --- groups -------------------------------------------------------------------------------


def list_groups(actor: User, page: int, per_page: int) -> Page:
    require_role(actor, Role.PLATFORM_ADMIN, Role.GROUP_ADMIN, *DEALER_ROLES)
    query = select(Group).order_by(Group.id)
    if actor.role != Role.PLATFORM_ADMIN:
        query = query.where(Group.id == actor.group_id)
    return paginate(query, page, per_page)


def get_group(actor: User, group_id: int) -> Group:
    group = db.session.get(Group, group_id)
    if group is None or not sees_group(actor, group.id):
        raise NotFound("No such group.")
    return group


def _ensure_group_code_free(code: str) -> None:
    if db.session.scalar(select(Group.id).where(Group.code == code)):
        raise Conflict(f"A group with code {code!r} already exists.", reason="code_taken")


def _ensure_dealer_code_free(group_id: int, code: str) -> None:
    if db.session.scalar(select(Dealer.id).where(Dealer.group_id == group_id, Dealer.code == code)):
        raise Conflict(f"The group already has a dealer with code {code!r}.", reason="code_taken")


@transactional
def create_group(actor: User, data: Mapping[str, Any]) -> Group:
    require_role(actor, Role.PLATFORM_ADMIN)
    _ensure_group_code_free(data["code"])
    data = dict(data)
    if data.get("opening_hours") is not None:
        data["opening_hours"] = hours.parsed_hours(data["opening_hours"], "opening_hours")
    group = Group(**data)
    db.session.add(group)
    _flush("code_taken", f"A group with code {data['code']!r} already exists.")
    return group


@transactional
def update_group(actor: User, group_id: int, data: Mapping[str, Any]) -> Group:
    """Platform admins change any setting; the group's admins its hours, SLA and return settings.

    New hours, time zone, offer time or SLA settings re-count the group's pending offers and
    running timers in this unit.
    """
    group = get_group(actor, group_id)
    scope.require_group_change(actor, group.id, set(data))
    data = dict(data)
    if data.get("opening_hours") is not None:
        data["opening_hours"] = hours.parsed_hours(data["opening_hours"], "opening_hours")
    if data.get("code", group.code) != group.code:
        _ensure_group_code_free(data["code"])
    for field, value in data.items():
        setattr(group, field, value)
    _flush("code_taken", "That group code is already taken.")
    if hours.CLOCK_SETTINGS & set(data):
        hours.recount_clocks(group)
    return group


# --- OEMs ---------------------------------------------------------------------------------


def list_oems(actor: User, page: int, per_page: int) -> Page:
    require_role(actor, Role.PLATFORM_ADMIN, Role.OEM_AUDITOR)
    query = select(Oem).order_by(Oem.id)
    if actor.role == Role.OEM_AUDITOR:
        query = query.where(Oem.id == actor.oem_id)
    return paginate(query, page, per_page)


@transactional
def create_oem(actor: User, data: Mapping[str, Any]) -> Oem:
    require_role(actor, Role.PLATFORM_ADMIN)
    if db.session.scalar(select(Oem.id).where(Oem.name == data["name"])):
        raise Conflict(f"An OEM named {data['name']!r} already exists.", reason="name_taken")
    keys = {brand_key(b): b for b in brands.oem_brand_names(data["brands"])}
    taken = db.session.scalars(select(OemBrand.name).where(OemBrand.key.in_(keys))).all()
    if taken:
        raise Conflict(
            f"Brand already belongs to another OEM: {', '.join(taken)}.", reason="brand_taken"
        )
    oem = Oem(name=data["name"], brand_rows=[OemBrand(key=k, name=n) for k, n in keys.items()])
    db.session.add(oem)
    _flush("name_taken", "That OEM or one of its brands already exists.")
    return oem


# --- dealers ------------------------------------------------------------------------------


def list_dealers(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    require_role(actor, Role.PLATFORM_ADMIN, Role.GROUP_ADMIN, *DEALER_ROLES)
    query = select(Dealer).order_by(Dealer.id)
    group_id = filters.get("group_id")
    if actor.role != Role.PLATFORM_ADMIN:
        if group_id is not None and group_id != actor.group_id:
            return Page(items=[], page=page, per_page=per_page, total=0)
        group_id = actor.group_id
    if group_id is not None:
        query = query.where(Dealer.group_id == group_id)
    if filters.get("brand"):
        query = query.where(
            Dealer.id.in_(
                select(DealerBrand.dealer_id).where(
                    DealerBrand.key == brands.filter_key(actor, filters["brand"], group_id)
                )
            )
        )
    if filters.get("active") is not None:
        query = query.where(Dealer.is_active.is_(filters["active"]))
    if filters.get("accepting_leads") is not None:
        query = query.where(Dealer.is_accepting.is_(filters["accepting_leads"]))
    if filters.get("q"):
        like = f"%{filters['q']}%"
        query = query.where(Dealer.name.ilike(like) | Dealer.code.ilike(like))
    return paginate(query, page, per_page)


def get_dealer(actor: User, dealer_id: int) -> Dealer:
    dealer = db.session.get(Dealer, dealer_id)
    if dealer is None or not sees_group(actor, dealer.group_id):
        raise NotFound("No such dealer.")
    return dealer


def dealer_place(data: Mapping[str, Any]) -> dict[str, Any]:
    """Where a dealer's given fields put it: coordinates get their district, an address is
    geocoded (unroutable ones are refused); {} when neither changes.

    It may ask the online geocoder, so call it before any unit of work opens.
    """
    if "latitude" in data:
        hint = Gazetteer.default().nearest_district(data["latitude"], data["longitude"])
        return {"geo_precision": "exact", "adcode": hint.adcode if hint else None}
    if "address" not in data:
        return {}
    place = geocode_address(data["address"] or "")
    if place is None:
        raise Invalid(
            "address",
            "This address could not be located; give latitude and longitude.",
            reason="address_not_found",
        )
    return {
        "latitude": place.latitude,
        "longitude": place.longitude,
        "geo_precision": place.precision,
        "adcode": place.adcode,
    }


def _write_dealer(dealer: Dealer, data: Mapping[str, Any], place: Mapping[str, Any]) -> None:
    """Brands given by an alias are stored under their catalogue name (`BMW` -> 宝马)."""
    if "brands" in data:
        data = {**data, "brands": brands.store_brands(dealer.group_id, data["brands"])}
    for field, value in {**data, **place}.items():
        setattr(dealer, field, value)


def add_dealer(group_id: int, data: Mapping[str, Any], place: Mapping[str, Any]) -> Dealer:
    """Add a dealer located by `dealer_place` to the caller's unit of work (API, import, demo)."""
    dealer = Dealer(group_id=group_id)
    _write_dealer(dealer, data, place)
    db.session.add(dealer)
    return dealer


def create_dealer(actor: User, data: Mapping[str, Any]) -> Dealer:
    """A new store in a group the actor administers; its address is located first."""
    require_role(actor, *ADMINS)
    data = dict(data)
    group_id = data.pop("group_id", None)
    if actor.role == Role.GROUP_ADMIN:
        group_id = actor.group_id if group_id is None else group_id
    if group_id is None:
        raise Invalid("group_id", "Say which group the dealer belongs to.")
    if not is_group_admin_of(actor, group_id) or db.session.get(Group, group_id) is None:
        raise Invalid("group_id", "No such group.", reason="unknown_group")
    _ensure_dealer_code_free(group_id, data["code"])
    place = dealer_place(data)
    with unit_of_work():
        dealer = add_dealer(group_id, data, place)
        _flush("code_taken", "The group already has a dealer with that code.")
    return dealer


def _check_dealer_change(actor: User, dealer: Dealer, data: Mapping[str, Any]) -> None:
    """A group's admins change anything but the group; its manager only the operating fields."""
    if "group_id" in data:
        raise Invalid(
            "group_id",
            "A store's group is fixed when it is created; create the store in the other group.",
            reason="immutable_field",
        )
    if is_group_admin_of(actor, dealer.group_id):
        return
    if actor.role != Role.MANAGER or actor.dealer_id != dealer.id:
        raise Forbidden(
            "Only a group admin or this store's manager may change it.",
            reason="role_not_allowed",
        )
    if set(data) - DEALER_OPERATING_FIELDS:
        raise Forbidden(
            "A manager may change only accepting_leads, daily_capacity and service_radius_km.",
            reason="field_not_allowed",
        )


def update_dealer(actor: User, dealer_id: int, data: Mapping[str, Any]) -> Dealer:
    """Change a store the actor may change; a new address is located first."""
    dealer = get_dealer(actor, dealer_id)
    _check_dealer_change(actor, dealer, data)
    if data.get("code", dealer.code) != dealer.code:
        _ensure_dealer_code_free(dealer.group_id, data["code"])
    place = dealer_place(data)
    with unit_of_work():
        _write_dealer(dealer, data, place)
        _flush("code_taken", "The group already has a dealer with that code.")
    return dealer


def import_dealers(
    group_code: str, rows: Iterable[tuple[int, Mapping[str, Any]]]
) -> dict[int, tuple[str, str]]:
    """Create or update a group's dealers from loaded rows `(line, data)`, matched by code.

    Every row is located first (network before locks), then one unit of work writes the rows,
    each in a savepoint of its own. Returns `{line: (outcome, message)}` with outcome created,
    updated or rejected; a rejected row changes nothing and the good rows are in.
    """
    group = db.session.scalar(select(Group).where(Group.code == group_code))
    if group is None:
        raise NotFound(f"No group with code {group_code!r}.")
    outcomes: dict[int, tuple[str, str]] = {}
    located: list[tuple[int, Mapping[str, Any], dict[str, Any]]] = []
    rows = list(rows)  # every address in one batch first: one cache query, one gazetteer pass
    geocode_many(d["address"] for _, d in rows if "latitude" not in d and d.get("address"))
    for line, data in rows:
        try:
            located.append((line, data, dealer_place(data)))
        except DomainError as exc:
            outcomes[line] = ("rejected", _refusal_text(exc))
    with unit_of_work():
        for line, data, place in located:
            existing = db.session.scalar(
                select(Dealer).where(Dealer.group_id == group.id, Dealer.code == data["code"])
            )
            try:
                with db.session.begin_nested():
                    if existing is None:
                        add_dealer(group.id, data, place)
                    else:
                        _write_dealer(existing, data, place)
            except IntegrityError:
                outcomes[line] = ("rejected", "code: The group already has a dealer with it.")
            else:
                outcomes[line] = ("created" if existing is None else "updated", "")
    return dict(sorted(outcomes.items()))


def _refusal_text(error: DomainError) -> str:
    return f"{error.field}: {error.message}" if isinstance(error, Invalid) else error.message


# --- users --------------------------------------------------------------------------------


def list_users(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    require_role(actor, *ADMINS)
    query = select(User).order_by(User.id)
    if actor.role == Role.GROUP_ADMIN:
        query = query.where(User.group_id == actor.group_id)
    if filters.get("role"):
        query = query.where(User.role == filters["role"])
    if filters.get("dealer_id") is not None:
        query = query.where(User.dealer_id == filters["dealer_id"])
    return paginate(query, page, per_page)


def get_user(actor: User, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if not scope.sees_user(actor, user):
        raise NotFound("No such user.")
    return user


def _place_user(actor: User, user: User, data: Mapping[str, Any]) -> None:
    """Attach the user to the one dealer, group or OEM its role needs, within the actor's scope."""
    role = Role(data["role"])
    if role in DEALER_ROLES:
        dealer = db.session.get(Dealer, data["dealer_id"])
        if dealer is None or not is_group_admin_of(actor, dealer.group_id):
            raise Invalid("dealer_id", "No such dealer.", reason="unknown_dealer")
        user.dealer_id, user.group_id = dealer.id, dealer.group_id
    elif role == Role.GROUP_ADMIN:
        group = db.session.get(Group, data["group_id"])
        if group is None or not is_group_admin_of(actor, group.id):
            raise Invalid("group_id", "No such group.", reason="unknown_group")
        user.group_id = group.id
    elif role == Role.OEM_AUDITOR:
        if db.session.get(Oem, data["oem_id"]) is None:
            raise Invalid("oem_id", "No such OEM.", reason="unknown_oem")
        user.oem_id = data["oem_id"]


@transactional
def create_user(actor: User, data: Mapping[str, Any], settings: Settings) -> User:
    require_role(actor, *ADMINS)
    if actor.role == Role.GROUP_ADMIN and data["role"] not in (*DEALER_ROLES, Role.GROUP_ADMIN):
        raise Forbidden(
            "A group admin may create staff, managers and group admins only.",
            reason="role_not_allowed",
        )
    email = data["email"].strip().lower()
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict("A user with this email already exists.", reason="email_taken")
    user = User(email=email, role=data["role"], name=data.get("name"))
    user.set_password(data["password"], settings.password_hash_method)
    _place_user(actor, user, data)
    db.session.add(user)
    _flush("email_taken", "A user with this email already exists.")
    return user


@transactional
def update_user(actor: User, user_id: int, data: Mapping[str, Any], settings: Settings) -> User:
    user = get_user(actor, user_id)
    is_admin = actor.id != user.id
    if not is_admin and "is_active" in data:
        raise Forbidden("You cannot deactivate yourself.", reason="cannot_deactivate_self")
    if (
        not is_admin
        and "password" in data
        and not user.check_password(data.get("current_password") or "")
    ):
        raise Invalid("current_password", "The current password is wrong.", reason="wrong_password")
    if "password" in data:
        user.set_password(data["password"], settings.password_hash_method)
    if "is_active" in data:
        user.is_active_user = data["is_active"]
    if "password" in data or data.get("is_active") is False:
        end_every_session(user)
    if "name" in data:
        user.name = data["name"]
    return user


# --- lookups for pickers and names --------------------------------------------------------


def group_brands(actor: User, group_id: int) -> list[str]:
    """The brands some store of the group sells: suggestions for forms and filters."""
    if not sees_group(actor, group_id):
        raise NotFound("No such group.")
    names = db.session.scalars(
        select(DealerBrand.name).where(DealerBrand.group_id == group_id).distinct()
    )
    return sorted(set(names))


def oem_brands(actor: User, oem_id: int) -> list[str]:
    """An OEM's brands, for its own auditors and platform admins."""
    if actor.role != Role.PLATFORM_ADMIN and actor.oem_id != oem_id:
        raise NotFound("No such OEM.")
    return list(
        db.session.scalars(
            select(OemBrand.name).where(OemBrand.oem_id == oem_id).order_by(OemBrand.id)
        )
    )


def group_dealers(actor: User, group_id: int) -> list[Dealer]:
    """The group's stores by code, for store pickers."""
    if not sees_group(actor, group_id):
        raise NotFound("No such group.")
    return list(
        db.session.scalars(select(Dealer).where(Dealer.group_id == group_id).order_by(Dealer.code))
    )


def dealer_labels(actor: User, ids: Iterable[int | None]) -> list[Any]:
    """Rows (id, code, name) of the stores among `ids` the actor may read about: those of its
    own group; any store for platform admins and OEM auditors, who read leads across groups."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    query = select(Dealer.id, Dealer.code, Dealer.name).where(Dealer.id.in_(wanted))
    if actor.role not in (Role.PLATFORM_ADMIN, Role.OEM_AUDITOR):
        query = query.where(Dealer.group_id == actor.group_id)
    return list(db.session.execute(query))
