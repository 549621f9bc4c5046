"""The tenant boundary (security issue item 1): a store never crosses into another group.

Every route has a rule in auth/scope.py or is marked public; a dealer's group is fixed at
creation; and a store whose group differs from its users' (whatever put it there) acts nowhere.
"""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import select, update

from leadshare.api.guards import guard_api_request
from leadshare.app import create_app
from leadshare.auth import scope
from leadshare.auth.models import User
from leadshare.errors import Forbidden
from leadshare.extensions import db
from leadshare.tenancy.models import Dealer, DealerBrand
from leadshare.vocabulary import Role

from .lead_world import GZ_TIANHE, build_world, lead_payload


def test_every_route_has_a_scope_rule_or_is_public(app):
    """Walks the URL map: a new route without a rule (for each of its methods) fails here."""
    missing = []
    for rule in app.url_map.iter_rules():
        with app.app_context():
            if scope.is_public(rule.endpoint):
                continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if not scope.roles_for(rule.endpoint, method):
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without a scope rule:\n" + "\n".join(missing)


def test_the_scope_table_names_only_routes_that_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(scope.ENDPOINT_ROLES) - endpoints == set()
    with app.app_context():
        public = {e for e in endpoints if scope.is_public(e)}
    assert public == {
        "auth.Token",
        "api-docs.openapi_json",
        "api-docs.openapi_swagger_ui",
        "swagger_assets",
        "healthz",
        "readyz",
        "prometheus_metrics",
        "static",
        "web.static",
        "web.login",
        "web.set_language",
        "web.wecom_start",
        "web.wecom_callback",
        "web.consent_notice",  # the customer reads the group's consent notice without an account
        "web.consent_notice_qr",
    }
    assert not public & set(scope.ENDPOINT_ROLES)


def test_a_route_without_a_rule_is_closed(database_url):
    """Fail closed: a view added without a rule is refused to every role before it runs."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": database_url}
    )
    ran = []
    app.add_url_rule("/api/v1/_unruled", "unruled", lambda: ran.append(True) or {"ok": True})
    client = app.test_client()
    assert client.get("/api/v1/_unruled").status_code == 401
    with app.test_request_context("/api/v1/_unruled"):
        g.actor = User(id=1, role=Role.PLATFORM_ADMIN)
        with pytest.raises(Forbidden) as refused:
            guard_api_request()
    assert refused.value.reason == "role_not_allowed" and ran == []


def test_a_role_outside_the_rule_is_refused_before_the_view(client, make, auth):
    staff = make.user(Role.STAFF, dealer=make.dealer(make.group()))
    response = client.post("/api/v1/reward-programs", json={}, headers=auth(staff))
    assert response.status_code == 403 and response.json["reason"] == "role_not_allowed"
    assert client.get("/admin/programs").status_code == 302  # pages: sign in first


def test_group_id_of_a_dealer_cannot_be_changed(client, app_ctx, make, auth):
    own, other = make.group(), make.group()
    store = make.dealer(own, code="MINE")
    admin = auth(make.user(Role.GROUP_ADMIN, group=own))
    for value in (other.id, own.id):
        response = client.patch(
            f"/api/v1/dealers/{store.id}", json={"group_id": value}, headers=admin
        )
        assert response.status_code == 422, response.json
        assert response.json["reason"] == "immutable_field"
        assert "group_id" in response.json["errors"]["json"]
    with app_ctx:
        assert db.session.get(Dealer, store.id).group_id == own.id
        keys = db.session.scalars(
            select(DealerBrand.group_id).where(DealerBrand.dealer_id == store.id)
        ).all()
        assert set(keys) == {own.id}
    platform = auth(make.user(Role.PLATFORM_ADMIN))
    response = client.patch(
        f"/api/v1/dealers/{store.id}", json={"group_id": other.id}, headers=platform
    )
    assert response.status_code == 422 and response.json["reason"] == "immutable_field"


def _move_into(app_ctx, dealer, group) -> None:
    """What the old hole (or a bad import) did: the store's rows now say another group."""
    with app_ctx:
        db.session.execute(update(Dealer).where(Dealer.id == dealer.id).values(group_id=group.id))
        db.session.execute(
            update(DealerBrand).where(DealerBrand.dealer_id == dealer.id).values(group_id=group.id)
        )
        db.session.commit()


def test_a_store_moved_into_another_group_claims_sees_and_lists_nothing(
    client, app_ctx, make, auth
):
    """Defence in depth: the store's users still belong to their own group; it acts nowhere."""
    victim = build_world(make, auth)
    attacker_group = make.group()
    intruder = make.dealer(attacker_group, code="EVIL", brands=["奥迪"], at=GZ_TIANHE)
    intruder_staff = make.user(Role.STAFF, dealer=intruder)
    headers = auth(intruder_staff)
    _move_into(app_ctx, intruder, victim.group)

    posted = client.post("/api/v1/leads", json=lead_payload(), headers=victim.headers["referrer"])
    assert posted.status_code == 201, posted.json
    lead_id = posted.json["id"]
    # The moved store stands at Tianhe like the victim's own store; whichever routing picked,
    # the intruder can neither claim, see, list nor find the lead on its board.
    claim = client.post(f"/api/v1/leads/{lead_id}/claim", headers=headers)
    assert claim.status_code == 403 and claim.json["reason"] == "store_not_in_group"
    assert client.get(f"/api/v1/leads/{lead_id}", headers=headers).status_code == 404
    listed = client.get("/api/v1/leads", headers=headers)
    assert listed.status_code == 403 and listed.json["reason"] == "store_not_in_group"
    board = client.get("/api/v1/board", headers=headers)
    assert board.status_code == 403 and board.json["reason"] == "store_not_in_group"
    lead = client.get(f"/api/v1/leads/{lead_id}", headers=victim.headers["admin"]).json
    assert lead["holder"] is None
    assert "张三" not in claim.get_data(as_text=True)


def test_staff_of_another_group_learn_nothing_about_a_lead(client, make, auth):
    world = build_world(make, auth)
    lead = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"]).json
    outsider = make.dealer(make.group(), brands=["奥迪"], at=GZ_TIANHE)
    headers = auth(make.user(Role.STAFF, dealer=outsider))
    for method, path in (
        ("get", f"/api/v1/leads/{lead['id']}"),
        ("get", f"/api/v1/leads/{lead['id']}/trail"),
        ("post", f"/api/v1/leads/{lead['id']}/claim"),
    ):
        response = getattr(client, method)(path, headers=headers)
        assert response.status_code == 404, (path, response.json)
    assert client.get("/api/v1/board", headers=headers).json["total"] == 0
