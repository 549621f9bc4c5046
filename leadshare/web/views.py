"""Sign-in (password or WeCom), sessions that fit a phone, passwords, the language switch, and
each role's landing page.

A form sent after its session ended is never lost: the sign-in page carries what was typed,
and after signing in a page offers to send it (with a fresh CSRF token) to where it was going.
An expired CSRF token on a signed-in form gets the same page.
"""

from __future__ import annotations

import math
import secrets
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from ..auth import passwords, scope
from ..auth.models import User
from ..auth.public import public
from ..auth.service import authenticate
from ..auth.sessions import end_every_session_of, end_session, start_session
from ..errors import Invalid, TooManyRequests, Unauthorized
from ..json_errors import handle_http_exception
from ..settings import current_settings
from ..vocabulary import Role
from ..wecom import service as wecom
from ..wecom import signin
from . import blp
from .errors import error_page, is_page_request, safe_target
from .forms import LoginForm
from .i18n import LANGUAGES

LANDING = {
    Role.STAFF: "web.inbox",
    Role.MANAGER: "web.inbox",
    Role.GROUP_ADMIN: "web.leads",
    Role.OEM_AUDITOR: "web.leads",
}
DRAFT_PREFIX = "draft."
"""Fields of a form whose session ended ride along the sign-in form under this prefix."""
DRAFT_TARGET = "draft_target"
WECOM_NONCE = "wecom_nonce"
WECOM_GROUP_COOKIE = "wecom_group"
WHILE_CHANGING = frozenset(
    {"web.change_password", "web.logout", "web.logout_everywhere", "web.set_language"}
)
"""What a user whose password is temporary may open before replacing it."""

WECOM_REFUSALS = {
    "missing_code": _l("WeCom did not say who you are. Open the page from WeCom again."),
    "bad_state": _l("This sign-in link is broken or was opened in another browser. Start again."),
    "state_expired": _l("This sign-in link is too old. Open the page from WeCom again."),
    "bad_code": _l("WeCom refused this sign-in code (it may be used or expired). Start again."),
    "not_configured": _l("WeCom sign-in is not set up for this group. Sign in with a password."),
    "not_a_member": _l("You are not a member of this group's WeCom. Sign in with a password."),
    "unknown_member": _l(
        "Your WeCom account is not linked to a leadshare user. Ask your group admin to link it,"
        " or sign in with a password."
    ),
    "wecom_error": _l("WeCom answered with an error (code %(errcode)s). Try again in a moment."),
    "wecom_unavailable": _l("WeCom cannot be reached right now. Try again in a moment."),
}


PASSWORD_REFUSALS = {
    "wrong_password": _l("The current password is wrong."),
    "same_password": _l("Choose a new password."),
}


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=200)]
    )
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(min=8, max=200, message=_l("Use 8 to 200 characters.")),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two do not match."))],
    )


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


# --- a form whose session ended --------------------------------------------------------------


def _typed_fields() -> MultiDict:
    """What the visitor typed into the form this POST carries (no token, no sign-in fields)."""
    return MultiDict(
        [(key, value) for key, value in request.form.items(multi=True) if key != "csrf_token"]
    )


def _carried_draft() -> tuple[MultiDict, str | None]:
    """The draft a sign-in form carries along (`draft.*` fields and its target)."""
    fields = MultiDict(
        [
            (key.removeprefix(DRAFT_PREFIX), value)
            for key, value in request.form.items(multi=True)
            if key.startswith(DRAFT_PREFIX)
        ]
    )
    target = request.form.get(DRAFT_TARGET)
    return fields, (safe_target(target) if target and fields else None)


def _login_page(form: LoginForm, status: int, draft=None, target=None, headers=None):
    draft = draft or MultiDict()
    page = render_template(
        "login.html", form=form, draft=draft, draft_target=target, prefix=DRAFT_PREFIX
    )
    return page, status, headers or {}


