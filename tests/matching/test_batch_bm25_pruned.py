"""The nightly batch's pruned BM25 (:class:`matching.lexical.Bm25Buffer`: the rows in reach read by record,
the best over every record by MaxScore) is bit for bit the full scatter
(:meth:`matching.lexical.LexicalIndex.scores_by_term`) and its best, on random indexes and queries.

Real :class:`~matching.lexical.LexicalIndex` weights (filled from random term frequencies: a few common terms,
many rare ones, records of very different lengths), random queries (ascending terms as the batch asks them,
and also repeated, unordered, unknown and no terms: those go the full scatter's way) and random rows (ascending,
none, every record, unordered with repeats). The pruning's own steps are forced too (every term essential or
none, one probe, no cap on the records scored), and the test checks that the pruned reading answered most
queries itself rather than the full scatter.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from matching import batch_rank
from matching import bm25_maxscore as maxscore
from matching import lexical as lexical_module
from matching.batch_bm25 import SharedBm25
from matching.lexical import LexicalIndex


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
    buffer = lexical_module.Bm25Buffer(lexical, ids)
    assert buffer._pruned is not None
    pruned = 0
    read = buffer._pruned.read

    def counted(*args: object, **kwargs: object) -> object:
        nonlocal pruned
        found = read(*args, **kwargs)  # type: ignore[arg-type]
        pruned += found is not None
        return found

    buffer._pruned.read = counted  # type: ignore[method-assign]
    for terms in queries:
        every = lexical.scores_by_term(terms, ids)
        for asked in rows:
            near, best = buffer.scores(terms, asked)
            assert near.dtype == np.float32 and np.array_equal(near.view(np.uint32), every[asked].view(np.uint32))
            assert best == float(every.max())
            alone = buffer.at(terms, asked)  # the rows' scores alone: the same bits
            assert alone.dtype == np.float32 and np.array_equal(alone.view(np.uint32), every[asked].view(np.uint32))
    return pruned


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pruned_bm25_is_the_full_scatter_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lexical, ids = _index(rng, int(rng.integers(800, 3000)), int(rng.integers(200, 3000)))
    queries = _queries(rng, lexical, ids, 40)
    rows = _rows(rng, len(ids))
    pruned = _check(lexical, ids, queries, rows)
    assert pruned > len(queries) * len(rows) // 3  # the pruned reading answered most itself


def test_the_rows_scores_alone_read_no_best_over_every_record(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    lexical, ids = _index(rng, 2000, 1500)
    queries = [terms for terms in _queries(rng, lexical, ids, 30) if len(terms) > 1 and (terms[1:] > terms[:-1]).all()]
    rows = [asked for asked in _rows(rng, len(ids))[:4] if len(asked) < len(ids) // 8]
    buffer = lexical_module.Bm25Buffer(lexical, ids)
    expected = [[buffer.scores(terms, asked)[0] for asked in rows] for terms in queries]

    def no_best(*args: object) -> None:
        raise AssertionError("the best over every record was read")

    monkeypatch.setattr(maxscore.PrunedBm25, "_best", no_best)
    monkeypatch.setattr(lexical_module.Bm25Buffer, "_every", no_best)
    for terms, scores in zip(queries, expected, strict=True):
        for asked, want in zip(rows, scores, strict=True):
            assert np.array_equal(buffer.at(terms, asked).view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize(
    ("split", "probes", "share"), [(0.0, 1, 1.0), (1.0, 1, 1.0), (1.0, 64, 1.0), (0.4, 2, 1.0), (2.0, 1, 1.0)]
)
def test_each_pruning_step_keeps_the_bits(
    monkeypatch: pytest.MonkeyPatch, split: float, probes: int, share: float
) -> None:
    monkeypatch.setattr(maxscore, "SPLIT", split)
    monkeypatch.setattr(maxscore, "PROBES", probes)
    monkeypatch.setattr(maxscore, "CANDIDATE_SHARE", share)
    monkeypatch.setattr(maxscore, "ESSENTIAL_SHARE", 1.0)
    rng = np.random.default_rng(11)
    lexical, ids = _index(rng, 1500, 400)
    queries = _queries(rng, lexical, ids, 30)
    rows = _rows(rng, len(ids))
    assert _check(lexical, ids, queries, rows) > len(queries) * len(rows) // 3


def test_ids_not_the_indexs_own_go_the_index_way() -> None:
    rng = np.random.default_rng(4)
    lexical, ids = _index(rng, 900, 300)
    wider = np.concatenate([ids, [int(ids.max()) + 1]])
    buffer = lexical_module.Bm25Buffer(lexical, wider)
    assert buffer._scores is None and buffer._pruned is None
    for terms in _queries(rng, lexical, ids, 10):
        every = lexical.scores_by_term(terms, wider)
        for asked in _rows(rng, len(wider)):
            near, best = buffer.scores(terms, asked)
            assert np.array_equal(near, every[asked]) and best == float(every.max())


def test_the_capped_and_the_unprunable_go_the_full_scatter(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(6)
    lexical, ids = _index(rng, 1200, 300)
    queries, rows = _queries(rng, lexical, ids, 20), _rows(rng, len(ids))
    monkeypatch.setattr(maxscore, "CANDIDATE_SHARE", 0.0)  # every pruned reading with a candidate gives up
    monkeypatch.setattr(maxscore, "PROBES", 10**6)
    _check(lexical, ids, queries, rows)
    monkeypatch.setattr(maxscore, "ESSENTIAL_SHARE", 0.0)  # every pruned reading gives up at once
    assert _check(lexical, ids, queries, rows) <= len(rows) * 3  # only queries without a known term


def test_the_pruned_reading_is_made_once_per_weights_and_not_for_unordered_columns() -> None:
    rng = np.random.default_rng(8)
    lexical, ids = _index(rng, 700, 200)
    first = lexical_module.Bm25Buffer(lexical, ids)
    assert first._pruned is not None and lexical_module.Bm25Buffer(lexical, ids)._pruned is first._pruned
    lexical.upsert([int(ids[0])], ["heftruck chauffeur"])
    again = lexical_module.Bm25Buffer(lexical, ids)  # the weights rebuilt: a new reading of them
    assert again._pruned is not None and again._pruned is not first._pruned
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
    assert unordered._scores is not None and unordered._pruned is None
    for terms in _queries(rng, lexical, ids, 10):
        every = lexical.scores_by_term(terms, ids)
        for asked in _rows(rng, len(ids)):
            near, best = unordered.scores(terms, asked)
            assert np.array_equal(near.view(np.uint32), every[asked].view(np.uint32)) and best == float(every.max())


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
                near, best = shared.scores(terms, rows, (reach, columns[:, at], shared.tops))
                theirs, their_best = own.scores(terms, rows)
                assert near.dtype == theirs.dtype and np.array_equal(near.view(np.uint32), theirs.view(np.uint32))
                assert best == their_best
                read, compared = read + int(np.count_nonzero(near)), compared + 1
    assert read > 1000 and compared == 2 * 4 * len(queries)
    assert shared.shared_exact(np.arange(5), []) is None and shared.shared_exact(np.arange(0), queries) is None
    near, best = shared.scores(
        queries[0], np.arange(7), (np.arange(7), None, shared.tops)
    )  # nothing shared: its own way
    assert np.array_equal(near, own.scores(queries[0], np.arange(7))[0])


def test_each_terms_top_record_holds_its_largest_weight() -> None:
    rng = np.random.default_rng(12)
    lexical, ids = _index(rng, 1400, 500)
    shared = SharedBm25(lexical, ids)  # the batch's: the tops made once per reading of the weights
    pruned, weights, tops = shared._pruned, lexical._weights, shared.tops
    assert pruned is not None and weights is not None and tops is not None
    by_term = weights.tocsc()
    for term in pruned.held.tolist():
        column = by_term[:, term].toarray().ravel()
        assert column[tops[term]] == column.max() == pruned.highest[term]
    assert SharedBm25(lexical, ids).tops is tops
    live = lexical_module.Bm25Buffer(lexical, ids)
    assert live._pruned is pruned and not hasattr(live, "tops")  # the live search's: the same reading, no tops


@pytest.mark.parametrize(("split", "share"), [(0.4, 1 / 8), (1.0, 1.0), (0.0, 1.0), (2.0, 1.0)])
def test_maxscore_from_the_places_best_keeps_the_bits_and_reads_fewer_columns(
    monkeypatch: pytest.MonkeyPatch, split: float, share: float
) -> None:
    """The batch's MaxScore starts from the best exact score at every row in reach of the place (and each asked
    term's top record): the same rows' bits and the same best as the full scatter, with fewer columns added over
    every record than from the eligible rows' best alone."""
    monkeypatch.setattr(maxscore, "SPLIT", split)
    monkeypatch.setattr(maxscore, "CANDIDATE_SHARE", share)
    monkeypatch.setattr(maxscore, "ESSENTIAL_SHARE", 1.0)
    rng = np.random.default_rng(21)
    lexical, ids = _index(rng, 2500, 800)
    queries = _queries(rng, lexical, ids, 40)
    shared = SharedBm25(lexical, ids)
    added = {"place": 0, "eligible": 0}
    add = lexical.add_term_columns
    way = "place"

    def counted(terms: np.ndarray, scores: np.ndarray, column: np.ndarray) -> None:
        added[way] += len(terms)
        add(terms, scores, column)

    monkeypatch.setattr(lexical, "add_term_columns", counted)
    for reach in (np.sort(rng.choice(len(ids), len(ids) // 9, replace=False)), np.arange(len(ids) // 10)):
        columns = shared.shared_exact(reach, queries)
        assert columns is not None
        for at, terms in enumerate(queries):
            every = lexical.scores_by_term(terms, ids)
            for rows in (reach, reach[: len(reach) // 5], reach[::7], reach[:0]):
                way = "place"
                near, best = shared.scores(terms, rows, (reach, columns[:, at], shared.tops))
                assert near.dtype == np.float32 and np.array_equal(near.view(np.uint32), every[rows].view(np.uint32))
                assert best == float(every.max())
                way = "eligible"  # the eligible rows' own exact scores alone as the place's
                eligible = (rows, columns[np.searchsorted(reach, rows), at], shared.tops)
                assert shared.scores(terms, rows, eligible)[1] == best
    assert added["place"] <= added["eligible"]
    if split > 0:  # 0: every term essential from any start
        assert added["place"] < added["eligible"]


def test_an_owner_scored_alone_starts_from_its_rows_and_the_tops_with_the_same_bits() -> None:
    """A place with too few owners to share a product (:data:`matching.batch_rank.SHARED_OWNERS`): each owner's
    eligible rows are scored alone and MaxScore starts from their best and the asked terms' tops: the same bits and
    best as the live search's reading and the full scatter."""
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
            near, best = shared.scores(terms, rows, (rows, None, shared.tops))
            theirs, their_best = own.scores(terms, rows)
            assert np.array_equal(near.view(np.uint32), theirs.view(np.uint32))
            assert best == their_best == float(every.max())


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
    assert all(seen[2] is shared.tops for seen in found)
