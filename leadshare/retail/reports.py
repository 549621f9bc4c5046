"""Importing an OEM's retail report (issue 17 item 3), and reading the reports imported.

One upload is one unit of work: the rows as read (good, bad with a reason, duplicates), the
deliveries they confirm and the flags they raise. The same bytes uploaded again in the same
scope answer the earlier report (`created` False): the database's unique (scope, sha256)
decides between two uploads of one file at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..auth.scope import require_role, retail_reports_seen, retail_upload_scope
from ..clock import utcnow
from ..errors import Invalid, NotFound
from ..extensions import db
from ..pagination import Page, paginate
from ..tenancy.models import Dealer, Oem
from ..uow import transactional
from ..vocabulary import Role
from .enums import RowStatus
from .matching import Outcome, Reported, match_rows
from .models import DealerOemCode, RetailReport, RetailReportRow
from .rules import BadReport, ReportRow, content_hash, decode, read_report

CHUNK = 500
"""Rows written and matched at a time (the progress bar moves by this much)."""

Progress = Callable[[int, int], None]
"""Told (rows done, rows in all) as an import goes."""


@dataclass(frozen=True)
class ReportView:
    """A report with its per-row report: the bad and duplicate rows in file order (`created`:
    this upload imported it, rather than finding the same file imported before)."""

    report: RetailReport
    problems: Sequence[ReportRow | RetailReportRow]
    created: bool = False

    def __getattr__(self, name: str):
        """The report's own fields read through the view (a schema dumps both alike)."""
        return getattr(self.report, name)


def _scope_key(oem_id: int, group_id: int | None) -> str:
    return f"oem:{oem_id}" if group_id is None else f"oem:{oem_id}:group:{group_id}"


def _earlier(scope: str, digest: str) -> RetailReport | None:
    return db.session.scalar(
        select(RetailReport).where(RetailReport.scope == scope, RetailReport.sha256 == digest)
    )


def _known_codes(oem_id: int, group_id: int | None) -> dict[str, int]:
    """The OEM's dealer codes, to the store each names (a group admin's: its group's stores)."""
    query = (
        select(DealerOemCode.code, DealerOemCode.dealer_id)
        .join(Dealer, Dealer.id == DealerOemCode.dealer_id)
        .where(DealerOemCode.oem_id == oem_id)
    )
    if group_id is not None:
        query = query.where(Dealer.group_id == group_id)
    return dict(db.session.execute(query).all())


def _read(content: bytes, codes: Mapping[str, int], now: datetime) -> list[ReportRow]:
    try:
        # A retail date may be tomorrow's somewhere east of UTC; later is a mistake.
        return read_report(decode(content), codes, (now + timedelta(days=1)).date())
    except BadReport as problem:
        raise Invalid("file", str(problem), reason=problem.reason) from None


def _write_rows(
    report: RetailReport, rows: list[ReportRow], codes: Mapping[str, int]
) -> list[Reported]:
    """Write the rows; the good ones come back as matching needs them."""
    values = [
        {
            "report_id": report.id,
            "row_number": row.row_number,
            "vin": row.vin,
            "dealer_code": row.dealer_code,
            "retail_date": row.retail_date,
            "dealer_id": codes.get(row.dealer_code) if row.status == RowStatus.GOOD else None,
            "status": row.status.value,
            "reason": row.reason.value if row.reason else None,
            "detail": row.detail,
        }
        for row in rows
    ]
    db.session.execute(insert(RetailReportRow.__table__), values)  # executemany: no ORM rows
    ids = dict(
        db.session.execute(
            select(RetailReportRow.row_number, RetailReportRow.id).where(
                RetailReportRow.report_id == report.id,
                RetailReportRow.row_number.between(rows[0].row_number, rows[-1].row_number),
                RetailReportRow.dealer_id.is_not(None),
            )
        ).all()
    )
    return [
        Reported(
            ids[value["row_number"]],
            value["vin"],
            value["row_number"],
            report.id,
            value["dealer_id"],
            value["retail_date"],
            report.uploaded_by_id,
        )
        for value in values
        if value["dealer_id"] is not None
    ]


