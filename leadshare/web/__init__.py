"""Server-rendered pages. For now: sign in, sign out and a landing page."""

from __future__ import annotations

from flask import Blueprint

blp = Blueprint("web", __name__, template_folder="templates")

from . import views  # noqa: E402,F401 - registers the routes on blp
