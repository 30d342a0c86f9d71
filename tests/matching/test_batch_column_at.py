"""The nightly step 1's column reading (issue 16 item 4) gives the values of the part it replaces, on seeded arrays:
:func:`matching.batch_steps._column_at` reads an occupation's column as :func:`matching.scoring._column_values` does.

No database, no model: step 1 per place against the live step 1 is ``test_batch_steps.py``; the national world's
check is ``bench/batch_match_place.py`` (every list the same).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from matching import batch_steps, scoring


@pytest.mark.parametrize("seed", range(4))
def test_a_column_read_by_its_stored_rows_is_the_column_read_by_every_row(seed: int) -> None:
    random = np.random.default_rng(seed)
    n, columns = 4000, 12
    dense = np.where(random.random((n, columns)) > 0.9, random.uniform(0.5, 9, (n, columns)), 0).astype(np.float32)
    dense[:, 3] = 0  # a column nobody has
    by_column = sparse.csc_matrix(dense)
    for rows in (np.arange(n), np.sort(random.choice(n, 900, replace=False)), np.arange(0), np.array([n - 1])):
        for column in (-1, 0, 3, 7, columns - 1, columns):
            found = batch_steps._column_at(by_column, column, rows)
            before = scoring._column_values(by_column, column, rows)
            assert found.dtype == before.dtype and np.array_equal(found, before)
    assert np.count_nonzero(batch_steps._column_at(by_column, 0, np.arange(n))) > 100
