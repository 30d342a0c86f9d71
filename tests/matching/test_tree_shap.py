"""The ranker's SHAP values from per-leaf tables (:mod:`matching.tree_shap`) are LightGBM's ``pred_contrib``
values to rounding: on the shipped ranker, on rows at its thresholds, and on models trained here with repeated
features on a path, missing values as NaN and as zero; a model the tables cannot reproduce is left to LightGBM."""

from __future__ import annotations

import dataclasses

import lightgbm
import numpy as np
import pytest

from matching.ranker import load_ranker
from matching.settings import RankerSettings
from matching.tree_shap import TABLE_BUDGET, tables_for

TOLERANCE = 1e-12


def _lightgbm(booster: lightgbm.Booster, rows: np.ndarray) -> np.ndarray:
    return np.asarray(booster.predict(rows, pred_contrib=True, num_threads=1), np.float64)[:, :-1]


def _thresholds(booster: lightgbm.Booster) -> dict[int, list[float]]:
    found: dict[int, list[float]] = {}

    def walk(node: dict) -> None:
        if "split_feature" in node:
            found.setdefault(node["split_feature"], []).append(node["threshold"])
            walk(node["left_child"])
            walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return found


def test_the_shipped_rankers_values_are_lightgbms() -> None:
    ranker = load_ranker(RankerSettings().baseline_dir, "baseline")
    assert ranker.shap is not None  # the shipped ranker is tabulated
    rng = np.random.default_rng(3)
    rows = rng.random((300, len(ranker.feature_names))).astype(np.float32)  # the pair features and the notes column
    rows[rng.random(rows.shape) < 0.3] = 0.0
    rows[:40] *= 3.0  # beyond the training range
    values = ranker.contributions_of_inputs(rows)
    np.testing.assert_allclose(values, _lightgbm(ranker.booster, rows), rtol=0, atol=TOLERANCE)
    expected = ranker.booster.predict(rows[:1], pred_contrib=True)[0, -1]
    np.testing.assert_allclose(values.sum(axis=1) + expected, ranker.score_inputs(rows), atol=1e-9)


def test_rows_exactly_on_the_thresholds_go_where_lightgbm_sends_them() -> None:
    booster = load_ranker(RankerSettings().baseline_dir, "baseline").booster
    tables = tables_for(booster)
    assert tables is not None
    rng = np.random.default_rng(4)
    rows = rng.random((200, booster.num_feature()))
    for feature, values in _thresholds(booster).items():  # double thresholds, then as float32 would round them
        chosen = rng.choice(values, size=len(rows))
        on = rng.random(len(rows)) < 0.5
        rows[on, feature] = chosen[on]
    for typed in (rows, rows.astype(np.float32)):
        np.testing.assert_allclose(tables.contributions(typed), _lightgbm(booster, typed), rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("budget", [TABLE_BUDGET, 2_000, 0], ids=["tables", "some per row", "all per row"])
@pytest.mark.parametrize(
    "missing", [{}, {"use_missing": True}, {"zero_as_missing": True}, {"use_missing": False}], ids=str
)
def test_models_with_repeated_features_and_missing_values(missing: dict, budget: int) -> None:
    """Every missing type LightGBM writes, either default direction, features repeating along a path; the leaves
    tabulated, the widest computed per row, or all computed per row."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3000, 4))
    x[rng.random(x.shape) < 0.15] = np.nan
    x[rng.random(x.shape) < 0.15] = 0.0
    y = np.nan_to_num(x[:, 0]) ** 2 + np.sin(np.nan_to_num(x[:, 1]) * 3) + np.isnan(x[:, 2]) + rng.normal(0, 0.1, 3000)
    params = {"objective": "regression", "num_leaves": 31, "min_data_in_leaf": 5, "verbose": -1, **missing}
    booster = lightgbm.train(params, lightgbm.Dataset(x, y), num_boost_round=30)
    tables = tables_for(booster, budget)
    assert tables is not None
    assert bool(tables.wide) == (budget < TABLE_BUDGET) and bool(len(tables.values)) == (budget > 0)
    assert max(len(values) for values in _thresholds(booster).values()) > 1  # features repeat along paths
    rows = rng.normal(size=(400, 4))
    rows[rng.random(rows.shape) < 0.2] = np.nan
    rows[rng.random(rows.shape) < 0.2] = 0.0
    rows[:20] = 1e-40  # below LightGBM's zero threshold
    np.testing.assert_allclose(tables.contributions(rows), _lightgbm(booster, rows), rtol=0, atol=TOLERANCE)


def test_a_model_they_cannot_reproduce_is_left_to_lightgbm() -> None:
    rng = np.random.default_rng(6)
    x = np.column_stack([rng.integers(0, 6, 2000), rng.normal(size=2000)])
    y = (x[:, 0] == 3) + x[:, 1] + rng.normal(0, 0.1, 2000)
    categorical = lightgbm.train(
        {"objective": "regression", "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1},
        lightgbm.Dataset(x, y, categorical_feature=[0]),
        num_boost_round=10,
    )
    assert tables_for(categorical) is None  # a categorical split
    numeric = lightgbm.train({"objective": "regression", "verbose": -1}, lightgbm.Dataset(x, y), num_boost_round=10)
    assert tables_for(numeric) is not None


def test_a_ranker_without_tables_gives_the_same_values() -> None:
    ranker = load_ranker(RankerSettings().baseline_dir, "baseline")
    plain = dataclasses.replace(ranker, shap=None)  # LightGBM's pred_contrib
    rows = np.random.default_rng(8).random((50, len(ranker.feature_names))).astype(np.float32)
    values = plain.contributions_of_inputs(rows)
    np.testing.assert_allclose(values, ranker.contributions_of_inputs(rows), rtol=0, atol=TOLERANCE)
    assert plain.contributions_of_inputs(rows[:0]).shape == (0, len(ranker.feature_names))
