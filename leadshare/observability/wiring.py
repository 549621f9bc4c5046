"""Installing the package's logging, hooks and routes on an app."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from ..extensions import db


def register_observability(app: Flask, migrations_dir: Path) -> None:
    """Logs, request ids, metrics and readiness for this app (see the modules of this package)."""
    from . import outcomes as _outcomes  # noqa: F401 - its trail listener counts outcomes
    from .hooks import instrument_engine, register_request_hooks
    from .logs import configure_logging
    from .routes import register_routes

    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    with app.app_context():
        instrument_engine(db.engine)
    register_request_hooks(app)
    register_routes(app, str(migrations_dir))
