"""Changing a few rows of row-indexed arrays without rebuilding them: new arrays, the old ones left as they are.

A saved record replaces its row (or, with an id above every held id, is appended as the last row) in the
structured arrays (:mod:`matching.structured`), their lookups and BM25's term frequencies
(:mod:`matching.lexical`). Rebuilding those from every record cost about 2 s at national size (400,000
clients) on the first search after any save. Here each kind of array takes the changed rows in one
vectorised pass of copies: a dense array along an axis, a sparse matrix by row (CSR) or by column (CSC,
each column's rows ascending). The results equal the arrays built from scratch bit for bit (the same
values in the same order; ``tests/matching/test_sparse_splice.py``). Nothing is written into an array a
reader may hold: every function returns new arrays.

Rows are given as ``rows``: ascending, each once; those below the current row count replace that row,
the others must be exactly the next rows (``n, n + 1, …``: appended).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


def appended_count(n: int, rows: np.ndarray) -> int:
    """How many of ``rows`` are appended after the ``n`` held rows (checked to be ``n, n + 1, …``)."""
    extra = rows[rows >= n]
    if len(extra) and not np.array_equal(extra, np.arange(n, n + len(extra))):
        raise ValueError("appended rows must follow the held rows without a gap")
    return len(extra)


def splice_axis(array: np.ndarray, rows: np.ndarray, values: np.ndarray, axis: int = 0) -> np.ndarray:
    """A copy of ``array`` with ``values`` (one slice per row of ``rows``, along ``axis``) at ``rows``."""
    n = array.shape[axis]
    shape = list(array.shape)
    shape[axis] = n + appended_count(n, rows)
    out = np.empty(shape, array.dtype)
    head = [slice(None)] * array.ndim
    head[axis] = slice(0, n)
    out[tuple(head)] = array
    at = [slice(None)] * array.ndim
    at[axis] = rows  # type: ignore[call-overload]
    out[tuple(at)] = values
    return out


def same_row(matrix: sparse.csr_matrix, row: int, other: sparse.csr_matrix) -> bool:
    """Whether row ``row`` of ``matrix`` holds exactly the entries of the one-row ``other``, in the same order."""
    start, end = int(matrix.indptr[row]), int(matrix.indptr[row + 1])
    return np.array_equal(matrix.indices[start:end], other.indices) and np.array_equal(
        matrix.data[start:end], other.data.astype(matrix.dtype, copy=False)
    )


def _index_dtype(*arrays: np.ndarray) -> type:
    """int32 when every value fits (what scipy keeps for such a matrix), else int64."""
    top = max((int(part.max()) for part in arrays if len(part)), default=0)
    return np.int32 if top <= np.iinfo(np.int32).max else np.int64


def splice_rows(matrix: sparse.csr_matrix, rows: np.ndarray, changed: sparse.csr_matrix) -> sparse.csr_matrix:
    """``matrix`` (CSR) with row ``i`` of ``changed`` as row ``rows[i]``; the width is the larger of the two.

    Each row keeps its entries in their own order, as a vertical stack of the same rows would.
    """
    n = matrix.shape[0]
    total = n + appended_count(n, rows)
    old_ptr, new_ptr = matrix.indptr, changed.indptr
    lengths = np.zeros(total, np.int64)
    lengths[:n] = np.diff(old_ptr)
    lengths[rows] = np.diff(new_ptr)
    replaced = rows[rows < n]
    kept_from = np.concatenate([[0], old_ptr[replaced + 1]])
    kept_to = np.concatenate([old_ptr[replaced], [old_ptr[n]]])
    data, indices = [], []
    for at in range(len(replaced) + 1):
        data.append(matrix.data[kept_from[at] : kept_to[at]])
        indices.append(matrix.indices[kept_from[at] : kept_to[at]])
        if at < len(replaced):
            data.append(changed.data[new_ptr[at] : new_ptr[at + 1]])
            indices.append(changed.indices[new_ptr[at] : new_ptr[at + 1]])
    data.append(changed.data[new_ptr[len(replaced)] :])
    indices.append(changed.indices[new_ptr[len(replaced)] :])
    width = max(matrix.shape[1], changed.shape[1])
    kind = _index_dtype(np.array([width, int(lengths.sum())]))
    indptr = np.zeros(total + 1, kind)
    np.cumsum(lengths, out=indptr[1:])
    joined = np.concatenate(indices).astype(kind, copy=False)
    values = np.concatenate(data).astype(matrix.dtype, copy=False)
    return sparse.csr_matrix((values, joined, indptr), shape=(total, width))


def _positions(indptr: np.ndarray, indices: np.ndarray, columns: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per (column, row): where ``row`` is, or would go, among its column's rows (ascending): a binary search in
    every column at once."""
    low = indptr[columns].astype(np.int64)
    high = indptr[columns + 1].astype(np.int64)
    if not len(indices):
        return low
    while True:
        open_ = low < high
        if not open_.any():
            return low
        middle = (low + high) // 2
        below = open_ & (indices[np.minimum(middle, len(indices) - 1)] < rows)
        low = np.where(below, middle + 1, low)
        high = np.where(open_ & ~below, middle, high)


