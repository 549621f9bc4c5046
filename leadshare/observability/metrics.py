"""Prometheus metrics (the official client): what the processes count, and what the database says.

Counters and histograms live in each process; under gunicorn with PROMETHEUS_MULTIPROC_DIR set
(`make run`, deploy/gunicorn.conf.py) the client keeps them in files there and a scrape of any
worker sums them all. Lead and offer outcomes are counted from the lead trail's events, and
only once their transaction commits (a rolled-back claim counts nothing). The outbox, sweep and
worker figures are read from the database at scrape time, so every host reports the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_ENV):  # the client writes its files there from the first metric on
    Path(os.environ[MULTIPROC_ENV]).mkdir(parents=True, exist_ok=True)

REQUEST_SECONDS = Histogram(
    "leadshare_http_request_duration_seconds",
    "Time to answer a request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LEADS_POSTED = Counter(
    "leadshare_leads_posted",
    "Leads taken in, by what intake did with them (offered, open, unroutable, needs_location).",
    ["outcome"],
)
OFFERS_MADE = Counter("leadshare_offers_made", "Offers routed to a store.")
OFFERS_RESOLVED = Counter(
    "leadshare_offers_resolved",
    "Routed offers by outcome (accepted, declined, expired) and decline reason.",
    ["outcome", "reason"],
)
CLAIMS = Counter(
    "leadshare_claims", "Leads claimed, by way (offer: a routed offer, board).", ["via"]
)
TIME_TO_ACCEPT = Histogram(
    "leadshare_time_to_accept_seconds",
    "From a lead's posting to its claim.",
    buckets=(60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200),
)
DB_POOL_CHECKED_OUT = Gauge(
    "leadshare_db_pool_checked_out",
    "Database connections in use, summed over live processes.",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "leadshare_db_pool_size",
    "Database connections the pools may hold without overflow, summed over live processes.",
    multiprocess_mode="livesum",
)


class Figures(Collector):
    """Gauges computed for one scrape (from the database), as a collector of a fresh registry."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


def gauge(name: str, documentation: str, value: float, **labels: str) -> GaugeMetricFamily:
    """One gauge family with one sample (labelled when labels are given)."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels) or None)
    if labels:
        family.add_metric(list(labels.values()), value)
    else:
        family.add_metric([], value)
    return family


def exposition(figures: Iterable[Metric]) -> bytes:
    """The text format: every process's counters (multi-process when set up), then the figures."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(Figures(figures))
    return counted + generate_latest(scraped)


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
