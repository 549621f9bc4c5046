"""Readiness, the worker heartbeat and the operating figures that readiness, metrics and
`flask leadshare check` share.

Readiness has two kinds of checks. Fatal ones (the database answers, the migrations are at
head) make `/readyz` answer 503. Advisory ones (a worker has beaten lately, the outbox is not
backing up, the sweep keeps up) are reported in the body and as metrics but never fail it:
losing the workers must not take the app hosts out of the load balancer. Another check is one
function added with `@advisory` (for example "the calendar of the current year is known").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.orm import Session

from ..clock import iso_z, utcnow
from ..hours.service import unknown_calendar_years
from ..leads.enums import OfferStatus
from ..leads.models import Offer
from ..notify.enums import NotificationStatus
from ..notify.models import Notification
from ..uow import unit_of_work
from .models import WorkerHeartbeat

HEARTBEAT_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class Limits:
    """When an advisory check starts to warn (seconds; ObservabilitySettings)."""

    worker_stale_seconds: float = 180.0
    outbox_stale_seconds: float = 300.0
    sweep_lag_seconds: float = 120.0


@dataclass(frozen=True)
class Check:
    """One check's verdict: a short reason a person can act on, and its figures."""

    name: str
    ok: bool
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, **self.figures}


AdvisoryCheck = Callable[[Session, datetime, Limits], Check]
ADVISORY_CHECKS: list[AdvisoryCheck] = []


def advisory(check: AdvisoryCheck) -> AdvisoryCheck:
    """Register a check that is reported by /readyz, /metrics and `check` but never fatal."""
    ADVISORY_CHECKS.append(check)
    return check


# --- the worker's heartbeat ---------------------------------------------------------------


