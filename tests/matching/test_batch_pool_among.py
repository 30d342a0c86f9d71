"""The nightly batch's step 2 (:func:`matching.batch_rank._pool_among`) is the live search's
(:func:`matching.pipeline.pool_among`) bit for bit: the same pool rows, raw text values and signals, on random
eligible rows with records not embedded, BM25 mostly 0, structured fits full of ties, pools larger than the
eligible rows and a query that no record's words meet; and with the rare-identifier gate (a query holding
identifiers, one negating one: :class:`matching.identifier_query.GateQuery`), open and closed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matching import batch_rank, pipeline
from matching.identifier_query import GateQuery
from matching.identifier_side import HeldRows

NAMES = ["cert:ept", "cert:vca", "rijbewijs:ce", "taal:b1"]


def _owner(
    random: np.random.Generator, size: int, tied: bool
) -> tuple[np.ndarray, dict, batch_rank._Dense, np.ndarray]:
    eligible = np.sort(random.choice(50_000, size, replace=False)).astype(np.int32)
    embedded = np.flatnonzero(random.random(size) < 0.9)
    cosines = np.zeros(size, np.float32)
    cosines[embedded] = random.normal(0.8, 0.05, len(embedded))
    lexical = np.where(random.random(size) < 0.7, 0.0, random.exponential(3.0, size)).astype(np.float32)
    structured = {
        "competences": random.integers(0, 5, size) / 4,
        "occupation": random.choice([0.0, 0.7, 1.0], size),
        "distance": random.random(size),
    }
    if tied:
        cosines[embedded] = np.round(cosines[embedded], 2)
        lexical = np.round(lexical, 0)
    return eligible, structured, batch_rank._Dense(eligible, cosines, embedded), lexical


def _same(found: pipeline.Pool, expected: pipeline.Pool) -> None:
    for name in ("rows", "dense_raw", "lexical_raw"):
        got, want = getattr(found, name), getattr(expected, name)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), name
    assert found.signals.keys() == expected.signals.keys()
    for name, want in expected.signals.items():
        got = found.signals[name]
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), name


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("size", [0, 1, 150, 300, 301, 700, 3000])
def test_the_batch_pool_is_the_live_pool_bit_for_bit(size: int, tied: bool) -> None:
    random = np.random.default_rng(size + tied)
    for pool_size in (20, 300):
        eligible, structured, dense, lexical = _owner(random, size, tied)
        for highest in (float(lexical.max(initial=0.0)) * 1.5, 0.0):
            lexical_at = lexical if highest > 0 else np.zeros_like(lexical)
            expected = pipeline.pool_among(eligible, structured, dense, lexical_at, highest, pool_size)  # type: ignore[arg-type]
            found = batch_rank._pool_among(eligible, structured, dense, lexical_at, highest, pool_size)
            _same(found, expected)


def _gate(random: np.random.Generator, rows: int = 50_000) -> GateQuery:
    """A query holding EPT (rare: about 2 % of the records hold it) and VCA, negating CE; identifier BM25 and the
    negation-free BM25 as fixed functions of the row, held identifiers drawn per row."""
    held = [
        np.flatnonzero(random.random(len(NAMES)) < np.array([0.02, 0.3, 0.2, 0.4])).astype(np.int32)
        for _ in range(rows)
    ]
    identifier = np.where(random.random(rows) < 0.1, random.exponential(4.0, rows), 0.0).astype(np.float32)
    identifier[[h.tolist()[:1] == [0] for h in held]] += 20  # EPT's holders lead the identifier BM25
    free = np.where(random.random(rows) < 0.3, random.exponential(3.0, rows), 0.0).astype(np.float32)

    def held_by(at: np.ndarray) -> HeldRows:
        parts = [held[row] for row in at.tolist()]
        indptr = np.concatenate([[0], np.cumsum([len(part) for part in parts])]).astype(np.int64)
        indices = np.concatenate(parts) if parts else np.zeros(0, np.int32)
        return HeldRows(indptr, indices, NAMES)

    return GateQuery(
        frozenset({"cert:ept", "cert:vca"}),
        frozenset({"rijbewijs:ce"}),
        lambda at: identifier[at],
        held_by,
        lambda at: free[at],
    )


@pytest.mark.parametrize("size", [0, 1, 150, 700, 3000])
def test_the_batch_pool_is_the_live_pool_bit_for_bit_with_identifiers(size: int) -> None:
    random = np.random.default_rng(size + 41)
    gate = _gate(random)
    for pool_size in (20, 300):
        eligible, structured, dense, lexical = _owner(random, size, tied=False)
        dense = dataclasses.replace(dense, gate=gate)
        highest = float(lexical.max(initial=0.0)) * 1.5
        expected = pipeline.pool_among(eligible, structured, dense, lexical, highest, pool_size)  # type: ignore[arg-type]
        found = batch_rank._pool_among(eligible, structured, dense, lexical, highest, pool_size)
        _same(found, expected)
