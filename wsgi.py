"""The WSGI entry point: `gunicorn wsgi:app`, and what `flask` finds from the project root."""

import sys

from leadshare.app import create_app
from leadshare.settings import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a clear message instead of a traceback, from gunicorn and flask alike
    print(f"leadshare cannot start: {exc}", file=sys.stderr)
    raise SystemExit(4) from None  # gunicorn's "App failed to load": stop instead of respawning