def _resubmit_page(fields: MultiDict, target: str, status: int):
    """The typed form, ready to send again with this session's token."""
    shown = [value for key, value in fields.items(multi=True) if value.strip() and key != "next"]
    page = render_template("resubmit.html", fields=fields, target=target, shown=shown)
    return page, status


def _kept_for_sign_in():
    """The sign-in page for a form sent without a session: what was typed rides along."""
    fields = _typed_fields()
    flash(_("You were signed out. Sign in and what you typed will be sent."), "info")
    form = LoginForm(formdata=None)
    return _login_page(form, 401, draft=fields, target=request.full_path.rstrip("?"))


def _sent_from_this_site() -> bool:
    """A form of ours whose token has only aged: it carries one, and the browser says the page
    that sent it is this site's. A forged cross-site form gets the plain 400 page, never a
    button that would send its fields with a good token."""
    origin = request.headers.get("Origin") or request.referrer
    return (
        bool(request.form.get("csrf_token"))
        and bool(origin)
        and (urlsplit(origin).netloc == request.host)
    )


@blp.app_errorhandler(CSRFError)
def _expired_form(error: CSRFError):
    """An expired or missing CSRF token: a form's text is kept, never lost on a 400 page."""
    if not is_page_request():
        return handle_http_exception(error)
    fields = _typed_fields()
    if not fields or request.endpoint in ("web.login", None) or not _sent_from_this_site():
        return error_page(
            400,
            _(
                "This form has expired or did not come from this site. "
                "Go back, reload the page and try again."
            ),
        )
    if current_user.is_authenticated:
        flash(_("The form had expired. What you typed is kept: check it and send it."), "info")
        return _resubmit_page(fields, request.full_path.rstrip("?"), 400)
    return _kept_for_sign_in()


@blp.before_app_request
def _sign_in_on_the_way():
    """Before the route's own rule (auth/current.py): pages a signed-out visitor opens inside
    WeCom sign in through WeCom; a form sent without a session keeps its text; a temporary
    password is replaced before anything else."""
    endpoint = request.endpoint
    if endpoint is None or not is_page_request() or scope.is_public(endpoint):
        return None
    if current_user.is_authenticated:
        if current_user.must_change_password and endpoint not in WHILE_CHANGING:
            return redirect(url_for("web.change_password", next=request.full_path.rstrip("?")))
        return None
    if request.method == "POST" and _typed_fields():
        return _kept_for_sign_in()
    if request.method == "GET" and signin.in_wecom(request.user_agent.string):
        group_id = signin.group_for_page(
            endpoint, request.view_args or {}, request.cookies.get(WECOM_GROUP_COOKIE)
        )
        if group_id is not None:
            return _to_wecom(group_id, request.full_path.rstrip("?"))
    return None


def _to_wecom(group_id: int, target: str):
    nonce = secrets.token_urlsafe(16)
    session[WECOM_NONCE] = nonce
    callback = current_settings().notify.public_base_url + url_for("web.wecom_callback")
    url = signin.authorize_url(group_id, target, nonce, callback, current_settings())
    if url is None:
        return redirect(url_for("web.login", next=target))
    return redirect(url)


# --- signing in and out ----------------------------------------------------------------------


def _sign_in(user: User, remember: bool) -> None:
    """A fresh session for the user, kept for REMEMBER_DAYS when remembered (also the cookie)."""
    lang = session.get("lang")
    session.clear()  # a fresh session for the signed-in user, keeping the chosen language
    if lang:
        session["lang"] = lang
    session.permanent = remember
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # the old session's
    start_session(user, current_settings().sessions.lifetime(remember))
    login_user(user)


