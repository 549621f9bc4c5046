"""The speed report's figures are aggregates computed by the database (percentile_cont on
PostgreSQL, a sorted fallback on SQLite): they must equal the figures computed in Python from
every contact timer's row, as the report computed them before. Reads the scene of test_audit
with more contact timers added (several stores per lead, states, open minutes, late contacts).
"""

from __future__ import annotations

import random
import warnings
from datetime import date, timedelta

import pytest
from sqlalchemy import exc, select

from leadshare.audit.figures import minutes, percentile, rate
from leadshare.clock import local_midnight
from leadshare.extensions import db
from leadshare.hours.enums import SlaKind, SlaState
from leadshare.hours.models import SlaTimer
from leadshare.leads.models import Lead
from leadshare.tenancy.models import Dealer
from leadshare.vocabulary import brand_key

from .test_audit import scene  # noqa: F401  (the module's shared scene)


def _add_timers(scene) -> None:  # noqa: F811
    """Contact timers of other stores on the scene's leads (a lead re-claimed after a return
    has one per store), with every state, late contacts and open minutes or none."""
    rng = random.Random(13)
    states = (SlaState.MET, SlaState.MISSED, SlaState.RUNNING, SlaState.CLOSED)
    leads = db.session.scalars(select(Lead).where(Lead.group_id == scene.world.group.id)).all()
    stores = db.session.scalars(
        select(Dealer.id).where(Dealer.group_id == scene.world.group.id)
    ).all()
    taken = set(db.session.execute(select(SlaTimer.lead_id, SlaTimer.dealer_id)))
    for lead in leads:
        for store in stores:
            if (lead.id, store) in taken or rng.random() < 0.3:
                continue
            started = lead.created_at + timedelta(minutes=rng.uniform(0.5, 900))
            state = rng.choice(states)
            met = started + timedelta(minutes=rng.uniform(1, 3000)) if rng.random() < 0.7 else None
            db.session.add(
                SlaTimer(
                    lead_id=lead.id,
                    dealer_id=store,
                    kind=SlaKind.CONTACT,
                    state=state,
                    started_at=started,
                    due_at=started + timedelta(minutes=60),
                    met_at=met,
                    accept_open_minutes=_maybe(rng, 500, True),
                    open_minutes=_maybe(rng, 900, met is not None),
                    released=False,
                )
            )
    db.session.commit()


def _maybe(rng: random.Random, most: float, possible: bool) -> float | None:
    """Open minutes, or none yet (the sweep fills them in later) in a fifth of the timers."""
    return round(rng.uniform(0, most), 2) if possible and rng.random() < 0.8 else None


