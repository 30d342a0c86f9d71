"""The nightly batch's step 1 and BM25 with less work per list, each the same numbers as the parts it replaces.

:mod:`matching.batch_rank` computes a list per owner; these are its per-list steps reorganised so that the
answer stays bit for bit what :func:`matching.pipeline.candidate_eligible`,
:func:`~matching.pipeline.vacancy_eligible` and :meth:`matching.lexical.LexicalIndex.scores_by_term` answer
(``tests/matching/test_batch_steps.py`` holds them equal):

* step 1 measures the owner's distance to every bucket (PC4) once, not twice (``rows_within`` and
  ``distances`` each measured it), and keeps the records within their own reach *before* sorting them:
  :meth:`matching.geo.Buckets.rows_within` sorted every record of every bucket that could be within
  reach (about 40,000 a list at national size) and most of those are then dropped; the kept rows,
  sorted, are the same rows in the same order with the same distances (a distance is its bucket's);
* BM25 no longer adds every asked column over every record (``scores_by_term``, about 2 million postings a
  list at national size, most of them the few common terms'): the eligible rows are scored from the
  weights by record (each row × the query vector: the same additions in the same order in the same
  precision as :meth:`~matching.lexical.LexicalIndex.scores_by_term`, so the same bits), and the best over
  every record, which scales the lexical feature and must be exact, is found by MaxScore (Turtle & Flood
  1995): the best eligible score is a lower bound; the asked terms whose bounds (a term's largest weight
  × idf), smallest first, sum to at most a share of it are not read; the other (rarer) terms' columns
  are added over every record into one buffer per searched side, and only the records whose part plus
  the unread terms' bounds can beat the known best are scored exactly (from their rows); where that
  would read about as much, every column is added over every record as before. The check that the
  index's ids are the arrays' ids is made once per partition, not once per list, and only the eligible
  rows are converted to float32 (the best over every record is the converted best: rounding is
  monotone). ``tests/matching/test_batch_bm25_pruned.py`` holds the pruned reading to the full scatter
  bit for bit on random indexes; ``bench/batch_bm25_pruned.py`` times both at national size.
"""

from __future__ import annotations

import weakref
from typing import ClassVar

import numpy as np
from scipy import sparse
from scipy.sparse import _sparsetools

from matching import pipeline, scoring
from matching.geo import BUCKET_SLACK_KM, Buckets
from matching.lexical import LexicalIndex
from matching.structured import ClientArrays, VacancyArrays

SPLIT = 0.4  # MaxScore's essential terms: all but the smallest bounds summing to this share (≤ 1) of the known best
ESSENTIAL_SHARE = 0.6  # the best beyond reach reads at most this share of the asked postings ...
CANDIDATE_SHARE = 1 / 8  # ... and scores at most this share of the records, or the full scatter decides
PROBES = 64  # the records with the largest parts scored first (a better known best, fewer left to score)
BLOCK = 512  # records per block of the part buffer (a block's largest part tells whether to read it)
ROWS_SHARE = 1 / 8  # asked for more than this share of the records (heleBestand), the full scatter is cheaper
MARGIN = 2.0**-21  # per asked term: float32 rounding of a score or a bound's part, with room (4 × 2**-23)