@blp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("web.home"))
    form = LoginForm()
    draft, target = _carried_draft() if request.method == "POST" else (MultiDict(), None)
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
            return _login_page(form, 429, draft, target, exc.headers)
        except Unauthorized as exc:
            message = _("Wrong email or password.")
            if (
                message != exc.message
            ):  # keep the English beside Chinese before a language is chosen
                message = f"{message} {exc.message}"
            flash(message, "error")
            return _login_page(form, 401, draft, target)
        _sign_in(user, bool(form.remember.data))
        if user.must_change_password:
            return redirect(url_for("web.change_password", next=request.args.get("next")))
        if target:
            return _resubmit_page(draft, target, 200)
        return redirect(safe_target(request.args.get("next")))
    status = 400 if request.method == "POST" else 200
    return _login_page(form, status, draft, target)


@blp.post("/logout")
@login_required
def logout():
    end_session(current_user.get_id())
    logout_user()
    return redirect(url_for("web.login"))


@blp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    """Every session of the user (other phones, remembered ones) and every API token ends."""
    end_every_session_of(current_user.id)
    logout_user()
    flash(_("You are signed out on every device."), "info")
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


# --- WeCom ----------------------------------------------------------------------------------


def _wecom_refused(refusal: signin.SignInRefused):
    message = WECOM_REFUSALS[refusal.reason]
    text = str(message) % {"errcode": refusal.errcode} if refusal.errcode else str(message)
    page = render_template(
        "wecom_error.html", message=text, reason=refusal.reason, errcode=refusal.errcode
    )
    return page, refusal.status


@blp.get("/wecom/start")
@public
def wecom_start():
    """The WeCom app's home page (`/wecom/start?group=CODE&next=/inbox`): sign in through it."""
    target = safe_target(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target)
    group_id = wecom.group_by_code(request.args.get("group", ""))
    if group_id is None or not signin.has_app(group_id):
        return _wecom_refused(signin.SignInRefused("not_configured", 404))
    return _to_wecom(group_id, target)


@blp.get("/wecom/callback")
@public
def wecom_callback():
    """Where WeCom sends the visitor back with a code: map the member, sign in, go on."""
    settings = current_settings()
    try:
        nonce = session.pop(WECOM_NONCE, None)
        state = signin.read_state(request.args.get("state"), nonce, settings)
        user = signin.member_user(state, request.args.get("code"), settings)
    except signin.SignInRefused as refusal:
        return _wecom_refused(refusal)
    _sign_in(user, remember=True)  # WeCom's web view forgets session cookies when it closes
    response = redirect(safe_target(state.target))
    response.set_cookie(
        WECOM_GROUP_COOKIE,
        str(state.group_id),
        max_age=settings.sessions.remember_days * 86400,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    if user.must_change_password:
        return redirect(url_for("web.change_password", next=state.target))
    return response


# --- passwords ------------------------------------------------------------------------------


@blp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change your password; a temporary one from a reset must be changed here first."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        remember = bool(session.permanent)
        try:
            user = passwords.change_own_password(
                current_user, form.current_password.data, form.password.data, current_settings()
            )
        except Invalid as exc:
            field = getattr(form, exc.field, None) or form.password
            field.errors = [*field.errors, str(PASSWORD_REFUSALS.get(exc.reason, exc.message))]
            return render_template("change_password.html", form=form), 422
        _sign_in(user, remember)  # the change ended every session: this one starts again
        flash(_("Your password is changed. Every other device is signed out."), "info")
        return redirect(safe_target(request.args.get("next")))
    status = 422 if request.method == "POST" else 200
    return render_template("change_password.html", form=form), status


@blp.route("/admin/users/<int:user_id>/password", methods=["GET", "POST"])
@login_required
def admin_reset_password(user_id: int):
    """A group admin gives a user a temporary password (shown once), to be changed at sign-in."""
    if request.method == "GET":
        user = passwords.user_to_reset(current_user, user_id)
        return render_template("reset_password.html", user=user, password=None)
    user, password = passwords.reset_password(current_user, user_id, current_settings())
    return render_template("reset_password.html", user=user, password=password)
