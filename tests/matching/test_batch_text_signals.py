"""The nightly batch's text signals (:func:`matching.scoring.batch_text_signals`) are the live search's
(:func:`matching.scoring.text_signals`) bit for bit, and its top sets (:func:`matching.scoring.top_positions`) are
:func:`matching.index.best`'s positions: on random pools and on pools full of ties (rounded scores, BM25 mostly 0,
everything equal, one row, none)."""

from __future__ import annotations

import numpy as np
import pytest

from matching import scoring
from matching.index import best


def _pools(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    random = np.random.default_rng(seed)
    pools = []
    for size in (0, 1, 2, 19, 20, 21, 40, 300, 301, 900):
        dense = random.normal(0.8, 0.03, size).astype(np.float32)
        lexical = np.where(random.random(size) < 0.6, 0.0, random.exponential(0.3, size)).astype(np.float32)
        pools += [
            (dense, lexical),
            (np.round(dense, 2), np.round(lexical, 1)),  # ties everywhere, at the 20th place too
            (np.full(size, 0.8, np.float32), np.zeros(size, np.float32)),  # all equal: no spread
            (dense, np.zeros(size, np.float32)),  # no word in common
            (np.round(dense, 1), np.full(size, 0.5, np.float32)),
            (dense.astype(np.float64), lexical.astype(np.float64)),  # taken as float32, as live
        ]
    return pools


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_batch_text_signals_are_the_live_ones_bit_for_bit(seed: int) -> None:
    for dense, lexical in _pools(seed):
        live = scoring.text_signals(dense, lexical)
        batch = scoring.batch_text_signals(dense, lexical)
        for expected, found in zip(live, batch, strict=True):
            assert found.dtype == expected.dtype and found.shape == expected.shape
            assert found.tobytes() == expected.tobytes()


@pytest.mark.parametrize("seed", [0, 1])
def test_the_top_positions_are_bests_as_a_set(seed: int) -> None:
    random = np.random.default_rng(seed)
    for size in (0, 1, 5, 20, 21, 300, 1000):
        for scores in (
            random.normal(size=size).astype(np.float32),
            np.round(random.normal(size=size), 1),
            random.integers(0, 3, size).astype(np.float32),
            np.zeros(size, np.float32),
        ):
            for k in (0, 1, 20, 300, 1200):
                expected = np.sort(best(scores, k)) if k else np.zeros(0, np.int64)
                assert np.array_equal(scoring.top_positions(scores, k), expected)
