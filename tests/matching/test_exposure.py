"""Exposure-aware re-ranking: relevance order at strength 0, bounded moves, the low-trede boost, Gini, the report."""

from __future__ import annotations

import numpy as np
import pytest

from matching.exposure import (
    LIST_SIZE,
    LOW_TREDE_BOOST,
    MERIT_SHARE,
    PENALTY_CAP,
    TOP_K,
    ExposureLedger,
    exposure_penalty,
    gini,
    merit_floor,
    rerank,
)
from matching.features import FEATURE_NAMES
from matching.pipeline import Exposure, order
from training.dataset import RankingData
from training.exposure_eval import evaluate_exposure, gini_floor, screen_served, served_fairness

ENTRY_KEYS = {"gini", "ndcg@10", "lowTredeShareTop10"}


def test_strength_zero_is_the_relevance_order_exactly() -> None:
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=600), 1)  # rounded: many ties, which must keep their pool order
    exposure = rng.integers(0, 20, size=600)
    trede = rng.integers(0, 6, size=600)
    order = rerank(scores, exposure, trede, strength=0.0, mean_exposure=3.0)
    np.testing.assert_array_equal(order, np.argsort(-scores, kind="stable"))


def test_a_client_shown_often_moves_below_an_equally_relevant_unexposed_one() -> None:
    scores = np.array([2.0, 2.0, 1.0, 0.0, -1.0])
    trede = np.full(5, 4)
    exposure = np.array([12, 0, 0, 0, 0])
    assert rerank(scores, exposure, trede, strength=0.0).tolist()[:2] == [0, 1]  # relevance: pool order
    assert rerank(scores, exposure, trede, strength=0.25, mean_exposure=1.0).tolist()[:2] == [1, 0]
    assert exposure_penalty(np.array([0, 1, 12]), 1.0).tolist() == pytest.approx([0.0, np.log(2), np.log(13)])


def test_a_much_less_relevant_client_never_jumps_over_a_clearly_more_relevant_one() -> None:
    rng = np.random.default_rng(1)
    strength = 1.0
    for _ in range(50):
        scores = rng.normal(size=300)
        exposure = rng.integers(0, 1000, size=300)  # extreme exposure: the penalty is capped
        trede = rng.integers(0, 6, size=300)
        order = rerank(scores, exposure, trede, strength=strength, mean_exposure=rng.uniform(0, 5))
        z = (scores - scores.mean()) / scores.std()
        position = np.empty(300, int)
        position[order] = np.arange(300)
        bound = strength * (PENALTY_CAP + LOW_TREDE_BOOST)
        higher, lower = np.nonzero(z[:, None] - z[None, :] > bound)
        assert (position[higher] < position[lower]).all()
        outside = np.argsort(-scores, kind="stable")[TOP_K:]  # below the relevance top K: untouched
        assert (position[outside] == np.arange(TOP_K, 300)).all()


def test_the_low_trede_boost_applies_only_to_candidates_who_fit() -> None:
    # 100 candidates; only the top 10 % "fit". Two pairs of near-equals, each with one low-trede client.
    scores = np.linspace(0.0, 1.0, 100)
    trede = np.full(100, 4)
    trede[98] = 1  # fits (top 10 %), a hair below candidate 99
    trede[10] = 1  # does not fit, a hair below candidate 11
    exposure = np.zeros(100)
    order = rerank(scores, exposure, trede, strength=1.0, top_k=100).tolist()
    assert order.index(98) < order.index(99)  # boosted past an equal on trede 4
    assert order.index(10) > order.index(11)  # no boost: stays below
    boosted = rerank(scores, exposure, trede, strength=1.0, top_k=100)
    trede[98] = 4  # the same client on trede 4 gets no boost
    assert rerank(scores, exposure, trede, strength=1.0, top_k=100).tolist().index(98) > boosted.tolist().index(98)


def test_rerank_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="lengte"):
        rerank(np.zeros(3), np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="sterkte"):
        rerank(np.zeros(3), np.zeros(3), np.zeros(3), strength=-1.0)


