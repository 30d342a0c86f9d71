"""training.served_calibration: the cheapest merit floor setting that lifts an under-rated trede to its target."""

from __future__ import annotations

import numpy as np

from tests.factories import merit_top_fifth, toy_pools
from training.exposure_eval import screen_served
from training.fairness import top_k_mask
from training.served_calibration import (
    calibrate_floor,
    calibrated_probabilities,
    failing,
    replay_amortised,
    targets_from,
)


def test_targets_are_the_reference_capped_at_the_goal() -> None:
    assert targets_from({"trede=0": 3.7, "geslacht=x": 0.7}) == {"trede=0": 0.8, "geslacht=x": 0.7}
    point = {"exposureVsMerit": {"trede=0": 0.5, "trede=1": 0.75, "geslacht=x": 0.71}}
    assert failing(point, {"geslacht=x": 0.7}) == ["trede=0", "trede=1"]  # unnamed groups need 0.8


def test_a_ranker_that_under_rates_trede_0_gets_a_wider_floor_that_lifts_it() -> None:
    data, truth = toy_pools()
    assert data.trede is not None
    truth = truth - 1.0 * (data.trede == 0)  # trede 0 deserves fewer places than its pool share …
    scores = truth - 0.6 * (data.trede == 0) + np.random.default_rng(1).normal(0, 0.3, len(truth))  # … and gets less
    merit = merit_top_fifth(data, truth)
    groups = {"trede": data.trede.astype(str).astype(object)}
    default = next(iter(screen_served(data, scores, groups, merit, [(0.1, 1.0)]).values()))
    assert "trede=0" in failing(default, {})  # the served default leaves the under-rated trede below 0.8
    grid = {"shares": (0.1, 0.3, 0.5), "floors": (1.0, 2.0), "max_cost": 0.1}  # coarse toy labels: a dearer floor
    result = calibrate_floor(data, scores, groups, merit, {}, **grid)
    chosen = result["chosen"]
    assert chosen is not None and chosen["passes"] and not chosen["failing"]
    assert chosen["exposureVsMerit"]["trede=0"] >= 0.8 and chosen["ndcg@10Cost"] <= 0.1
    assert chosen["meritShare"] > 0.1  # a wider reading of merit than serving's constant
    cheaper = [p for p in result["points"].values() if p["passes"] and p["ndcg@10Cost"] < chosen["ndcg@10Cost"]]
    assert not cheaper and set(result["points"]) == {f"{s}/{f}" for s in (0.1, 0.3, 0.5) for f in (1.0, 2.0)}


def test_without_a_passing_setting_the_closest_one_is_reported() -> None:
    data, truth = toy_pools(seed=2)
    assert data.trede is not None
    scores = truth - 6.0 * (data.trede == 0)  # trede 0 never within any top share tried
    groups = {"trede": data.trede.astype(str).astype(object)}
    result = calibrate_floor(data, scores, groups, merit_top_fifth(data, truth), {}, shares=(0.1,), floors=(1.0,))
    assert result["chosen"] is None
    assert "trede=0" in result["closest"]["failing"] and result["closest"]["meritShare"] == 0.1


def test_the_amortised_floor_lifts_an_under_rated_trede_from_calibrated_probabilities_alone() -> None:
    """No truth to set it: Platt on decided outcomes of older pools, then the amortised replay of newer ones."""
    data, truth = toy_pools(vacancies=60, seed=3)
    assert data.trede is not None
    truth = truth - 1.0 * (data.trede == 0)
    scores = truth - 0.6 * (data.trede == 0) + np.random.default_rng(4).normal(0, 0.3, len(truth))
    older, newer = data.rows(0, 20 * 120), data.rows(20 * 120, len(data))
    new_scores, new_truth = scores[20 * 120 :], truth[20 * 120 :]
    probs, fitted = calibrated_probabilities(new_scores, scores[: 20 * 120], older.labels)
    assert fitted["a"] > 0 and 0 < fitted["meanP"] < 1
    groups = {"trede": newer.trede.astype(str).astype(object)}
    merit = merit_top_fifth(newer, new_truth)
    default = next(iter(screen_served(newer, new_scores, groups, merit, [(0.1, 1.0)]).values()))
    assert "trede=0" in failing(default, {})
    setting = {"strength": 0.25, "target": 0.8, "slack": 0.0, "maxSwaps": 3}
    shown_as, floor = replay_amortised(newer, new_scores, probs, {"trede": newer.trede}, setting)
    top = top_k_mask(shown_as, newer.vacancy_ids, 10)
    ratio = (top & (newer.trede == 0)).sum() / top.sum() / ((merit & (newer.trede == 0)).sum() / merit.sum())
    # 0.09 -> 0.46: the floor gives what the calibrated ranker believes trede 0 merits, and this toy ranker
    # under-rates trede 0 in its probabilities too (the truth would ask 0.8)
    assert ratio > 3 * default["exposureVsMerit"]["trede=0"] and floor.swaps_ > 0
    assert floor.lists_changed_ < 40  # not every list: only while trede 0 runs behind
    for vacancy in np.unique(newer.vacancy_ids):  # every shown candidate within the pool's relevance top 50
        rows = np.flatnonzero(newer.vacancy_ids == vacancy)
        allowed = set(rows[np.argsort(-new_scores[rows], kind="stable")[:50]].tolist())
        assert set(rows[top[rows]].tolist()) <= allowed
    real = newer.rows(0, len(newer))
    real.labels = np.zeros(len(real), np.int64)  # real pools have no labels: the replay needs none
    again, _ = replay_amortised(real, new_scores, probs, {"trede": real.trede}, setting)
    assert np.array_equal(again, shown_as)