def splice_sorted(
    indptr: np.ndarray,
    indices: np.ndarray,
    values: list[np.ndarray],
    gone: tuple[np.ndarray, np.ndarray],
    new: tuple[np.ndarray, np.ndarray, list[np.ndarray]],
    width: int,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Compressed columns (``indptr``, ``indices``: each column's rows ascending, ``values`` beside them) without
    the entries ``gone`` (columns, rows: each held) and with the entries ``new`` (columns, rows, values), over
    ``width`` columns (at least the old count): the new ``indptr`` (int64), ``indices`` and ``values``."""
    gone_columns, gone_rows = (np.asarray(part, np.int64) for part in gone)
    new_columns, new_rows = (np.asarray(part, np.int64) for part in new[:2])
    if width > len(indptr) - 1:
        indptr = np.concatenate([indptr, np.full(width - (len(indptr) - 1), indptr[-1], indptr.dtype)])
    dropped = _positions(indptr, indices, gone_columns, gone_rows)
    if len(dropped) and not (
        bool((dropped < indptr[gone_columns + 1]).all()) and np.array_equal(indices[dropped], gone_rows)
    ):
        raise ValueError("an entry to remove is not held")
    dropped = np.sort(dropped)
    order = np.lexsort((new_rows, new_columns))
    new_columns, new_rows = new_columns[order], new_rows[order]
    at = _positions(indptr, indices, new_columns, new_rows)  # each goes before the entry there (dropped or not)
    counts = np.diff(indptr).astype(np.int64)
    counts -= np.bincount(gone_columns, minlength=width)
    counts += np.bincount(new_columns, minlength=width)
    pointers = np.zeros(width + 1, np.int64)
    np.cumsum(counts, out=pointers[1:])
    added = [new_rows] + [np.asarray(part)[order] for part in new[2]]
    out = [_edited(part, dropped, at, extra) for part, extra in zip([indices, *values], added, strict=True)]
    return pointers, out[0], out[1:]


def _edited(part: np.ndarray, dropped: np.ndarray, at: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """``part`` without the entries at ``dropped`` and with ``extra[i]`` before the entry at ``at[i]`` (both
    ascending, positions in ``part``): one copy, in pieces (what ``np.delete`` then ``np.insert`` do in two)."""
    extra = extra.astype(part.dtype, copy=False)
    gone = set(dropped.tolist())
    pieces, previous, taken = [], 0, 0
    for position in np.union1d(dropped, at).tolist():
        upto = int(np.searchsorted(at, position, side="right"))
        pieces += [part[previous:position], extra[taken:upto]]
        previous, taken = position + (position in gone), upto
    pieces += [part[previous:], extra[taken:]]
    return np.concatenate(pieces)


def splice_columns(
    matrix: sparse.csc_matrix,
    gone: tuple[np.ndarray, np.ndarray],
    new: tuple[np.ndarray, np.ndarray, np.ndarray],
    shape: tuple[int, int],
) -> sparse.csc_matrix:
    """``matrix`` (CSC, each column's rows ascending) without the entries ``gone`` (columns, rows: each held)
    and with the entries ``new`` (columns, rows, values), as ``shape`` (at least the old one)."""
    pointers, indices, (data,) = splice_sorted(
        matrix.indptr, matrix.indices, [matrix.data], gone, (new[0], new[1], [new[2]]), shape[1]
    )
    kind = _index_dtype(np.array([max(shape), int(pointers[-1])]))
    return sparse.csc_matrix((data, indices.astype(kind, copy=False), pointers.astype(kind)), shape=shape)


@dataclass(frozen=True)
class TermCounts:
    """BM25's counts of one side (:class:`matching.lexical.LexicalIndex`): the ids (ascending), the term
    frequencies by record (CSR) and by term (CSC, canonical), each record's length and each term's document
    count."""

    ids: np.ndarray
    by_record: sparse.csr_matrix
    by_term: sparse.csc_matrix
    lengths: np.ndarray
    df: np.ndarray

    def spliced(self, rows_by_id: dict[int, sparse.csr_matrix | None]) -> TermCounts | None:
        """These counts with each id's row of term frequencies in ``rows_by_id`` replacing its row, or appended
        when the id is above every held id; None where an id is removed (None) or falls among the held ids."""
        if any(row is None for row in rows_by_id.values()) or not len(self.ids) or not rows_by_id:
            return None
        keys = np.sort(np.fromiter(rows_by_id, np.int64, len(rows_by_id)))
        ids, n = self.ids, len(self.ids)
        rows = np.searchsorted(ids, keys)
        known = rows < n
        known[known] = ids[rows[known]] == keys[known]
        if not bool((known | (keys > ids[-1])).all()):
            return None
        rows[~known] = n + np.arange(int((~known).sum()))
        fresh = sparse.vstack([rows_by_id[key] for key in keys.tolist()], format="csr", dtype=self.by_record.dtype)
        fresh.sum_duplicates()
        old = self.by_record[rows[known]]
        old_terms, new_terms = old.indices.astype(np.int64), fresh.indices.astype(np.int64)
        gone = (old_terms, np.repeat(rows[known], np.diff(old.indptr)))
        new = (new_terms, np.repeat(rows, np.diff(fresh.indptr)), fresh.data)
        shape = (n + appended_count(n, rows), self.by_term.shape[1])
        df = self.df.copy()
        np.subtract.at(df, old_terms, 1)
        np.add.at(df, new_terms, 1)
        by_term = splice_columns(self.by_term, gone, new, shape)
        # each new entry is a record's own term once: a canonical matrix stays canonical (no O(nnz) check)
        by_term.has_canonical_format = bool(self.by_term.has_canonical_format)
        by_record = splice_rows(self.by_record, rows, fresh)
        by_record.has_canonical_format = bool(self.by_record.has_canonical_format and fresh.has_canonical_format)
        return TermCounts(
            splice_axis(ids, rows, keys),
            by_record,
            by_term,
            splice_axis(self.lengths, rows, np.asarray(fresh.sum(axis=1)).ravel()),
            df,
        )
