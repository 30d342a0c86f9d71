"""BM25 following changed records by splicing (:class:`matching.sparse_splice.TermCounts`) equals a build from
scratch bit for bit: term frequencies, counts, weights, the pruned reading's lookups and every score."""

from __future__ import annotations

from operator import attrgetter

import numpy as np
import pytest
from scipy import sparse

from matching.bm25_maxscore import PrunedBm25
from matching.lexical import K1, B, Bm25Buffer, LexicalIndex

WORDS = [f"woord{i}" for i in range(60)] + ["schoonmaker", "magazijn", "heftruck", "kassa", "zorg", "bakker"]


def _text(rng: np.random.Generator, extra: str = "") -> str:
    return " ".join(rng.choice(WORDS, size=int(rng.integers(1, 25)))) + extra


def _fresh(texts: dict[int, str]) -> LexicalIndex:
    index = LexicalIndex()
    keys = sorted(texts)
    index.upsert(keys, [texts[key] for key in keys])
    index._build()
    return index


def _same_matrix(a: sparse.spmatrix, b: sparse.spmatrix) -> None:
    assert a.shape == b.shape and a.format == b.format
    for part in ("data", "indices", "indptr"):
        left, right = getattr(a, part), getattr(b, part)
        assert left.dtype == right.dtype, part
        assert np.array_equal(left, right), part


