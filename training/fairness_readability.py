"""How readable a group's exposure against merit is (issue 19 item 1): its effective number of merit clients, a
client bootstrap of the ratio, the placebo false-alarm rate of random groups of its size, and a Dutch verdict.

A group's ``exposureVsMerit`` (:mod:`training.fairness`) is its share of the top-10 places over its share of the merit
rows (the true top fifth of each pool). The vacancy bootstrap of ``exposureVsMeritCI`` holds the clients fixed, but a
group's merit often rests on a few clients who are suitable for many vacancies (session 46, helper X1: geslacht x on
the demo had 52 clients and 5.4 effective merit clients), so the ratio moves with *which* clients the group happens to
have. Per group this module reports:

* ``effectiveMeritClients`` (computed in :mod:`training.fairness` with :func:`kish`): Kish's effective number of the
  clients carrying the group's merit rows, (Σ merit rows per client)² / Σ (merit rows per client)²;
* ``exposureVsMeritClientCI`` (:func:`client_bootstrap`): the 95 % percentile interval of the ratio when the group's
  own clients are resampled with replacement (every row of a drawn client counts, as often as it is drawn), the
  pools and everyone else's rows kept;
* ``placeboBelow`` (:func:`false_alarm_rate`): the share of random groups of as many clients (drawn from every client
  in the pools, protected attributes ignored; no effect by construction) whose ratio reads below 0.8 — how often a
  group of this size fails the goal by chance alone;
* ``meritVerdict`` (:func:`verdict`, rule :data:`VERDICT_RULE`): "voldoet" where the point estimate is ≥ 0.8,
  "onder" where the client-bootstrap upper end is < 0.8, "onleesbaar" otherwise (and where no ratio exists).

The verdict is shown beside the goal; the goal itself (every group of ≥ 30 clients at ≥ 0.8 by its point estimate,
:mod:`training.exposure_eval`) and the promotion gate are not changed by it. All draws are seeded: the same seed and
rows give the same numbers. ``bench/geslacht_exposure.py`` imports these functions (one copy).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

THRESHOLD = 0.8
RESAMPLES = 500
"""Draws of the client bootstrap and of the placebo groups per group in ``evaluate``."""
CHUNK_CELLS = 2_000_000
"""Random keys drawn at a time for the placebo groups (draws × clients), to bound memory on a national world."""
VOLDOET, ONDER, ONLEESBAAR = "voldoet", "onder", "onleesbaar"
VERDICT_RULE = (
    f"voldoet: exposureVsMerit >= {THRESHOLD}; onder: bovengrens van exposureVsMeritClientCI < {THRESHOLD}; "
    "anders onleesbaar"
)


def kish(weights: np.ndarray) -> float:
    """Kish's effective number of units carrying ``weights`` (rows per client): (sum w)² / sum w²."""
    weights = np.asarray(weights, np.float64)
    return float(weights.sum() ** 2 / np.sum(weights**2)) if np.any(weights) else 0.0


def client_bootstrap(
    member: np.ndarray,
    merit: np.ndarray,
    top: np.ndarray,
    client_ids: np.ndarray,
    rng: np.random.Generator,
    draws: int = RESAMPLES,
) -> list[float] | None:
    """95 % interval of the group's exposure against merit when its own clients are resampled (others fixed)."""
    ids, inverse = np.unique(client_ids[member], return_inverse=True)
    if not len(ids):
        return None
    per_merit = np.bincount(inverse, weights=merit[member].astype(np.float64), minlength=len(ids))
    per_top = np.bincount(inverse, weights=top[member].astype(np.float64), minlength=len(ids))
    others_merit, others_top = float(np.sum(merit & ~member)), float(np.sum(top & ~member))
    picks = rng.integers(0, len(ids), size=(draws, len(ids)))
    merit_g, top_g = per_merit[picks].sum(axis=1), per_top[picks].sum(axis=1)
    valid = merit_g > 0
    ratios = (top_g / np.maximum(others_top + top_g, 1))[valid] / (merit_g / (others_merit + merit_g))[valid]
    return [round(float(np.percentile(ratios, q)), 4) for q in (2.5, 97.5)] if len(ratios) else None


