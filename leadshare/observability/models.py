"""The worker heartbeat: one row per worker process, beaten every cycle (seen from every host)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class WorkerHeartbeat(db.Model):
    """When a worker (host:pid:random, as its deliverer's claims) last finished a cycle."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime] = mapped_column(index=True)