def test_gini_known_answers() -> None:
    assert gini(np.full(7, 3.0)) == 0.0
    assert gini(np.zeros(7)) == 0.0
    for n in (2, 5, 100):
        assert gini(np.array([0.0] * (n - 1) + [9.0])) == pytest.approx((n - 1) / n)
    assert gini(np.array([1.0, 3.0])) == pytest.approx(0.25)  # mean |xi - xj| / (2·mean) = 1 / 4
    assert gini_floor(3, 4) == pytest.approx(0.25)  # three places over four clients: 1 - 3/4
    assert gini_floor(8, 4) == 0.0


def test_the_ledger_counts_shown_clients_and_averages_over_candidates() -> None:
    ledger = ExposureLedger()
    assert ledger.candidates([5, 6, 7, 8]).tolist() == [0, 0, 0, 0]
    ledger.record([5, 6])
    ledger.record([5])
    assert ledger.candidates([5, 9]).tolist() == [2, 0]  # 9 is new: registered at 0
    assert ledger.mean() == pytest.approx(3 / 5)
    assert sorted(ledger.counts().tolist()) == [0, 0, 0, 1, 2]


def _pools(vacancies: int = 40, size: int = 60, clients: int = 150, seed: int = 0) -> tuple[RankingData, np.ndarray]:
    """Pools of a small world where a few clients fit everything: relevance alone concentrates exposure."""
    rng = np.random.default_rng(seed)
    talent = rng.normal(size=clients)
    client_ids = np.concatenate([rng.choice(clients, size, replace=False) for _ in range(vacancies)])
    truth = talent[client_ids] + rng.normal(0, 0.5, len(client_ids))
    labels = np.select([truth > 1.5, truth > 0.8], [4, 2], 0)
    vacancy_ids = np.repeat(np.arange(vacancies)[::-1], size)  # ids against time: the moments decide
    data = RankingData(
        features=np.zeros((len(client_ids), len(FEATURE_NAMES)), np.float32),
        labels=labels,
        vacancy_ids=vacancy_ids,
        client_ids=client_ids.astype(np.int64) + 1000,
        moments=np.repeat(np.arange(vacancies, dtype=np.float64), size) * 86400.0,
        trede=(np.arange(clients) % 6)[client_ids].astype(np.int64),
    )
    return data, truth


def test_evaluate_exposure_reports_the_documented_shape_and_spreads_exposure() -> None:
    data, truth = _pools()
    scores = truth + np.random.default_rng(1).normal(0, 0.3, len(truth))
    result = evaluate_exposure(data, scores, truth, strength=1.0, sweep=(0.0, 0.5, 1.0))
    assert ENTRY_KEYS <= set(result["relevanceOnly"]) and ENTRY_KEYS <= set(result["exposureAware"])
    assert result["strength"] == 1.0 and result["vacancies"] == 40 and result["listPlaces"] == 400
    assert result["clientsEligible"] == len(np.unique(data.client_ids))
    assert [point["strength"] for point in result["sweep"]] == [0.0, 0.5, 1.0]
    assert result["sweep"][0]["gini"] == result["relevanceOnly"]["gini"]
    assert result["sweep"][0]["ndcg@10Loss"] == 0.0
    aware, alone = result["exposureAware"], result["relevanceOnly"]
    assert aware["gini"] < alone["gini"]  # exposure spreads …
    assert aware["clientsShown"] > alone["clientsShown"]
    assert result["giniFloor"] <= aware["gini"]
    assert 0.0 <= aware["lowTredeShareTop10"] <= 1.0
    assert result["goal"]["giniAtMost"] == pytest.approx(alone["gini"] / 2, abs=1e-4)
    assert set(result["vsRelevanceOnly"]) >= {"gain", "gainCI", "ratio"}
    assert "oracle" in result and result["suitableBy"].startswith("ware geschiktheid")
    without_truth = evaluate_exposure(data, scores, None, sweep=())
    assert without_truth["suitableBy"] == "label > 0" and "oracle" not in without_truth


def test_evaluate_exposure_refuses_pools_without_trede() -> None:
    data, truth = _pools(vacancies=3)
    data.trede = None
    with pytest.raises(ValueError, match="trede"):
        evaluate_exposure(data, truth)


