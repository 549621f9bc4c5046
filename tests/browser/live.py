"""The app served on 127.0.0.1 from a scratch SQLite database holding the demo group: the live
server of the browser stories."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.demo import load_demo
from leadshare.extensions import db
from leadshare.settings import Settings


@contextmanager
def demo_server(
    directory: Path, prepare: Callable[[Flask], None] | None = None, **config: Any
) -> Iterator[str]:
    """Yield the base URL of the app with the demo loaded; `prepare(app)` runs before it serves
    (more data through the API), `config` adds to the browser stories' settings."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'leadshare.db'}",
            "SECRET_KEY": "browser-test-secret",
            "WTF_CSRF_ENABLED": True,
            "GEOCODER": "none",
            **config,
        }
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        load_demo(Settings.from_config(app.config))
        db.session.remove()
    if prepare is not None:
        prepare(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
