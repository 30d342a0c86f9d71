"""The nightly batch's BM25 for the owners at one place (:class:`SharedBm25`), the live search's bits.

A nightly partition's owners share the rows in reach of their place (:class:`matching.batch_steps.PlaceReach`):
the exact BM25 of every owner's query at those rows comes from one sparse product, and each owner's MaxScore
(the best over every record, which scales the ranker's lexical feature: :meth:`matching.lexical.PrunedBm25._best`)
starts from the best of those exact scores, not only its eligible rows', and from each asked term's top record
(the record with the term's largest weight): a higher start leaves fewer terms essential, so fewer columns are
added over every record. The answer is still the largest exact score over every record, bit for bit
(``tests/matching/test_batch_bm25_pruned.py``).
"""

from __future__ import annotations

import weakref

import numpy as np
from scipy import sparse

from matching.bm25_maxscore import PrunedBm25
from matching.lexical import Bm25Buffer, LexicalIndex

# per reading of an index's weights (made once per weights, :meth:`matching.lexical.PrunedBm25.of`): its terms' tops
_TOPS: weakref.WeakKeyDictionary[PrunedBm25, np.ndarray] = weakref.WeakKeyDictionary()


def term_tops(pruned: PrunedBm25, weights: sparse.csc_matrix) -> np.ndarray:
    """Per term (column of ``weights``, the weights ``pruned`` reads), the record (row) with its largest weight, 0
    for a term no record holds; made once per reading (a pass over every posting: the batch's, not the live
    search's first search after a change)."""
    found = _TOPS.get(pruned)
    if found is None:
        found = np.zeros(len(pruned.lengths), weights.indices.dtype)
        if len(pruned.held):
            starts = weights.indptr[pruned.held]
            largest = np.repeat(pruned.highest[pruned.held], pruned.lengths[pruned.held])
            hit = np.flatnonzero(weights.data == largest)  # in each held column at least its largest
            found[pruned.held] = weights.indices[hit[np.searchsorted(hit, starts)]]
        _TOPS[pruned] = found
    return found


class SharedBm25(Bm25Buffer):
    """:class:`Bm25Buffer` for owners that share the rows in their reach (a nightly partition's owners at one place):
    the exact BM25 of every owner's query at those rows in one sparse product, instead of the rows gathered and
    multiplied once per owner (:meth:`PrunedBm25.exact`), and MaxScore started from their best and the asked terms'
    tops (:meth:`matching.lexical.PrunedBm25._known`: :meth:`scores` takes ``(reach, column, tops)`` as ``shared``).

    A row's score for a query is its row's weights × the query vector, added along the row in its order: scipy's
    ``csr_matmat`` adds, per (row, query), the same products in the same order (it skips the terms the query does
    not ask, where ``csr_matvec`` adds a zero, which leaves a sum as it is), so the same bits;
    ``tests/matching/test_batch_bm25_pruned.py`` holds :meth:`scores` given :meth:`shared_exact`'s columns to
    :meth:`scores` without them on random indexes.
    """

    def __init__(self, lexical: LexicalIndex, ids: np.ndarray) -> None:
        super().__init__(lexical, ids)
        weights = lexical._weights
        # per term, the record with its largest weight (none without the pruned reading: then no query reads them)
        pruned = self._pruned
        self.tops = term_tops(pruned, weights) if pruned is not None and weights is not None else np.zeros(0, np.int32)

    def shared_exact(self, reach: np.ndarray, queries: list[np.ndarray]) -> np.ndarray | None:
        """The exact BM25 (the index's precision) of each query of ``queries`` at the rows ``reach`` (ascending, each
        once): a column per query; None where the pruned reading does not apply (then :meth:`scores` decides)."""
        pruned = self._pruned
        if pruned is None or self._scores is None or not len(reach) or not queries:
            return None
        at, owner, values = [], [], []
        for position, asked in enumerate(queries):
            terms = np.asarray(asked)
            if len(terms) > 1 and not bool((terms[1:] > terms[:-1]).all()):
                continue  # the full scatter's way (:meth:`PrunedBm25.read`): this column is not read
            present = terms[pruned.lengths[terms] > 0]
            at.append(np.searchsorted(pruned.held, present))
            owner.append(np.full(len(present), position))
            values.append(pruned.idf[present])
        if not at:
            return None
        kind = pruned.query.dtype
        asked_by = sparse.csr_matrix(
            (np.concatenate(values).astype(kind), (np.concatenate(at), np.concatenate(owner))),
            shape=(len(pruned.held), len(queries)),
        )
        return (pruned.gathered(reach) @ asked_by).toarray()
