"""The fairness audit: shares of top-10 positions against pool and merit, the tripwire, small groups, fairlearn."""

from __future__ import annotations

import numpy as np
import pytest

from tests.factories import fairness_pools as pools
from training.fairness import TRIPWIRE, audit_ranking, suitable_in_pool, top_k_mask


def test_an_even_ranking_has_ratios_near_one_and_no_breach() -> None:
    data, groups = pools()
    scores = np.random.default_rng(1).random(len(data))
    report = audit_ranking(data, scores, groups)
    found = report["attributes"]["groep"]["groups"]
    for name in ("a", "b"):
        low, high = found[name]["ratioCI"]
        assert low < 1.0 < high and found[name]["ratio"] == pytest.approx(1.0, abs=0.15)
    assert report["passed"] and not report["breaches"]
    assert found["klein"]["tooSmall"] and not found["klein"]["breach"]  # fewer than 30 clients: reported only


def test_a_ranking_that_buries_a_group_trips_the_wire() -> None:
    data, groups = pools()
    scores = np.where(groups["groep"] == "b", 0.0, 1.0) + np.random.default_rng(2).random(len(data)) * 0.1
    report = audit_ranking(data, scores, groups)
    b = report["attributes"]["groep"]["groups"]["b"]
    assert b["ratio"] < TRIPWIRE and b["breach"] and report["breaches"] == ["groep=b"] and not report["passed"]
    assert b["top10Share"] < 0.05 and b["ratioCI"][1] < TRIPWIRE
    assert b["selectionRate"] < 0.01  # fairlearn's MetricFrame per group
    assert report["attributes"]["groep"]["equalizedOddsDifference"] > 0.2


def test_exposure_against_merit_separates_rare_merit_from_unfair_exposure() -> None:
    data, groups = pools()
    merit = groups["groep"] == "a"  # only group a merits places
    scores = merit + np.random.default_rng(3).random(len(data)) * 0.1
    b = audit_ranking(data, scores, groups, merit=merit)["attributes"]["groep"]["groups"]["b"]
    assert b["breach"] and b["meritShare"] == 0.0 and b["exposureVsMerit"] is None


def test_top_k_and_suitability_are_per_pool() -> None:
    groups = np.array([1, 1, 1, 2, 2])
    scores = np.array([0.1, 0.9, 0.5, 0.3, 0.2])
    np.testing.assert_array_equal(top_k_mask(scores, groups, 2), [False, True, True, True, True])
    truth = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0])
    vacancies = np.repeat([7, 8], 5)
    np.testing.assert_array_equal(suitable_in_pool(truth, vacancies), [0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
