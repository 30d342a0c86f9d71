"""The nightly batch's BM25 best over every record, for all owners at one place at once.

A list's lexical feature is scaled by its query's best BM25 over every record of the searched side
(:meth:`matching.lexical.Bm25Buffer.scores`: MaxScore, per owner: the essential terms' columns added into a
buffer of every record, the buffer scanned, the few records that can still beat the known best scored exactly).
The owners of a nightly partition share a place (:class:`matching.batch_steps.PlaceReach`), and the exact BM25 of
every owner's query at the rows in reach of that place is already known
(:meth:`matching.lexical.SharedBm25.shared_exact`). Here, per place:

* each owner's known best is the largest of those exact scores (every row in reach, not only its eligible rows:
  a higher lower bound, so fewer essential terms and fewer records to score);
* the essential columns of every owner's query are added in one sparse product (the weights × a matrix of each
  owner's essential terms' idf: scipy's ``csr_matmat`` adds, per record and owner, the essential columns' weight
  × idf in the order given, as :meth:`matching.lexical.LexicalIndex.add_term_columns` adds them one column at a
  time) instead of a buffer of every record filled and scanned per owner: only the records an essential term
  holds are read;
* the records whose part plus the other terms' bounds can beat the known best, and are not in reach (their score
  is known), are scored exactly (:meth:`matching.lexical._Pruned.exact`, the same ``csr_matvec`` as per owner).

The best is the largest exact score of a record, found either way: the same number as the full scatter's best
(``tests/matching/test_batch_bm25_place.py`` holds it to :meth:`~matching.lexical.Bm25Buffer.scores` and the full
scatter on random indexes). An owner this cannot answer (no ascending terms, the essential terms hold too many
postings, too many records left to score) gets None and goes :meth:`~matching.lexical.Bm25Buffer.scores`' way.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from matching import lexical
from matching.lexical import SharedBm25


def place_best(
    bm25: SharedBm25, reach: np.ndarray, queries: list[np.ndarray], columns: list[np.ndarray | None]
) -> list[float | None]:
    """Per query of ``queries``, its best BM25 over every record (as :meth:`Bm25Buffer.scores` returns it) given
    ``columns``, its exact BM25 at the rows ``reach`` (ascending, each once; :meth:`SharedBm25.shared_exact`), or
    None where this does not answer it (a column None: the query is not read the pruned way)."""
    pruned, weights = bm25._pruned, bm25.lexical._weights
    out: list[float | None] = [None] * len(queries)
    if pruned is None or bm25._scores is None or weights is None or not len(reach):
        return out
    plans = []  # (position, present terms, essential terms, margin, rest, known)
    for position, (asked, column) in enumerate(zip(queries, columns, strict=True)):
        if column is None or not len(column):
            continue
        terms = np.asarray(asked)
        if len(terms) > 1 and not bool((terms[1:] > terms[:-1]).all()):
            continue  # not read the pruned way (its column holds nothing)
        present = terms[pruned.lengths[terms] > 0]
        if not len(present):
            continue
        known = float(column.max())
        essential = _essential(pruned, present, known)
        if essential is not None:
            plans.append((position, present, *essential, known))
    if not plans:
        return out
    kind = pruned.query.dtype
    chosen = [plan[2] for plan in plans]
    asked_by = sparse.csc_matrix(
        (
            np.concatenate([pruned.idf[terms] for terms in chosen]).astype(kind),
            np.concatenate(chosen),
            np.concatenate([[0], np.cumsum([len(terms) for terms in chosen])]),
        ),
        shape=(weights.shape[1], len(plans)),
    )
    parts = sparse.csc_matrix(weights @ asked_by)
    records = len(bm25._scores)
    pruned.asked[reach] = True  # their exact scores are known: ``known`` holds their best
    try:
        for at, (position, present, _, margin, rest, known) in enumerate(plans):
            start, end = int(parts.indptr[at]), int(parts.indptr[at + 1])
            part, rows = parts.data[start:end], parts.indices[start:end]
            above = part > lexical._floor(known / margin - rest)
            part, rows = part[above], rows[above]
            outside = ~pruned.asked[rows]
            out[position] = _settle(pruned, present, rows[outside], part[outside], known, margin, rest, records)
    finally:
        pruned.asked[reach] = False
    return out


def _essential(pruned: lexical._Pruned, terms: np.ndarray, known: float) -> tuple[np.ndarray, float, float] | None:
    """(The essential terms, smallest bound first, as MaxScore adds them; the margin for float32 rounding; the sum of
    the other terms' bounds) given the ``known`` best, as :meth:`matching.lexical._Pruned._best` chooses them; None
    where their postings are more than ``ESSENTIAL_SHARE`` of the asked ones (the full scatter decides)."""
    bound = pruned.highest[terms].astype(np.float64) * pruned.idf[terms].astype(np.float64)
    order = np.argsort(bound, kind="stable")
    margin = 1 + lexical.MARGIN * (len(terms) + 2)
    below = int(np.searchsorted(np.cumsum(bound[order]) * margin, min(lexical.SPLIT, 1.0) * known, side="right"))
    lengths = pruned.lengths[terms]
    if lengths[order[below:]].sum() > lexical.ESSENTIAL_SHARE * lengths.sum():
        return None
    return terms[order[below:]], margin, float(bound[order[:below]].sum())


def _settle(
    pruned: lexical._Pruned,
    terms: np.ndarray,
    rows: np.ndarray,
    part: np.ndarray,
    known: float,
    margin: float,
    rest: float,
    records: int,
) -> float | None:
    """The best over every record: ``known`` or a better exact score among ``rows`` (the records whose ``part`` can
    still beat it), the largest parts scored first (``PROBES``); None where more than ``CANDIDATE_SHARE`` of the
    records are left to score."""
    if not len(rows):
        return known
    at = np.searchsorted(pruned.held, terms)
    pruned.query[at] = pruned.idf[terms]  # the owner's query vector, for ``exact``
    try:
        if len(rows) > lexical.PROBES:
            top = np.sort(rows[np.argpartition(-part, lexical.PROBES)[: lexical.PROBES]])
            known = max(known, float(pruned.exact(top).max()))
            rows = rows[part > lexical._floor(known / margin - rest)]
        if len(rows) > lexical.CANDIDATE_SHARE * records:
            return None
        return max(known, float(pruned.exact(np.sort(rows)).max())) if len(rows) else known
    finally:
        pruned.query[at] = 0


def owner_scores(
    bm25: SharedBm25, terms: np.ndarray, rows: np.ndarray, shared: tuple[np.ndarray, np.ndarray | None, float | None]
) -> tuple[np.ndarray, float]:
    """:meth:`SharedBm25.scores` of the owner's ``terms`` at its eligible ``rows`` given ``shared`` (the rows in reach
    of its place, its exact BM25 there and its best over every record from :func:`place_best`, or None): the rows'
    scores read from the column and that best where the pruned reading would read them, else ``scores``' own way."""
    reach, column, best = shared
    scores = bm25._scores
    usable = best is not None and column is not None and scores is not None
    if usable and len(rows) <= lexical.ROWS_SHARE * len(scores) and bool((rows[1:] > rows[:-1]).all()):
        return column[np.searchsorted(reach, rows)].astype(np.float32), float(np.float32(best))
    return bm25.scores(terms, rows, (reach, column))
