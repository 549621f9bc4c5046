"""Sign-in with Flask-Login sessions, the language switch, and each role's landing page."""

from __future__ import annotations

import math
from functools import wraps

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..auth.public import public
from ..auth.service import authenticate
from ..auth.sessions import end_session, start_session
from ..errors import TooManyRequests, Unauthorized
from ..settings import current_settings
from ..vocabulary import Role
from . import blp
from .errors import safe_target
from .forms import LoginForm
from .i18n import LANGUAGES

LANDING = {
    Role.STAFF: "web.inbox",
    Role.MANAGER: "web.inbox",
    Role.GROUP_ADMIN: "web.leads",
    Role.OEM_AUDITOR: "web.leads",
}


def _too_many_attempts(minutes: int) -> str:
    return ngettext(
        "Too many failed sign-ins. Try again in %(num)d minute.",
        "Too many failed sign-ins. Try again in %(num)d minutes.",
        minutes,
    )


def roles_required(*roles: Role):
    """Signed in, and one of these roles; any other role gets the 403 page."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


@blp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(
                form.email.data, form.password.data, request.remote_addr, current_settings()
            )
        except TooManyRequests as exc:
            minutes = math.ceil(exc.retry_after / 60)
            message = _too_many_attempts(minutes)
            with force_locale("en"):
                english = _too_many_attempts(minutes)
            flash(message if message == english else f"{message} {english}", "error")
            page = render_template("login.html", form=form)
            return page, 429, exc.headers
        except Unauthorized as exc:
            message = _("Wrong email or password.")
            if (
                message != exc.message
            ):  # keep the English beside Chinese before a language is chosen
                message = f"{message} {exc.message}"
            flash(message, "error")
            return render_template("login.html", form=form), 401
        lang = session.get("lang")
        session.clear()  # a fresh session for the signed-in user, keeping the chosen language
        if lang:
            session["lang"] = lang
        start_session(user)
        login_user(user)
        return redirect(safe_target(request.args.get("next")))
    status = 400 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@blp.post("/logout")
@login_required
def logout():
    end_session(current_user.get_id())
    logout_user()
    return redirect(url_for("web.login"))


@blp.post("/language")
@public
def set_language():
    """The switch: stored in the session, so it holds across pages and across sign-in."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_target(request.form.get("next")))


@blp.get("/")
@login_required
def home():
    landing = LANDING.get(current_user.role)
    if landing:
        return redirect(url_for(landing))
    return render_template("home.html", user=current_user)
