"""What the audit reports count and how they divide: stage and outcome names, rates, percentiles.

Pure: no framework, no database. The report modules fill these names; the schemas and the CSV
tables list them in this order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any

from ..leads.enums import LeadStatus, OfferStatus
from ..leads.states import PROGRESS_LADDER

LADDER = tuple(str(stage) for stage in PROGRESS_LADDER)
"""accepted ... delivered: a lead has reached LADDER[i] when its progress_rank > i."""
STAGES = ("posted", "offered", *LADDER)
STATUS_COUNTS = tuple(
    status.value
    for status in (
        LeadStatus.LOST,
        LeadStatus.OPEN,
        LeadStatus.UNROUTABLE,
        LeadStatus.WITHDRAWN,
        LeadStatus.RETURNED,
    )
)
COUNTS = (*STAGES, *STATUS_COUNTS, "lost_without_contact")
"""Stages reached, current statuses, and lost leads that never had a contact recorded."""
RATES = (*(f"{a}_to_{b}" for a, b in pairwise(STAGES)), "posted_to_delivered")
"""Each stage over the one before, and the whole funnel."""
OFFER_OUTCOMES = tuple(status.value for status in OfferStatus)
RESOLVED = (OfferStatus.ACCEPTED.value, OfferStatus.DECLINED.value, OfferStatus.EXPIRED.value)
"""An offer is resolved by the store's answer or its silence; pending and withdrawn are not."""


def rate(numerator: int, denominator: int) -> float | None:
    """A share rounded to 4 places; None when there is nothing to divide by."""
    return round(numerator / denominator, 4) if denominator else None


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def minutes(value: float | None) -> float | None:
    """Minutes as the reports write them: rounded to 2 places; None stays None."""
    return None if value is None else round(float(value), 2)


def minutes_to_accept(created_at: datetime, accepted_at: datetime | None) -> float | None:
    """From posting to acceptance, in minutes; None while nobody has accepted the lead."""
    if accepted_at is None:
        return None
    return minutes((accepted_at - created_at).total_seconds() / 60)


def offer_summary(outcomes: Counter, reasons: Counter) -> dict[str, Any]:
    """Offers by outcome, with the shares of resolved offers expired and declined, and why."""
    resolved = sum(outcomes[outcome] for outcome in RESOLVED)
    declined = outcomes[OfferStatus.DECLINED]
    return {
        "made": sum(outcomes.values()),
        **{outcome: outcomes[outcome] for outcome in OFFER_OUTCOMES},
        "resolved": resolved,
        "expired_share": rate(outcomes[OfferStatus.EXPIRED], resolved),
        "declined_share": rate(declined, resolved),
        "decline_reasons": [
            {"reason": reason, "count": n, "share": rate(n, declined)}
            for reason, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
        ],
    }


def funnel_row(
    key: dict[str, Any] | None,
    figures: Mapping[str, Any] | None,
    offers: tuple[Counter, Counter] | None,
    lost_reasons: list[dict[str, Any]],
) -> dict[str, Any]:
    """One funnel row: counts, rates, time to accept, offer outcomes and lost reasons' shares."""
    figures = figures or {}
    counts = {name: figures.get(name, 0) for name in COUNTS}
    rates = {f"{a}_to_{b}": rate(counts[b], counts[a]) for a, b in pairwise(STAGES)}
    rates["posted_to_delivered"] = rate(counts[STAGES[-1]], counts[STAGES[0]])
    return {
        "key": key,
        "counts": counts,
        "rates": rates,
        "time_to_accept": {
            "accepted": counts["accepted"],
            "median_minutes": minutes(figures.get("median")),
            "p90_minutes": minutes(figures.get("p90")),
        },
        "offers": offer_summary(*(offers or (Counter(), Counter()))),
        "lost_reasons": [
            {**reason, "share": rate(reason["count"], counts["lost"])} for reason in lost_reasons
        ],
    }
