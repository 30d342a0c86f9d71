"""The nightly batch's BM25 for the owners at one place (:class:`SharedBm25`), the live search's bits.

A nightly partition's owners share the rows in reach of their place (:class:`matching.batch_steps.PlaceReach`):
the exact BM25 of every owner's query at those rows comes from one sparse product instead of each owner's rows
gathered and multiplied alone, bit for bit the same (``tests/matching/test_batch_bm25_rows.py``).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from matching.lexical import Bm25Buffer


class SharedBm25(Bm25Buffer):
    """:class:`Bm25Buffer` for owners that share the rows in their reach (a nightly partition's owners at one place):
    the exact BM25 of every owner's query at those rows in one sparse product, instead of the rows gathered and
    multiplied once per owner (:meth:`matching.lexical._ByRecord.exact`); :meth:`scores` takes ``(reach, column)``
    as ``shared``.

    A row's score for a query is its row's weights × the query vector, added along the row in its order: scipy's
    ``csr_matmat`` adds, per (row, query), the same products in the same order (it skips the terms the query does
    not ask, where ``csr_matvec`` adds a zero, which leaves a sum as it is), so the same bits;
    ``tests/matching/test_batch_bm25_rows.py`` holds :meth:`scores` given :meth:`shared_exact`'s columns to
    :meth:`scores` without them on random indexes.
    """

    def shared_exact(self, reach: np.ndarray, queries: list[np.ndarray]) -> np.ndarray | None:
        """The exact BM25 (the index's precision) of each query of ``queries`` at the rows ``reach`` (ascending, each
        once): a column per query; None where the reading by record does not apply (then :meth:`scores` decides)."""
        by_record = self._by_record
        if by_record is None or self._scores is None or not len(reach) or not queries:
            return None
        at, owner, values = [], [], []
        for position, asked in enumerate(queries):
            terms = np.asarray(asked)
            if len(terms) > 1 and not bool((terms[1:] > terms[:-1]).all()):
                continue  # the full scatter's way (:meth:`_ByRecord.read`): this column is not read
            present = terms[by_record.lengths[terms] > 0]
            at.append(np.searchsorted(by_record.held, present))
            owner.append(np.full(len(present), position))
            values.append(by_record.idf[present])
        if not at:
            return None
        kind = by_record.query.dtype
        asked_by = sparse.csr_matrix(
            (np.concatenate(values).astype(kind), (np.concatenate(at), np.concatenate(owner))),
            shape=(len(by_record.held), len(queries)),
        )
        return (by_record.gathered(reach) @ asked_by).toarray()
