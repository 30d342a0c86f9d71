"""The row splices of :mod:`matching.sparse_splice` against the same matrices built from every row (scipy's own
conversions), on seeded random matrices: replaced rows, appended rows, emptied rows and columns, wider shapes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from matching.sparse_splice import same_row, splice_axis, splice_columns, splice_rows


def _random(rng: np.random.Generator, rows: int, width: int, density: float) -> sparse.csr_matrix:
    matrix = sparse.random(rows, width, density=density, format="csr", dtype=np.float32, random_state=rng)
    matrix.data[:] = rng.integers(1, 5, size=matrix.nnz)
    return matrix


def _same(a: sparse.spmatrix, b: sparse.spmatrix) -> None:
    assert a.shape == b.shape and a.format == b.format
    for part in ("data", "indices", "indptr"):
        assert getattr(a, part).dtype == getattr(b, part).dtype, part
        assert np.array_equal(getattr(a, part), getattr(b, part)), part


@pytest.mark.parametrize("seed", range(6))
def test_rows_spliced_by_record_and_by_column_equal_the_matrix_stacked_anew(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, width = int(rng.integers(1, 60)), int(rng.integers(1, 40))
    old = _random(rng, n, width, 0.2)
    replaced = np.sort(rng.choice(n, size=int(rng.integers(0, n + 1)), replace=False))
    rows = np.concatenate([replaced, n + np.arange(int(rng.integers(0, 4)))])
    wider = width + int(rng.integers(0, 3))
    fresh = _random(rng, len(rows), wider, 0.3 if seed % 2 else 0.0)  # empty rows too
    whole = sparse.lil_matrix((n + len(rows) - len(replaced), wider), dtype=np.float32)
    whole[:n, :width] = old
    for at, row in enumerate(rows.tolist()):
        whole[row] = fresh[at].toarray()
    want = sparse.csr_matrix(whole.toarray())  # canonical, as scipy builds it
    _same(splice_rows(old, rows, fresh), want)
    gone_rows = np.repeat(replaced, np.diff(old[replaced].indptr))
    new_rows = np.repeat(rows, np.diff(fresh.indptr))
    got = splice_columns(
        old.tocsc(), (old[replaced].indices, gone_rows), (fresh.indices, new_rows, fresh.data), want.shape
    )
    _same(got, want.tocsc())
    assert all(same_row(want, int(row), fresh[at]) for at, row in enumerate(rows.tolist()))


def test_dense_rows_along_either_axis_and_the_appended_rows_follow_without_a_gap() -> None:
    array = np.arange(12).reshape(3, 4)
    assert np.array_equal(
        splice_axis(array, np.array([1, 3]), np.array([[9, 9, 9, 9], [7, 7, 7, 7]])),
        [[0, 1, 2, 3], [9, 9, 9, 9], [8, 9, 10, 11], [7, 7, 7, 7]],
    )
    assert np.array_equal(
        splice_axis(array, np.array([0, 4]), np.array([[5, 6], [5, 6], [5, 6]]), axis=1),
        [[5, 1, 2, 3, 6], [5, 5, 6, 7, 6], [5, 9, 10, 11, 6]],
    )
    with pytest.raises(ValueError):
        splice_axis(array, np.array([4]), np.zeros((1, 4), int))  # row 3 skipped
    assert array[1, 0] == 4  # the held array is left as it was