def beat(worker: str, started_at: datetime, now: datetime | None = None) -> None:
    """Record that `worker` finished a cycle; rows not beaten for a day are removed."""
    now = now or utcnow()
    with unit_of_work() as session:
        beaten = session.execute(
            update(WorkerHeartbeat)
            .where(WorkerHeartbeat.worker_id == worker)
            .values(beat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not beaten:
            session.add(WorkerHeartbeat(worker_id=worker, started_at=started_at, beat_at=now))
        stale = WorkerHeartbeat.beat_at < now - HEARTBEAT_KEPT
        session.execute(delete(WorkerHeartbeat).where(stale))


# --- figures ------------------------------------------------------------------------------


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())


def outbox_figures(session: Session, now: datetime) -> dict[str, Any]:
    """Messages waiting (all pending, those due now), dead ones, the oldest pending one's age."""
    pending = Notification.status == NotificationStatus.PENDING
    count, oldest = session.execute(
        select(func.count(), func.min(Notification.created_at)).where(pending)
    ).one()
    due = session.scalar(select(func.count()).where(pending, Notification.next_attempt_at <= now))
    dead = session.scalar(
        select(func.count()).where(Notification.status == NotificationStatus.DEAD)
    )
    return {
        "pending": count,
        "due": due,
        "dead": dead,
        "oldest_pending_age_seconds": _age(now, oldest),
    }


def sweep_lag_seconds(session: Session, now: datetime) -> float:
    """How long the oldest due timer has waited for the sweep (an offer past its expiry)."""
    oldest = session.scalar(
        select(func.min(Offer.expires_at)).where(
            Offer.status == OfferStatus.PENDING, Offer.expires_at <= now
        )
    )
    return _age(now, oldest) or 0.0


def worker_figures(session: Session, now: datetime, limits: Limits) -> dict[str, Any]:
    """The newest heartbeat's time and age, and how many workers beat within the limit."""
    alive_since = now - timedelta(seconds=limits.worker_stale_seconds)
    newest, alive = session.execute(
        select(
            func.max(WorkerHeartbeat.beat_at),
            func.count().filter(WorkerHeartbeat.beat_at >= alive_since),
        )
    ).one()
    return {
        "last_beat_at": iso_z(newest) if newest else None,
        "last_beat_age_seconds": _age(now, newest),
        "alive": alive,
    }


# --- advisory checks ----------------------------------------------------------------------


@advisory
def worker(session: Session, now: datetime, limits: Limits) -> Check:
    figures = worker_figures(session, now, limits)
    if figures["alive"]:
        return Check("worker", True, f"{figures['alive']} worker(s) beating", figures)
    if figures["last_beat_at"] is None:
        return Check("worker", False, "no worker has ever reported", figures)
    age = figures["last_beat_age_seconds"]
    return Check("worker", False, f"no worker has reported for {age:.0f} s", figures)


@advisory
def outbox(session: Session, now: datetime, limits: Limits) -> Check:
    figures = outbox_figures(session, now)
    age = figures["oldest_pending_age_seconds"]
    if age is not None and age > limits.outbox_stale_seconds:
        return Check("outbox", False, f"the oldest pending message waits {age:.0f} s", figures)
    return Check("outbox", True, f"{figures['pending']} message(s) pending", figures)


@advisory
def sweep(session: Session, now: datetime, limits: Limits) -> Check:
    lag = sweep_lag_seconds(session, now)
    figures = {"lag_seconds": lag}
    if lag > limits.sweep_lag_seconds:
        return Check("sweep", False, f"a due offer has waited {lag:.0f} s for the sweep", figures)
    return Check("sweep", True, "the sweep keeps up", figures)


@advisory
def calendar(session: Session, now: datetime, limits: Limits) -> Check:
    """A group whose holiday calendar does not know this year (or, from November, the next):
    its stores keep their weekly hours on those days until an admin types the year in."""
    missing = unknown_calendar_years(now)
    figures = {"unknown": [{"group": code, "year": year} for code, year in missing]}
    if missing:
        named = ", ".join(f"{code} {year}" for code, year in missing)
        return Check(
            "calendar",
            False,
            f"no holiday calendar for {named}: the weekly hours apply on those days "
            "(PUT /api/v1/groups/{id}/calendar?year= adds the year)",
            figures,
        )
    return Check("calendar", True, "every group's holiday calendar knows the year", figures)


def advisories(session: Session, now: datetime, limits: Limits) -> list[Check]:
    """Every advisory check; one that fails to run is reported as not ok, never raised."""
    results = []
    for check in ADVISORY_CHECKS:
        try:
            results.append(check(session, now, limits))
        except Exception as exc:  # noqa: BLE001 - an advisory check must never fail readiness
            results.append(Check(check.__name__, False, f"could not run: {type(exc).__name__}"))
    return results


# --- fatal checks -------------------------------------------------------------------------


@functools.cache
def migration_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migration scripts (read once per process)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def database_check(session: Session) -> Check:
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means the database does not answer
        return Check("database", False, f"the database does not answer ({type(exc).__name__})")
    return Check("database", True, "the database answers")


def current_revisions(session: Session) -> frozenset[str]:
    """The revisions the database's alembic_version table names (none: no schema yet)."""
    if not inspect(session.connection()).has_table("alembic_version"):
        return frozenset()
    return frozenset(session.scalars(text("SELECT version_num FROM alembic_version")))


def migrations_check(session: Session, directory: str) -> Check:
    heads = migration_heads(directory)
    current = current_revisions(session)
    figures = {"current": sorted(current), "head": sorted(heads)}
    if current == heads:
        return Check("migrations", True, "the schema is at head", figures)
    if not current:
        detail = "the database has no schema: run flask db upgrade"
        return Check("migrations", False, detail, figures)
    return Check("migrations", False, "the schema is not at head: run flask db upgrade", figures)


def readiness(session: Session, directory: str, limits: Limits, now: datetime | None = None):
    """(fatal checks, advisory checks); the advisory ones read tables the migrations make, so
    they run only once the database answers with a schema at head."""
    now = now or utcnow()
    database = database_check(session)
    if not database.ok:
        return [database], []
    try:
        schema = migrations_check(session, directory)
    except Exception as exc:  # noqa: BLE001 - reported as the failed check it is
        schema = Check("migrations", False, f"could not be read ({type(exc).__name__})")
    return [database, schema], advisories(session, now, limits) if schema.ok else []
