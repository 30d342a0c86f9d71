"""BM25's pruned reading (:class:`PrunedBm25`): the BM25 of a query at some records from the weights by record,
and the best over every record by MaxScore (Turtle & Flood 1995), the same bits as the full scatter of
:meth:`matching.lexical.LexicalIndex.scores_by_term`. :class:`matching.lexical.Bm25Buffer` reads through it; its
cases and why the bits are the same are there.
"""

from __future__ import annotations

import weakref
from typing import ClassVar, Protocol

import numpy as np
from scipy import sparse
from scipy.sparse import _sparsetools

from matching.bm25_rows import RecordRows


class WeightedIndex(Protocol):
    """What the pruned reading reads of a :class:`matching.lexical.LexicalIndex` (which imports this module)."""

    _weights: sparse.csc_matrix | None
    _idf: np.ndarray | None

    def record_counts(self) -> tuple[sparse.csr_matrix, np.ndarray] | None: ...

    def add_term_columns(self, terms: np.ndarray, scores: np.ndarray, column: np.ndarray) -> None: ...


SPLIT = 0.4  # MaxScore's essential terms: all but the smallest bounds summing to this share (≤ 1) of the known best
ESSENTIAL_SHARE = 0.6  # the best beyond reach reads at most this share of the asked postings ...
CANDIDATE_SHARE = 1 / 8  # ... and scores at most this share of the records, or the full scatter decides
PROBES = 64  # the records with the largest parts scored first (a better known best, fewer left to score)
BLOCK = 512  # records per block of the part buffer (a block's largest part tells whether to read it)
MARGIN = 2.0**-21  # per asked term: float32 rounding of a score or a bound's part, with room (4 × 2**-23)

# the nightly batch's MaxScore start (PrunedBm25._known): the ascending rows in reach of the owner's place, their exact
# scores for the query (None: not computed, the eligible rows' stand for them), per term the record with its largest
# weight (:class:`matching.batch_bm25.SharedBm25`)
Seen = tuple[np.ndarray, np.ndarray | None, np.ndarray]


