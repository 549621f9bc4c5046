"""The group admin's notices: budgets that warn, skipped credits, users opening many contacts.

The list is a read (nothing is marked read by looking); "mark read" is a form, one notice or all.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..notify import notices
from ..notify.enums import NotificationEvent
from ..notify.models import AdminNotice
from ..vocabulary import Role
from . import blp
from .errors import safe_target
from .leads import page_number
from .lookups import actor
from .views import roles_required

PER_PAGE = 30


def notice_text(notice: AdminNotice) -> str:
    """What a notice says, in the reader's language."""
    data = notice.data or {}
    if notice.kind == NotificationEvent.BUDGET_LOW:
        return _(
            "Program %(program)s: the remaining budget %(remaining)s %(currency)s is below the "
            "alert amount %(alert_below)s.",
            program=data.get("program"),
            remaining=data.get("remaining"),
            currency=data.get("currency"),
            alert_below=data.get("alert_below"),
        )
    if notice.kind == NotificationEvent.CREDIT_SKIPPED:
        return _(
            "Program %(program)s: a credit of %(amount)s %(currency)s for lead %(lead)s was "
            "skipped for lack of budget (%(remaining)s left).",
            program=data.get("program"),
            amount=data.get("amount"),
            currency=data.get("currency"),
            lead=data.get("lead_id"),
            remaining=data.get("remaining"),
        )
    return _(
        "%(user)s opened the contacts of %(views)s leads their store does not hold on %(day)s "
        "(the alert is above %(threshold)s).",
        user=data.get("user"),
        views=data.get("views"),
        day=data.get("day"),
        threshold=data.get("threshold"),
    )


def notice_link(notice: AdminNotice) -> str | None:
    """Where the admin acts on it: the program, or the user's access log."""
    data = notice.data or {}
    if data.get("program_id"):
        return url_for("web.program", program_id=data["program_id"])
    if data.get("user_id"):
        return url_for("web.privacy_access", user_id=data["user_id"])
    return None


@blp.get("/admin/notices")
@roles_required(Role.GROUP_ADMIN)
def admin_notices():
    """The group's notices, newest first; unread ones marked (or only them: `?unread=1`)."""
    unread_only = request.args.get("unread") == "1"
    page = notices.list_notices(actor(), page_number(), PER_PAGE, unread_only=unread_only)
    return render_template(
        "admin/notices.html",
        page=page,
        unread_only=unread_only,
        text=notice_text,
        link=notice_link,
    )


@blp.post("/admin/notices/read")
@roles_required(Role.GROUP_ADMIN)
def admin_notices_read():
    """Mark one notice read (`notice_id`), or all of them."""
    one = request.form.get("notice_id", type=int)
    notices.mark_read(actor(), None if one is None else [one])
    return redirect(safe_target(request.form.get("next"), url_for("web.admin_notices")))
