"""Webhook URLs never reach internal hosts: every IPv6 form that embeds a private IPv4 address
is refused when saved and again when a message is sent (issue: security, item 6)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadshare.extensions import db
from leadshare.notify.deliver import deliver_pending
from leadshare.notify.models import Notification
from leadshare.settings import current_settings, load_config

from .. import TEST_SECRET_KEY
from ..webhook_receiver import Receiver
from .lead_world import build_world, lead_payload

EMBEDDED_PRIVATE = [
    ("::ffff:7f00:1", "127.0.0.1"),  # IPv4-mapped
    ("::7f00:1", "127.0.0.1"),  # IPv4-compatible
    ("::ffff:0:7f00:1", "127.0.0.1"),  # SIIT
    ("64:ff9b::a00:1", "10.0.0.1"),  # NAT64
    ("2002:a9fe:a9fe::1", "169.254.169.254"),  # 6to4
]
OTHER_PRIVATE_V6 = [
    "::ffff:127.0.0.1",
    "::1",
    "::",
    "fd12:3456::1",
    "fe80::1",
    "ff02::1",
    "2001:0:4136:e378::1",
]


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


@pytest.fixture
def refusing(app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)


def patch_webhook(client, world, url):
    return client.patch(
        f"/api/v1/dealers/{world.tianhe.id}",
        json={"webhook_url": url},
        headers=world.headers["admin"],
    )


@pytest.mark.parametrize(("address", "embedded"), EMBEDDED_PRIVATE)
def test_ipv6_forms_embedding_a_private_ipv4_are_refused_at_save(
    client, world, refusing, address, embedded
):
    response = patch_webhook(client, world, f"http://[{address}]:8080/hook")
    assert response.status_code == 422, response.json
    assert response.json["reason"] == "validation_error"
    (message,) = response.json["errors"]["json"]["webhook_url"]
    assert "private or reserved address" in message and embedded in message


@pytest.mark.parametrize("address", OTHER_PRIVATE_V6)
def test_loopback_unique_local_link_local_multicast_and_teredo_are_refused_at_save(
    client, world, refusing, address
):
    response = patch_webhook(client, world, f"https://[{address}]/hook")
    assert response.status_code == 422, response.json
    assert "webhook_url" in response.json["errors"]["json"]


@pytest.mark.parametrize("address", ["2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"])
def test_public_ipv6_addresses_are_accepted(client, world, refusing, address):
    assert patch_webhook(client, world, f"https://[{address}]/hook").status_code == 200


def _send_one(app, app_ctx, client, world, resolver) -> Notification:
    response = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    assert response.status_code == 201, response.json
    with app.app_context():
        report = deliver_pending(current_settings().notify, resolver=resolver)
    assert report.sent == 0 and report.retrying == 1
    with app_ctx:
        (row,) = db.session.scalars(select(Notification))
        db.session.expunge(row)
    return row


@pytest.mark.parametrize(("address", "embedded"), EMBEDDED_PRIVATE)
def test_a_name_resolving_to_an_embedded_private_address_is_not_sent(
    app, app_ctx, client, world, monkeypatch, address, embedded
):
    with Receiver() as receiver:
        assert (
            patch_webhook(client, world, f"http://hooks.example.com:{receiver.port}/x").status_code
            == 200
        )
        monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)
        row = _send_one(app, app_ctx, client, world, lambda host, port: ["8.8.8.8", address])
        assert receiver.requests == []
    assert row.status == "pending" and row.sent_at is None
    assert row.last_error == (
        f"Refused: The host hooks.example.com resolves to a private address "
        f"({address}, which stands for {embedded})."
    )


def test_a_saved_url_that_became_bad_is_not_sent(app, app_ctx, client, world, monkeypatch):
    with Receiver() as receiver:
        assert (
            patch_webhook(client, world, f"http://[::ffff:7f00:1]:{receiver.port}/x").status_code
            == 200
        )
        # saved while a local receiver was allowed, sent after that was turned off
        monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)
        row = _send_one(app, app_ctx, client, world, lambda host, port: [])
        assert receiver.requests == []
    assert row.last_error == (
        "Refused: Webhook URLs may not point at a private or reserved address "
        "(::ffff:7f00:1, which stands for 127.0.0.1)."
    )


@pytest.mark.parametrize("database", ["sqlite:////tmp/leadshare.db", "postgresql+psycopg://h/d"])
def test_private_webhooks_are_refused_by_default_on_every_database(tmp_path, monkeypatch, database):
    monkeypatch.delenv("ALLOW_PRIVATE_WEBHOOKS", raising=False)
    monkeypatch.setenv("DATABASE_URL", database)
    settings = {"TESTING": True, "SECRET_KEY": TEST_SECRET_KEY}
    assert load_config(tmp_path, settings)["ALLOW_PRIVATE_WEBHOOKS"] is False
    monkeypatch.setenv("ALLOW_PRIVATE_WEBHOOKS", "1")
    assert load_config(tmp_path, settings)["ALLOW_PRIVATE_WEBHOOKS"] is True
