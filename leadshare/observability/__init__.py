"""Operating the service: structured logs, Prometheus metrics, readiness, the worker heartbeat.

`wiring.register_observability(app)` installs the request hooks (request id, one JSON log line
and the latency histogram per request), the engine's statement counter and pool gauges, and
the routes `/readyz` and `/metrics`.
"""