@dataclass(frozen=True)
class ClientTotals:
    """Per distinct client in the pools: its merit rows and its top-10 places (what a random group sums)."""

    merit: np.ndarray
    top: np.ndarray

    @classmethod
    def of(cls, client_ids: np.ndarray, merit: np.ndarray, top: np.ndarray) -> ClientTotals:
        _, inverse = np.unique(client_ids, return_inverse=True)
        n = int(inverse.max()) + 1 if len(inverse) else 0
        return cls(
            merit=np.bincount(inverse, weights=np.asarray(merit, np.float64), minlength=n),
            top=np.bincount(inverse, weights=np.asarray(top, np.float64), minlength=n),
        )


def placebo_ratios(totals: ClientTotals, size: int, rng: np.random.Generator, draws: int = RESAMPLES) -> np.ndarray:
    """Exposure against merit of ``draws`` random groups of ``size`` distinct clients (groups without merit left out).

    Each draw takes the ``size`` clients with the smallest of fresh uniform keys (sampling without replacement),
    in chunks of at most :data:`CHUNK_CELLS` keys."""
    n = len(totals.merit)
    size = min(size, n)
    total_merit, total_top = totals.merit.sum(), totals.top.sum()
    if size <= 0 or total_merit <= 0 or total_top <= 0:
        return np.empty(0)
    out = []
    per_chunk = max(1, CHUNK_CELLS // max(n, 1))
    for start in range(0, draws, per_chunk):
        keys = rng.random((min(per_chunk, draws - start), n))
        chosen = np.argpartition(keys, size - 1, axis=1)[:, :size] if size < n else np.argsort(keys, axis=1)
        merit_g, top_g = totals.merit[chosen].sum(axis=1), totals.top[chosen].sum(axis=1)
        valid = merit_g > 0
        out.append((top_g[valid] / total_top) / (merit_g[valid] / total_merit))
    return np.concatenate(out)


def false_alarm_rate(
    totals: ClientTotals, size: int, rng: np.random.Generator, draws: int = RESAMPLES, threshold: float = THRESHOLD
) -> float | None:
    """Share of random client groups of ``size`` clients whose exposure against merit reads below ``threshold``."""
    ratios = placebo_ratios(totals, size, rng, draws)
    return round(float(np.mean(ratios < threshold)), 4) if len(ratios) else None


def verdict(point: float | None, client_ci: list[float] | None, threshold: float = THRESHOLD) -> str:
    """:data:`VERDICT_RULE`: "voldoet" (point ≥ threshold), "onder" (client-bootstrap upper end < threshold), else
    "onleesbaar" (also without a ratio or an interval)."""
    if point is not None and point >= threshold:
        return VOLDOET
    if point is not None and client_ci is not None and client_ci[1] < threshold:
        return ONDER
    return ONLEESBAAR


def group_seed(seed: int, name: str) -> np.random.Generator:
    """A generator for one group's draws: the audit's ``seed`` and the group's name (order of groups irrelevant)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def readability(
    member: np.ndarray,
    merit: np.ndarray,
    top: np.ndarray,
    client_ids: np.ndarray,
    totals: ClientTotals,
    point: float | None,
    rng: np.random.Generator,
    draws: int = RESAMPLES,
) -> dict[str, Any]:
    """One group's client interval, placebo false-alarm rate and verdict (the module docstring says how)."""
    clients = len(np.unique(client_ids[member]))
    interval = client_bootstrap(member, merit, top, client_ids, rng, draws) if point is not None else None
    return {
        "exposureVsMeritClientCI": interval,
        "placeboBelow": false_alarm_rate(totals, clients, rng, draws),
        "meritVerdict": verdict(point, interval),
    }