def _spread(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {
        "median_minutes": minutes(percentile(ordered, 0.5)),
        "p90_minutes": minutes(percentile(ordered, 0.9)),
    }


def _speeds(rows) -> dict:
    """The report's former Python computation over one row per contact timer."""
    return {
        "to_accept": {
            "wall": _spread([(r.started_at - r.created_at).total_seconds() / 60 for r in rows]),
            "open": _spread(
                [r.accept_open_minutes for r in rows if r.accept_open_minutes is not None]
            ),
        },
        "to_contact": {
            "wall": _spread(
                [(r.met_at - r.started_at).total_seconds() / 60 for r in rows if r.met_at]
            ),
            "open": _spread([r.open_minutes for r in rows if r.open_minutes is not None]),
        },
    }


def _expected(conditions) -> tuple[dict, list[dict]]:
    rows = db.session.execute(
        select(
            SlaTimer.dealer_id,
            SlaTimer.state,
            SlaTimer.started_at,
            SlaTimer.met_at,
            SlaTimer.accept_open_minutes,
            SlaTimer.open_minutes,
            Lead.created_at,
        )
        .join(Lead, Lead.id == SlaTimer.lead_id)
        .where(*conditions, SlaTimer.kind == SlaKind.CONTACT, Lead.voided_at.is_(None))
    ).all()
    by_store: dict[int, list] = {}
    for row in rows:
        by_store.setdefault(row.dealer_id, []).append(row)
    stores = []
    for dealer_id, store_rows in by_store.items():
        met = sum(r.state == SlaState.MET for r in store_rows)
        missed = sum(r.state == SlaState.MISSED for r in store_rows)
        stores.append(
            {
                "store_id": dealer_id,
                "claimed": len(store_rows),
                "contacted_in_sla": met,
                "missed_sla": missed,
                "share_in_sla": rate(met, met + missed),
                "speeds": _speeds(store_rows),
            }
        )
    return _speeds(rows), sorted(stores, key=lambda s: s["store_id"])


def test_speed_figures_are_the_aggregates_of_every_contact_timer(client, scene, app_ctx):  # noqa: F811
    with app_ctx:
        _add_timers(scene)
        count = db.session.scalar(select(db.func.count()).select_from(SlaTimer))
        assert count > 20  # the added timers are there: the figures below are not trivial
        audi = [Lead.brand_key.in_([brand_key("奥迪"), brand_key("大众")])]
        admin = [Lead.group_id == scene.world.group.id]
        expected = {"audi": _expected(audi), "admin": _expected(admin)}
    for who, (speeds, stores) in expected.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error", exc.SAWarning)  # e.g. a cartesian product
            body = client.get("/api/v1/audit/speed", headers=scene.headers[who]).json
        assert body["speeds"] == speeds, who
        got = sorted(
            (
                {**{k: v for k, v in s.items() if k != "store"}, "store_id": s["store"]["id"]}
                for s in body["stores"]
            ),
            key=lambda s: s["store_id"],
        )
        assert len(stores) >= 4 and got == stores, who
        claimed = [s["claimed"] for s in body["stores"]]
        assert claimed == sorted(claimed, reverse=True)
        assert body["speeds"]["to_contact"]["open"]["median_minutes"] is not None


def test_trend_periods_hold_the_leads_shared_between_their_local_midnights(client, scene, app_ctx):  # noqa: F811
    """Each period's count (width_bucket on PostgreSQL, a CASE elsewhere) is the leads created
    from its local midnight to the next period's; moved leads land in the period they moved to."""
    with app_ctx:
        group = scene.world.group
        leads = db.session.scalars(select(Lead).where(Lead.group_id == group.id)).all()
        for days, lead in zip((1, 8, 8, 15, 29, 30, 45), leads, strict=False):
            lead.created_at -= timedelta(days=days)
        db.session.commit()
    body = client.get("/api/v1/audit/trends?period=week", headers=scene.headers["admin"]).json
    zone = body["time_zone"]
    starts = [date.fromisoformat(p["start"]) for p in body["points"]]
    with app_ctx:
        for point, day in zip(body["points"], starts, strict=True):
            since, until = local_midnight(day, zone), local_midnight(day + timedelta(days=7), zone)
            expected = db.session.scalar(
                select(db.func.count()).where(
                    Lead.group_id == scene.world.group.id,
                    Lead.voided_at.is_(None),
                    Lead.created_at >= since,
                    Lead.created_at < until,
                )
            )
            assert point["shared"] == expected, point["start"]
    assert sum(1 for p in body["points"] if p["shared"]) >= 3


def _lost_counts(conditions) -> dict[str | None, list[dict]]:
    """Lost leads per holder and reason, ranked by count then reason, straight from the rows."""
    rows = db.session.execute(
        select(Lead.holder_id, Lead.lost_reason, db.func.count())
        .where(*conditions, Lead.status == "lost", Lead.voided_at.is_(None))
        .group_by(Lead.holder_id, Lead.lost_reason)
    ).all()
    found: dict = {}
    for holder, reason, n in rows:
        found.setdefault(holder, []).append({"reason": reason, "count": n})
    for reasons in found.values():
        reasons.sort(key=lambda r: (-r["count"], r["reason"] or ""))
    return found


@pytest.mark.parametrize("off_list", [False, True])
def test_lost_reasons_per_holder_and_in_total_are_the_lost_leads_counts(
    client,
    scene,  # noqa: F811
    app_ctx,
    off_list,
):
    """The lost reasons come from the lead figures' scan on PostgreSQL (one count per reason of
    the fixed list); a reason off the list (an older row) is still counted, by its own query."""
    with app_ctx:
        group = scene.world.group.id
        lost = db.session.scalars(
            select(Lead).where(Lead.group_id == group, Lead.status == "lost")
        ).all()
        assert len(lost) >= 2
        lost[0].lost_reason = "客户出国" if off_list else "price"
        lost[1].lost_reason = "price"
        db.session.commit()
        expected = _lost_counts([Lead.group_id == group])
    body = client.get("/api/v1/audit/funnel", headers=scene.headers["admin"]).json
    holders = {h["holder"]["id"]: h["lost_reasons"] for h in body["lost_by_holder"]}
    strip = {
        k: [{"reason": r["reason"], "count": r["count"]} for r in v] for k, v in holders.items()
    }
    assert strip == expected
    total: dict[str, int] = {}
    for reasons in expected.values():
        for r in reasons:
            total[r["reason"]] = total.get(r["reason"], 0) + r["count"]
    got = {r["reason"]: r["count"] for r in body["total"]["lost_reasons"]}
    assert got == total and ("客户出国" in got) is off_list
