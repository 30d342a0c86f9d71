"""The pure parts of bench/geslacht_exposure.py (in bench/geslacht_exposure_stats.py): top-10 masks, shares, the
hit-and-spill identity, standardised hits, Kish's effective number, the client bootstrap and the placebo groups."""

from __future__ import annotations

import numpy as np
import pytest

from bench.geslacht_exposure_stats import (
    client_bootstrap,
    hit_and_spill,
    kish,
    merit_pools_bin,
    placebo,
    rank_in_pool,
    shares,
    standardised_difference,
    standardised_hits,
    top_mask,
)


def _world(seed: int = 3, pools: int = 40, size: int = 30) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    vacancy_ids = np.repeat(np.arange(pools), size)
    client_ids = rng.integers(0, 200, size=len(vacancy_ids))
    truth = rng.normal(size=len(vacancy_ids))
    score = truth + rng.normal(size=len(vacancy_ids))
    merit = np.zeros(len(truth), bool)
    for v in range(pools):
        rows = np.flatnonzero(vacancy_ids == v)
        merit[rows[np.argsort(-truth[rows])[: size // 5]]] = True
    return {
        "vacancy_ids": vacancy_ids,
        "client_ids": client_ids,
        "merit": merit,
        "top": top_mask(score, vacancy_ids),
        "member": client_ids < 20,
    }


def test_top_mask_takes_the_k_best_of_each_vacancy_first_row_on_ties() -> None:
    vacancy_ids = np.array([1, 1, 1, 2, 2, 2])
    scores = np.array([0.5, 0.9, 0.5, 3.0, 1.0, 2.0])
    assert top_mask(scores, vacancy_ids, k=2).tolist() == [True, True, False, True, False, True]
    assert top_mask(scores, vacancy_ids, k=10).all()


def test_rank_in_pool_runs_from_worst_zero_to_best_one_per_pool() -> None:
    vacancy_ids = np.array([2, 2, 2, 1, 1])
    ranks = rank_in_pool(np.array([3.0, 1.0, 2.0, 5.0, 4.0]), vacancy_ids)
    assert ranks.tolist() == [1.0, 0.0, 0.5, 1.0, 0.0]


def test_the_ratio_is_exactly_hit_plus_spill_over_everyone_s() -> None:
    w = _world()
    direct = shares(w["member"], w["merit"], w["top"])["exposureVsMerit"]
    parts = hit_and_spill(w["member"], w["merit"], w["top"])
    assert parts["exposureVsMerit"] == pytest.approx(direct)
    assert parts["exposureVsMerit"] == pytest.approx(
        (parts["hit"] + parts["spill"]) / (parts["hitAll"] + parts["spillAll"])
    )


def test_everyone_together_gets_exactly_their_merit() -> None:
    w = _world()
    everyone = np.ones(len(w["merit"]), bool)
    assert shares(everyone, w["merit"], w["top"])["exposureVsMerit"] == pytest.approx(1.0)


def test_a_group_without_merit_has_no_ratio() -> None:
    w = _world()
    assert shares(np.zeros(len(w["merit"]), bool), w["merit"], w["top"])["exposureVsMerit"] is None
    assert hit_and_spill(np.zeros(len(w["merit"]), bool), w["merit"], w["top"])["hit"] is None


def test_standardised_hits_are_one_when_the_stratum_explains_the_gap() -> None:
    # stratum 0 is always shown, stratum 1 never; the group sits mostly in stratum 1 and is treated like its peers
    strata = np.array([0] * 10 + [1] * 10)
    member = np.array([True] * 2 + [False] * 8 + [True] * 8 + [False] * 2)
    merit = np.ones(20, bool)
    top = strata == 0
    out = standardised_hits(member, merit, top, strata)
    assert out["observed"] == 2.0
    assert out["expected"] == 2.0
    assert out["observedOverExpected"] == 1.0
    # without strata the same group looks far under-served
    assert standardised_hits(member, merit, top, np.zeros(20, np.int64))["observedOverExpected"] == pytest.approx(0.25)


def test_standardised_hits_see_a_group_missed_within_its_stratum() -> None:
    strata = np.zeros(20, np.int64)
    member = np.arange(20) < 5
    merit = np.ones(20, bool)
    top = ~member & (np.arange(20) % 2 == 0)  # others shown half the time, the group never
    out = standardised_hits(member, merit, top, strata)
    assert out["observed"] == 0.0
    assert out["observedOverExpected"] == 0.0


def test_kish_counts_equal_carriers_fully_and_one_dominant_carrier_as_about_one() -> None:
    assert kish(np.array([3.0, 3.0, 3.0, 3.0])) == pytest.approx(4.0)
    assert kish(np.array([100.0, 1.0, 1.0])) == pytest.approx(102**2 / 10002)
    assert kish(np.zeros(3)) == 0.0


def test_merit_pool_bins_follow_their_lower_edges() -> None:
    assert merit_pools_bin(np.array([1, 2, 3, 4, 7, 8, 31, 32, 500])).tolist() == [0, 1, 1, 2, 2, 3, 4, 5, 5]


def test_client_bootstrap_covers_the_point_estimate_and_is_reproducible() -> None:
    w = _world()
    own = shares(w["member"], w["merit"], w["top"])["exposureVsMerit"]
    a = client_bootstrap(w["member"], w["merit"], w["top"], w["client_ids"], np.random.default_rng(0), draws=500)
    b = client_bootstrap(w["member"], w["merit"], w["top"], w["client_ids"], np.random.default_rng(0), draws=500)
    assert a == b
    assert a[0] <= own <= a[1]


def test_placebo_groups_of_everyone_read_one_and_a_low_value_is_rare() -> None:
    w = _world()
    n_clients = len(np.unique(w["client_ids"]))
    whole = placebo(n_clients, w["merit"], w["top"], w["client_ids"], 1.0, np.random.default_rng(0), draws=20)
    assert whole["percentiles"]["50"] == pytest.approx(1.0)
    low = placebo(20, w["merit"], w["top"], w["client_ids"], 0.0, np.random.default_rng(0), draws=200)
    assert low["shareAsLowOrLower"] < 0.05


def test_standardised_difference_is_signed_and_zero_for_constant_columns() -> None:
    a = np.array([[1.0, 5.0], [3.0, 5.0]])
    b = np.array([[0.0, 5.0], [2.0, 5.0]])
    assert standardised_difference(a, b).tolist() == [1.0, 0.0]


def test_false_alarms_fall_as_random_groups_grow() -> None:
    from bench.geslacht_exposure import false_alarms_by_size

    w = _world(pools=200)
    small, large = false_alarms_by_size((10, 150), w["merit"], w["top"], w["client_ids"], np.random.default_rng(0), 300)
    assert small["clients"] == 10 and large["clients"] == 150
    assert large["shareBelowThreshold"] <= small["shareBelowThreshold"]
    assert large["medianEffectiveMeritClients"] > small["medianEffectiveMeritClients"]
