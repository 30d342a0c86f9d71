"""Amortised exposure by expected merit: Platt calibration, minimal intervention, the top-K bound, the ledger."""

from __future__ import annotations

import numpy as np
import pytest

from matching.exposure import TOP_K
from matching.exposure_amortised import SERVED, AmortisedFloor, floor_of, platt, probabilities


def test_platt_recovers_the_logistic_curve_it_was_drawn_from() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=20_000)
    labels = (rng.random(20_000) < 1 / (1 + np.exp(-(1.5 * scores - 1.0)))).astype(int) * 2  # 0 or 2
    a, b = platt(scores, labels)
    assert a == pytest.approx(1.5, abs=0.08)
    assert b == pytest.approx(-1.0, abs=0.08)
    p = probabilities(np.array([-5.0, 0.0, 5.0]), a, b)
    assert p[0] < p[1] < p[2] and 0 < p[0] and p[2] < 1


def test_platt_refuses_outcomes_that_are_all_alike() -> None:
    with pytest.raises(ValueError, match="goede als slechte"):
        platt(np.arange(5.0), np.zeros(5))
    with pytest.raises(ValueError, match="lengte"):
        platt(np.arange(5.0), np.ones(4))


def _pool(rng: np.random.Generator, n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pool where group 1 (a tenth of it) has real merit but always scores just below the top 10."""
    group = (np.arange(n) % 10 == 0).astype(int)
    scores = rng.normal(size=n) + 3.0 * (group == 0)
    scores[group == 1] = np.sort(scores[group == 0])[-25] - rng.random((group == 1).sum())  # never in the top 10
    probs = np.full(n, 0.2)  # both groups equally likely to do well: group 1 merits a tenth of the places
    return scores, probs, group


def test_a_group_below_target_gets_its_running_share_from_within_the_top_k() -> None:
    rng = np.random.default_rng(1)
    floor = AmortisedFloor(target=0.8, slack=0.0, max_swaps=2, top_k=50)
    shown_1, changed = 0, 0
    for _ in range(60):
        scores, probs, group = _pool(rng)
        relevance = np.argsort(-scores, kind="stable")
        served = floor.order(relevance, scores, probs, {"trede": group})
        assert sorted(served.tolist()) == list(range(len(scores)))  # a permutation
        assert set(served[:10].tolist()) <= set(relevance[:50].tolist())  # nobody outside the top 50 is shown
        shown_1 += int((group[served[:10]] == 1).sum())
        changed += not np.array_equal(served, relevance)
        kept = [c for c in relevance[:10] if c in set(served[:10].tolist())]
        assert [c for c in served[:10] if c in set(kept)] == kept  # the kept ones keep their order
    share = shown_1 / (60 * 10)
    assert share >= 0.8 * 0.1 - 0.01  # running share at target (within one place over 600)
    assert share <= 0.1  # minimal: not more than the merit share
    assert changed < 60  # some lists are left alone once the group is on target
    assert floor.swaps_ == shown_1


def test_lists_are_left_alone_while_every_group_is_on_target() -> None:
    rng = np.random.default_rng(2)
    floor = AmortisedFloor()
    for _ in range(20):
        scores = rng.normal(size=100)
        group = rng.integers(0, 3, size=100)  # no group is favoured by the scores
        probs = probabilities(scores, 1.0, -1.0)
        relevance = np.argsort(-scores, kind="stable")
        # a target of 0 owes nothing: never a change
        assert np.array_equal(AmortisedFloor(target=0.0).order(relevance, scores, probs, {"g": group}), relevance)
        floor.order(relevance, scores, probs, {"g": group})
    assert floor.swaps_ <= 6  # random groups are nearly always on target: at most a rare fix-up


def test_no_swaps_allowed_means_no_change_but_the_ledger_still_counts() -> None:
    rng = np.random.default_rng(3)
    scores, probs, group = _pool(rng)
    relevance = np.argsort(-scores, kind="stable")
    floor = AmortisedFloor(max_swaps=0)
    assert np.array_equal(floor.order(relevance, scores, probs, {"trede": group}), relevance)
    assert floor.total_places_ == 10 and floor.places_[("trede", 1)] == 0
    assert floor.merit_[("trede", 1)] == pytest.approx(20.0)  # 200 candidates, a tenth of the merit
    with pytest.raises(ValueError):
        AmortisedFloor(slack=-1)


def test_a_swap_never_pushes_another_group_below_its_target() -> None:
    """Two attributes: the entering candidate's place is taken from someone whose groups can spare it."""
    rng = np.random.default_rng(4)
    floor = AmortisedFloor(target=1.0, max_swaps=3)
    for _ in range(40):
        scores, probs, group = _pool(rng)
        proposed = (np.arange(len(scores)) % 2).astype(int)  # a second attribute, half and half
        served = floor.order(np.argsort(-scores, kind="stable"), scores, probs, {"trede": group, "seen": proposed})
        assert len(set(served[:10].tolist())) == 10
    places = floor.places_
    total = floor.total_places_
    for value in (0, 1):  # the "seen" halves each keep at least their merit share less one list's swaps
        assert places[("seen", value)] >= 0.5 * total - 3
    assert places[("trede", 1)] >= 0.1 * total - 3


def test_floor_of_builds_the_served_floor_from_its_setting() -> None:
    served = floor_of(SERVED, length=5)
    assert (served.target, served.slack, served.max_swaps) == (SERVED["target"], SERVED["slack"], SERVED["maxSwaps"])
    assert served.top_k == SERVED.get("topK", TOP_K) and served.length == 5 and served.places_ == {}
    rng = np.random.default_rng(3)
    scores, probs, group = _pool(rng)  # group 1 ranks from 25 on: within the top 50, never within the top 20
    order = np.argsort(-scores, kind="stable")
    wide, narrow = floor_of({**SERVED, "topK": 50}), floor_of({**SERVED, "topK": 20})
    for _ in range(5):
        assert set(narrow.order(order, scores, probs, {"g": group})[:10].tolist()) <= set(order[:20].tolist())
        wide.order(order, scores, probs, {"g": group})
    assert narrow.top_k == 20 and narrow.swaps_ == 0 and wide.swaps_ > 0
