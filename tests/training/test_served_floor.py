"""training.served_floor and served_fairness with the amortised floor: the served numbers are the lists the floor
serves (the same as the research replay), and ever proposed is the history column serving reads."""

from __future__ import annotations

import numpy as np
import pytest

from matching.exposure import LIST_SIZE
from matching.exposure_amortised import SERVED, AmortisedFloor
from matching.floor_state import HALF_LIFE_DAYS
from tests.factories import merit_top_fifth, toy_pools
from training.client_history import History, columns, ever_proposed_before
from training.exposure_eval import (
    _groups_in_time_order,
    kept_between_pools,
    replay,
    screen_amortised,
    served_fairness,
)
from training.served_calibration import calibrated_probabilities, replay_amortised
from training.served_floor import amortised_of


def _history(rng: np.random.Generator, clients: int, proposals: int) -> History:
    empty = np.zeros(0)
    return History(
        step_client=empty.astype(np.int64),
        step_vacancy=empty.astype(np.int64),
        step_stage=empty.astype(np.int8),
        step_at=empty,
        step_success=empty.astype(bool),
        proposal_client=rng.integers(0, clients, proposals).astype(np.int64),
        proposal_vacancy=rng.integers(0, 6, proposals).astype(np.int64),
        proposal_at=rng.integers(0, 50, proposals).astype(np.float64),
    )


def test_ever_proposed_before_is_the_history_column_serving_reads() -> None:
    rng = np.random.default_rng(5)
    history = _history(rng, clients=30, proposals=60)
    clients, vacancies = rng.integers(0, 35, 500), rng.integers(0, 6, 500)  # some clients never proposed
    moments = rng.integers(0, 60, 500).astype(np.float64)
    expected = columns(history, np.zeros(len(history)), clients, vacancies, moments)[:, 2] > 0
    assert np.array_equal(ever_proposed_before(history, clients, vacancies, moments), expected)
    assert expected.any() and not expected.all()
    assert not ever_proposed_before(_history(rng, 1, 0), clients, vacancies, moments).any()


def test_served_fairness_reports_the_lists_the_amortised_floor_serves() -> None:
    data, truth = toy_pools(vacancies=60, seed=3)
    assert data.trede is not None
    truth = truth - 1.0 * (data.trede == 0)
    scores = truth - 0.6 * (data.trede == 0) + np.random.default_rng(4).normal(0, 0.3, len(truth))
    _, fitted = calibrated_probabilities(scores, scores, data.labels)
    setting = {**SERVED, "groups": ["trede"], "platt": {"a": fitted["a"], "b": fitted["b"]}}
    trede = data.trede.astype(str).astype(object)
    groups, merit = {"trede": trede}, merit_top_fifth(data, truth)
    merit_floor = served_fairness(data, scores, groups, merit)
    served = served_fairness(
        data, scores, groups, merit, amortised=setting, serving={"trede": trede}, half_life_days=None
    )
    assert served["method"]["amortisedFloor"] == setting and served["method"]["groupedBy"] == "trede"
    assert served["method"]["floor"] is None and served["method"]["swaps"] > 0
    lifted = served["attributes"]["trede"]["groups"]["0"]["exposureVsMerit"]
    assert lifted > merit_floor["attributes"]["trede"]["groups"]["0"]["exposureVsMerit"]
    probs = 1 / (1 + np.exp(-(setting["platt"]["a"] * scores + setting["platt"]["b"])))
    research = {**setting, "strength": 0.25, "maxSwaps": SERVED["maxSwaps"]}
    _, floor = replay_amortised(data, scores, probs, {"trede": trede}, research, half_life_days=None)
    assert floor.swaps_ == served["method"]["swaps"]  # without decay: session 31's replay
    decaying = served_fairness(data, scores, groups, merit, amortised=setting, serving={"trede": trede})
    assert decaying["method"]["halfLifeDays"] == HALF_LIFE_DAYS == 62.0  # the served state's, by default
    _, decayed = replay_amortised(data, scores, probs, {"trede": trede}, research)
    assert decayed.swaps_ == decaying["method"]["swaps"]  # the research replay is the gate's, decaying alike
    [point] = screen_amortised(data, scores, groups, merit, {"trede": trede}, [setting])
    assert point["swaps"] == decaying["method"]["swaps"] and point["ndcg@10Cost"] == decaying["ndcg@10Cost"]
    for key, value in point["exposureVsMerit"].items():  # the screen judges the served lists as the gate does
        attribute, group = key.split("=")
        assert value == decaying["attributes"][attribute]["groups"][group]["exposureVsMerit"]
    off = served_fairness(data, scores, groups, merit, strength=0.0, amortised=setting, serving={"trede": trede})
    assert "amortisedFloor" not in off["method"]  # strength 0 turns every re-ranking off, as in serving
    assert amortised_of(object()) is None and amortised_of(type("R", (), {"spec": {"amortisedFloor": None}})) is None


def _shown_places(data, shown_as: np.ndarray, trede: np.ndarray, vacancy: int) -> dict[tuple[str, object], float]:
    top = (shown_as > -LIST_SIZE) & (data.vacancy_ids == vacancy)
    return {("trede", group): float((top & (trede == group)).sum()) for group in np.unique(trede)}


def test_the_replayed_floor_decays_between_pools_as_the_served_state_does() -> None:
    """Three lists: one a year before two shown the same day. After the replay the first list's places weigh
    2^(-365/62) in the floor's running state, the other two's 1: the served state's weights, read from the lists."""
    data, truth = toy_pools(vacancies=3, seed=7)
    assert data.trede is not None
    data.moments[:] = np.where(data.vacancy_ids == 0, 0.0, 365 * 86400.0) + 1.8e9
    scores = truth - 0.8 * (data.trede == 0)
    trede = data.trede.astype(str).astype(object)
    probs = 1 / (1 + np.exp(-scores))
    groups = _groups_in_time_order(data)
    assert np.allclose(kept_between_pools(data, groups), [1.0, 2 ** (-365 / 62), 1.0])
    assert np.array_equal(kept_between_pools(data, groups, None), [1.0, 1.0, 1.0])
    floor = AmortisedFloor(SERVED["target"], SERVED["slack"], SERVED["maxSwaps"])
    shown_as, _ = replay(data, scores, 0.25, groups, amortised=(floor, probs, {"trede": trede}))
    kept = 2.0 ** (-365 / 62)
    places = [_shown_places(data, shown_as, trede, vacancy) for vacancy in range(3)]
    for key, held in floor.places_.items():
        assert held == pytest.approx(kept * places[0][key] + places[1][key] + places[2][key], rel=1e-12)
    assert sum(places[0].values()) == LIST_SIZE
    assert floor.total_places_ == pytest.approx(LIST_SIZE * (kept + 2), rel=1e-12)
    assert floor.total_merit_ == pytest.approx(len(data) / 3 * (kept + 2), rel=1e-12)  # n per pool, decayed alike
    still = AmortisedFloor(SERVED["target"], SERVED["slack"], SERVED["maxSwaps"])
    replay(data, scores, 0.25, groups, amortised=(still, probs, {"trede": trede}), half_life_days=None)
    assert still.total_places_ == 3 * LIST_SIZE  # session 31's replay: nothing forgotten
