"""Rankers compared on one time split: a LambdaMART ranker, a scikit-learn model and the baselines.

* ``lgbm``: LightGBM ``LGBMRanker`` (LambdaMART on the graded labels, groups = vacancies), with the
  monotone directions of :data:`matching.features.FEATURES` as constraints;
* ``sklearn``: ``HistGradientBoostingRegressor`` on the labels (pointwise), same constraints;
* ``baseline:dense`` / ``baseline:bm25``: one text signal alone;
* ``baseline:weighted``: the core's transparent score (:func:`matching.scoring.combine`) rebuilt
  from the features with the configured weights, scaled per vacancy as search scales it.

Everything is evaluated on the newest vacancies (:meth:`RankingData.time_split`), per vacancy, with
bootstrap intervals (:mod:`training.metrics`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from lightgbm import LGBMRanker
from sklearn.ensemble import HistGradientBoostingRegressor

from matching import scoring
from matching.errors import InvalidInputError
from matching.features import FEATURE_NAMES, FEATURES
from matching.settings import RetrievalSettings
from training.dataset import RankingData
from training.metrics import summarise

MIN_TEST_VACANCIES = 20
MONOTONE = [feature.monotone for feature in FEATURES]
_COLUMN = {name: position for position, name in enumerate(FEATURE_NAMES)}


def column(data: RankingData, name: str) -> np.ndarray:
    return data.features[:, _COLUMN[name]]


def weighted_baseline(data: RankingData, weights: RetrievalSettings) -> np.ndarray:
    """The core's weighted score per row: signals as in :func:`scoring.structured_signals`, text per vacancy."""
    dense = np.zeros(len(data), np.float32)
    lexical = np.zeros(len(data), np.float32)
    for vacancy_id in np.unique(data.vacancy_ids):
        rows = np.flatnonzero(data.vacancy_ids == vacancy_id)
        dense[rows], lexical[rows] = scoring.text_signals(
            column(data, "dense_similarity")[rows], column(data, "lexical_similarity")[rows]
        )
    signals = {
        "dense": dense,
        "lexical": lexical,
        **scoring.signals_from(
            column(data, "required_coverage"),
            column(data, "optional_coverage"),
            column(data, "experience_years"),
            column(data, "wishes_occupation"),
            column(data, "travel_ratio"),
        ),
    }
    return scoring.combine(signals, weights)


def fit_lgbm(train: RankingData, seed: int = 0) -> LGBMRanker:
    model = LGBMRanker(
        n_estimators=300,
        learning_rate=0.05,
        num_leaves=31,
        min_child_samples=20,
        monotone_constraints=MONOTONE,
        random_state=seed,
        n_jobs=2,
        verbose=-1,
    )
    return model.fit(train.features, train.labels, group=train.group_sizes())


def fit_sklearn(train: RankingData, seed: int = 0) -> HistGradientBoostingRegressor:
    model = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, monotonic_cst=MONOTONE, random_state=seed)
    return model.fit(train.features, train.labels)


def compare(
    data: RankingData,
    weights: RetrievalSettings,
    test_share: float = 0.2,
    seed: int = 0,
    oracle: np.ndarray | None = None,
) -> dict[str, Any]:
    """Train both learned rankers on the older vacancies and score every ranker on the newest ones.

    Args:
        oracle: per row of ``data``, the hidden true suitability (synthetic data only): ranking by it
            is the ``oracle`` entry, and every model gets ``oracleFraction`` = its NDCG@10 / the oracle's.
    """
    train, test = data.time_split(test_share)
    test_rows = np.flatnonzero(np.isin(data.vacancy_ids, test.vacancy_ids))
    test_vacancies = len(np.unique(test.vacancy_ids))
    if test_vacancies < MIN_TEST_VACANCIES or len(np.unique(train.vacancy_ids)) < MIN_TEST_VACANCIES:
        raise InvalidInputError(
            f"te weinig besliste voorstellen om te vergelijken ({len(data)} paren, {test_vacancies} vacatures "
            f"in de toets; minstens {MIN_TEST_VACANCIES} nodig); simuleer of verzamel eerst uitkomsten "
            "(werkmatch simulate outcomes)"
        )
    scorers: dict[str, Callable[[], np.ndarray]] = {
        "baseline:dense": lambda: column(test, "dense_similarity"),
        "baseline:bm25": lambda: column(test, "lexical_similarity"),
        "baseline:weighted": lambda: weighted_baseline(test, weights),
    }
    models: dict[str, Any] = {}
    for name, fit in (("lgbm", fit_lgbm), ("sklearn", fit_sklearn)):
        start = time.perf_counter()
        model = fit(train, seed)
        models[name] = {"trainSeconds": round(time.perf_counter() - start, 2)}
        scorers[name] = lambda model=model: model.predict(test.features)
    if oracle is not None:
        scorers["oracle"] = lambda: oracle[test_rows]
    for name, score in scorers.items():
        metrics = summarise(test.labels, np.asarray(score()), test.vacancy_ids, seed=seed)
        models[name] = {**metrics, **models.get(name, {})}
    if oracle is not None:
        best = models["oracle"]["ndcg@10"]
        for metrics in models.values():
            metrics["oracleFraction"] = round(metrics["ndcg@10"] / best, 4) if best else None
    return {
        "holdout": {
            "split": "time",
            "testShare": test_share,
            "trainPairs": len(train),
            "testPairs": len(test),
            "testVacancies": test_vacancies,
            "testFrom": datetime.fromtimestamp(float(test.moments.min()), UTC).date().isoformat(),
            "labels": {str(label): int(count) for label, count in enumerate(np.bincount(test.labels, minlength=5))},
        },
        "models": models,
    }
