"""Security headers on every answer: nothing sniffed, framed or cached that carries lead data.

API answers (JSON, CSV) are `no-store` and may run nothing (`default-src 'none'`). Pages keep
the policy of the web package (own scripts and styles only). The Swagger UI page at
/api/v1/docs runs one inline start-up script: it is allowed by its SHA-256 hash, computed
from the page as sent, never by 'unsafe-inline' (Swagger UI renders without inline styles,
checked in headless Chromium). `Referrer-Policy: same-origin` keeps
lead URLs (`/leads/ld_...`) out of other sites' logs. HSTS is sent when the service runs
behind HTTPS, which SESSION_COOKIE_SECURE=1 declares.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache

from flask import Flask, Response, current_app, request

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' {hashes}; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@lru_cache(maxsize=8)
def docs_policy(html: str) -> str:
    """The docs page's policy: its own inline scripts by hash, nothing else inline."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(html)
    )
    return DOCS_POLICY.format(hashes=hashes)


def _is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/healthz"


def add_security_headers(response: Response, page_policy: str) -> Response:
    """The after-request hook: headers a view already set are kept."""
    for name, value in COMMON.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if not _is_api(request.path):
        response.headers.setdefault("Content-Security-Policy", page_policy)
        return response
    response.headers.setdefault("Cache-Control", "no-store")  # the docs' assets set their own
    if response.mimetype == "text/html" and not response.is_streamed:
        policy = docs_policy(response.get_data(as_text=True))
    else:
        policy = API_POLICY
    response.headers.setdefault("Content-Security-Policy", policy)
    return response


def register_security_headers(app: Flask) -> None:
    """Every answer of `app` gets the headers; pages (and HTML error pages) the web's policy."""
    from .web import SECURITY_HEADERS

    page_policy = SECURITY_HEADERS["Content-Security-Policy"]
    app.after_request(lambda response: add_security_headers(response, page_policy))
