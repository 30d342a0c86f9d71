"""The shown rows' SHAP values (:meth:`matching.ranker.LearnedRanker.contributions`) with two threads are the
one-thread values bit for bit, on the shipped ranker."""

from __future__ import annotations

import numpy as np

from matching import ranker
from matching.features import FEATURE_NAMES
from matching.ranker import load_ranker
from matching.settings import RankerSettings


def test_two_threads_give_the_same_contributions_bit_for_bit() -> None:
    model = load_ranker(RankerSettings().baseline_dir, "baseline")
    rng = np.random.default_rng(7)
    for rows in (1, 15, 16, 17, 50, 123):
        features = rng.random((rows, len(FEATURE_NAMES))).astype(np.float32)
        features[rng.random(features.shape) < 0.2] = 0
        one = model.booster.predict(features, pred_contrib=True, num_threads=1)[:, : len(FEATURE_NAMES)]
        found = model.contributions(features)
        assert found.tobytes() == np.asarray(one, np.float64).tobytes()
    assert ranker.CONTRIB_ROWS_PER_THREAD * 2 <= 50  # a shown list of 50 goes two threads


def test_the_searchs_one_thread_gives_the_default_contributions_bit_for_bit() -> None:
    """A candidate search asks for one thread (its SHAP values run beside the reading of the shown rows)."""
    model = load_ranker(RankerSettings().baseline_dir, "baseline")
    features = np.random.default_rng(8).random((50, len(FEATURE_NAMES))).astype(np.float32)
    assert model.contributions(features, threads=1).tobytes() == model.contributions(features).tobytes()
