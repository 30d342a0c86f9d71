"""Ranking metrics per vacancy and their bootstrap confidence intervals.

Every metric is computed per vacancy (a group of labelled candidates) and averaged over vacancies,
so a vacancy with many proposals does not weigh more than one with few. Groups whose labels give
the metric nothing to find (no positive label) are left out of that metric's mean.

* ``ndcg@k``: graded labels (0 afgewezen … 4 duurzaam), gain ``2**label - 1``, log2 discount;
* ``recall@k``: share of the group's real placements (label ≥ ``PLACED``) in the top k;
* ``mrr``: reciprocal rank of the first real placement.

Ties in the scores are broken against the candidate (the worst position among equals), so a model
that scores everyone the same gets no credit for the order it happened to receive.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PLACED = 3  # geplaatst (3) and duurzaam (4) are real placements


def _rank_order(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Positions sorted by score, ties broken pessimistically (lower labels first among equals)."""
    return np.lexsort((labels, -scores))


def ndcg_at(labels: np.ndarray, scores: np.ndarray, k: int) -> float | None:
    gains = 2.0 ** labels.astype(np.float64) - 1.0
    ideal = np.sort(gains)[::-1][:k]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    best = float((ideal * discount[: len(ideal)]).sum())
    if best == 0.0:
        return None
    got = gains[_rank_order(scores, labels)][:k]
    return float((got * discount[: len(got)]).sum()) / best


def recall_at(labels: np.ndarray, scores: np.ndarray, k: int) -> float | None:
    placed = labels >= PLACED
    if not placed.any():
        return None
    return float(placed[_rank_order(scores, labels)][:k].sum() / placed.sum())


def reciprocal_rank(labels: np.ndarray, scores: np.ndarray) -> float | None:
    placed = (labels >= PLACED)[_rank_order(scores, labels)]
    hits = np.flatnonzero(placed)
    return 1.0 / (hits[0] + 1) if len(hits) else None


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float | None]] = {
    "ndcg@10": lambda labels, scores: ndcg_at(labels, scores, 10),
    "recall@20": lambda labels, scores: recall_at(labels, scores, 20),
    "mrr": reciprocal_rank,
}


def per_group(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric's value per group (NaN where the group has nothing to find)."""
    out = {name: [] for name in METRICS}
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        for name, metric in METRICS.items():
            value = metric(labels[rows], scores[rows])
            out[name].append(np.nan if value is None else value)
    return {name: np.asarray(values, np.float64) for name, values in out.items()}


def summarise(
    labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, resamples: int = 1000, seed: int = 0
) -> dict[str, float | list[float] | int]:
    """Mean of every metric over groups, with a 95 % bootstrap interval (groups resampled)."""
    values = per_group(labels, scores, groups)
    rng = np.random.default_rng(seed)
    result: dict[str, float | list[float] | int] = {"vacancies": int(len(np.unique(groups)))}
    for name, per in values.items():
        per = per[~np.isnan(per)]
        if not len(per):
            result[name] = float("nan")
            continue
        draws = rng.integers(0, len(per), size=(resamples, len(per)))
        means = per[draws].mean(axis=1)
        result[name] = round(float(per.mean()), 4)
        result[f"{name}CI"] = [round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)]
    return result