def _scored_pool(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A pool whose ranker favours high tredes: trede 1 fits as often, but scores a little lower."""
    rng = np.random.default_rng(seed)
    trede = rng.integers(1, 6, n)
    return rng.normal(size=n) + 0.4 * trede, trede


def test_the_merit_floor_gives_an_under_exposed_trede_its_share_of_the_top() -> None:
    shown = {"relevance": np.zeros(6), "floor": np.zeros(6)}
    merited = np.zeros(6)
    share = 0.2  # this pool's ranker judges broadly: in its top fifth trede 1 is well represented
    for seed in range(200):
        scores, trede = _scored_pool(seed)
        relevance = np.argsort(-scores, kind="stable")
        floored = merit_floor(relevance, scores, trede, floor=1.0, merit_share=share)
        assert sorted(floored.tolist()) == list(range(len(scores)))  # a permutation
        shown["relevance"] += np.bincount(trede[relevance[:LIST_SIZE]], minlength=6)
        shown["floor"] += np.bincount(trede[floored[:LIST_SIZE]], minlength=6)
        merited += np.bincount(trede[relevance[: int(np.ceil(share * len(scores)))]], minlength=6)
    expected = LIST_SIZE * 200 * merited / merited.sum()  # the places each trede's merit share earns
    assert shown["relevance"][1] < 0.5 * expected[1]  # relevance alone: trede 1 gets under half its share
    assert shown["floor"][1] >= 0.9 * expected[1]  # the floor: (about) all of it, in expectation
    assert shown["floor"][1] > 2 * shown["relevance"][1]
    assert (shown["floor"][1:] >= 0.9 * expected[1:]).all()  # every trede, not one at the others' cost


def test_the_merit_floor_never_lifts_anyone_from_below_the_relevance_merit_top() -> None:
    for seed in range(50):
        scores, trede = _scored_pool(seed)
        relevance = np.argsort(-scores, kind="stable")
        floored = merit_floor(relevance, scores, trede, floor=1.0)
        merit_top = set(relevance[: int(np.ceil(MERIT_SHARE * len(scores)))].tolist())
        assert set(floored[:LIST_SIZE].tolist()) <= merit_top  # nobody far less relevant passes anyone
        within = [row for row in floored[:LIST_SIZE] if trede[row] == trede[floored[0]]]
        assert list(scores[within]) == sorted(scores[within], reverse=True)  # each trede in relevance order
        np.testing.assert_array_equal(floored[LIST_SIZE:], relevance[~np.isin(relevance, floored[:LIST_SIZE])])


def test_the_merit_floor_is_off_at_zero_and_the_same_list_for_the_same_pool() -> None:
    scores, trede = _scored_pool(0)
    relevance = np.argsort(-scores, kind="stable")
    np.testing.assert_array_equal(merit_floor(relevance, scores, trede, floor=0.0), relevance)
    np.testing.assert_array_equal(merit_floor(relevance, scores, trede), merit_floor(relevance, scores, trede))
    exposed = Exposure(np.zeros(len(scores)), trede, strength=0.0, mean=0.0, floor=1.0)
    np.testing.assert_array_equal(order(scores, 20), relevance[:20])
    np.testing.assert_array_equal(order(scores, 20, exposed), merit_floor(relevance, scores, trede, 1.0)[:20])


def test_served_fairness_reports_every_group_with_intervals_and_the_ndcg_cost() -> None:
    data, truth = _pools()
    scores = truth + 0.6 * data.trede + np.random.default_rng(1).normal(0, 0.3, len(truth))  # favours high tredes
    merit = np.zeros(len(data), bool)
    for vacancy in np.unique(data.vacancy_ids):
        rows = np.flatnonzero(data.vacancy_ids == vacancy)
        merit[rows] = truth[rows] >= np.quantile(truth[rows], 0.8)
    groups = {"trede": data.trede.astype(str).astype(object)}
    # pools of 60: a top tenth would be the top 10 itself, so the floor reads the top fifth here
    result = served_fairness(data, scores, groups, merit, strength=0.25, floor=1.0, merit_share=0.2)
    served, before = result["attributes"]["trede"]["groups"], result["relevanceOnly"]["trede"]
    assert set(served) == set(before) == {str(t) for t in range(6)}
    for row in served.values():
        assert {"exposureVsMerit", "exposureVsMeritCI", "ratio", "ratioCI", "clients"} <= set(row)
    assert served["0"]["exposureVsMerit"] > before["0"]["exposureVsMerit"]  # the least favoured gains
    assert result["ndcg@10CostCI"][0] <= result["ndcg@10Cost"] <= result["ndcg@10CostCI"][1]  # here a gain
    assert result["method"] == {
        "strength": 0.25,
        "floor": 1.0,
        "meritShare": 0.2,
        "groupedBy": "trede",
        "listSize": LIST_SIZE,
    }
    assert set(result["goal"]) >= {"groupsBelow", "met"}
    real = served_fairness(data, scores, groups, None)  # real data: no merit, the exposure-vs-pool part only
    assert "ndcg@10Cost" not in real and real["attributes"]["trede"]["groups"]["0"]["ratio"] is not None


def test_the_sweep_screen_gives_the_full_audits_numbers_for_every_setting() -> None:
    data, truth = _pools(clients=300)  # every trede ≥ 30 clients: the groups the goal reads
    scores = truth + 0.6 * data.trede + np.random.default_rng(1).normal(0, 0.3, len(truth))
    merit = np.zeros(len(data), bool)
    for vacancy in np.unique(data.vacancy_ids):
        rows = np.flatnonzero(data.vacancy_ids == vacancy)
        merit[rows] = truth[rows] >= np.quantile(truth[rows], 0.8)
    groups = {"trede": data.trede.astype(str).astype(object)}
    settings = [(0.2, 0.0), (0.1, 0.8), (0.2, 1.0)]
    points = screen_served(data, scores, groups, merit, settings, strength=0.25)
    assert list(points) == ["0.2/0.0", "0.1/0.8", "0.2/1.0"]
    for share, floor in settings:
        full = served_fairness(data, scores, groups, merit, strength=0.25, floor=floor, merit_share=share)
        point = points[f"{share}/{floor}"]
        assert point["ndcg@10Cost"] == full["ndcg@10Cost"] and point["ndcg@10CostCI"] == full["ndcg@10CostCI"]
        audited = {
            f"trede={group}": row["exposureVsMerit"]
            for group, row in full["attributes"]["trede"]["groups"].items()
            if not row["tooSmall"] and row["exposureVsMerit"] is not None
        }
        assert point["exposureVsMerit"] == audited
        assert point["groupsBelow"] == full["goal"]["groupsBelow"] and point["met"] == full["goal"]["met"]


def test_a_narrower_merit_share_lifts_only_from_the_narrower_top() -> None:
    for seed in range(20):
        scores, trede = _scored_pool(seed)
        relevance = np.argsort(-scores, kind="stable")
        floored = merit_floor(relevance, scores, trede, floor=1.0, merit_share=0.1)
        assert sorted(floored.tolist()) == list(range(len(scores)))
        top_tenth = set(relevance[: max(LIST_SIZE, int(np.ceil(0.1 * len(scores))))].tolist())
        assert set(floored[:LIST_SIZE].tolist()) <= top_tenth


def test_the_merit_floor_chooses_who_is_shown_and_shows_them_in_the_input_order() -> None:
    lifted = 0
    for seed in range(50):
        scores, trede = _scored_pool(seed)
        relevance = np.argsort(-scores, kind="stable")
        floored = merit_floor(relevance, scores, trede, floor=0.8)
        place = np.argsort(relevance)  # each candidate's position in the input order
        shown = place[floored[:LIST_SIZE]]
        assert (np.diff(shown) > 0).all()  # the chosen ten keep the input order: the lifted come last
        lifted += int((shown >= LIST_SIZE).sum())
        for group in np.unique(trede[floored[:LIST_SIZE]]):  # of each trede, the input's best are shown
            ahead = place[relevance[trede[relevance] == group]][: int((trede[floored[:LIST_SIZE]] == group).sum())]
            np.testing.assert_array_equal(np.sort(shown[trede[floored[:LIST_SIZE]] == group]), ahead)
    assert lifted > 0
