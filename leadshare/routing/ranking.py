"""Which eligible dealer gets the offer: the nearest, ties within 10 m to the less loaded."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from leadshare.routing.eligibility import DealerFacts, LeadFacts, Rule, evaluate

TIE_KM = 0.010
"""Dealers whose distances differ by at most this much (10 m) count as equally near."""

_FLOAT_SLACK_KM = 1e-9


@dataclass(frozen=True, slots=True)
class Candidate:
    """An eligible dealer; distance_km is math.inf when the dealer has no position."""

    dealer_id: int
    distance_km: float
    load_today: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: distance rounded to metres, null when unknown."""
        distance = round(self.distance_km, 3) if math.isfinite(self.distance_km) else None
        return {
            "dealer_id": self.dealer_id,
            "distance_km": distance,
            "load_today": self.load_today,
        }


@dataclass(frozen=True)
class Decision:
    """One routing decision: the chosen dealer, the next candidates, and who each rule excluded.

    `out_of_reach` counts the dealers other than the referrer that sell the brand but lie beyond
    the searched area, so were never considered (they fail the area rule; the trail counts
    them under `area`).
    """

    chosen: Candidate | None
    runners_up: tuple[Candidate, ...]
    excluded: dict[str, int]
    considered: int
    out_of_reach: int = 0

    @property
    def is_unroutable(self) -> bool:
        """No dealer of the group other than the referrer sells the lead's brand."""
        outside = self.excluded.get(Rule.SAME_GROUP_NOT_REFERRER, 0)
        sells_brand = self.considered - outside - self.excluded.get(Rule.SELLS_BRAND, 0)
        return sells_brand == 0 and self.out_of_reach == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form stored with the lead's trail."""
        return {
            "chosen": self.chosen.to_dict() if self.chosen else None,
            "runners_up": [candidate.to_dict() for candidate in self.runners_up],
            "excluded": dict(self.excluded),
            "considered": self.considered,
        }


def rank(candidates: Iterable[Candidate], limit: int | None = None) -> list[Candidate]:
    """Order candidates for offers: nearest first; within 10 m fewer load_today, then lower id.

    "Within 10 m" is not transitive, so it is applied greedily: the next dealer is, among the
    remaining ones no farther than the nearest remaining plus TIE_KM, the one with the least
    (load_today, dealer_id). The result depends only on the set of candidates, never on their
    input order. `limit` stops after that many dealers.
    """
    remaining = sorted(candidates, key=lambda c: (c.distance_km, c.load_today, c.dealer_id))
    ranked: list[Candidate] = []
    while remaining and (limit is None or len(ranked) < limit):
        horizon = remaining[0].distance_km + TIE_KM + _FLOAT_SLACK_KM
        best = 0
        for index in range(1, len(remaining)):
            candidate = remaining[index]
            if candidate.distance_km > horizon:
                break
            leader = remaining[best]
            if (candidate.load_today, candidate.dealer_id) < (leader.load_today, leader.dealer_id):
                best = index
        ranked.append(remaining.pop(best))
    return ranked


def decide(lead: LeadFacts, dealers: Iterable[DealerFacts], runners_up: int = 5) -> Decision:
    """Offer the lead to the best-ranked eligible dealer; count each exclusion by its first rule."""
    excluded = {rule.value: 0 for rule in Rule}
    candidates: list[Candidate] = []
    considered = 0
    for dealer in dealers:
        considered += 1
        failed, distance = evaluate(lead, dealer)
        if failed is None:
            position = math.inf if distance is None else distance
            candidates.append(Candidate(dealer.id, position, dealer.load_today))
        else:
            excluded[failed.value] += 1
    ranked = rank(candidates, limit=1 + max(runners_up, 0))
    return Decision(
        chosen=ranked[0] if ranked else None,
        runners_up=tuple(ranked[1:]),
        excluded=excluded,
        considered=considered,
    )
