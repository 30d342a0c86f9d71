"""The pure parts of :mod:`bench.geslacht_exposure` (issue 19 item 1): top-10 masks, shares, the hit-and-spill
identity, standardised hits, Kish's effective number, the client bootstrap and the placebo groups
(``tests/training/test_geslacht_exposure.py``). Kish's number, the client bootstrap and the placebo groups live in
:mod:`training.fairness_readability`, where ``evaluate`` reads them per group; this module imports them."""

from __future__ import annotations

from typing import Any

import numpy as np

from training.fairness_readability import ClientTotals, kish, placebo_ratios
from training.fairness_readability import client_bootstrap as client_bootstrap  # re-exported for the bench

TOP_K = 10
RESAMPLES = 2000
GROUP_SIZES = (30, 60, 140, 300, 600, 1000, 2000, 4000)
"""Sizes of the random groups of :func:`false_alarms_by_size`."""
MERIT_POOL_BINS = (1, 2, 4, 8, 16, 32)
"""Lower edges of the bins of "pools a client merits" (session 33: exposure per merit row falls with it)."""


def top_mask(order_scores: np.ndarray, vacancy_ids: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """True for the rows in the first ``k`` of their vacancy by ``order_scores`` (higher first; ties: first row)."""
    mask = np.zeros(len(order_scores), bool)
    order = np.lexsort((-np.asarray(order_scores, np.float64), vacancy_ids))
    sorted_ids = vacancy_ids[order]
    starts = np.r_[0, np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1]
    position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    mask[order[position < k]] = True
    return mask


def shares(member: np.ndarray, merit: np.ndarray, top: np.ndarray) -> dict[str, float | None]:
    """A group's share of the merit rows and of the top places, and exposure against merit (None: no merit)."""
    merit_share = float(np.sum(member & merit) / max(np.sum(merit), 1))
    top_share = float(np.sum(member & top) / max(np.sum(top), 1))
    return {
        "meritShare": merit_share,
        "topShare": top_share,
        "exposureVsMerit": top_share / merit_share if merit_share > 0 else None,
    }


def hit_and_spill(member: np.ndarray, merit: np.ndarray, top: np.ndarray) -> dict[str, float | None]:
    """``exposureVsMerit = (hit + spill) / (hitAll + spillAll)``: *hit* is the share of the group's merit rows in a
    top 10, *spill* its top places on rows without merit per merit row; ``…All`` the same over every row."""

    def parts(rows: np.ndarray) -> tuple[float, float] | tuple[None, None]:
        n_merit = int(np.sum(rows & merit))
        if n_merit == 0:
            return None, None
        return float(np.sum(rows & merit & top) / n_merit), float(np.sum(rows & ~merit & top) / n_merit)

    hit, spill = parts(member)
    hit_all, spill_all = parts(np.ones(len(member), bool))
    ratio = (hit + spill) / (hit_all + spill_all) if hit is not None and hit_all is not None else None
    return {"hit": hit, "spill": spill, "hitAll": hit_all, "spillAll": spill_all, "exposureVsMerit": ratio}


def merit_pools_bin(counts: np.ndarray) -> np.ndarray:
    """Per value of ``counts`` (pools a client merits), the index of its bin in :data:`MERIT_POOL_BINS`."""
    return np.searchsorted(np.asarray(MERIT_POOL_BINS), np.asarray(counts), side="right") - 1


def standardised_hits(
    member: np.ndarray, merit: np.ndarray, top: np.ndarray, strata: np.ndarray
) -> dict[str, float | None]:
    """The group's merit rows' hits against what the other groups' merit rows of the same stratum reach.

    ``strata``: one integer code per row. Returns ``observed`` (hits of the group's merit rows), ``expected`` (the
    sum over them of the others' hit rate in their stratum; rows whose stratum holds no other merit row count at the
    others' overall rate) and their ratio ``observedOverExpected``: 1 means the stratum mix explains the whole hit
    gap, below 1 that the group's rows are missed more than their peers'."""
    rows = member & merit
    others = ~member & merit
    overall = float(np.mean(top[others])) if others.any() else 0.0
    codes, inverse = np.unique(strata, return_inverse=True)
    n_others = np.bincount(inverse, weights=others.astype(np.float64), minlength=len(codes))
    hits_others = np.bincount(inverse, weights=(others & top).astype(np.float64), minlength=len(codes))
    rate = np.where(n_others > 0, hits_others / np.maximum(n_others, 1), overall)
    expected = float(rate[inverse[rows]].sum())
    observed = float(np.sum(rows & top))
    return {
        "meritRows": int(rows.sum()),
        "observed": observed,
        "expected": round(expected, 2),
        "observedOverExpected": round(observed / expected, 4) if expected > 0 else None,
    }


def placebo(
    size: int,
    merit: np.ndarray,
    top: np.ndarray,
    client_ids: np.ndarray,
    own: float,
    rng: np.random.Generator,
    draws: int = RESAMPLES,
) -> dict[str, Any]:
    """Random groups of ``size`` clients (from every client in the rows): how often their ratio is ``own`` or lower
    (the groups are :func:`training.fairness_readability.placebo_ratios`, as ``evaluate``'s ``placeboBelow``)."""
    arr = placebo_ratios(ClientTotals.of(client_ids, merit, top), size, rng, draws)
    return {
        "draws": len(arr),
        "shareAsLowOrLower": round(float(np.mean(arr <= own)), 4),
        "shareBelow0.8": round(float(np.mean(arr < 0.8)), 4),
        "percentiles": {str(q): round(float(np.percentile(arr, q)), 4) for q in (2.5, 10, 50, 90, 97.5)},
    }


def false_alarms_by_size(
    sizes: tuple[int, ...],
    merit: np.ndarray,
    top: np.ndarray,
    client_ids: np.ndarray,
    rng: np.random.Generator,
    draws: int = 500,
    threshold: float = 0.8,
) -> list[dict[str, Any]]:
    """Random client groups (no effect by construction) of each size: how often their exposure against merit reads
    under ``threshold``, and their median effective number of merit clients (Kish). The size at which that share
    falls under 5 % is the smallest group a point estimate against 0.8 can judge."""
    ids, inverse = np.unique(client_ids, return_inverse=True)
    per_merit = np.bincount(inverse, weights=merit.astype(np.float64), minlength=len(ids))
    per_top = np.bincount(inverse, weights=top.astype(np.float64), minlength=len(ids))
    total_merit, total_top = per_merit.sum(), per_top.sum()
    out = []
    for size in sizes:
        ratios, effective = [], []
        for _ in range(draws):
            chosen = rng.choice(len(ids), size=size, replace=False)
            m = per_merit[chosen]
            if m.sum() > 0:
                ratios.append((per_top[chosen].sum() / total_top) / (m.sum() / total_merit))
                effective.append(kish(m))
        arr = np.array(ratios)
        out.append(
            {
                "clients": size,
                "medianEffectiveMeritClients": round(float(np.median(effective)), 1),
                "shareBelowThreshold": round(float(np.mean(arr < threshold)), 4),
                "percentile2.5": round(float(np.percentile(arr, 2.5)), 4),
            }
        )
    return out


def standardised_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per column, (mean a − mean b) / pooled sd (0 where both are constant)."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    sd = np.sqrt((a.var(axis=0) + b.var(axis=0)) / 2)
    return np.where(sd > 0, (a.mean(axis=0) - b.mean(axis=0)) / np.where(sd > 0, sd, 1), 0.0)


def rank_in_pool(values: np.ndarray, vacancy_ids: np.ndarray) -> np.ndarray:
    """Per row, its percentile (0 worst … 1 best) of ``values`` within its own pool."""
    order = np.lexsort((np.asarray(values, np.float64), vacancy_ids))
    sorted_ids = vacancy_ids[order]
    starts = np.r_[0, np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(order)])
    position = np.arange(len(order)) - np.repeat(starts, sizes)
    out = np.empty(len(order), np.float64)
    out[order] = position / np.maximum(np.repeat(sizes, sizes) - 1, 1)
    return out


def feminine_forms(text: str) -> int:
    """How many words of ``text`` the gendered-word folding changes (feminine job forms: "kassière" → "kassier")."""
    from matching.gendered import neutral_text

    return sum(1 for a, b in zip(text.split(), neutral_text(text).split(), strict=False) if a != b)
