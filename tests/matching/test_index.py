"""The FAISS index against numpy brute force, incremental updates, search among rows and an atomic round trip."""

from __future__ import annotations

import numpy as np
import pytest

from matching.index import VectorIndex, best


def unit_vectors(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def filled() -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    vectors = unit_vectors(500, 32, seed=1)
    ids = np.arange(1000, 1500, dtype=np.int64)
    index = VectorIndex(32, "test-model")
    index.upsert(ids, vectors, [f"h{i}" for i in ids])
    return index, ids, vectors


def test_search_equals_brute_force(filled) -> None:
    index, ids, vectors = filled
    for query in unit_vectors(20, 32, seed=2):
        labels, scores = index.search(query, 10)
        expected = np.argsort(-(vectors @ query), kind="stable")[:10]
        assert labels.tolist() == ids[expected].tolist()
        np.testing.assert_allclose(scores, (vectors @ query)[expected], rtol=1e-5)


def test_results_do_not_depend_on_insertion_order(filled) -> None:
    index, ids, vectors = filled
    permutation = np.random.default_rng(3).permutation(len(ids))
    shuffled = VectorIndex(32, "test-model")
    shuffled.upsert(ids[permutation], vectors[permutation], ["-"] * len(ids))
    query = unit_vectors(1, 32, seed=4)[0]
    assert index.search(query, 15)[0].tolist() == shuffled.search(query, 15)[0].tolist()


def test_nearest_among_rows_equals_brute_force_and_skips_what_is_not_embedded(filled) -> None:
    index, ids, vectors = filled
    query = unit_vectors(1, 32, seed=5)[0]
    rows = np.arange(0, 500, 3)
    expected = rows[np.argsort(-(vectors[rows] @ query), kind="stable")[:10]]
    assert index.nearest(query, 10, ids, rows).tolist() == expected.tolist()
    np.testing.assert_allclose(index.cosines(query, ids, rows), vectors[rows] @ query, rtol=1e-5, atol=1e-6)
    everyone = np.arange(500)  # past a quarter of the index: one pass over all of it, the same answer
    expected = np.argsort(-(vectors @ query), kind="stable")[:10]
    assert index.nearest(query, 10, ids, everyone).tolist() == expected.tolist()
    index.remove(ids[[3, 6]])
    asked = np.array([3, 6, 7, 11])
    assert set(index.nearest(vectors[7], 10, ids, asked).tolist()) == {7, 11}  # fewer than k: no filler
    assert index.nearest(vectors[7], 10, ids, asked)[0] == 7
    assert index.cosines(vectors[7], ids, asked)[:2].tolist() == [0.0, 0.0]  # not embedded: cosine 0
    assert len(index.nearest(vectors[0], 5, ids, np.zeros(0, np.int64))) == 0


def test_a_tie_goes_to_the_lower_row_as_a_stable_sort_orders_it() -> None:
    scores = np.random.default_rng(6).integers(0, 5, 200).astype(np.float32)
    for k in (1, 7, 50, 300):
        assert best(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()


def test_upsert_replaces_and_remove_deletes(filled) -> None:
    index, ids, vectors = filled
    index.upsert(ids[:1], vectors[1:2], ["new"])
    assert len(index) == 500
    assert index.hashes[int(ids[0])] == "new"
    np.testing.assert_allclose(index.vectors(ids[:1])[0], vectors[1])
    index.remove(ids[:10])
    assert len(index) == 490
    assert not set(ids[:10].tolist()) & set(index.ids().tolist())


def test_save_and_load_give_identical_results(filled, tmp_path) -> None:
    index, _, _ = filled
    index.save(tmp_path, "clients")
    loaded = VectorIndex.load(tmp_path, "clients")
    assert loaded.model_id == "test-model" and loaded.hashes == index.hashes
    query = unit_vectors(1, 32, seed=5)[0]
    assert index.search(query, 20)[0].tolist() == loaded.search(query, 20)[0].tolist()
    assert not list(tmp_path.glob("*.tmp"))


def test_wrong_shape_is_refused(filled) -> None:
    index, _, _ = filled
    with pytest.raises(ValueError, match="shape"):
        index.upsert(np.array([1]), np.zeros((1, 8), np.float32), ["x"])


def test_cosines_gathered_a_part_at_a_time_are_one_gathers_bits() -> None:
    """More rows than one part (matching.index.GATHER_ROWS), fewer than a quarter of the index, some not embedded:
    each cosine is the bits of one einsum over all the rows' vectors gathered at once, 0 where not embedded."""
    vectors = unit_vectors(8000, 48, seed=5)
    ids = np.arange(10, 8010, dtype=np.int64)
    index = VectorIndex(48, "test-model")
    index.upsert(ids[:7900], vectors[:7900], [f"h{i}" for i in ids[:7900]])
    rows = np.sort(np.random.default_rng(6).choice(8000, 1400, replace=False))
    rows = np.concatenate([rows[rows < 7900], [7950, 7999]])  # the last two not embedded
    for query in unit_vectors(3, 48, seed=7):
        found = index.cosines(query, ids, rows)
        expected = np.zeros(len(rows), np.float32)
        expected[:-2] = np.einsum("ij,j->i", index._stored()[index.positions(ids)[rows[:-2]]], query)
        assert found.tobytes() == expected.tobytes()
        assert index.nearest(query, 20, ids, rows).tolist() == rows[:-2][best(expected[:-2], 20)].tolist()
