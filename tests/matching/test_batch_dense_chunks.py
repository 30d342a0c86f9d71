"""The batch's cosines (:func:`matching.batch_rank._text_query`) are the live search's bits whatever rows are
gathered at a time: a row's cosine depends on its own vector alone.

A real FAISS index of 3,000 unit vectors of 384 dimensions (the model's), ids not in storage order and
some records not embedded; the live search's :meth:`VectorIndex.cosines` and :meth:`VectorIndex.nearest`
are the answer.
"""

from __future__ import annotations

import numpy as np
import pytest

from matching import batch_rank
from matching.index import VectorIndex

DIMENSION = 384


@pytest.fixture(scope="module")
def index() -> tuple[VectorIndex, np.ndarray]:
    random = np.random.default_rng(5)
    ids = np.arange(1, 3301, dtype=np.int64)  # the arrays' ids, ascending
    embedded = random.permutation(ids)[:3000]  # stored in another order than the ids; 300 not embedded
    vectors = random.normal(size=(len(embedded), DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    found = VectorIndex(DIMENSION, "test-model")
    found.upsert(embedded, vectors, [f"h{key}" for key in embedded.tolist()])
    return found, ids


@pytest.mark.parametrize("chunk", [1, 7, 512, 2048, 1_000_000])
def test_the_cosines_and_the_dense_top_are_the_live_searchs_at_any_chunk(
    index: tuple[VectorIndex, np.ndarray], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    vectors, ids = index
    random = np.random.default_rng(chunk)
    query = random.normal(size=DIMENSION).astype(np.float32)
    query /= np.linalg.norm(query)
    eligible = np.sort(random.choice(len(ids), 2500, replace=False))
    monkeypatch.setattr(batch_rank, "CHUNK_ROWS", chunk)
    text = batch_rank._text_query(vectors, ids, query, eligible)
    live = vectors.cosines(query, ids, eligible)
    assert np.array_equal(text.dense_raw(eligible), live)
    assert (live == 0).sum() > 100  # records not embedded: 0, as live
    asked = eligible[::3]
    assert np.array_equal(text.dense_raw(asked), vectors.cosines(query, ids, asked))
    assert np.array_equal(text.dense_top(eligible, 300), vectors.nearest(query, 300, ids, eligible))
