"""OEM retail confirmation pages (issue 17 item 3): upload a retail report and read its rows
(OEM auditors, group admins), the retail audit per store, and the flags for group admins."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import Invalid, NotFound
from ..retail import audit, reports
from ..retail.enums import FlagKind
from ..vocabulary import Role
from . import blp
from .leads import page_number
from .lookups import actor
from .views import roles_required

PER_PAGE = 20
ROW_STATUS = {"good": _l("Counted"), "bad": _l("Refused"), "duplicate": _l("Repeated")}
ROW_PROBLEM = {
    "missing_field": _l("A column is empty"),
    "invalid_vin": _l("Not a valid VIN (length, letters or check digit)"),
    "invalid_date": _l("Not a date, or a date in the future"),
    "unknown_dealer_code": _l("No store has this dealer code with the OEM"),
    "duplicate_vin": _l("The VIN was already on an earlier row"),
}
FLAG_KIND = {
    "duplicate_delivery": _l("Delivered twice in the group"),
    "other_store": _l("Reported for another store"),
}
UPLOAD_REFUSALS = {
    "no_file": _l("Choose a CSV file."),
    "not_csv": _l("Choose a CSV file."),
    "not_utf8": _l("The file is neither UTF-8 nor GB18030: in Excel, save it as “CSV UTF-8”."),
    "bad_header": _l(
        "The first row must name the columns vin, dealer_code and retail_date"
        " (or 车架号, 经销商代码, 零售日期)."
    ),
    "no_rows": _l("The file has a header but no rows."),
    "unknown_oem": _l("Choose the OEM whose report this is."),
}


def _upload():
    """Import the chosen file; the report's page, or the list again with the problem."""
    upload = request.files.get("file")
    oem_id = request.form.get("oem_id", type=int)
    try:
        if upload is None or not upload.filename:
            raise Invalid("file", "Choose a CSV file.", reason="no_file")
        done = reports.import_report(actor(), oem_id, upload.read(), upload.filename)
    except Invalid as error:
        return str(UPLOAD_REFUSALS.get(error.reason, error.message))
    except NotFound:
        return str(UPLOAD_REFUSALS["unknown_oem"])
    if done.created:
        flash(
            _(
                "Imported: %(good)d rows counted, %(confirmed)d deliveries confirmed.",
                good=done.report.rows_good,
                confirmed=done.report.confirmed,
            ),
            "success",
        )
    else:
        flash(_("This file was imported before: here is that import."), "info")
    return redirect(url_for("web.retail_report", report_id=done.report.id))


@blp.route("/retail/reports", methods=["GET", "POST"])
@roles_required(Role.OEM_AUDITOR, Role.GROUP_ADMIN)
def retail_reports():
    """The retail reports imported (the OEM's, or the group's), and the upload form."""
    problem, status = None, 200
    if request.method == "POST":
        outcome = _upload()
        if not isinstance(outcome, str):
            return outcome
        problem, status = outcome, 422
    user = actor()
    found = reports.list_reports(user, page_number(), PER_PAGE)
    return render_template(
        "retail/reports.html",
        page=found,
        oems=reports.upload_oems(user),
        problem=problem,
        chosen_oem=request.form.get("oem_id", type=int),
    ), status


@blp.route("/retail/reports/<int:report_id>")
@roles_required(Role.OEM_AUDITOR, Role.GROUP_ADMIN)
def retail_report(report_id: int):
    """One import: its counts, and every refused or repeated row with its reason."""
    return render_template(
        "retail/report.html",
        view=reports.get_report(actor(), report_id),
        row_status=ROW_STATUS,
        row_problem=ROW_PROBLEM,
    )


@blp.route("/retail/audit")
@roles_required(Role.OEM_AUDITOR, Role.GROUP_ADMIN)
def retail_audit():
    """Per store: deliveries the OEM confirmed, not (yet) confirmed, and flagged."""
    user = actor()
    return render_template(
        "retail/audit.html",
        stores=audit.audit_by_store(user),
        sees_flags=user.role == Role.GROUP_ADMIN,
    )


@blp.route("/retail/flags")
@roles_required(Role.GROUP_ADMIN)
def retail_flags():
    """The group's retail flags, newest first, by kind."""
    kind = request.args.get("kind")
    filters = {"kind": kind} if kind in set(FlagKind) else {}
    found = audit.list_flags(actor(), filters, page_number(), PER_PAGE)
    return render_template(
        "retail/flags.html", page=found, kind=filters.get("kind"), flag_kind=FLAG_KIND
    )