@transactional
def import_report(
    actor: User,
    oem_id: int | None,
    content: bytes,
    filename: str | None = None,
    *,
    group_id: int | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ReportView:
    """Import a retail report; the same file again answers the earlier import (not created).
    An OEM auditor imports for its own OEM; a group admin names the OEM (the console also the
    group, if any, whose stores the report names). 422 for a file that
    cannot be read (not_utf8, bad_header, no_rows) or an unknown OEM."""
    now = now or utcnow()
    oem_id, group_id = retail_upload_scope(actor, oem_id, group_id)
    if db.session.get(Oem, oem_id) is None:
        raise Invalid("oem_id", "No such OEM.", reason="unknown_oem")
    scope, digest = _scope_key(oem_id, group_id), content_hash(content)
    earlier = _earlier(scope, digest)
    if earlier is not None:
        return _view(earlier)
    codes = _known_codes(oem_id, group_id)
    rows = _read(content, codes, now)
    report = RetailReport(
        oem_id=oem_id,
        group_id=group_id,
        scope=scope,
        sha256=digest,
        filename=(filename or "")[:255] or None,
        uploaded_by_id=actor.id,
        rows_total=len(rows),
        rows_good=sum(row.status == RowStatus.GOOD for row in rows),
        rows_bad=sum(row.status == RowStatus.BAD for row in rows),
        rows_duplicate=sum(row.status == RowStatus.DUPLICATE for row in rows),
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:  # the same file, uploaded at the same moment by someone else
        return _view(_earlier(scope, digest))
    outcome = Outcome()
    for start in range(0, len(rows), CHUNK):
        written = _write_rows(report, rows[start : start + CHUNK], codes)
        done = match_rows(report, written, actor, now)
        outcome.confirmed += done.confirmed
        outcome.flagged += done.flagged
        if progress is not None:
            progress(min(start + CHUNK, len(rows)), len(rows))
    report.confirmed, report.flagged = outcome.confirmed, outcome.flagged
    return ReportView(report, [row for row in rows if row.status != RowStatus.GOOD], True)


def _report(actor: User, report_id: int) -> RetailReport:
    seen = retail_reports_seen(actor)
    report = db.session.scalar(select(RetailReport).where(RetailReport.id == report_id, seen))
    if report is None:
        raise NotFound("No such retail report.")
    return report


def list_reports(actor: User, page: int, per_page: int) -> Page:
    """The retail reports the actor may see, newest first."""
    query = (
        select(RetailReport)
        .where(retail_reports_seen(actor))
        .order_by(RetailReport.created_at.desc(), RetailReport.id.desc())
    )
    return paginate(query, page, per_page)


def _view(report: RetailReport) -> ReportView:
    problems = db.session.scalars(
        select(RetailReportRow)
        .where(
            RetailReportRow.report_id == report.id,
            RetailReportRow.status != RowStatus.GOOD,
        )
        .order_by(RetailReportRow.row_number)
    ).all()
    return ReportView(report, list(problems))


def get_report(actor: User, report_id: int) -> ReportView:
    """One report with its per-row report."""
    return _view(_report(actor, report_id))


def upload_oems(actor: User) -> list[Oem]:
    """The OEMs whose reports the actor may upload: an OEM auditor its own, a group admin those
    that know some store of its group by a code (others' reports would name none of them)."""
    require_role(actor, Role.OEM_AUDITOR, Role.GROUP_ADMIN)
    if actor.role == Role.OEM_AUDITOR:
        return [db.session.get(Oem, actor.oem_id)]
    coded = (
        select(DealerOemCode.oem_id)
        .join(Dealer, Dealer.id == DealerOemCode.dealer_id)
        .where(Dealer.group_id == actor.group_id)
    )
    return list(db.session.scalars(select(Oem).where(Oem.id.in_(coded)).order_by(Oem.name)))
