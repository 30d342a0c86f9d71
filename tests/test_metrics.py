"""Ranking metrics: hand-computed cases, pessimistic ties, and bootstrap intervals that contain the mean."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from training.metrics import ndcg_at, recall_at, reciprocal_rank, summarise


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
    assert reciprocal_rank(labels, flat) == pytest.approx(1 / 3)
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
