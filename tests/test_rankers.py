"""Rankers on one time split: the learned models learn, the baselines are the core's, bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from matching.errors import InvalidInputError
from matching.features import FEATURE_NAMES
from matching.settings import RetrievalSettings
from training.dataset import RankingData
from training.rankers import compare, weighted_baseline

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


def generated(vacancies: int = 200, per_vacancy: int = 8, seed: int = 0) -> RankingData:
    """Pairs whose outcome depends on competences, travel and coaching more than on text similarity."""
    rng = np.random.default_rng(seed)
    n = vacancies * per_vacancy
    features = rng.random((n, len(FEATURE_NAMES))).astype(np.float32)
    features[:, COLUMN["travel_ratio"]] *= 1.5
    features[:, COLUMN["wishes_occupation"]] = rng.random(n) < 0.3
    utility = (
        2.0 * features[:, COLUMN["required_coverage"]]
        - 1.5 * np.maximum(features[:, COLUMN["travel_ratio"]] - 1, 0)
        + 1.0 * features[:, COLUMN["coaching_need_met"]]
        + 0.3 * features[:, COLUMN["dense_similarity"]]
        + rng.normal(0, 0.3, n)
    )
    labels = np.digitize(utility, np.quantile(utility, [0.5, 0.7, 0.85, 0.95]))
    vacancy_ids = np.repeat(np.arange(vacancies), per_vacancy).astype(np.int64)
    return RankingData(
        features=features,
        labels=labels.astype(np.int64),
        vacancy_ids=vacancy_ids,
        client_ids=np.arange(n, dtype=np.int64),
        moments=vacancy_ids.astype(np.float64) * 86_400.0,
    )


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


def test_the_oracle_bounds_every_ranker() -> None:
    data = generated(seed=1)
    truth = data.labels + np.random.default_rng(1).normal(0, 0.01, len(data))  # ranks exactly by the labels
    models = compare(data, RetrievalSettings(), test_share=0.25, oracle=truth)["models"]
    assert models["oracle"]["ndcg@10"] == 1.0 and models["oracle"]["oracleFraction"] == 1.0
    for name, metrics in models.items():
        assert 0 < metrics["oracleFraction"] <= 1.0, name
