"""The served ordering's merit floor calibrated per ranker on validation pools (issue 19, item 1; research).

Why a fresh ranker starves the low tredes when served (``bench/fresh_ranker_served.py``): the merit floor
(:func:`matching.exposure.merit_floor`) gives every trede its share of the ranker's *own* relevance top
``merit_share`` of the pool. The served exposureVsMerit of a trede is therefore about that share over the
group's true merit share: a ranker that places the few suitable trede-0 clients at the pool's average gives
them a top-10 % share of a third of their merit, and the floor cannot give more than the ranker believes.
Which ranker does so depends on what it learnt (a fresh model learns the readiness-gap cliff that the
shipped one under-learns), so one fixed (merit share, floor) cannot fit every model. The strength of the
exposure penalty is not the lever: scores are standardised per pool before it acts.

:func:`calibrate_floor` chooses, for one ranker, the (merit share, floor) of a small grid at the served
strength that gives every audited group of at least :data:`training.fairness.MIN_GROUP` clients an
exposureVsMerit of at least its target (``min(the shipped ranker's, 0.8)`` in the bench) at the lowest
NDCG@10 cost within :data:`training.exposure_eval.MAX_SERVED_COST`. It needs merit per row: on synthetic data
the hidden truth (:func:`training.fairness.suitable_in_pool`). Real data has no such truth; there the
setting would be calibrated on the synthetic world the model card describes, or on counterfactual pools.

:func:`replay_amortised` is the alternative that needs no truth to set (session 30): the amortised floor of
:mod:`matching.exposure_amortised`, reading merit from the ranker's probabilities calibrated on decided
voorstellen (:func:`calibrated_probabilities`). ``bench/amortised_served.py`` measures it against the merit floor.
Since session 33 it is the gate's replay (:func:`training.exposure_eval.replay`), the floor's state decaying between
the pools as the served state does, not a copy of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from matching.exposure import DEFAULT_STRENGTH
from matching.exposure_amortised import AmortisedFloor, floor_of, platt, probabilities
from matching.floor_state import HALF_LIFE_DAYS
from training.dataset import RankingData
from training.exposure_eval import (
    MAX_SERVED_COST,
    MIN_EXPOSURE_VS_MERIT,
    _groups_in_time_order,
    replay,
    screen_served,
)

MERIT_SHARES = (0.1, 0.2, 0.3, 0.4, 0.5)
"""The relevance top shares of a pool the floor may read as "fits" (serving's constant is 0.1)."""
FLOORS = (1.0, 1.5, 2.0)
"""The floors tried (``RankerSettings.exposure_floor`` allows 0-2)."""


def targets_from(reference: dict[str, float], at_least: float = MIN_EXPOSURE_VS_MERIT) -> dict[str, float]:
    """Per group the exposureVsMerit to reach: ``min(reference, at_least)`` (a group the reference does not
    report gets ``at_least``)."""
    return {group: min(value, at_least) for group, value in reference.items()}


def failing(point: dict[str, Any], targets: dict[str, float], at_least: float = MIN_EXPOSURE_VS_MERIT) -> list[str]:
    """The groups of one :func:`training.exposure_eval.screen_served` point under their target."""
    return sorted(group for group, value in point["exposureVsMerit"].items() if value < targets.get(group, at_least))


def calibrate_floor(
    data: RankingData,
    scores: np.ndarray,
    groups: dict[str, np.ndarray],
    merit: np.ndarray,
    targets: dict[str, float],
    shares: Sequence[float] = MERIT_SHARES,
    floors: Sequence[float] = FLOORS,
    strength: float = DEFAULT_STRENGTH,
    max_cost: float = MAX_SERVED_COST,
) -> dict[str, Any]:
    """The cheapest (merit share, floor) that meets every group's target for ``scores`` on ``data``'s pools.

    Args:
        data: Whole candidate pools with ``trede`` (validation pools: never the held-out ones).
        scores: The ranker's relevance per row.
        groups: Per audited attribute the group per row (:func:`training.fairness.group_labels`).
        merit: Per row, who deserved a place (the true top fifth of the pool).
        targets: Per group key (``"attribute=group"``, as :func:`screen_served` names them) the
            exposureVsMerit to reach; a group not named must reach :data:`MIN_EXPOSURE_VS_MERIT`.
        shares, floors: The grid; ``strength``: the served exposure strength (not tuned).
        max_cost: The largest NDCG@10 cost against relevance-only ordering a passing setting may have.

    Returns:
        ``chosen`` (the passing point with the lowest cost, ties: the lower floor, then the lower share; None
        when no point passes), ``closest`` (without a pass: the fewest failing groups, then the highest
        lowest exposureVsMerit, then the lowest cost), and ``points`` (each with its failing groups).
    """
    points = screen_served(data, scores, groups, merit, [(s, f) for s in shares for f in floors], strength=strength)
    for point in points.values():
        point["failing"] = failing(point, targets)
        point["passes"] = not point["failing"] and point["ndcg@10Cost"] is not None and point["ndcg@10Cost"] <= max_cost
    passing = [p for p in points.values() if p["passes"]]
    chosen = min(passing, key=lambda p: (p["ndcg@10Cost"], p["floor"], p["meritShare"])) if passing else None
    closest = min(
        points.values(),
        key=lambda p: (
            len(p["failing"]) + (p["ndcg@10Cost"] is None or p["ndcg@10Cost"] > max_cost),
            -(p["lowest"]["value"] if p["lowest"] else 0.0),
            p["ndcg@10Cost"] if p["ndcg@10Cost"] is not None else 1.0,
        ),
    )
    return {"strength": strength, "chosen": chosen, "closest": closest, "points": points}


def calibrated_probabilities(
    scores: np.ndarray, decided_scores: np.ndarray, decided_labels: np.ndarray
) -> tuple[np.ndarray, dict[str, float]]:
    """The ranker's ``scores`` as probabilities of a good outcome, by :func:`matching.exposure_amortised.platt`
    fitted on decided voorstellen (their scores by the same ranker and their labels): what real data has."""
    a, b = platt(decided_scores, decided_labels)
    probs = probabilities(scores, a, b)
    return probs, {
        "a": round(a, 4),
        "b": round(b, 4),
        "rows": len(decided_labels),
        "meanP": round(float(probs.mean()), 4),
    }


def replay_amortised(
    data: RankingData,
    scores: np.ndarray,
    probs: np.ndarray,
    serving: dict[str, np.ndarray],
    setting: dict[str, Any],
    half_life_days: float | None = HALF_LIFE_DAYS,
) -> tuple[np.ndarray, AmortisedFloor]:
    """Every pool in time order as serving orders it with the amortised floor, by the gate's own replay
    (:func:`training.exposure_eval.replay`): :func:`matching.exposure.rerank` at ``setting["strength"]`` (relevance
    order at 0), then the floor of ``setting`` (:func:`matching.exposure_amortised.floor_of`) over the ``serving``
    groups (attributes the service has), its state decaying between the pools by their moments as the served state
    does (``half_life_days``; None: session 30's replay, which did not decay). Returns a score per row
    (``-position``) and the floor with its counts."""
    floor = floor_of(setting)
    shown_as, _ = replay(
        data,
        scores,
        setting["strength"],
        _groups_in_time_order(data),
        amortised=(floor, np.asarray(probs, np.float64), serving),
        half_life_days=half_life_days,
    )
    return shown_as, floor
