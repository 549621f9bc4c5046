"""Plain factory functions with keyword overrides; rows are committed into the test's savepoint."""

from __future__ import annotations

import itertools
from typing import Any

from leadshare.auth.models import User
from leadshare.extensions import db
from leadshare.tenancy.models import Dealer, Group, Oem, OemBrand
from leadshare.vocabulary import Role, brand_key

_seq = itertools.count(1)

# Real district centroids, close enough for routing tests.
SHENZHEN_NANSHAN = (22.5333, 113.9305)
GUANGZHOU_TIANHE = (23.1246, 113.3613)
SHANGHAI_PUDONG = (31.2215, 121.5447)


class Factory:
    """Each call commits in its own app context and returns a detached, loaded row."""

    def __init__(self, app) -> None:
        self.app = app

    def _save(self, obj):
        with self.app.app_context():
            db.session.add(obj)
            db.session.commit()
            db.session.refresh(obj)
            for relationship in ("brand_rows", "region_rows"):
                getattr(obj, relationship, None)  # load before detaching
            db.session.expunge(obj)
        return obj

    def group(self, **kw: Any) -> Group:
        n = next(_seq)
        group = Group(**{"name": f"Group {n}", "code": f"G{n}", **kw})
        return self._save(group)

    def oem(self, brands: list[str] | None = None, **kw: Any) -> Oem:
        n = next(_seq)
        brands = brands or [f"Brand{n}"]
        oem = Oem(**{"name": f"OEM {n}", **kw})
        oem.brand_rows = [OemBrand(name=b, key=brand_key(b)) for b in brands]
        return self._save(oem)

    def dealer(self, group: Group, **kw: Any) -> Dealer:
        n = next(_seq)
        lat, lon = kw.pop("at", SHENZHEN_NANSHAN)
        brands = kw.pop("brands", ["大众"])
        dealer = Dealer(
            **{
                "group_id": group.id,
                "code": f"D{n}",
                "name": f"Dealer {n}",
                "address": "广东省深圳市南山区",
                "latitude": lat,
                "longitude": lon,
                "geo_precision": "exact",
                **kw,
            }
        )
        dealer.brands = brands
        return self._save(dealer)

    def user(self, role: Role | str = Role.STAFF, password: str = "password123", **kw: Any) -> User:
        n = next(_seq)
        dealer = kw.get("dealer")
        if dealer is not None:
            kw.pop("dealer")
            kw.setdefault("dealer_id", dealer.id)
            kw.setdefault("group_id", dealer.group_id)
        group = kw.pop("group", None)
        if group is not None:
            kw.setdefault("group_id", group.id)
        oem = kw.pop("oem", None)
        if oem is not None:
            kw.setdefault("oem_id", oem.id)
        user = User(**{"email": f"user{n}@example.com", "role": str(role), **kw})
        user.set_password(password, self.app.config["PASSWORD_HASH_METHOD"])
        return self._save(user)


def token_headers(client):
    """`headers(user)` -> headers with a fresh Bearer token for that user."""

    def headers(user, password: str = "password123") -> dict[str, str]:
        response = client.post(
            "/api/v1/auth/token", json={"email": user.email, "password": password}
        )
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['token']}"}

    return headers
