"""The app factory: settings -> extensions -> blueprints -> CLI -> errors."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from . import registry  # noqa: F401 - every domain's tables, before the mapper configures
from .extensions import babel, csrf, db, login_manager, migrate
from .observability.wiring import register_observability
from .security_headers import register_security_headers
from .settings import load_config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config -> extensions -> blueprints -> CLI -> errors."""
    app = Flask(__name__, instance_relative_config=True)

    app.config.update(load_config(Path(app.instance_path), config))
    app.json.ensure_ascii = False  # Chinese names stay readable in JSON answers
    if app.config["TRUSTED_PROXIES"] > 0:  # X-Forwarded-For of that many proxies is believed
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])
    register_extensions(app)
    register_blueprints(app)
    register_observability(app, MIGRATIONS_DIR)
    register_cli(app)
    register_security_headers(app)
    return app


def register_extensions(app: Flask) -> None:
    from .database import configure_sqlite
    from .web.i18n import DEFAULT_LOCALE, DEFAULT_TIMEZONE, select_locale, select_timezone

    db.init_app(app)
    configure_sqlite(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(
        app,
        default_locale=DEFAULT_LOCALE,
        default_timezone=DEFAULT_TIMEZONE,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
    )
    login_manager.login_view = "web.login"

    @login_manager.user_loader
    def load_user(session_token: str):
        from .auth.sessions import user_of_session

        return user_of_session(session_token)


def register_blueprints(app: Flask) -> None:
    from .api import register_api
    from .auth.current import guard_request
    from .auth.public import public
    from .database import register_unavailable_handler
    from .hours import sla as _sla  # noqa: F401 - its lead-event handlers run the SLA timers
    from .notify import outbox as _outbox  # noqa: F401 - its handlers write the outbox
    from .privacy import admin_log as _admin_log  # noqa: F401 - its listener records admins' changes
    from .privacy.access_log import write_pending
    from .rewards import credits as _rewards  # noqa: F401 - its lead-event handlers credit
    from .web import register_web

    register_api(app)
    register_web(app)
    register_unavailable_handler(app)
    app.before_request(guard_request)  # every route's sign-in and role rule (auth/scope.py)
    app.after_request(write_pending)  # the contact access log, in its own short transaction

    @app.get("/healthz")
    @public
    def healthz():
        """Liveness plus a database round trip: 503 when the database does not answer.

        The request's session is removed when it ends, which ends the check's transaction.
        """
        try:
            db.session.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any database failure means "not healthy"
            app.logger.warning("healthz: database check failed: %s", exc)
            return jsonify(status="unavailable", database="unreachable"), 503
        return jsonify(status="ok", database="ok")


def register_cli(app: Flask) -> None:
    from .cli import leadshare_cli

    app.cli.add_command(leadshare_cli)
