"""gunicorn settings for leadshare: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every value can be changed by the environment (GUNICORN_BIND, GUNICORN_WORKERS, ...). With
PROMETHEUS_MULTIPROC_DIR set, /metrics sums every worker process: the folder is emptied when
the master starts and a dead worker's live gauges are dropped.
"""

import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "sync"  # measured faster than gthread for this app's SQLite writes
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # a stuck request is killed after this
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))  # SIGTERM / HUP
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))  # recycle workers slowly
max_requests_jitter = 500
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the app writes one JSON line per request (route template, no query string)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "leadshare"


def on_starting(server):
    """Start each run with an empty metrics folder, so old processes' counters do not add up."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """A worker that exits no longer counts in the live gauges (connections in use)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
