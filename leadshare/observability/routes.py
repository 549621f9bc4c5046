"""`/readyz` (readiness and its advisory checks), `/metrics` (Prometheus; token or allow-list)."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Flask, Response, jsonify, request

from ..auth.public import public
from ..clock import utcnow
from ..extensions import db
from ..json_errors import error_body
from ..settings import ObservabilitySettings, current_settings
from . import health, metrics


def limits_of(settings: ObservabilitySettings) -> health.Limits:
    return health.Limits(
        worker_stale_seconds=settings.worker_stale_seconds,
        outbox_stale_seconds=settings.outbox_stale_seconds,
        sweep_lag_seconds=settings.sweep_lag_seconds,
    )


def _address_allowed(address: str | None, allowed: tuple[str, ...]) -> bool:
    """The client address lies in one of the allow-list's addresses or networks."""
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    for entry in allowed:
        try:
            if client in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def metrics_refusal(settings: ObservabilitySettings) -> tuple[int, str, str] | None:
    """None when the caller may scrape: the right Bearer token, or an allowed address."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    offered = token.strip() if scheme.lower() == "bearer" else ""
    if settings.metrics_token and offered:
        if hmac.compare_digest(offered.encode(), settings.metrics_token.encode()):
            return None
        return 401, "The metrics token is not right.", "invalid_token"
    if _address_allowed(request.remote_addr, settings.metrics_allow):
        return None
    if settings.metrics_token:
        return 401, "Send 'Authorization: Bearer <METRICS_TOKEN>'.", "unauthenticated"
    return 403, "This address may not read the metrics (METRICS_ALLOW).", "address_not_allowed"


def _figures(session, settings: ObservabilitySettings):
    """The database's figures and every advisory check, as gauges for this scrape."""
    now = utcnow()
    limits = limits_of(settings)
    outbox = health.outbox_figures(session, now)
    workers = health.worker_figures(session, now, limits)
    families = [
        metrics.gauge("leadshare_outbox_pending", "Messages not sent yet.", outbox["pending"]),
        metrics.gauge("leadshare_outbox_due", "Pending messages due now.", outbox["due"]),
        metrics.gauge("leadshare_outbox_dead", "Messages given up on.", outbox["dead"]),
        metrics.gauge(
            "leadshare_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending message (0 when none).",
            outbox["oldest_pending_age_seconds"] or 0.0,
        ),
        metrics.gauge(
            "leadshare_sweep_lag_seconds",
            "How long the oldest due offer has waited for the sweep (0 when none).",
            health.sweep_lag_seconds(session, now),
        ),
        metrics.gauge(
            "leadshare_workers_alive", "Workers that beat within the limit.", workers["alive"]
        ),
        metrics.gauge(
            "leadshare_worker_last_beat_age_seconds",
            "Seconds since the newest worker heartbeat (-1: never).",
            -1.0 if workers["last_beat_age_seconds"] is None else workers["last_beat_age_seconds"],
        ),
    ]
    checks = metrics.GaugeMetricFamily(
        "leadshare_advisory_check_ok", "Advisory readiness checks: 1 ok, 0 not.", labels=["check"]
    )
    for check in health.advisories(session, now, limits):
        checks.add_metric([check.name], 1.0 if check.ok else 0.0)
    return [*families, checks]


def register_routes(app: Flask, migrations_dir: str) -> None:
    @app.get("/readyz")
    @public
    def readyz():
        """503 unless the database answers and the schema is at head; advisories never fail it."""
        settings = current_settings().observability
        fatal, advisory = health.readiness(db.session, migrations_dir, limits_of(settings))
        failed = [check.name for check in fatal if not check.ok]
        body = {
            "status": "unready" if failed else "ready",
            "failed": failed,
            "warnings": [check.name for check in advisory if not check.ok],
            "checks": {check.name: check.as_json() for check in fatal},
            "advisories": {check.name: check.as_json() for check in advisory},
        }
        response = jsonify(body)
        response.status_code = 503 if failed else 200
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/metrics")
    @public
    def prometheus_metrics():
        """Prometheus text format for a scraper with the token or from an allowed address."""
        settings = current_settings().observability
        refusal = metrics_refusal(settings)
        if refusal is not None:
            status, message, reason = refusal
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
            return jsonify(error_body(status, message, reason)), status, headers
        body = metrics.exposition(_figures(db.session, settings))
        response = Response(body, mimetype=None, content_type=metrics.CONTENT_TYPE)
        response.headers["Cache-Control"] = "no-store"
        return response
