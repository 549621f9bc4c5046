"""`flask leadshare ...`: admin, demo data, dealer import, the sweep and notification delivery."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .auth.models import User
from .clock import parse_iso
from .csvsafe import cells, csv_text
from .errors import Conflict, Invalid, NotFound
from .extensions import db
from .settings import current_settings
from .vocabulary import Role

leadshare_cli = AppGroup("leadshare", help="leadshare administration.")


@leadshare_cli.command("create-admin")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_admin(email: str, password: str) -> None:
    """Create a platform admin (the first user of a deployment)."""
    from .tenancy.service import console_operator, create_user

    email = email.strip().lower()
    if len(password) < 8:
        raise click.UsageError("The password needs at least 8 characters.")
    data = {"email": email, "password": password, "role": Role.PLATFORM_ADMIN}
    try:
        user = create_user(console_operator(), data, current_settings())
    except Conflict as exc:
        raise click.ClickException(f"A user with email {email} already exists.") from exc
    click.echo(f"Created platform admin {user.email} (id {user.id}).")


@leadshare_cli.command("demo")
@click.option("--force", is_flag=True, help="Load it even on a database that is not SQLite.")
def demo(force: bool) -> None:
    """Load the demo group, stores and users (once; a second run changes nothing)."""
    from .demo import DEMO_PASSWORD, load_demo

    settings = current_settings()
    if not (force or settings.is_sqlite):
        raise click.ClickException(
            "The demo creates users whose password is published (see README); this database is"
            " not SQLite, so it may be a production one. Run `flask leadshare demo --force` if"
            " you really want the demo here."
        )
    group = load_demo(settings)
    if group is None:
        click.echo("Demo data already loaded.")
        return
    click.echo(f"Loaded demo group {group.code} with {len(group.dealers)} stores.")
    for user in db.session.scalars(select(User).order_by(User.id)):
        click.echo(f"  {user.role:<15} {user.email}")
    click.echo(f"Every demo user's password: {DEMO_PASSWORD}")


@leadshare_cli.command("import-dealers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--group", "group_code", required=True, help="Code of the group to import into.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write a CSV with the outcome of every line (for Excel).",
)
def import_dealers(file: Path, group_code: str, report_path: Path | None) -> None:
    """Create or update a group's dealers from a CSV (header row; see README for columns)."""
    from .tenancy.dealer_csv import REPORT_HEADER, import_rows, read_rows

    with file.open(newline="", encoding="utf-8-sig") as f:
        try:
            rows = read_rows(f)
        except Invalid as exc:
            raise click.ClickException(exc.message) from exc
    try:
        report = import_rows(
            group_code, rows, lambda items: click.progressbar(items, label="Importing")
        )
    except NotFound as exc:
        raise click.ClickException(exc.message) from exc
    if report_path is not None:
        table = (REPORT_HEADER, ((line, *cells(rest)) for line, *rest in report.lines))
        report_path.write_text(csv_text(table), encoding="utf-8", newline="")
    failures = report.failures
    click.echo(
        f"{report.count('created')} created, {report.count('updated')} updated,"
        f" {len(failures)} rejected."
    )
    for line, message in failures:
        click.echo(f"  line {line}: {message}", err=True)
    if failures:
        raise SystemExit(1)  # the good rows are in; a script still learns that some were not


@leadshare_cli.command("retail-import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--oem", "oem_name", required=True, help="Name (or id) of the OEM whose report it is."
)
@click.option("--group", "group_code", help="Only this group's stores (default: every group).")
def retail_import(file: Path, oem_name: str, group_code: str | None) -> None:
    """Import an OEM's retail report (CSV: vin, dealer_code, retail_date); the same file again
    shows the earlier import. Confirms deliveries and raises flags as the upload page does."""
    from tqdm import tqdm

    from .retail.reports import import_report
    from .tenancy.models import Group, Oem
    from .tenancy.service import console_operator

    oem = db.session.scalar(
        select(Oem).where((Oem.name == oem_name) | (Oem.id == _int_or_none(oem_name)))
    )
    if oem is None:
        raise click.ClickException(f"No OEM named {oem_name}.")
    group = None
    if group_code is not None:
        group = db.session.scalar(select(Group).where(Group.code == group_code))
        if group is None:
            raise click.ClickException(f"No group with code {group_code}.")
    with tqdm(desc="Importing", unit="row", disable=None) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            done = import_report(
                console_operator(),
                oem.id,
                file.read_bytes(),
                file.name,
                group_id=group.id if group else None,
                progress=progress,
            )
        except Invalid as exc:
            raise click.ClickException(exc.message) from exc
    report = done.report
    click.echo(
        f"{'Imported' if done.created else 'Already imported'} report {report.id}: "
        f"{report.rows_good} rows counted, {report.rows_bad} refused, {report.rows_duplicate} "
        f"repeated; {report.confirmed} deliveries confirmed, {report.flagged} flags raised."
    )
    for row in done.problems:
        click.echo(f"  line {row.row_number}: {row.reason} ({row.detail})", err=True)
    if done.problems:
        raise SystemExit(1)  # the good rows are in; a script still learns that some were not


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdecimal() else None


