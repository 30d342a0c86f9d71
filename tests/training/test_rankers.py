"""Rankers on one time split: the learned models learn, the baselines are the core's, bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from matching.errors import InvalidInputError
from matching.features import FEATURE_NAMES
from matching.settings import RetrievalSettings
from tests.factories import generated_ranking as generated
from training.dataset import RankingData
from training.metrics import summarise, summarise_slices
from training.rankers import MONOTONE, TUNING_GRID, compare, fit_lgbm, tune_lgbm, weighted_baseline

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


@pytest.mark.slow
def test_a_small_training_run_beats_the_untrained_baselines() -> None:
    result = compare(generated(), RetrievalSettings(), test_share=0.25)
    models = result["models"]
    assert result["holdout"]["testVacancies"] == 50
    best_baseline = max(models[name]["ndcg@10"] for name in models if name.startswith("baseline:"))
    for learned in ("lgbm", "sklearn"):
        assert models[learned]["ndcg@10"] > best_baseline
        low, _ = models[learned]["ndcg@10CI"]
        assert low > models["baseline:dense"]["ndcg@10"]


def test_the_weighted_baseline_is_the_cores_score() -> None:
    data = generated(vacancies=3, per_vacancy=4)
    weights = RetrievalSettings(
        weight_dense=0, weight_lexical=0, weight_competences=1, weight_occupation=0, weight_distance=0
    )
    expected = np.clip(
        (data.features[:, COLUMN["required_coverage"]] + 0.25 * data.features[:, COLUMN["optional_coverage"]]) / 1.25,
        0,
        1,
    )
    np.testing.assert_allclose(weighted_baseline(data, weights), expected, rtol=1e-6)


def test_too_little_history_is_refused_in_dutch() -> None:
    with pytest.raises(InvalidInputError, match="te weinig besliste voorstellen"):
        compare(generated(vacancies=30), RetrievalSettings())


@pytest.mark.slow
def test_the_oracle_bounds_every_ranker() -> None:
    data = generated(seed=1)
    truth = data.labels + np.random.default_rng(1).normal(0, 0.01, len(data))  # ranks exactly by the labels
    models = compare(data, RetrievalSettings(), test_share=0.25, oracle=truth)["models"]
    assert models["oracle"]["ndcg@10"] == 1.0 and models["oracle"]["oracleFraction"] == 1.0
    for name, metrics in models.items():
        assert 0 < metrics["oracleFraction"] <= 1.0, name


def _champion(features: np.ndarray) -> np.ndarray:
    return features[:, COLUMN["required_coverage"]]


@pytest.fixture(scope="module")
def compared() -> dict:
    """One comparison (tuning included, a few seconds) shared by the tests of its parts."""
    data = generated()
    seen: list[np.ndarray] = []

    def champion(part: RankingData) -> np.ndarray:
        seen.append(part.features)
        return _champion(part.features)

    truth = data.labels + np.random.default_rng(2).normal(0, 0.01, len(data))
    result = compare(
        data,
        RetrievalSettings(),
        test_share=0.25,
        oracle=truth,
        rankers={"champion": champion, "challenger": lambda part: -_champion(part.features)},
    )
    train, test = data.time_split(0.25)
    return {"result": result, "train": train, "test": test, "seen": seen}


@pytest.fixture(scope="module")
def tuned(compared: dict) -> tuple[dict, dict]:
    return tune_lgbm(compared["train"], seed=0)


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_every_model_is_reported_per_source_and_trede(compared: dict) -> None:
    test, models = compared["test"], compared["result"]["models"]
    expected_keys = {"bron:WSP", "bron:Scalabor"} | {f"trede:{step}" for step in range(6)}
    for metrics in models.values():
        assert set(metrics["slices"]) == expected_keys
    slices = models["baseline:dense"]["slices"]
    dense = test.features[:, COLUMN["dense_similarity"]]
    wsp = test.bron == "WSP"
    assert slices["bron:WSP"]["ndcg@10"] == summarise(test.labels[wsp], dense[wsp], test.vacancy_ids[wsp])["ndcg@10"]
    # vacancies 150..199 are tested: every fifth (10) is Scalabor, too few to judge; 40 WSP are enough
    assert slices["bron:Scalabor"]["vacancies"] == 10 and slices["bron:Scalabor"]["tooSmall"] is True
    assert slices["bron:WSP"]["vacancies"] == 40 and slices["bron:WSP"]["tooSmall"] is False
    on_trede_2 = test.trede == 2
    expected = summarise(test.labels[on_trede_2], dense[on_trede_2], test.vacancy_ids[on_trede_2])
    assert slices["trede:2"]["mrr"] == expected["mrr"]
    assert slices["trede:2"]["scoredVacancies"] == expected["scoredVacancies"]
    for step in range(6):  # a slice is judged only from 30 scored vacancies on
        trede = slices[f"trede:{step}"]
        assert trede["tooSmall"] is (trede["scoredVacancies"] < 30)


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_external_rankers_are_judged_on_the_same_test_rows(compared: dict) -> None:
    test, models = compared["test"], compared["result"]["models"]
    assert len(compared["seen"]) == 1
    np.testing.assert_array_equal(compared["seen"][0], test.features)
    coverage = _champion(test.features)
    expected = summarise(test.labels, coverage, test.vacancy_ids)
    for key in ("ndcg@10", "ndcg@10CI", "recall@20", "mrr", "vacancies"):
        assert models["champion"][key] == expected[key], key
    slices = summarise_slices(test.labels, coverage, test.vacancy_ids, test.bron, test.trede)
    assert models["champion"]["slices"] == slices
    assert models["champion"]["oracleFraction"] == round(expected["ndcg@10"] / models["oracle"]["ndcg@10"], 4)
    assert models["challenger"]["ndcg@10"] < models["champion"]["ndcg@10"]  # the reversed order is worse


@pytest.mark.slow
def test_external_rankers_may_not_hide_a_built_in_one_or_miss_rows() -> None:
    with pytest.raises(InvalidInputError, match="al in gebruik"):
        compare(generated(), RetrievalSettings(), rankers={"lgbm": lambda part: part.features[:, 0]})
    with pytest.raises(InvalidInputError, match="scores voor"):
        compare(generated(vacancies=100), RetrievalSettings(), rankers={"short": lambda part: part.features[:5, 0]})


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_censored_placements_in_the_test_are_counted(compared: dict) -> None:
    test = compared["test"]
    expected = int(((test.labels == 3) & (test.vacancy_ids % 2 == 0)).sum())
    assert compared["result"]["holdout"]["censoredTestPairs"] == expected > 0
    assert test.censored is not None and int(test.censored.sum()) == expected  # take carries the flags


@pytest.mark.slow
def test_data_without_source_trede_or_censoring_gets_no_slices() -> None:
    data = generated()
    data.bron = data.trede = data.censored = None
    result = compare(data, RetrievalSettings(), test_share=0.25)
    assert result["holdout"]["censoredTestPairs"] is None
    assert all(metrics["slices"] == {} for metrics in result["models"].values())


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_tuning_uses_only_the_training_vacancies_and_its_score_is_the_metric(
    compared: dict, tuned: tuple[dict, dict]
) -> None:
    params, report = tuned
    assert report["tried"] == int(np.prod([len(options) for options in TUNING_GRID.values()])) == 18
    for name, options in TUNING_GRID.items():
        assert params[name] in options
    assert 1 <= params["n_estimators"] <= 600
    # Refit the chosen model on the older 80 % of train and score the newest 20 % with the metric
    # of training.metrics: exactly the number tuning chose by.
    inner, validation = compared["train"].time_split(0.2)
    model = fit_lgbm(inner, 0, params)
    ours = summarise(validation.labels, model.predict(validation.features), validation.vacancy_ids)
    assert report["validationNdcg@10"] == ours["ndcg@10"]
    assert report["validationVacancies"] == ours["scoredVacancies"]


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_fit_lgbm_takes_params_but_keeps_the_monotone_constraints(compared: dict) -> None:
    train = compared["train"]
    model = fit_lgbm(train, 3, {"num_leaves": 7, "n_estimators": 11, "monotone_constraints": None})
    assert model.get_params()["num_leaves"] == 7 and model.n_estimators_ == 11
    assert model.get_params()["monotone_constraints"] == MONOTONE
    default = fit_lgbm(train, 3)
    assert default.get_params()["num_leaves"] == 31 and default.n_estimators_ == 300


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_compare_reports_the_tuned_params_it_used(compared: dict, tuned: tuple[dict, dict]) -> None:
    lgbm = compared["result"]["models"]["lgbm"]
    params, report = tuned
    assert lgbm["params"] == params
    assert lgbm["tuning"]["validationNdcg@10"] == report["validationNdcg@10"]
    assert lgbm["tuning"]["tried"] == report["tried"] == 18