class PrunedBm25:
    """One searched side's BM25 weights as the pruned reading needs them, made once per index weights.

    Each column's largest weight (a term's bound is that × its idf) and the weights again by record (a row
    per record, its terms ascending, numbered among the columns that hold a record: a query's terms then
    fit in a short vector, so a record's score is one pass over its own row): :class:`matching.bm25_rows.RecordRows`,
    which weighs the rows a search gathers from the counts the weights were built from
    (:meth:`LexicalIndex.record_counts`: no pass over every posting after a change) until every record's are made,
    8 bytes per posting (160 MB for 400,000 clients, 124 MB for 300,000 vacancies; at once for the nightly batch,
    :meth:`gathered`). The same bits either way. One query at a time (the batch holds the index lock).
    """

    _made: ClassVar[dict[int, tuple[weakref.ref, PrunedBm25]]] = {}

    def __init__(
        self, weights: sparse.csc_matrix, idf: np.ndarray, counts: tuple[sparse.csr_matrix, np.ndarray] | None = None
    ) -> None:
        self.idf = idf
        self.lengths = np.diff(weights.indptr)
        self.held = np.flatnonzero(self.lengths)
        self.highest = np.zeros(len(self.lengths), weights.data.dtype)
        if len(self.held):
            self.highest[self.held] = np.maximum.reduceat(weights.data, weights.indptr[self.held])
        # by record: the weights converted (norm None), or the term frequencies and each record's length norm
        by_record, norm = (weights.tocsr(), None) if counts is None else counts  # each row's columns ascending
        numbered = np.zeros(len(self.lengths), by_record.indptr.dtype)  # scipy's kernels take one index type
        numbered[self.held] = np.arange(len(self.held))
        self.rows = RecordRows(by_record, numbered, norm)
        self.query = np.zeros(len(self.held), weights.data.dtype)  # idf at the asked terms, else 0
        self.asked = np.zeros(weights.shape[0], bool)
        self.column = np.zeros(2, weights.indptr.dtype)

    @classmethod
    def of(cls, lexical: WeightedIndex) -> PrunedBm25 | None:
        """The pruned reading of the index's current weights (made on first use), None where the weights are
        not canonical (a column's rows out of order or twice: only the full scatter adds those as it does)."""
        weights, idf = lexical._weights, lexical._idf
        assert weights is not None and idf is not None
        held = cls._made.get(id(weights))
        if held is not None and held[0]() is weights and held[1].idf is idf:
            return held[1]
        if not weights.has_canonical_format or weights.indptr.dtype != weights.indices.dtype:
            return None
        made = cls(weights, idf, lexical.record_counts())
        key = id(weights)
        cls._made[key] = (weakref.ref(weights, lambda _: cls._made.pop(key, None)), made)
        return made

    def read(
        self,
        lexical: WeightedIndex,
        terms: np.ndarray,
        rows: np.ndarray,
        scores: np.ndarray,
        near: np.ndarray | None = None,
        seen: Seen | None = None,
    ) -> tuple[np.ndarray, float] | None:
        """(The BM25 of ``rows``, ascending and each once, in the index's precision; its best over every record),
        or None where that would cost about the full scatter or the terms are not ascending, each once (then
        the full scatter decides). ``near``: the exact scores of ``rows`` where the caller has them
        (:meth:`matching.batch_bm25.SharedBm25.shared_exact`'s), else computed here (:meth:`exact`). ``seen``: the
        nightly batch's place (:data:`Seen`; without its exact scores ``rows`` stand for it), where MaxScore then
        starts from its best and the terms' tops (:meth:`_known`).

        A record's score is its row's weights × the query vector (idf at the asked terms, 0 elsewhere), added
        along the row: the asked terms in ascending order, as the full scatter adds their columns, each addition
        the same float operation, and the other terms add a zero, which leaves a sum as it is: the same bits."""
        terms = np.asarray(terms)
        if not ascending(terms):
            return None
        present = terms[self.lengths[terms] > 0]
        if not len(present):
            return np.zeros(len(rows), scores.dtype), 0.0
        at = self._ask(present)
        try:
            near = self.exact(rows) if near is None else near
            if seen is not None and seen[1] is None:  # a place without shared scores: its rows are the ones scored
                seen = (rows, near, seen[2])
            best = self._best(lexical, present, rows if seen is None else seen, near, scores)
        finally:
            self.query[at] = 0
        return None if best is None else (near, best)

    def at(self, terms: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The BM25 of ``rows`` (ascending, each once) for ``terms`` (ascending, each once): :meth:`read`'s scores
        alone, the same bits."""
        at = self._ask(terms[self.lengths[terms] > 0])
        try:
            return self.exact(rows)
        finally:
            self.query[at] = 0

    def _ask(self, present: np.ndarray) -> np.ndarray:
        """The query vector set to the idf of the held terms ``present``; returns where (to be reset to 0)."""
        at = np.searchsorted(self.held, present)
        self.query[at] = self.idf[present]
        return at

    def exact(self, rows: np.ndarray) -> np.ndarray:
        """The BM25 of ``rows`` for the query vector set: their rows gathered, then scipy's ``csr_matvec``."""
        ptr, terms, weights = self.rows.gather(rows)
        out = np.zeros(len(rows), self.query.dtype)
        _sparsetools.csr_matvec(len(rows), len(self.query), ptr, terms, weights, self.query, out)
        return out

    def gathered(self, rows: np.ndarray) -> sparse.csr_matrix:
        """The rows ``rows`` of the weights by record, as a matrix over the held terms (what :meth:`exact` gathers
        before ``csr_matvec``; :class:`~matching.batch_bm25.SharedBm25` multiplies it by several queries at once).
        Every record's weights and numbered terms are made first, once (the nightly batch gathers many rows many
        times)."""
        self.rows.make()
        ptr, terms, weights = self.rows.gather(rows)
        return sparse.csr_matrix((weights, terms, ptr), shape=(len(rows), len(self.held)))

    def _best(
        self,
        lexical: WeightedIndex,
        terms: np.ndarray,
        rows: np.ndarray | Seen,
        near: np.ndarray,
        scores: np.ndarray,
    ) -> float | None:
        """The best score over every record, given ``near`` (exact scores of ``rows``), by MaxScore; None where
        pruning would read about as much as the full scatter. ``rows`` may be :data:`Seen`: exact scores at more
        rows, which hold those of ``near`` (:meth:`_known`).

        A record's score is at most the sum of its terms' bounds; the asked terms whose bounds, smallest first,
        sum to at most the best known score cannot beat it alone, so only records holding another (*essential*)
        term can: the essential columns are added into ``scores`` (a part of each record's score), the record
        with the largest part is scored (a better known score), and the records whose part plus the other
        terms' bounds still beats the known score are scored exactly. ``MARGIN`` per asked term covers float32
        rounding (a score and a part each differ from the real sum by less than that)."""
        bound = self.highest[terms].astype(np.float64) * self.idf[terms].astype(np.float64)
        order = np.argsort(bound, kind="stable")
        margin = 1 + MARGIN * (len(terms) + 2)
        known, rows = self._known(terms, rows, near)
        below = int(np.searchsorted(np.cumsum(bound[order]) * margin, min(SPLIT, 1.0) * known, side="right"))
        lengths = self.lengths[terms]
        if lengths[order[below:]].sum() > ESSENTIAL_SHARE * lengths.sum():
            return None
        scores.fill(0)
        lexical.add_term_columns(terms[order[below:]], scores, self.column)
        rest = float(bound[order[:below]].sum())
        first = self._above(scores, known / margin - rest)
        self.asked[rows] = True
        first = first[~self.asked[first]]  # theirs are exact already: ``known`` holds their best
        self.asked[rows] = False
        if len(first) > PROBES:  # the largest parts first: a better known score, then fewer to score
            top = np.sort(first[np.argpartition(-scores[first], PROBES)[:PROBES]])
            known = max(known, float(self.exact(top).max()))
            first = first[scores[first] > _floor(known / margin - rest)]
        if len(first) > CANDIDATE_SHARE * len(scores):
            return None
        return max(known, float(self.exact(first).max())) if len(first) else known

    def _known(self, terms: np.ndarray, rows: np.ndarray | Seen, near: np.ndarray) -> tuple[float, np.ndarray]:
        """MaxScore's starting best (an exact score some record has) and the rows whose exact scores it holds.

        The live search: the best of ``near``, at ``rows``. The nightly batch (``rows`` is :data:`Seen`: the exact
        scores at every row in reach of the owner's place, a superset of the eligible rows,
        :meth:`~matching.batch_bm25.SharedBm25.shared_exact`'s, and per term the record with its largest weight):
        the best of those, and of each asked term's top record (scored here: one short row per term). A higher start
        leaves fewer terms essential and fewer records to score; the answer is still the largest exact score over
        every record, the same bits."""
        known = float(near.max()) if len(near) else 0.0
        if not isinstance(rows, tuple):
            return known, rows
        reach, column, tops = rows
        assert column is not None
        if len(column):
            known = max(known, float(column.max()))
        return max(known, float(self.exact(tops[terms]).max())), reach

    @staticmethod
    def _above(scores: np.ndarray, threshold: float) -> np.ndarray:
        """The records whose part in ``scores`` is above ``threshold`` (ascending), reading only the blocks of
        ``BLOCK`` records whose largest part is (the buffer's length is a multiple of ``BLOCK``)."""
        floor = _floor(threshold)
        blocks = scores.reshape(-1, BLOCK)
        hot = np.flatnonzero(blocks.max(axis=1) > floor)
        if len(hot) * 4 > len(blocks):
            return np.flatnonzero(scores > floor)
        inside = blocks[hot] > floor
        return (hot[:, None] * BLOCK + np.arange(BLOCK))[inside]


def ascending(values: np.ndarray) -> bool:
    """Whether ``values`` ascend strictly (each once)."""
    return len(values) < 2 or bool((values[1:] > values[:-1]).all())


def _floor(threshold: float) -> np.floating:
    """The largest float32 at most ``threshold`` (and at least 0): a part above it may be above the threshold."""
    floor = np.float32(max(threshold, 0.0))
    return np.nextafter(floor, np.float32(0)) if floor > threshold else floor
