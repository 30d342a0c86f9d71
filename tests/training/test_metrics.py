"""Ranking metrics: hand-computed cases, pessimistic ties, and bootstrap intervals that contain the mean."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from training.metrics import MIN_SLICE_VACANCIES, ndcg_at, recall_at, reciprocal_rank, summarise, summarise_slices


def test_ndcg_matches_a_hand_computation_and_sklearn() -> None:
    labels = np.array([0, 4, 2, 0])
    scores = np.array([0.9, 0.8, 0.1, 0.0])
    gains = [0, 15, 3, 0]  # in score order: afgewezen, duurzaam, aangenomen, afgewezen
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = 15 / math.log2(2) + 3 / math.log2(3)
    assert ndcg_at(labels, scores, 10) == pytest.approx(dcg / ideal)
    exponential = ndcg_score([2.0**labels - 1], [scores], k=10)
    assert ndcg_at(labels, scores, 10) == pytest.approx(exponential)
    assert ndcg_at(np.array([0, 0]), scores[:2], 10) is None  # nothing to find


def test_recall_and_mrr_count_real_placements_only() -> None:
    labels = np.array([2, 3, 0, 4])
    scores = np.array([4.0, 3.0, 2.0, 1.0])
    assert recall_at(labels, scores, 2) == 0.5  # one of the two placements in the top 2
    assert reciprocal_rank(labels, scores) == 0.5  # the first placement is second
    assert recall_at(np.array([0, 2]), np.array([1.0, 0.0]), 20) is None


def test_ties_give_no_credit() -> None:
    labels = np.array([4, 0, 0])
    flat = np.zeros(3)
    assert reciprocal_rank(labels, flat) == pytest.approx(1 / 3, abs=1e-4)
    assert ndcg_at(labels, flat, 10) < 1.0


def test_summary_averages_per_vacancy_with_an_interval_around_the_mean() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), 5)
    labels = rng.integers(0, 5, size=len(groups))
    perfect = summarise(labels, labels.astype(float), groups)
    noisy = summarise(labels, rng.random(len(groups)), groups)
    assert perfect["ndcg@10"] == 1.0 and perfect["mrr"] == 1.0
    assert noisy["ndcg@10"] < perfect["ndcg@10"]
    low, high = noisy["ndcg@10CI"]
    assert low <= noisy["ndcg@10"] <= high and high - low > 0
    assert noisy["vacancies"] == 40


def _two_vacancies() -> dict[str, np.ndarray]:
    """Vacancy 1 (WSP) and 2 (Scalabor), three candidates each, on trede 1 and 2."""
    return {
        "groups": np.array([1, 1, 1, 2, 2, 2]),
        "labels": np.array([4, 0, 0, 3, 3, 0]),
        "scores": np.array([0.1, 0.9, 0.5, 0.8, 0.2, 0.6]),
        "bron": np.array(["WSP"] * 3 + ["Scalabor"] * 3),
        "trede": np.array([1, 2, 1, 1, 2, 2]),
    }


def test_slices_by_source_take_whole_vacancies_and_by_trede_the_candidates_within() -> None:
    case = _two_vacancies()
    slices = summarise_slices(case["labels"], case["scores"], case["groups"], case["bron"], case["trede"])
    assert set(slices) == {"bron:WSP", "bron:Scalabor"} | {f"trede:{step}" for step in range(6)}
    assert slices["bron:WSP"]["mrr"] == pytest.approx(1 / 3, abs=1e-4)  # the placement is third of three
    assert slices["bron:Scalabor"]["mrr"] == 1.0
    assert slices["bron:WSP"]["vacancies"] == 1
    # trede 1: in vacancy 1 the placement is second of its two, in vacancy 2 first of one
    assert slices["trede:1"]["mrr"] == pytest.approx((1 / 2 + 1) / 2)
    assert slices["trede:1"]["vacancies"] == 2 and slices["trede:1"]["scoredVacancies"] == 2
    # trede 2: vacancy 1 has nobody to find on it and is left out; in vacancy 2 the placement is second
    assert slices["trede:2"]["mrr"] == 0.5
    assert slices["trede:2"]["vacancies"] == 2 and slices["trede:2"]["scoredVacancies"] == 1
    # nobody on trede 0: the slice is there, empty, with None rather than NaN
    assert slices["trede:0"]["vacancies"] == 0 and slices["trede:0"]["ndcg@10"] is None
    assert all(entry["tooSmall"] for entry in slices.values())


def test_a_slice_needs_enough_vacancies_that_count() -> None:
    case = _two_vacancies()
    copies_wsp, copies_scalabor = MIN_SLICE_VACANCIES, MIN_SLICE_VACANCIES - 1
    wsp, scalabor = slice(0, 3), slice(3, 6)
    parts = [(wsp, copy) for copy in range(copies_wsp)] + [(scalabor, copy) for copy in range(copies_scalabor)]
    groups = np.concatenate([case["groups"][rows] + 10 * copy for rows, copy in parts])
    stacked = {key: np.concatenate([case[key][rows] for rows, _ in parts]) for key in ("labels", "scores", "bron")}
    slices = summarise_slices(stacked["labels"], stacked["scores"], groups, bron=stacked["bron"])
    assert set(slices) == {"bron:WSP", "bron:Scalabor"}  # no trede given, no trede slices
    assert slices["bron:WSP"]["scoredVacancies"] == 30 and slices["bron:WSP"]["tooSmall"] is False
    assert slices["bron:Scalabor"]["scoredVacancies"] == 29 and slices["bron:Scalabor"]["tooSmall"] is True
    assert slices["bron:WSP"]["mrr"] == pytest.approx(1 / 3, abs=1e-4) and slices["bron:WSP"]["mrrCI"] == [
        0.3333,
        0.3333,
    ]
