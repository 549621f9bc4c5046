"""Refusals on pages: a flashed message or an HTML error page, never a traceback or JSON.

Views catch the refusals they expect and re-render their form; what escapes a view lands here:
the pages' one mapping of domain errors to HTTP. API paths keep their JSON errors
(leadshare/json_errors.py). Nothing here rolls back: a refused service's unit of work already
has, and the request's session is removed (rolled back) when the request ends.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import marshmallow as ma
from flask import Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..database import handle_unavailable, is_unavailable
from ..errors import DomainError, Forbidden, NotFound, Unauthorized
from ..json_errors import handle_http_exception
from . import blp
from .messages import domain_message, flatten_errors

log = logging.getLogger(__name__)

PAGE_CODES = (400, 403, 404, 405)


def is_page_request() -> bool:
    return not (request.path.startswith("/api/") or request.path == "/healthz")


def safe_target(target: str | None, default: str | None = None) -> str:
    """Only same-site paths: a link or form must not bounce people to another host."""
    if target and "\\" not in target:
        parts = urlsplit(target)
        if (
            parts.netloc in ("", request.host)
            and parts.path.startswith("/")
            and "//" not in parts.path
        ):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return default or url_for("web.home")


def error_page(code: int, message: str | None = None):
    titles = {
        400: _("This form could not be sent"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Not allowed"),
        503: _("Try again in a moment"),
    }
    texts = {
        400: _("The request was not understood. Go back, reload the page and try again."),
        403: _("Your role may not open this page."),
        404: _("This page does not exist, or it is not yours to see."),
        405: _("This page cannot be opened that way."),
        503: _("The service cannot reach its database right now. Wait a few seconds and reload."),
    }
    title = titles.get(code, _("Something went wrong"))
    text = message or texts.get(code, _("Something went wrong on our side; it has been logged."))
    return render_template("errors/error.html", code=code, title=title, message=text), code


def _http_error(error: HTTPException):
    if not is_page_request():
        return handle_http_exception(error)
    if isinstance(error, CSRFError):
        return error_page(
            400,
            _(
                "This form has expired or did not come from this site. "
                "Go back, reload the page and try again."
            ),
        )
    return error_page(error.code or 500)


@blp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    """What a view did not catch: 404/403 pages, otherwise the message on the previous page."""
    if isinstance(error, NotFound):
        return error_page(404)
    if isinstance(error, Forbidden):
        return error_page(403, domain_message(error))
    if isinstance(error, Unauthorized):
        return redirect(url_for("web.login"))
    flash(domain_message(error), "error")
    return redirect(safe_target(request.referrer))


@blp.errorhandler(ma.ValidationError)
def _invalid_input(error: ma.ValidationError):
    """Input a view did not validate through a form: its messages on the previous page."""
    messages = error.messages if isinstance(error.messages, dict) else {"_": error.messages}
    for texts in flatten_errors(messages).values():
        for text in texts:
            flash(text, "error")
    return redirect(safe_target(request.referrer))


@blp.errorhandler(Exception)
def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return error_page(error.code or 500)
    if is_unavailable(error):
        return handle_unavailable(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_page(500)


def register_error_pages(app: Flask) -> None:
    """HTML pages for these codes on web paths, also for URLs no view matched."""
    for code in PAGE_CODES:
        app.register_error_handler(code, _http_error)
