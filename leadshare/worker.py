"""The worker: one process beside the web servers for the timers that no read may run.

Reads never write, so an offer whose time is up stays pending in the database (and reads as
expired) until the sweep expires it and routes its lead on. The worker runs the sweep
(`sweep_once`: offers, the returns left unanswered past their dispute window, held reward credits
whose hold is over, then the service-level timers of hours/sla.py) every `sweep_every` seconds and
the notification deliverer (queue due reminders, deliver what is pending) every `deliver_every`
seconds. Many workers may run at once: the sweep skips leads another has locked, deliverers lease
the messages they send. SIGTERM or SIGINT stops it cleanly: the job in progress ends (a delivery
batch gives back what it did not send), then the loop does. Each round that ran a job writes one
JSON log line (what it did, how long it took, its SQL statements) and beats the worker's heartbeat
row, which `/readyz` reads.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from .clock import utcnow
from .extensions import db
from .hours.sla import sweep_slas
from .leads.disputes import sweep_returns
from .leads.offers import sweep
from .notify.deliver import BATCH_SIZE, DeliveryReport, deliver_pending, worker_id
from .notify.notices import alert_contact_views
from .notify.outbox import enqueue_reminders
from .observability.context import start_counting
from .observability.health import beat
from .privacy.service import erase_expired
from .rewards.holds import release_due_credits, reverse_unconfirmed_credits
from .settings import NotifySettings

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 60.0
DELIVER_EVERY_SECONDS = 2.0
RETENTION_EVERY_SECONDS = 3600.0


@dataclass
class WorkerReport:
    """What a worker did: its rounds, sweeps and expired offers, and what it delivered."""

    rounds: int = 0
    sweeps: int = 0
    expired: int = 0
    sla_missed: int = 0
    returns_accepted: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    released: int = 0
    erased: int = 0


@dataclass
class SweepRound:
    """What one sweep did: every timer that no read may run (`sweep_once`)."""

    expired: int = 0  # offers expired (their leads routed on)
    leads: int = 0
    returns_accepted: int = 0  # returns left unanswered past their dispute window
    released: int = 0  # held reward credits whose hold is over
    unconfirmed: int = 0  # delivery credits reversed: no retail confirmation by the deadline
    sla_reminded: int = 0
    sla_missed: int = 0
    sla_released: int = 0
    appointments: int = 0
    contact_alerts: int = 0  # users told to their group's admins for opening many contacts


def sweep_once(now: datetime | None = None) -> SweepRound:
    """One sweep of every timer, each in its own short units of work, safe on many hosts at
    once: offers, returns, held credits, the service-level timers, then the contact-view alerts.
    The worker runs it every `sweep_every` seconds; `flask leadshare sweep` runs it once
    (`--as-of` for tests)."""
    offers = sweep(now)
    returns = sweep_returns(now)
    released = release_due_credits(now)
    unconfirmed = reverse_unconfirmed_credits(now)
    slas = sweep_slas(now)
    contact_alerts = alert_contact_views(now)
    return SweepRound(
        expired=offers.expired,
        leads=offers.leads,
        returns_accepted=returns,
        released=released,
        unconfirmed=unconfirmed,
        sla_reminded=slas.reminded,
        sla_missed=slas.missed,
        sla_released=slas.released,
        appointments=slas.appointments,
        contact_alerts=contact_alerts,
    )


@dataclass
class Job:
    """One timer of the worker: `run` every `every` seconds, first at once."""

    name: str
    every: float
    run: Callable[[], None]
    due_at: float = float("-inf")


def _run(job: Job) -> bool:
    """Run a job; a failure (the database restarting, say) is logged, retried at its next time.

    Removing the session afterwards ends whatever the job left open, committed or not.
    """
    ok = True
    try:
        job.run()
    except Exception:  # noqa: BLE001 - one failed run must not stop the worker
        ok = False
        log.exception("worker job %s failed; trying again in %g s", job.name, job.every)
    finally:
        db.session.remove()
    return ok


def _beat(worker: str, started_at) -> None:
    """The heartbeat of a round; a database that does not answer only costs this beat."""
    try:
        beat(worker, started_at)
    except Exception:  # noqa: BLE001 - the next round beats again
        log.warning("worker %s could not record its heartbeat", worker, exc_info=True)
    finally:
        db.session.remove()


def _cycle_line(worker: str, ran: list[str], failed: list[str], before, after, started, statements):
    """One JSON log line for a round: the jobs it ran and what they did."""
    delivered = after.delivery
    log.info(
        "worker cycle",
        extra={
            "worker": worker,
            "jobs": ran,
            "failed": failed,
            "expired": after.expired - before[0],
            "sent": delivered.sent - before[1],
            "retrying": delivered.retrying - before[2],
            "dead": delivered.dead - before[3],
            "cancelled": delivered.cancelled - before[4],
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "statements": statements[0],
        },
    )


def _snapshot(report: WorkerReport) -> tuple[int, ...]:
    d = report.delivery
    return (report.expired, d.sent, d.retrying, d.dead, d.cancelled)


def run_worker(
    stop: threading.Event,
    settings: NotifySettings,
    *,
    sweep_every: float | None = SWEEP_EVERY_SECONDS,
    deliver_every: float = DELIVER_EVERY_SECONDS,
    batch: int = BATCH_SIZE,
    rounds: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    retention_every: float | None = RETENTION_EVERY_SECONDS,
    as_of: Callable[[], datetime] = utcnow,
) -> WorkerReport:
    """Run the due jobs, wait for the next, again; until `stop` is set or after `rounds` rounds.

    The first round runs every job; a later round runs those whose time has come. Without
    `sweep_every` only the deliverer runs (`flask leadshare deliver --loop`). Retention
    (privacy.service.erase_expired) runs every `retention_every` seconds at `as_of()`.
    """
    report = WorkerReport()
    deliverer = worker_id()
    started_at = utcnow()

    def sweep_due_offers() -> None:
        result = sweep_once()
        report.sweeps += 1
        report.expired += result.expired
        report.released += result.released
        report.sla_missed += result.sla_missed
        report.returns_accepted += result.returns_accepted

    def deliver() -> None:
        enqueue_reminders(settings.remind_at)
        report.delivery.add(deliver_pending(settings, worker=deliverer, batch=batch, stop=stop))

    def retention() -> None:
        report.erased += erase_expired(as_of())

    jobs = [Job("delivery", deliver_every, deliver)]
    if sweep_every is not None:
        jobs.insert(0, Job("sweep", sweep_every, sweep_due_offers))
        if retention_every is not None:
            jobs.append(Job("retention", retention_every, retention))
    log.info(
        "worker %s started (%s)",
        deliverer,
        ", ".join(f"{job.name} every {job.every:g} s" for job in jobs),
    )
    while not stop.is_set() and (rounds is None or report.rounds < rounds):
        ran, failed = [], []
        before, started, statements = _snapshot(report), time.perf_counter(), start_counting()
        for job in jobs:
            if job.due_at <= clock() and not stop.is_set():
                ran.append(job.name)
                if not _run(job):
                    failed.append(job.name)
                job.due_at = clock() + job.every
        if ran:
            _cycle_line(deliverer, ran, failed, before, report, started, statements)
            _beat(deliverer, started_at)
        report.rounds += 1
        if rounds is None or report.rounds < rounds:
            stop.wait(max(0.0, min(job.due_at for job in jobs) - clock()))
    log.info("worker %s stopped after %d rounds", deliverer, report.rounds)
    return report


@contextmanager
def stopping_on_signals(*signums: int) -> Iterator[threading.Event]:
    """An event that SIGTERM and SIGINT (or the signals given) set; old handlers come back after."""
    stop = threading.Event()
    signums = signums or (signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in signums}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
