"""The batch's cosines (:func:`matching.batch_rank._place_cosines`) are the live search's bits whatever rows are
gathered at a time and however many owners share them: a row's cosine depends on its own vector alone.

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


def _unit(random: np.random.Generator) -> np.ndarray:
    query = random.normal(size=DIMENSION).astype(np.float32)
    return query / np.linalg.norm(query)


@pytest.mark.parametrize("chunk", [1, 7, 512, 2048, 1_000_000])
def test_the_cosines_and_the_dense_top_are_the_live_searchs_at_any_chunk(
    index: tuple[VectorIndex, np.ndarray], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Owners at one place: each its own eligible rows within the place's reach (all of it, most, a few, one, none,
    only records not embedded), the vectors in reach gathered once for all of them."""
    vectors, ids = index
    random = np.random.default_rng(chunk)
    reach = np.sort(random.choice(len(ids), 2800, replace=False))
    absent = reach[vectors.positions(ids)[reach] < 0]
    eligible = [
        reach,
        np.sort(random.choice(reach, 2500, replace=False)),
        np.sort(random.choice(reach, 40, replace=False)),
        reach[1400:1401],
        reach[:0],
        absent[:5],
        reach,
    ]
    queries = [_unit(random) for _ in eligible]
    monkeypatch.setattr(batch_rank, "CHUNK_ROWS", chunk)
    texts = batch_rank._place_cosines(vectors, ids, reach, eligible, queries)
    assert len(texts) == len(eligible) and len(absent) > 100
    for rows, query, text in zip(eligible, queries, texts, strict=True):
        live = vectors.cosines(query, ids, rows)
        assert np.array_equal(text.dense_raw(rows).view(np.uint32), live.view(np.uint32))
        asked = rows[::3]
        assert np.array_equal(text.dense_raw(asked), vectors.cosines(query, ids, asked))
        assert np.array_equal(text.dense_top(rows, 300), vectors.nearest(query, 300, ids, rows))
    assert (texts[0].dense_raw(reach) == 0).sum() == len(absent)  # records not embedded: 0, as live
