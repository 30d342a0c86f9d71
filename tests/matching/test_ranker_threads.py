"""The shown rows' SHAP values (:meth:`matching.ranker.LearnedRanker.contributions`) with two threads, and shared
out in chunks (:class:`matching.ranker.SharedContributions`), are the one-thread values bit for bit, on the shipped
ranker."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from matching import ranker
from matching.features import FEATURE_NAMES
from matching.ranker import SharedContributions, load_ranker
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


class _Late(Executor):
    """A helper thread that starts only when its result is asked: the caller has taken every chunk by then."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        late: Future = Future()
        late.result = lambda timeout=None: fn(*args, **kwargs)  # type: ignore[method-assign]
        return late


class _AtOnce(Executor):
    """A helper thread that takes every chunk before the caller asks."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        done: Future = Future()
        done.set_result(fn(*args, **kwargs))
        return done


def test_shared_contributions_are_one_calls_bit_for_bit_however_the_chunks_fall() -> None:
    model = load_ranker(RankerSettings().baseline_dir, "baseline")
    rng = np.random.default_rng(9)
    with ThreadPoolExecutor(max_workers=1) as helper:
        for rows in (0, 1, 4, 5, 6, 50, 123):
            features = rng.random((rows, len(FEATURE_NAMES))).astype(np.float32)
            features[rng.random(features.shape) < 0.2] = 0
            whole = model.contributions(features, threads=1)
            assert whole.shape == (rows, len(FEATURE_NAMES))
            for executor in (helper, _Late(), _AtOnce()):
                for chunk in (1, 5, 7):
                    found = SharedContributions(model, features, executor, chunk).result()
                    assert found.dtype == whole.dtype and found.tobytes() == whole.tobytes()


def test_shared_contributions_split_the_chunks_between_the_two_threads() -> None:
    """Neither thread computes a chunk twice or leaves one out: each is taken once, from the front or the back."""
    model = load_ranker(RankerSettings().baseline_dir, "baseline")
    features = np.random.default_rng(10).random((50, len(FEATURE_NAMES))).astype(np.float32)
    late = SharedContributions(model, features, _Late())
    assert (late.front, late.back) == (0, 9)  # ten chunks of five, none taken yet
    late.result()
    assert late.front == late.back + 1
    at_once = SharedContributions(model, features, _AtOnce())
    assert (at_once.front, at_once.back) == (10, 9)  # the helper took all ten
    assert at_once.result().tobytes() == model.contributions(features, threads=1).tobytes()