def _utc(value: str | None) -> datetime | None:
    """ISO-8601 with or without an offset (none means UTC), as naive UTC like the database."""
    if value is None:
        return None
    try:
        return parse_iso(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 time.") from exc


@leadshare_cli.command("sweep")
@click.option("--as-of", "as_of", help="Treat this time (ISO-8601; UTC if no offset) as now.")
def sweep(as_of: str | None) -> None:
    """Expire offers whose time is up and route their leads on, accept returns left unanswered
    past their dispute window, release held credits, reverse delivery credits no retail report
    confirmed by their deadline, run the service-level timers, tell admins of users over their
    daily contact views, queue offer reminders; safe on many hosts at once."""
    from .notify.outbox import enqueue_reminders
    from .settings import current_settings
    from .worker import sweep_once

    now = _utc(as_of)
    done = sweep_once(now)
    reminders = enqueue_reminders(current_settings().notify.remind_at, now)
    click.echo(
        f"{done.expired} offers expired on {done.leads} leads; {done.returns_accepted} returns "
        f"accepted; {done.released} held credits released; {done.unconfirmed} delivery credits "
        f"reversed unconfirmed; {reminders} reminders queued; "
        f"SLA: {done.sla_reminded} reminded, {done.sla_missed} missed, {done.sla_released} "
        f"released; {done.appointments} appointments reminded; {done.contact_alerts} contact "
        "alerts."
    )


@leadshare_cli.command("retention")
@click.option("--as-of", "as_of", help="Treat this time (ISO-8601; UTC if no offset) as now.")
def retention(as_of: str | None) -> None:
    """Erase the personal data of leads at rest past their group's retention_days."""
    from .privacy.service import erase_expired

    click.echo(f"{erase_expired(_utc(as_of))} leads erased.")


@leadshare_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep polling until SIGTERM or SIGINT.")
@click.option(
    "--interval", default=2.0, show_default=True, help="Seconds between polls with --loop."
)
@click.option("--batch", default=10, show_default=True, help="Messages claimed at a time.")
def deliver(loop: bool, interval: float, batch: int) -> None:
    """Send pending notifications to the stores' webhooks; safe on many hosts at once."""
    from .notify.deliver import deliver_pending
    from .notify.outbox import enqueue_reminders
    from .settings import current_settings
    from .worker import run_worker, stopping_on_signals

    settings = current_settings().notify
    if loop:
        with stopping_on_signals() as stop:
            worked = run_worker(
                stop, settings, sweep_every=None, deliver_every=interval, batch=batch
            )
        report = worked.delivery
    else:
        enqueue_reminders(settings.remind_at)
        report = deliver_pending(settings, batch=batch)
    click.echo(
        f"{report.sent} sent, {report.retrying} to retry, {report.dead} dead, "
        f"{report.cancelled} cancelled."
    )


def _seconds(flag: str, default: float, what: str):
    """A `--flag SECONDS` option, more than zero."""
    kind = click.FloatRange(min=0, min_open=True)
    return click.option(flag, default=default, show_default=True, type=kind, help=what)


@leadshare_cli.command("worker")
@_seconds("--interval", 60.0, "Seconds between sweeps of due offers.")
@_seconds("--deliver-interval", 2.0, "Seconds between delivery polls.")
@click.option("--batch", default=10, show_default=True, help="Messages claimed at a time.")
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    help="Stop after this many rounds (the first runs everything); else until SIGTERM or SIGINT.",
)
@click.option(
    "--as-of", "as_of", help="Retention treats this time (ISO-8601; UTC if no offset) as now."
)
def worker(
    interval: float, deliver_interval: float, batch: int, rounds: int | None, as_of: str | None
) -> None:
    """Sweep due offers every minute, deliver notifications and erase what is past its
    retention every hour, in one process (run beside the web servers in production; safe on
    many hosts at once)."""
    from .clock import utcnow
    from .settings import current_settings
    from .worker import run_worker, stopping_on_signals

    moment = _utc(as_of)

    with stopping_on_signals() as stop:
        report = run_worker(
            stop,
            current_settings().notify,
            sweep_every=interval,
            deliver_every=deliver_interval,
            batch=batch,
            rounds=rounds,
            as_of=(lambda: moment) if moment else utcnow,
        )
    delivered = report.delivery
    click.echo(
        f"{report.rounds} rounds: {report.expired} offers expired in {report.sweeps} sweeps; "
        f"{delivered.sent} sent, {delivered.retrying} to retry, {delivered.dead} dead, "
        f"{delivered.cancelled} cancelled; {report.erased} leads erased."
    )


@leadshare_cli.command("check")
def check() -> None:
    """Print every problem of this configuration; exit code 1 if any is fatal."""
    from flask import current_app

    from .app import MIGRATIONS_DIR
    from .observability.config_check import Severity, find_problems
    from .observability.routes import limits_of

    findings = find_problems(
        current_app.config,
        db.session,
        str(MIGRATIONS_DIR),
        limits_of(current_settings().observability),
    )
    for finding in findings:
        click.echo(f"{finding.severity.upper():<8} {finding.name}: {finding.message}")
    fatal = sum(1 for f in findings if f.severity == Severity.FATAL)
    warnings = sum(1 for f in findings if f.severity == Severity.WARNING)
    click.echo(f"{fatal} fatal, {warnings} warnings.")
    if fatal:
        raise SystemExit(1)


@leadshare_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """A consistent copy of the SQLite database while it serves (PostgreSQL: see the message)."""
    from flask import current_app

    from .observability.backup import BackupRefused, backup_sqlite

    try:
        report = backup_sqlite(
            current_settings().database_url,
            path,
            busy_timeout_ms=int(current_app.config["SQLITE_BUSY_TIMEOUT_MS"]),
        )
    except BackupRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up {report.pages} pages ({report.bytes} bytes) to {report.path}.")
