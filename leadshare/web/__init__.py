"""Server-rendered pages: dealer staff on a phone, group admins and OEM auditors on a desktop."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Flask, request, url_for
from flask_babel import lazy_gettext as _l

blp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)

STATIC_DIR = Path(__file__).parent / "static"

# Pages allow only their own scripts and styles (no inline code, no CDN).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@cache
def _fingerprint(filename: str) -> str:
    return hashlib.sha256((STATIC_DIR / filename).read_bytes()).hexdigest()[:10]


def asset_url(filename: str) -> str:
    """A static file's URL with its content hash: phone browsers (WeCom) cache hard."""
    return url_for("web.static", filename=filename, v=_fingerprint(filename))


@blp.after_request
def _headers(response):
    """Pages carry customer details: never cached. Fingerprinted assets: cached for a year."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint == "web.static" and request.args.get("v"):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response


def register_web(app: Flask) -> None:
    """The pages, their Jinja helpers and the HTML error pages."""
    from ..auth.public import public
    from ..clock import utcnow
    from ..extensions import login_manager
    from . import i18n
    from .errors import register_error_pages
    from .nav import counts_for, current_item, nav_for, poll_seconds, split_for_phone

    app.register_blueprint(blp)
    for endpoint in ("static", "web.static"):  # stylesheets, scripts and images
        app.view_functions[endpoint] = public(app.view_functions[endpoint])
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str
    from .distance import distance_text, km_text
    from .rewards import money, percent

    app.jinja_env.filters.update(localtime=i18n.localtime, iso_utc=i18n.iso_utc, money=money)
    app.jinja_env.globals.update(
        label=i18n.label,
        asset_url=asset_url,
        nav_for=nav_for,
        current_language=i18n.current_language,
        utcnow=utcnow,
        percent=percent,
        distance_text=distance_text,
        km_text=km_text,
        current_nav_item=current_item,
        nav_counts=counts_for,
        split_for_phone=split_for_phone,
        poll_seconds=poll_seconds,
    )
    register_error_pages(app)


# Importing the page modules registers their routes on blp.
from . import (  # noqa: E402,F401
    admin,
    audit,
    hours,
    leads,
    notices,
    platform,
    privacy,
    retail,
    returns,
    rewards,
    staff,
    views,
)
