"""bench/individual_attention_validation.py: its replay is the gate's with the current penalty; own merit keeps
deserved repetition; the afromen measures and the rule's pick."""

from __future__ import annotations

import numpy as np
import pytest

from bench.individual_attention_validation import afromen, pick_of, replay_variant
from matching.exposure import LIST_SIZE
from matching.exposure_amortised import SERVED
from matching.features import FEATURE_NAMES
from training.dataset import RankingData
from training.exposure_eval import _amortised_replay, _groups_in_time_order, replay

PLATT = {"a": 1.2, "b": -1.0}


def _pools(vacancies: int = 30, size: int = 60, clients: int = 200) -> tuple[RankingData, np.ndarray]:
    """Pools in time order where client 1000 fits every vacancy best by a small margin."""
    rng = np.random.default_rng(0)
    client_ids = np.concatenate(
        [np.r_[0, 1 + rng.choice(clients - 1, size - 1, replace=False)] for _ in range(vacancies)]
    )
    scores = rng.normal(size=len(client_ids))
    scores[client_ids == 0] = 3.0
    data = RankingData(
        features=np.zeros((len(client_ids), len(FEATURE_NAMES)), np.float32),
        labels=(scores > 1.0).astype(np.int64),
        vacancy_ids=np.repeat(np.arange(vacancies), size),
        client_ids=client_ids.astype(np.int64) + 1000,
        moments=np.repeat(np.arange(vacancies, dtype=np.float64), size) * 86400.0 * 3,
        trede=(np.arange(clients) % 6)[client_ids].astype(np.int64),
    )
    return data, scores


def _serving(data: RankingData) -> dict[str, np.ndarray]:
    labels = data.trede.astype(str).astype(object)
    return {"trede": labels, "route": labels, "geschiedenis": (data.client_ids % 2).astype(str).astype(object)}


@pytest.mark.parametrize("floor", ["none", "served"])
def test_the_current_penalty_replays_exactly_as_the_gates_replay(floor: str) -> None:
    data, scores = _pools()
    in_time = _groups_in_time_order(data)
    variant = {"penalty": "current", "strength": 0.5, "floor": floor}
    ours, ledger, swaps = replay_variant(data, scores, in_time, variant, PLATT, _serving(data))
    amortised = _amortised_replay(scores, {**SERVED, "platt": PLATT}, _serving(data)) if floor == "served" else None
    gates, gate_ledger = replay(data, scores, 0.5, in_time, amortised=amortised)
    np.testing.assert_array_equal(ours, gates)
    assert ledger.shown_.shown_ == gate_ledger.shown_
    if amortised is not None:
        assert swaps == {"swaps": amortised[0].swaps_, "listsChanged": amortised[0].lists_changed_}


def test_own_merit_shows_the_client_who_fits_everything_more_often_than_the_average_penalty() -> None:
    data, scores = _pools()
    in_time = _groups_in_time_order(data)
    serving = _serving(data)
    current, *_ = replay_variant(
        data, scores, in_time, {"penalty": "current", "strength": 1.0, "floor": "none"}, PLATT, serving
    )
    own = {"penalty": "own", "prior": 1.0, "oneSided": False, "strength": 1.0, "floor": "none"}
    mine, *_ = replay_variant(data, scores, in_time, own, PLATT, serving)
    star = data.client_ids == 1000
    assert ((mine > -LIST_SIZE) & star).sum() > ((current > -LIST_SIZE) & star).sum()


def test_afromen_measures_known_answers() -> None:
    data = RankingData(
        features=np.zeros((6, len(FEATURE_NAMES)), np.float32),
        labels=np.zeros(6, np.int64),
        vacancy_ids=np.array([1, 1, 1, 2, 2, 2]),
        client_ids=np.array([5, 6, 7, 5, 6, 8]),
        moments=np.zeros(6),
    )
    shown_as = np.array([0.0, -12, -13, 0.0, -11, -12])  # client 5 first in both lists, the rest below the top 10
    merit = np.array([True, True, False, True, False, False])
    out = afromen(data, shown_as, np.array([2.0, 0, 0, 0]), merit)
    assert out["repeatedTop10Share"] == 0.5 and out["maxAppearances"] == 2 and out["clientsShown"] == 1
    assert out["individualUnfairness"] == pytest.approx(1 / 3, abs=1e-4)  # 5 holds all places, 2/3 of the merit rows
    assert out["exposureVsMeritByMeritPools"] == {"1-1": 0.0, "2-3": 1.5}
    assert out["gini"] == 0.75


def test_the_pick_is_the_cheapest_passing_else_the_closest() -> None:
    def point(cost: float, below: list[str], strength: float = 0.25, floor: str = "none") -> dict:
        lowest = {"group": "g", "value": 0.7 if below else 0.9}
        met = not below and cost <= 0.05
        return {
            "ndcg@10Cost": cost,
            "groupsBelow": below,
            "lowest": lowest,
            "met": met,
            "strength": strength,
            "floor": floor,
        }

    points = [point(0.04, []), point(0.03, [], 0.5, "served"), point(0.01, ["x"])]
    assert pick_of(points)["ndcg@10Cost"] == 0.03 and pick_of(points)["passes"]
    closest = pick_of([point(0.06, ["x"]), point(0.02, ["x"]), point(0.01, ["x", "y"])])  # a cost over 5 % fails too
    assert not closest["passes"] and closest["ndcg@10Cost"] == 0.02
    assert pick_of([point(0.01, []) | {"merit": "truth"}, point(0.02, ["x"])])["ndcg@10Cost"] == 0.02  # not servable
