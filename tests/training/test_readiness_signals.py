"""Readiness signals (issue 19, items 1-2): separation within a group, group profiles, the truth's readiness
penalty, standardising among peers, and the rule of bench/readiness_signals.py."""

from __future__ import annotations

import numpy as np

from bench.readiness_signals import CANDIDATES, choose, passes
from training.latent import DEFAULT_WEIGHTS
from training.readiness_signals import group_profile, readiness_terms, separation_within, standardised_within


def test_a_signal_that_orders_a_group_perfectly_separates_at_one_and_a_constant_at_one_half() -> None:
    suitable = np.array([True, False, True, False, True, False])
    groups = {"low": np.array([True, True, True, True, False, False]), "high": np.array([False] * 4 + [True, True])}
    signals = {"reads it": suitable.astype(float), "constant": np.ones(6), "reversed": -suitable.astype(float)}
    out = separation_within(signals, suitable, groups)
    assert out["low"] == {"reads it": 1.0, "constant": 0.5, "reversed": 0.0}
    assert out["high"]["reads it"] == 1.0


def test_a_group_with_one_class_has_no_separation() -> None:
    out = separation_within(
        {"s": np.arange(4.0)}, np.array([True, True, False, False]), {"g": np.array([1, 1, 0, 0]) > 0}
    )
    assert out["g"] == {"s": None}


def test_group_profile_gives_means_and_the_standardised_difference() -> None:
    values = np.array([1.0, 3.0, 0.0, 2.0])
    groups = {"a": np.array([True, True, False, False]), "b": np.array([False, False, True, True])}
    out = group_profile({"v": values}, groups, ("a", "b"))
    assert out["v"]["a"] == 2.0 and out["v"]["b"] == 1.0
    assert out["v"]["standardisedDifference"] == 1.0  # (2 - 1) / sqrt((1 + 1) / 2)


def test_the_true_readiness_penalty_shrinks_when_the_true_readiness_is_above_the_recorded_trede() -> None:
    seen, true = readiness_terms(np.array([2.0, 2.0, -1.0]), np.array([0.0, 1.0, 0.5]))
    w = DEFAULT_WEIGHTS.readiness_gap
    np.testing.assert_allclose(seen, [-4 * w, -4 * w, 0.0])
    np.testing.assert_allclose(true, [-4 * w, -w, 0.0])


def test_standardised_within_removes_each_peer_groups_level_and_scale() -> None:
    rng = np.random.default_rng(0)
    peers = rng.integers(0, 6, 600)
    values = 0.15 * (peers - 2.5) + rng.normal(0, 1 + peers, 600)
    out = standardised_within(values, peers)
    for peer in range(6):
        assert abs(out[peers == peer].mean()) < 1e-9 and abs(out[peers == peer].std() - 1) < 1e-9
    inside = peers == 3  # the order within a peer group is kept
    assert (np.argsort(out[inside]) == np.argsort(values[inside])).all()
    assert (standardised_within(np.ones(3), np.array([0, 0, 1])) == 0).all()


def _entry(share: float, cost: float, trede0: float) -> dict:
    served = {"trede 0": {"exposureVsMerit": trede0}, "trede 4": {"exposureVsMerit": 1.0}}
    return {"oracleShare": share, "servedLists": {"ndcg@10Cost": cost, "served": served}}


def test_the_rule_takes_the_best_passing_candidate_and_none_when_none_passes() -> None:
    shipped = _entry(0.6, 0.06, 3.0)  # the floor per group: min(shipped, 0.8)
    first, second = CANDIDATES
    assert passes(_entry(0.7, 0.04, 0.8), shipped)
    assert not passes(_entry(0.7, 0.051, 0.9), shipped)  # too costly
    assert not passes(_entry(0.7, 0.02, 0.79), shipped)  # a group under min(shipped, 0.8)
    assert choose({first: _entry(0.70, 0.04, 0.9), second: _entry(0.72, 0.04, 0.9)}, shipped) == second
    assert choose({first: _entry(0.70, 0.04, 0.9), second: _entry(0.72, 0.04, 0.5)}, shipped) == first
    assert choose({first: _entry(0.70, 0.06, 0.9), second: _entry(0.72, 0.04, 0.5)}, shipped) is None
