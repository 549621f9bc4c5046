"""Security headers on API answers, pages, the docs page and HTTPS deployments (security item 8)."""

from __future__ import annotations

import base64
import hashlib
import re

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _has_common(response) -> None:
    for name, value in COMMON.items():
        assert response.headers[name] == value, name


def test_api_answers_are_never_stored_sniffed_or_framed(client, make, auth):
    user = make.user("platform_admin")
    for response in (
        client.get("/api/v1/auth/me", headers=auth(user)),
        client.get("/api/v1/auth/me"),  # a 401 too
        client.get("/healthz"),
        client.get("/api/v1/openapi.json"),
    ):
        _has_common(response)
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in response.headers


def test_pages_carry_a_policy_allowing_only_their_own_scripts(client):
    for response in (client.get("/login"), client.get("/no-such-page")):
        _has_common(response)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_the_docs_page_allows_its_inline_script_by_hash_only(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    _has_common(response)
    policy = response.headers["Content-Security-Policy"]
    (script,) = re.findall(r"<script>(.*?)</script>", response.get_data(as_text=True), re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert client.get("/api/v1/docs/assets/swagger-ui.css").headers["Cache-Control"] == (
        "public, max-age=86400"
    )  # the offline Swagger UI files stay cacheable


def test_hsts_only_when_the_session_cookie_is_secure(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    for path in ("/login", "/healthz", "/api/v1/docs"):
        hsts = client.get(path).headers["Strict-Transport-Security"]
        assert hsts == "max-age=31536000; includeSubDomains"
