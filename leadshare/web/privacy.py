"""Privacy pages: for group admins who opened too many contacts, who saw a lead's contact and
what the admins changed (platform admins: across groups); for customers the group's consent
notice and its QR code."""

from __future__ import annotations

from datetime import date

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.public import public
from ..clock import local_date, utcnow
from ..errors import DomainError
from ..privacy import service
from ..privacy.notice import notice_paragraphs, notice_version, qr_svg
from ..tenancy.service import list_groups
from ..vocabulary import Role
from . import blp
from .change_log import ACTION, KIND, ROWS, change_cards, change_filters, csv_link, stores_named
from .lookups import actor, dealer_names
from .messages import domain_message
from .views import roles_required


@blp.get("/privacy/alerts")
@roles_required(Role.GROUP_ADMIN)
def privacy_alerts():
    """Users past the group's daily threshold of contacts of leads their store does not hold."""
    user = actor()
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = local_date(utcnow(), user.group.timezone)
    alerts = service.contact_alerts(user, day)
    return render_template(
        "privacy/alerts.html",
        alerts=alerts,
        day=day,
        threshold=user.group.contact_views_alert_per_day,
        names=dealer_names([a["user"].dealer_id for a in alerts]),
    )


@blp.get("/privacy/access")
@roles_required(Role.GROUP_ADMIN)
def privacy_access():
    """The access log of one lead or one user."""
    user = actor()
    args = {k: v for k in ("lead_id", "user_id") if (v := request.args.get(k, "").strip())}
    if args.get("user_id") and not args["user_id"].isdigit():
        args.pop("user_id")
    records, problem = [], None
    if args:
        try:
            records = service.list_access(user, {**args, "user_id": int(args.get("user_id", 0))})
        except DomainError as error:
            problem = domain_message(error)
    elif request.args:
        problem = _("Name a lead or a user.")
    return render_template("privacy/access.html", records=records, args=args, problem=problem)


@blp.get("/privacy/changes")
@roles_required(Role.GROUP_ADMIN, Role.PLATFORM_ADMIN)
def admin_changes():
    """What admins changed, newest first: who, what, when, before and after; and the CSV."""
    user = actor()
    shown, args = change_filters(user)
    changes = service.list_changes(user, args, limit=ROWS + 1)
    stores = stores_named(changes[:ROWS])
    groups = list_groups(user, 1, 1000).items if user.role == Role.PLATFORM_ADMIN else []
    return render_template(
        "privacy/changes.html",
        cards=change_cards(changes[:ROWS], stores),
        truncated=len(changes) > ROWS,
        rows=ROWS,
        shown=shown,
        makers=service.change_makers(user, args),
        kinds=sorted(KIND.items(), key=lambda item: str(item[1])),
        kind_label=KIND,
        action_label=ACTION,
        stores=stores,
        groups=groups,
        csv_link=csv_link(args),
    )


@blp.get("/notice/<group_code>")
@public
def consent_notice(group_code: str):
    """The group's consent notice, in Chinese, for staff to show or send to the customer."""
    group = service.notice_group(group_code)
    return render_template(
        "privacy/notice.html",
        group=group,
        paragraphs=notice_paragraphs(group.name, group.retention_days),
        version=notice_version(group.retention_days),
    )


@blp.get("/notice/<group_code>/qr.svg")
@public
def consent_notice_qr(group_code: str):
    """The notice page's address as a QR code the customer scans with their phone."""
    group = service.notice_group(group_code)
    url = url_for("web.consent_notice", group_code=group.code, _external=True)
    return Response(qr_svg(url), mimetype="image/svg+xml")
