"""Sign-in with Flask-Login sessions."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..auth.service import authenticate
from ..errors import Unauthorized
from . import blp
from .forms import LoginForm


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce users to another host."""
    if target and target.startswith("/") and not urlsplit(target).netloc and "//" not in target:
        return target
    return url_for("web.home")


@blp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data)
        except Unauthorized as exc:
            flash(f"{exc.message} / 邮箱或密码错误", "error")
            return render_template("login.html", form=form), 401
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    status = 400 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@blp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("web.login"))


@blp.get("/")
@login_required
def home():
    return render_template("home.html", user=current_user)