def _same_index(spliced: LexicalIndex, scratch: LexicalIndex, rng: np.random.Generator) -> None:
    spliced._build()
    assert np.array_equal(spliced._ids, scratch._ids)
    _same_matrix(spliced._tf, scratch._tf)
    _same_matrix(spliced._by_term, scratch._by_term)
    _same_matrix(spliced._weights, scratch._weights)
    assert np.array_equal(spliced._lengths, scratch._lengths) and np.array_equal(spliced._df, scratch._df)
    assert spliced._idf.dtype == scratch._idf.dtype and np.array_equal(spliced._idf, scratch._idf)
    # the pruned reading's lookups: from the counts by record, and as the weights converted
    assert spliced.record_counts() is not None  # no conversion of the weights
    made, converted = PrunedBm25.of(spliced), PrunedBm25(scratch._weights, scratch._idf)
    assert made is not None and not made.rows.made  # nothing made yet
    _same_rows(made, converted, rng, len(scratch._ids), every=False)  # weighed as gathered
    for name in ("lengths", "held", "highest", "rows.ptr", "rows.numbered", "rows.terms", "rows.weights"):
        left, right = attrgetter(name)(made), attrgetter(name)(converted)
        assert left.dtype == right.dtype and np.array_equal(left, right), name
    ids = scratch._ids
    for _ in range(5):
        query = _text(rng)
        terms = spliced.asked([query])[0]
        assert np.array_equal(spliced.scores_for(query, ids), scratch.scores_for(query, ids))
        assert np.array_equal(spliced.scores_by_term(terms, ids), scratch.scores_by_term(terms, ids))
        rows = np.sort(rng.choice(len(ids), size=max(1, len(ids) // 20), replace=False))
        got, best = Bm25Buffer(spliced, ids).scores(terms, rows)
        want, top = Bm25Buffer(scratch, ids).scores(terms, rows)
        assert np.array_equal(got, want) and best == top


def _same_rows(made: PrunedBm25, converted: PrunedBm25, rng: np.random.Generator, n: int, every: bool = True) -> None:
    """The rows gathered and weighed (or gathered from every record's weights) equal the weights converted."""
    for rows in (np.sort(rng.choice(n, size=max(1, n // 7), replace=False)), np.arange(0), np.arange(n)[:: n - 1]):
        for left, right in zip(made.rows.gather(rows), converted.rows.gather(rows), strict=True):
            assert left.dtype == right.dtype and np.array_equal(left, right)
    if every:
        for left, right in zip(made.rows.gather(np.arange(n)), converted.rows.gather(np.arange(n)), strict=True):
            assert left.dtype == right.dtype and np.array_equal(left, right)


def test_rows_weighed_as_gathered_equal_every_records_weights_made() -> None:
    """The pruned reading from the counts weighs the rows it gathers until it weighed as many postings as the
    index holds, then makes every record's weights (or at once for :meth:`PrunedBm25.gathered`, the batch) and reads
    those: the same parts, bit for bit, as the weights converted, and the same scores."""
    rng = np.random.default_rng(11)
    index = _fresh({key: _text(rng) for key in range(1, 700)})
    made, converted = PrunedBm25.of(index), PrunedBm25(index._weights, index._idf)
    assert made is not None and made.rows.norm is not None and converted.rows.norm is None
    _same_rows(made, converted, rng, len(index._ids), every=False)
    assert not made.rows.made and 0 < made.rows.weighed_here < index._tf.nnz
    _same_rows(made, converted, rng, len(index._ids))  # every row: more than the index holds, weighed
    assert made.rows.made  # made once, read since
    _same_rows(made, converted, rng, len(index._ids))
    batch = PrunedBm25(index._weights, index._idf, index.record_counts())
    rows = np.arange(0, len(index._ids), 3)
    _same_matrix(batch.gathered(rows), converted.gathered(rows))
    assert batch.rows.made and batch.rows.weighed_here == 0


def test_the_weights_are_the_bits_of_the_formula_by_record_converted() -> None:
    """The weights from the counts by term equal what the build computed before: by record, then converted."""
    rng = np.random.default_rng(5)
    index = _fresh({key: _text(rng) for key in range(1, 900)})
    tf = index._tf
    lengths = np.asarray(tf.sum(axis=1)).ravel()
    norm = K1 * (1 - B + B * lengths / max(lengths.mean(), 1.0))
    data = tf.data * (K1 + 1) / (tf.data + norm[np.repeat(np.arange(tf.shape[0]), np.diff(tf.indptr))])
    _same_matrix(index._weights, sparse.csr_matrix((data, tf.indices, tf.indptr), shape=tf.shape).tocsc())


def test_a_sequence_of_changes_equals_a_build_from_scratch() -> None:
    rng = np.random.default_rng(7)
    texts = {key: _text(rng) for key in range(1, 1200, 2)}
    index = _fresh(texts)
    steps = [
        {5: _text(rng, " nieuwwoordeen")},  # a word new to the corpus
        {7: "schoonmaker kassa", 9: _text(rng)},  # texts changing their words
        {max(texts) + 2: _text(rng), max(texts) + 10: "bakker nieuwwoordtwee"},  # records appended
        {5: _text(rng)},  # the new word leaves the corpus
        {1: "", 3: "zorg zorg zorg"},  # an empty text, repeated words
    ]
    for step in steps:
        texts.update(step)
        index.upsert(list(step), list(step.values()))
        assert index._spliced() or not index._pending
        _same_index(index, _fresh(texts), rng)


def test_a_removal_or_an_id_among_the_held_rebuilds_the_same() -> None:
    rng = np.random.default_rng(3)
    texts = {key: _text(rng) for key in range(10, 400, 3)}
    index = _fresh(texts)
    texts[11] = _text(rng)
    index.upsert([11], [texts[11]])  # between held ids: merged and rebuilt
    assert not index._spliced()
    _same_index(index, _fresh(texts), rng)
    index.remove([10])
    del texts[10]
    _same_index(index, _fresh(texts), rng)
    texts[13] = _text(rng)
    index.upsert([13], [texts[13]])  # after a rebuild, a change is spliced again
    assert index._spliced()
    _same_index(index, _fresh(texts), rng)


@pytest.mark.parametrize("seed", [1, 2])
def test_many_random_changes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    texts = {key: _text(rng) for key in range(1, 500)}
    index = _fresh(texts)
    for _ in range(6):
        keys = [int(key) for key in rng.choice(list(texts), size=int(rng.integers(1, 30)), replace=False)]
        keys += [max(texts) + 1 + i for i in range(int(rng.integers(0, 3)))]
        step = {key: _text(rng) for key in keys}
        texts.update(step)
        index.upsert(list(step), list(step.values()))
        _same_index(index, _fresh(texts), rng)


def test_a_record_saved_with_the_same_words_keeps_the_weights() -> None:
    rng = np.random.default_rng(11)
    texts = {key: _text(rng) for key in range(1, 300)}
    index = _fresh(texts)
    weights = index._weights
    index.upsert([5, 9], [texts[5], texts[9]])  # saved again, words as held (hours or place changed)
    assert not index._pending and index._weights is weights
    texts[9] = texts[9] + " heftruck"
    index.upsert([5, 9], [texts[5], texts[9]])
    assert list(index._pending) == [9] and index._weights is None
    _same_index(index, _fresh(texts), rng)
