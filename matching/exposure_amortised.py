"""Amortised exposure in proportion to expected merit, by minimal intervention (issue 19, item 1; research).

:func:`matching.exposure.merit_floor` gives every trede, in *every* list, at least ``floor`` × its share
of the pool's relevance top 10 %. Two things make that expensive (README, "Why fresh rankers starve trede
0–1"): top-10 % membership is a poor reading of a small group's merit (a fresh ranker puts the few
suitable trede-0 clients at the pool's mean, so their top-10 % share is a third of their merit; raising
the share or the floor then over-exposes trede 0–1 up to 6×), and a per-list floor intervenes in lists
where the group's best candidate is far down, paying a large NDCG price there.

:class:`AmortisedFloor` instead keeps the *running* exposure of every group at least ``target`` × its
running *expected-merit* share (amortised attention, Biega et al., SIGIR 2018; expected exposure, Diaz
et al., CIKM 2020):

* A candidate's merit is its calibrated probability ``p_i`` of a good outcome (the ranker's score mapped
  by :func:`platt`, fitted on decided voorstellen: no hidden truth is needed). A group's expected merit
  in one pool is ``n · Σ_{i∈g} p_i / Σ_i p_i`` (``n`` the pool size: the audit's merit share weighs every
  pool by its number of suitable people, a fixed fraction of its size).
* Per list, the ``length`` first places of ``order`` are kept as they are while every group would stay on
  target after this list. Otherwise the list is changed by swaps, cheapest first: the short group's best
  candidate (highest ``p``) within the relevance top ``top_k`` — nobody outside it is ever shown — takes
  the place of the lowest-``p`` shown candidate whose groups can spare a place. A group is short when its
  running deficit ``target · merit share · places − places held`` exceeds ``slack`` places; at most
  ``max_swaps`` swaps a list, so a deficit is paid off over several lists rather than at any price in one.
* The swapped-in candidates are shown in ``order``'s order among the kept ones (as the merit floor does):
  the set decides exposure, the head keeps its places.

Groups are read from attributes the service has (the trede, whether the client was ever proposed):
never a protected attribute, beperkingen or the route. Evaluation (``bench/amortised_served.py``) audits
every group; the hidden truth is used there only to judge.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matching.exposure import LIST_SIZE, TOP_K

TARGET = 0.8  # issue 19: every group gets at least 0.8 of the top-10 share its merit earns
SLACK = 0.0  # places a group may run behind before a list is changed for it
MAX_SWAPS = 2  # per list: a deficit is paid off over several lists


def platt(scores: np.ndarray, labels: np.ndarray, iterations: int = 50) -> tuple[float, float]:
    """``(a, b)`` of ``P(good | score) = 1 / (1 + exp(-(a · score + b)))`` by Newton's method (Platt, 1999).

    Args:
        scores: The ranker's scores of decided voorstellen (rows it did not learn from, where possible).
        labels: Their outcomes; ``> 0`` counts as good.
        iterations: Newton steps (it converges in far fewer on separable-free data).

    Raises:
        ValueError: Lengths differ, or the outcomes are all good or all bad (nothing to calibrate on).
    """
    x = np.asarray(scores, np.float64)
    y = (np.asarray(labels) > 0).astype(np.float64)
    if len(x) != len(y):
        raise ValueError(f"scores en labels verschillen in lengte: {len(x)}, {len(y)}")
    if not 0 < y.sum() < len(y):
        raise ValueError("kalibreren vraagt zowel goede als slechte uitkomsten")
    # Platt's targets keep the fit finite: (N+ + 1)/(N+ + 2) and 1/(N- + 2)
    t = np.where(y > 0, (y.sum() + 1) / (y.sum() + 2), 1 / (len(y) - y.sum() + 2))
    design = np.column_stack([x, np.ones(len(x))])
    w = np.array([0.0, np.log(t.mean() / (1 - t.mean()))])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(design @ w)))
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, design.T @ (p - t))
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(w[0]), float(w[1])


def probabilities(scores: np.ndarray, a: float, b: float) -> np.ndarray:
    """The calibrated probability of a good outcome per score (:func:`platt`'s ``a, b``)."""
    return 1 / (1 + np.exp(-(a * np.asarray(scores, np.float64) + b)))


class AmortisedFloor:
    """Running places and expected merit per (attribute, group), and the minimal change of each list.

    Args:
        target: Every group's running top-``length`` share must be at least ``target`` × its running
            expected-merit share.
        slack: How many places a group may run behind before a list is changed for it.
        max_swaps: The most swaps in one list.
        top_k: Only the relevance top ``top_k`` of a pool may be swapped in.
        length: The shown places of a list.
    """

    def __init__(
        self,
        target: float = TARGET,
        slack: float = SLACK,
        max_swaps: int = MAX_SWAPS,
        top_k: int = TOP_K,
        length: int = LIST_SIZE,
    ) -> None:
        if target < 0 or slack < 0 or max_swaps < 0:
            raise ValueError("target, slack en max_swaps moeten 0 of groter zijn")
        self.target, self.slack, self.max_swaps, self.top_k, self.length = target, slack, max_swaps, top_k, length
        self.places_: dict[tuple[str, object], float] = {}
        self.merit_: dict[tuple[str, object], float] = {}
        self.total_places_ = 0.0
        self.total_merit_ = 0.0
        self.swaps_ = 0
        self.lists_changed_ = 0

    def _deficits(
        self, keys: list[tuple[str, object]], held: np.ndarray, merit: np.ndarray, n: int, places: int
    ) -> np.ndarray:
        """Per key: the places it would run behind after this list (``n`` candidates) with ``held`` in it."""
        total_merit = self.total_merit_ + n
        running_merit = np.array([self.merit_.get(k, 0.0) for k in keys]) + merit
        running_places = np.array([self.places_.get(k, 0.0) for k in keys]) + held
        owed = self.target * running_merit / max(total_merit, 1e-12) * (self.total_places_ + places)
        return owed - running_places

    def order(
        self, order: np.ndarray, scores: np.ndarray, probs: np.ndarray, groups: Mapping[str, np.ndarray]
    ) -> np.ndarray:
        """``order`` with its first ``length`` places changed as little as keeps every group on target.

        Args:
            order: A permutation of the pool (relevance or :func:`matching.exposure.rerank`), best first.
            scores: Relevance per candidate (pool order): who is within the top ``top_k``.
            probs: The calibrated probability of a good outcome per candidate (:func:`probabilities`).
            groups: Per attribute, the group of every candidate (pool order).

        Returns:
            A permutation of ``range(len(order))``; the ledger of places and merit is updated with it.
        """
        order = np.asarray(order)
        probs = np.asarray(probs, np.float64)
        n = len(order)
        places = min(self.length, n)
        shown = np.zeros(n, bool)
        shown[order[:places]] = True
        keys: list[tuple[str, object]] = []
        member: list[np.ndarray] = []
        for attribute, labels in groups.items():
            labels = np.asarray(labels)
            for group in np.unique(labels).tolist():
                keys.append((attribute, group))
                member.append(labels == group)
        masks = np.array(member) if member else np.zeros((0, n), bool)
        share = masks @ probs / max(float(probs.sum()), 1e-12)
        merit = n * share
        allowed = np.zeros(n, bool)
        allowed[np.argsort(-np.asarray(scores, np.float64), kind="stable")[: self.top_k]] = True
        swaps = 0
        while swaps < self.max_swaps and n > places:
            deficit = self._deficits(keys, masks[:, shown].sum(axis=1).astype(np.float64), merit, n, places)
            short = np.flatnonzero(deficit > self.slack)
            move = self._cheapest_swap(short, deficit, masks, shown, allowed, probs)
            if move is None:
                break
            leave, enter = move
            shown[leave], shown[enter] = False, True
            swaps += 1
        self.swaps_ += swaps
        self.lists_changed_ += swaps > 0
        held = masks[:, shown].sum(axis=1).astype(np.float64)
        for k, key in enumerate(keys):
            self.places_[key] = self.places_.get(key, 0.0) + held[k]
            self.merit_[key] = self.merit_.get(key, 0.0) + merit[k]
        self.total_places_ += places
        self.total_merit_ += n
        if not swaps:
            return order
        first = order[shown[order]]
        return np.concatenate([first, order[~shown[order]]])

    def _cheapest_swap(
        self,
        short: np.ndarray,
        deficit: np.ndarray,
        masks: np.ndarray,
        shown: np.ndarray,
        allowed: np.ndarray,
        probs: np.ndarray,
    ) -> tuple[int, int] | None:
        """(leaving, entering): the short group's best waiting candidate with the highest ``p`` enters; the
        shown candidate with the lowest ``p`` none of whose groups would then fall short leaves."""
        best: tuple[float, int, int] | None = None
        for k in short.tolist():
            waiting = np.flatnonzero(masks[k] & allowed & ~shown)
            if not len(waiting):
                continue
            enter = int(waiting[np.argmax(probs[waiting])])
            gains = masks[:, enter].astype(np.float64)
            # a leaving candidate's groups lose a place, the entering one's gain it; none may end up short
            spare = deficit - gains + 1 <= self.slack
            can_leave = np.flatnonzero(shown & np.all(spare[:, None] | ~masks, axis=0))
            if not len(can_leave):
                continue
            leave = int(can_leave[np.argmin(probs[can_leave])])
            cost = probs[leave] - probs[enter]
            if best is None or cost < best[0]:
                best = (cost, leave, enter)
        return None if best is None else (best[1], best[2])