def _kept_in_reach(
    buckets: Buckets, km: np.ndarray, limit: np.ndarray | float, keep_member: np.ndarray | None, reach: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The records (rows, ascending) of the buckets within ``limit`` (per bucket, or one number) of the point,
    kept where their bucket's distance ``km`` is within ``reach`` of the record (a scalar or per record row)
    and ``keep_member`` (per record row, or None) holds; with their distances.

    :meth:`Buckets.rows_within` then ``distances`` then the same comparison, without sorting the records
    that the comparison drops."""
    chosen = np.flatnonzero(km <= limit + BUCKET_SLACK_KM)
    begin, end = buckets.starts[chosen], buckets.starts[chosen + 1]
    sizes = end - begin
    offsets = np.repeat(begin - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    members = buckets.members[offsets + np.arange(int(sizes.sum()))]
    distance = np.repeat(km[chosen], sizes)  # every record of a bucket is at its place
    inside = distance <= (reach[members] if isinstance(reach, np.ndarray) else reach)
    if keep_member is not None:
        inside &= keep_member[members]
    rows = np.sort(members[inside])
    return rows, km[buckets.of_row[rows]]


def candidate_eligible(clients: ClientArrays, vacancies: VacancyArrays, v_row: int) -> pipeline.Eligible:
    """:func:`matching.pipeline.candidate_eligible`, the same eligible rows, fit features and signals."""
    buckets = clients.buckets
    km = buckets._km(float(vacancies.lat[v_row]), float(vacancies.lon[v_row]), False)
    rows, distance = _kept_in_reach(buckets, km, buckets.reach, None, clients.max_km)
    return pipeline.candidates_in_reach(clients, rows, distance, vacancies, v_row)


def vacancy_eligible(clients: ClientArrays, c_row: int, vacancies: VacancyArrays) -> pipeline.Eligible:
    """:func:`matching.pipeline.vacancy_eligible`, the same eligible rows, fit features and signals."""
    buckets = vacancies.buckets
    max_km = clients.max_km[c_row]
    km = buckets._km(float(clients.lat[c_row]), float(clients.lon[c_row]), True)
    rows, distance = _kept_in_reach(buckets, km, float(max_km), vacancies.open, max_km)
    one = np.array([c_row])
    hours = scoring.hours_overlap(clients, one, vacancies, rows)
    times_ok = scoring.times_workable(clients, one, vacancies, rows)
    hard = pipeline._any_of(vacancies.full_unclosed, np.flatnonzero(clients.full_ernst[:, c_row]), rows)
    keep = (hours >= 0) & times_ok & ~hard
    eligible = rows[keep]
    fit = scoring.fit_features_for_client(clients, c_row, vacancies, eligible)
    within = np.ones(len(rows), bool)
    structured = pipeline._fit_signals((distance, hours, times_ok, within), keep, fit, np.full(len(eligible), max_km))
    return pipeline.Eligible(eligible, fit, structured)


class Bm25Buffer:
    """BM25 of many queries over one searched side's records, one query at a time, read only where needed.

    Made per partition (the index may change between partitions, never within one: the batch holds the
    index lock). For ``ids`` (the searched side's arrays' ids) that are the index's own ids, in order, and
    weights in canonical form (each column's rows ascending, each once); otherwise, and for weights that
    :meth:`LexicalIndex.scores_by_term` would not add in place, every query goes the index's own way.
    """

    def __init__(self, lexical: LexicalIndex, ids: np.ndarray) -> None:
        self.lexical, self.ids = lexical, ids
        if lexical._weights is None:
            lexical._build()
        weights, idf = lexical._weights, lexical._idf
        assert weights is not None and idf is not None
        kind = np.result_type(weights.data, idf)
        own = (
            len(lexical._ids) == len(ids)
            and bool(len(ids))
            and weights.data.dtype == kind
            and idf.dtype == kind
            and weights.indptr.dtype == weights.indices.dtype
            and np.array_equal(lexical._ids, ids)
        )
        padded = np.zeros(-(-len(ids) // BLOCK) * BLOCK, kind) if own else None  # whole blocks, zeros beyond
        self._scores, self._blocks = (None, None) if padded is None else (padded[: len(ids)], padded)
        self._column = np.zeros(2, weights.indptr.dtype)
        self._pruned = _Pruned.of(lexical) if own else None

    def scores(self, terms: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, float]:
        """(BM25 of the query ``terms`` for the records at ``rows`` as float32, its best over every record):
        ``scores_by_term(terms, ids)[rows]`` and ``float(scores_by_term(terms, ids).max())``, the same bits."""
        scores, pruned = self._scores, self._pruned
        if scores is None or not len(terms):
            every = self.lexical.scores_by_term(terms, self.ids)
            return every[rows], float(every.max()) if len(every) else 0.0
        if pruned is None or len(rows) > ROWS_SHARE * len(scores):
            return self._every(terms, rows)
        rows = np.asarray(rows)
        if len(rows) > 1 and not bool((rows[1:] > rows[:-1]).all()):
            found, back = np.unique(rows, return_inverse=True)
            near, best = self.scores(terms, found)
            return near[back], best
        assert self._blocks is not None
        found = pruned.read(self.lexical, terms, rows, self._blocks)
        if found is None:
            return self._every(terms, rows)
        return found[0].astype(np.float32), float(np.float32(found[1]))

    def _every(self, terms: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, float]:
        """Every record's BM25 (each asked column added in place), then read at ``rows`` and its best."""
        scores = self._scores
        assert scores is not None
        scores.fill(0)
        self.lexical.add_term_columns(terms, scores, self._column)
        return scores[rows].astype(np.float32), float(np.float32(scores.max()))


class _Pruned:
    """One searched side's BM25 weights as the pruned reading needs them, made once per index weights.

    Each column's largest weight (a term's bound is that × its idf) and the weights again by record (a row
    per record, its terms ascending, numbered among the columns that hold a record: a query's terms then
    fit in a short vector, so a record's score is one pass over its own row). Kept while the weights live: at
    national size 8 bytes per posting (160 MB for 400,000 clients, 124 MB for 300,000 vacancies), made in
    about 2 s. One query at a time (the batch holds the index lock).
    """

    _made: ClassVar[dict[int, tuple[weakref.ref, _Pruned]]] = {}

    def __init__(self, weights: sparse.csc_matrix, idf: np.ndarray) -> None:
        self.idf = idf
        self.lengths = np.diff(weights.indptr)
        self.held = np.flatnonzero(self.lengths)
        self.highest = np.zeros(len(self.lengths), weights.data.dtype)
        if len(self.held):
            self.highest[self.held] = np.maximum.reduceat(weights.data, weights.indptr[self.held])
        by_record = weights.tocsr()  # each row's columns ascending
        numbered = np.zeros(len(self.lengths), by_record.indptr.dtype)  # scipy's kernels take one index type
        numbered[self.held] = np.arange(len(self.held))
        self.row_ptr, self.row_terms, self.row_weights = by_record.indptr, numbered[by_record.indices], by_record.data
        self.query = np.zeros(len(self.held), weights.data.dtype)  # idf at the asked terms, else 0
        self.asked = np.zeros(weights.shape[0], bool)
        self.column = np.zeros(2, weights.indptr.dtype)

    @classmethod
    def of(cls, lexical: LexicalIndex) -> _Pruned | None:
        """The pruned reading of the index's current weights (made on first use), None where the weights are
        not canonical (a column's rows out of order or twice: only the full scatter adds those as it does)."""
        weights, idf = lexical._weights, lexical._idf
        assert weights is not None and idf is not None
        held = cls._made.get(id(weights))
        if held is not None and held[0]() is weights and held[1].idf is idf:
            return held[1]
        if not weights.has_canonical_format or weights.indptr.dtype != weights.indices.dtype:
            return None
        made = cls(weights, idf)
        key = id(weights)
        cls._made[key] = (weakref.ref(weights, lambda _: cls._made.pop(key, None)), made)
        return made

    def read(
        self, lexical: LexicalIndex, terms: np.ndarray, rows: np.ndarray, scores: np.ndarray
    ) -> tuple[np.ndarray, float] | None:
        """(The BM25 of ``rows``, ascending and each once, in the index's precision; its best over every record),
        or None where that would cost about the full scatter or the terms are not ascending, each once (then
        the full scatter decides).

        A record's score is its row's weights × the query vector (idf at the asked terms, 0 elsewhere), added
        along the row: the asked terms in ascending order, as the full scatter adds their columns, each addition
        the same float operation, and the other terms add a zero, which leaves a sum as it is: the same bits."""
        terms = np.asarray(terms)
        if len(terms) > 1 and not bool((terms[1:] > terms[:-1]).all()):
            return None
        present = terms[self.lengths[terms] > 0]
        if not len(present):
            return np.zeros(len(rows), scores.dtype), 0.0
        at = np.searchsorted(self.held, present)
        self.query[at] = self.idf[present]
        try:
            near = self.exact(rows)
            best = self._best(lexical, present, rows, near, scores)
        finally:
            self.query[at] = 0
        return None if best is None else (near, best)

    def exact(self, rows: np.ndarray) -> np.ndarray:
        """The BM25 of ``rows`` for the query vector set: their rows gathered, then scipy's ``csr_matvec``."""
        rows = rows.astype(self.row_ptr.dtype, copy=False)
        ptr = np.zeros(len(rows) + 1, self.row_ptr.dtype)
        np.cumsum(self.row_ptr[rows + 1] - self.row_ptr[rows], out=ptr[1:])
        terms, weights = np.empty(int(ptr[-1]), self.row_terms.dtype), np.empty(int(ptr[-1]), self.row_weights.dtype)
        _sparsetools.csr_row_index(len(rows), rows, self.row_ptr, self.row_terms, self.row_weights, terms, weights)
        out = np.zeros(len(rows), self.query.dtype)
        _sparsetools.csr_matvec(len(rows), len(self.query), ptr, terms, weights, self.query, out)
        return out

    def _best(
        self, lexical: LexicalIndex, terms: np.ndarray, rows: np.ndarray, near: np.ndarray, scores: np.ndarray
    ) -> float | None:
        """The best score over every record, given ``near`` (exact scores of ``rows``), by MaxScore; None where
        pruning would read about as much as the full scatter.

        A record's score is at most the sum of its terms' bounds; the asked terms whose bounds, smallest first,
        sum to at most the best known score cannot beat it alone, so only records holding another (*essential*)
        term can: the essential columns are added into ``scores`` (a part of each record's score), the record
        with the largest part is scored (a better known score), and the records whose part plus the other
        terms' bounds still beats the known score are scored exactly. ``MARGIN`` per asked term covers float32
        rounding (a score and a part each differ from the real sum by less than that)."""
        bound = self.highest[terms].astype(np.float64) * self.idf[terms].astype(np.float64)
        order = np.argsort(bound, kind="stable")
        margin = 1 + MARGIN * (len(terms) + 2)
        known = float(near.max()) if len(near) else 0.0
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


def _floor(threshold: float) -> np.floating:
    """The largest float32 at most ``threshold`` (and at least 0): a part above it may be above the threshold."""
    floor = np.float32(max(threshold, 0.0))
    return np.nextafter(floor, np.float32(0)) if floor > threshold else floor
