"""The nightly batch's top sets (:func:`matching.scoring.top_positions`, read by its pools) are
:func:`matching.index.best`'s positions: on random scores and on scores full of ties (rounded, few values, everything
equal, one row, none)."""

from __future__ import annotations

import numpy as np
import pytest

from matching import scoring
from matching.index import best


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
