"""Lists cost a constant number of SQL statements: a page of 50 leads costs what a page of 5 does.

Each list is read with 5 leads in the world, then again with 50 (offered, held, on the board and
past due, in turn), counting the statements on the test connection; the counts must be equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, update

from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads.models import Lead, Offer
from leadshare.vocabulary import Role
from tests.api.lead_world import build_world, lead_payload

from .pages import Browser

LISTS = {
    "api leads (group admin)": ("admin", "/api/v1/leads?per_page=50"),
    "api leads (store)": ("tianhe", "/api/v1/leads?per_page=50"),
    "api leads (OEM auditor)": ("oem", "/api/v1/leads?per_page=50"),
    "api board": ("panyu", "/api/v1/board?per_page=50"),
    "lead list page (group admin)": ("admin", "/leads"),
    "lead list page (OEM auditor)": ("oem", "/leads"),
    "inbox page": ("tianhe", "/inbox"),
    "held page": ("tianhe", "/held"),
    "referrals page": ("referrer", "/referrals"),
    "board page": ("panyu", "/board"),
}
"""Each list: (who reads it, where)."""


@contextmanager
def counting_statements(app) -> Iterator[list[str]]:
    """Every statement sent on the test connection while the block runs."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        connection = db.engine  # the per-test connection every session is bound to
    event.listen(connection, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", count)


class LeadMaker:
    """Shares leads in turn offered, held by Tianhe, on the board, and past due."""

    def __init__(self, app, client, world) -> None:
        self.app, self.client, self.world, self.made = app, client, world, 0

    def _post(self, path: str, who: str, body: dict | None = None) -> dict:
        response = self.client.post(path, json=body, headers=self.world.headers[who])
        assert response.status_code in (200, 201), response.json
        return response.json

    def share(self, count: int) -> None:
        for _ in range(count):
            n, self.made = self.made, self.made + 1
            customer = {"name": f"客户{n}", "phone": f"1370000{n:04d}"}
            lead = self._post("/api/v1/leads", "referrer", lead_payload(customer=customer))
            action = f"/api/v1/leads/{lead['id']}"
            if n % 4 == 1:
                self._post(f"{action}/claim", "tianhe")
            elif n % 4 == 2:
                self._post(f"{action}/decline", "tianhe", {"reason": "no_stock"})
                self._post(f"{action}/decline", "baiyun", {"reason": "capacity"})
            elif n % 4 == 3:
                self._run_out(lead["id"])

    def _run_out(self, lead_id: str) -> None:
        """The lead's offer ran out and no sweep has seen it yet."""
        with self.app.app_context():
            lead = select(Lead.id).where(Lead.public_id == lead_id).scalar_subquery()
            db.session.execute(
                update(Offer).where(Offer.lead_id == lead).values(expires_at=utcnow())
            )
            db.session.commit()


def _readers(app, client, world) -> dict[str, Callable[[str], int]]:
    """For each reader, a function that GETs a path and answers the status."""
    browsers = {who: Browser(app, world.users[who]) for who, _path in LISTS.values()}

    def reader(who: str) -> Callable[[str], int]:
        def read(path: str) -> int:
            if path.startswith("/api/"):
                return client.get(path, headers=world.headers[who]).status_code
            return browsers[who].get(path).status_code

        return read

    return {who: reader(who) for who in browsers}


def _costs(app, readers) -> dict[str, int]:
    costs = {}
    for name, (who, path) in LISTS.items():
        with counting_statements(app) as seen:
            assert readers[who](path) == 200, name
        costs[name] = len(seen)
    return costs


@pytest.fixture
def world(make, auth):
    world = build_world(make, auth, max_offers_per_lead=2)
    world.users["oem"] = make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"]))
    world.headers["oem"] = auth(world.users["oem"])
    return world


def test_a_page_of_50_leads_costs_the_statements_of_a_page_of_5(app, client, world):
    readers = _readers(app, client, world)
    maker = LeadMaker(app, client, world)
    maker.share(5)
    few = _costs(app, readers)
    maker.share(45)
    many = _costs(app, readers)
    assert many == few
