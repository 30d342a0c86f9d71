"""BM25's weights by record as the pruned reading (:class:`matching.bm25_maxscore.PrunedBm25`) reads them: a row per
record, its terms ascending and numbered among the terms some record holds.

After a change of words every weight changes (each depends on the average length), so making every record's
weights and numbered terms again was a pass over every posting (about 0.15 s at national size, 20 M postings) on
the first search after any change. :class:`RecordRows` weighs only the rows a search gathers, from the term
frequencies by record and each record's length normalisation, until it weighed as many postings as the index holds;
then (or at once for the nightly batch, which gathers many rows many times) it makes every record's and reads
those. The same formula on the same numbers in the same precision: the same bits either way (:func:`weighed`,
``tests/matching/test_lexical_splice.py``).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import _sparsetools

K1 = 1.2
B = 0.75


def weighed(tf: np.ndarray, norm: np.ndarray, own: bool = False) -> np.ndarray:
    """``tf · (K1 + 1) / (tf + norm)`` per entry (BM25's weight; ``norm``: its record's length normalisation), in
    one buffer: the same number for an entry whichever order (by record or by term) the entries come in.
    ``own``: ``tf`` is the caller's to overwrite (no buffer for ``tf · (K1 + 1)``)."""
    out = np.add(tf, norm)
    scaled = np.multiply(tf, K1 + 1, out=tf) if own else tf * (K1 + 1)
    return np.divide(scaled, out, out=out)


class RecordRows:
    """Every record's BM25 weights and numbered terms, from ``by_record`` (CSR, each row's columns ascending): the
    weights themselves (``norm`` None) or the term frequencies, weighed with ``norm`` (a value per record).
    ``numbered``: each column's number among the held columns."""

    def __init__(self, by_record: sparse.csr_matrix, numbered: np.ndarray, norm: np.ndarray | None) -> None:
        self.ptr, self.norm, self.numbered = by_record.indptr, norm, numbered
        self._terms, self._values = by_record.indices, by_record.data
        self._numbered_terms: np.ndarray | None = None  # made on first use
        self._weights: np.ndarray | None = None if norm is not None else by_record.data
        self.weighed_here = 0  # postings gathered and weighed by :meth:`gather` before every one's was made

    @property
    def made(self) -> bool:
        """Whether every record's weights and numbered terms are made (then :meth:`gather` reads those)."""
        return self._numbered_terms is not None and self._weights is not None

    @property
    def terms(self) -> np.ndarray:
        """Every record's terms, numbered (row after row; made once, on first use)."""
        if self._numbered_terms is None:
            self._numbered_terms = self.numbered[self._terms]
        return self._numbered_terms

    @property
    def weights(self) -> np.ndarray:
        """Every record's weights (row after row, beside :attr:`terms`; made once, on first use)."""
        if self._weights is None:
            assert self.norm is not None
            self._weights = weighed(self._values, np.repeat(self.norm, np.diff(self.ptr)))
        return self._weights

    def make(self) -> None:
        """Make every record's weights and numbered terms now (the batch: many rows gathered many times)."""
        _ = (self.terms, self.weights)

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The CSR parts (row pointers, numbered terms, weights) at ``rows``: read from every record's where those
        are made, else weighed here from the gathered term frequencies; every record's are made once as many
        postings were weighed here as the index holds (they cost about one such pass: the searches right after a
        change weigh their rows, a run of searches without a change reads them)."""
        rows = rows.astype(self.ptr.dtype, copy=False)
        ptr = np.zeros(len(rows) + 1, self.ptr.dtype)
        np.cumsum(self.ptr[rows + 1] - self.ptr[rows], out=ptr[1:])
        count = int(ptr[-1])
        if not self.made and self.weighed_here + count > len(self._terms):
            self.make()
        made = self.made
        if not made:
            self.weighed_here += count
        terms_of, values_of = (self.terms, self.weights) if made else (self._terms, self._values)
        terms, values = np.empty(count, terms_of.dtype), np.empty(count, values_of.dtype)
        _sparsetools.csr_row_index(len(rows), rows, self.ptr, terms_of, values_of, terms, values)
        if made:
            return ptr, terms, values
        if self.norm is not None:
            values = weighed(values, np.repeat(self.norm[rows], np.diff(ptr)), own=True)
        return ptr, self.numbered[terms], values
