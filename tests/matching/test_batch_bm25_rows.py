"""The batch's and the live search's BM25 (:class:`matching.lexical.Bm25Buffer`: the asked rows read by record, the
query's scale without a search) is bit for bit the full scatter (:meth:`matching.lexical.LexicalIndex.scores_by_term`),
on random indexes and queries, and the scale bounds every record's score.

Real :class:`~matching.lexical.LexicalIndex` weights (filled from random term frequencies: a few common terms,
many rare ones, records of very different lengths), random queries (ascending terms as the batch asks them,
and also repeated, unordered, unknown and no terms: those go the full scatter's way) and random rows (ascending,
none, every record, unordered with repeats); the test checks that the reading by record answered most queries
itself rather than the full scatter.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from matching import batch_rank
from matching import lexical as lexical_module
from matching.batch_bm25 import SharedBm25
from matching.lexical import K1, LexicalIndex


def _index(rng: np.random.Generator, records: int, vocabulary: int) -> tuple[LexicalIndex, np.ndarray]:
    lengths = rng.integers(1, 60, records)
    rows = np.repeat(np.arange(records), lengths)
    terms = np.minimum(rng.zipf(1.4, len(rows)), vocabulary) - 1
    terms = (terms * 7919) % 2**20  # spread over the hashed columns, as the vectorizer's are
    counts = rng.integers(1, 4, len(rows)).astype(np.float32)
    tf = sparse.csr_matrix((counts, (rows, terms)), shape=(records, 2**20), dtype=np.float32)
    tf.sum_duplicates()
    lexical = LexicalIndex()
    ids = np.sort(rng.choice(10 * records, records, replace=False)).astype(np.int64) + 1
    lexical.fill(ids, [tf])
    return lexical, ids


def _queries(rng: np.random.Generator, lexical: LexicalIndex, ids: np.ndarray, count: int) -> list[np.ndarray]:
    owned = lexical.terms_of(rng.choice(ids, count, replace=False).tolist())
    queries: list[np.ndarray] = [found for found in owned if found is not None]
    extra = np.array([5, 2**20 - 1, 123457], dtype=np.int32)  # columns no record holds
    for found in queries[: count // 4]:
        queries.append(np.unique(np.concatenate([found[: len(found) // 2], extra])).astype(found.dtype))
        queries.append(np.concatenate([found, found[:3]]))  # a term twice: the full scatter's way
        queries.append(found[::-1].copy())  # not ascending: the full scatter's way
    queries += [np.zeros(0, np.int32), extra, lexical.asked(["heftruck"])[0]]
    return queries


def _rows(rng: np.random.Generator, records: int) -> list[np.ndarray]:
    some = np.sort(rng.choice(records, max(records // 20, 1), replace=False))
    return [
        some,
        np.zeros(0, np.int64),
        np.arange(records),
        np.sort(rng.choice(records, 3, replace=False)),
        rng.choice(records, records // 10 + 2),  # unordered, with repeats
    ]


def _check(lexical: LexicalIndex, ids: np.ndarray, queries: list[np.ndarray], rows: list[np.ndarray]) -> int:
    """Every (query, rows) read as the full scatter reads it and scaled by the index's scale; how many the reading
    by record answered itself."""
    buffer = lexical_module.Bm25Buffer(lexical, ids)
    assert buffer._by_record is not None
    by_record = 0
    read = buffer._by_record.read

    def counted(*args: object, **kwargs: object) -> object:
        nonlocal by_record
        found = read(*args, **kwargs)  # type: ignore[arg-type]
        by_record += found is not None
        return found

    buffer._by_record.read = counted  # type: ignore[method-assign]
    for terms in queries:
        every = lexical.scores_by_term(terms, ids)
        for asked in rows:
            near, scale = buffer.scores(terms, asked)
            assert near.dtype == np.float32 and np.array_equal(near.view(np.uint32), every[asked].view(np.uint32))
            assert scale == lexical.scale(terms)
    return by_record


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bm25_by_record_is_the_full_scatter_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lexical, ids = _index(rng, int(rng.integers(800, 3000)), int(rng.integers(200, 3000)))
    queries = _queries(rng, lexical, ids, 40)
    rows = _rows(rng, len(ids))
    assert _check(lexical, ids, queries, rows) > len(queries) * len(rows) // 3  # read by record mostly


@pytest.mark.parametrize("seed", [1, 2])
def test_the_scale_bounds_every_records_bm25_and_needs_no_search(seed: int) -> None:
    """(K1 + 1) × the idf of the asked terms some record holds: no record reaches it, a record holding every asked
    term many times in a short text comes close, terms no record holds change nothing."""
    rng = np.random.default_rng(seed)
    lexical, ids = _index(rng, 1500, 600)
    lexical.scores("")  # the weights built
    idf, weights = lexical._idf, lexical._weights
    assert idf is not None and weights is not None
    for terms in _queries(rng, lexical, ids, 30):
        scale = lexical.scale(terms)
        held = terms[np.diff(weights.indptr)[terms] > 0]  # a term asked twice counts twice, as in every score
        assert scale == pytest.approx((K1 + 1) * float(idf[held].astype(np.float64).sum()), rel=1e-5)
        assert float(lexical.scores_by_term(terms, ids).max(initial=0.0)) <= scale
    asked = lexical.terms_of([int(ids[0])])[0]
    assert asked is not None
    assert lexical.scale(np.concatenate([asked, [5, 2**20 - 1]])) == lexical.scale(asked)
    assert lexical.scale(np.zeros(0, np.int32)) == 0.0 and LexicalIndex().scale(asked) == 0.0
    dense = LexicalIndex()  # one record says the query's words 50 times in a text of those words only
    dense.upsert([1, 2, 3], ["heftruck magazijn " * 50, "kantoor", "schoonmaak kantoor"])
    query = dense.asked(["heftruck magazijn"])[0]
    assert 0.9 * dense.scale(query) < float(dense.scores_by_term(query, np.array([1, 2, 3])).max()) < dense.scale(query)


def test_ids_not_the_indexs_own_go_the_index_way() -> None:
    rng = np.random.default_rng(4)
    lexical, ids = _index(rng, 900, 300)
    wider = np.concatenate([ids, [int(ids.max()) + 1]])
    buffer = lexical_module.Bm25Buffer(lexical, wider)
    assert buffer._scores is None and buffer._by_record is None
    for terms in _queries(rng, lexical, ids, 10):
        every = lexical.scores_by_term(terms, wider)
        for asked in _rows(rng, len(wider)):
            near, scale = buffer.scores(terms, asked)
            assert np.array_equal(near, every[asked]) and scale == lexical.scale(terms)


def test_the_reading_by_record_is_made_once_per_weights_and_not_for_unordered_columns() -> None:
    rng = np.random.default_rng(8)
    lexical, ids = _index(rng, 700, 200)
    first = lexical_module.Bm25Buffer(lexical, ids)
    assert first._by_record is not None and lexical_module.Bm25Buffer(lexical, ids)._by_record is first._by_record
    lexical.upsert([int(ids[0])], ["heftruck chauffeur"])
    again = lexical_module.Bm25Buffer(lexical, ids)  # the weights rebuilt: a new reading of them
    assert again._by_record is not None and again._by_record is not first._by_record
    _check(lexical, ids, _queries(rng, lexical, ids, 10), _rows(rng, len(ids)))
    weights = lexical._weights
    assert weights is not None
    flipped = weights.copy()
    for term in np.flatnonzero(np.diff(flipped.indptr) > 1)[:5].tolist():  # a column's rows out of order
        start, end = flipped.indptr[term], flipped.indptr[term + 1]
        flipped.indices[start:end] = flipped.indices[start:end][::-1].copy()
        flipped.data[start:end] = flipped.data[start:end][::-1].copy()
    flipped.has_sorted_indices = False
    lexical._weights = flipped
    unordered = lexical_module.Bm25Buffer(lexical, ids)
    assert unordered._scores is not None and unordered._by_record is None
    for terms in _queries(rng, lexical, ids, 10):
        every = lexical.scores_by_term(terms, ids)
        for asked in _rows(rng, len(ids)):
            near, _ = unordered.scores(terms, asked)
            assert np.array_equal(near.view(np.uint32), every[asked].view(np.uint32))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bm25_shared_by_the_owners_at_one_place_is_each_owners_own_bit_for_bit(seed: int) -> None:
    """:class:`matching.batch_bm25.SharedBm25`: every query's exact scores at the place's rows in one product, each
    owner then reading its own rows (a subset of the place's) from them: the same bits as :meth:`Bm25Buffer.scores`,
    also for the queries that go the full scatter's way (unordered, repeated, unknown and no terms)."""
    rng = np.random.default_rng(seed)
    lexical, ids = _index(rng, int(rng.integers(800, 3000)), int(rng.integers(200, 3000)))
    queries = _queries(rng, lexical, ids, 40)
    own, shared = lexical_module.Bm25Buffer(lexical, ids), SharedBm25(lexical, ids)
    read, compared = 0, 0
    for reach in (np.sort(rng.choice(len(ids), len(ids) // 6, replace=False)), np.arange(len(ids) // 9)):
        columns = shared.shared_exact(reach, queries)
        assert columns is not None and columns.shape == (len(reach), len(queries))
        for at, terms in enumerate(queries):
            for rows in (reach, np.sort(rng.choice(reach, len(reach) // 3, replace=False)), reach[:0], reach[::-1]):
                near, scale = shared.scores(terms, rows, (reach, columns[:, at]))
                theirs, their_scale = own.scores(terms, rows)
                assert near.dtype == theirs.dtype and np.array_equal(near.view(np.uint32), theirs.view(np.uint32))
                assert scale == their_scale
                read, compared = read + int(np.count_nonzero(near)), compared + 1
    assert read > 1000 and compared == 2 * 4 * len(queries)
    assert shared.shared_exact(np.arange(5), []) is None and shared.shared_exact(np.arange(0), queries) is None
    near, _ = shared.scores(queries[0], np.arange(7), (np.arange(7), None))  # nothing shared: its own way
    assert np.array_equal(near, own.scores(queries[0], np.arange(7))[0])


def test_an_owner_scored_alone_has_the_same_bits() -> None:
    """A place with too few owners to share a product (:data:`matching.batch_rank.SHARED_OWNERS`): each owner's
    eligible rows are scored alone: the same bits and scale as the live search's reading and the full scatter."""
    rng = np.random.default_rng(14)
    lexical, ids = _index(rng, 2000, 700)
    queries = _queries(rng, lexical, ids, 30)
    own, shared = lexical_module.Bm25Buffer(lexical, ids), SharedBm25(lexical, ids)
    for terms in queries:
        every = lexical.scores_by_term(terms, ids)
        for rows in (
            np.sort(rng.choice(len(ids), 150, replace=False)),
            np.arange(40),
            np.arange(0),
            rng.choice(2000, 60),
        ):
            near, scale = shared.scores(terms, rows, (rows, None))
            theirs, their_scale = own.scores(terms, rows)
            assert np.array_equal(near.view(np.uint32), theirs.view(np.uint32))
            assert np.array_equal(near.view(np.uint32), every[rows].view(np.uint32))
            assert scale == their_scale == lexical.scale(terms)


def test_only_places_of_enough_owners_share_one_product() -> None:
    rng = np.random.default_rng(15)
    lexical, ids = _index(rng, 1200, 500)
    queries = [(np.zeros(4, np.float32), terms) for terms in _queries(rng, lexical, ids, 30)]
    shared = SharedBm25(lexical, ids)
    few, many = np.arange(0, 300), np.arange(200, 900)  # a place's owners hold the same array
    reaches = [few] * (batch_rank.SHARED_OWNERS - 1) + [many] * batch_rank.SHARED_OWNERS
    found = batch_rank._shared_exact(shared, reaches, queries[: len(reaches)])
    assert all(seen[0] is few and seen[1] is None for seen in found[: batch_rank.SHARED_OWNERS - 1])
    assert all(seen[0] is many and seen[1] is not None for seen in found[batch_rank.SHARED_OWNERS - 1 :])
