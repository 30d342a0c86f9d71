"""The best BM25 over every record for all owners at one place at once (:func:`matching.batch_bm25.place_best`) is
the full scatter's best (:meth:`matching.lexical.LexicalIndex.scores_by_term`), and an owner's scores read through
:func:`matching.batch_bm25.owner_scores` are the full scatter's bits, on random indexes and queries.

Real :class:`~matching.lexical.LexicalIndex` weights and queries as in ``test_batch_bm25_pruned`` (ascending terms,
and repeated, unordered, unknown and no terms), places of different sizes (one row in reach, a twentieth of the
records, every record), eligible rows a subset of the reach; the pruning's own steps forced (every term essential
or none, one probe, no cap on the records scored), and the test checks that most owners were answered here.
"""

from __future__ import annotations

import numpy as np
import pytest

from matching import batch_bm25
from matching import lexical as lexical_module
from matching.lexical import LexicalIndex, SharedBm25
from tests.matching.test_batch_bm25_pruned import _index, _queries


def _places(rng: np.random.Generator, records: int) -> list[np.ndarray]:
    return [
        np.sort(rng.choice(records, max(records // 20, 1), replace=False)),
        np.sort(rng.choice(records, 1, replace=False)),
        np.arange(records),
        np.sort(rng.choice(records, records // 3, replace=False)),
    ]


def _check(lexical: LexicalIndex, ids: np.ndarray, queries: list[np.ndarray], rng: np.random.Generator) -> int:
    """Every place's owners (the queries in groups) against the full scatter; the owners answered by place_best."""
    bm25 = SharedBm25(lexical, ids)
    answered = 0
    for reach in _places(rng, len(ids)):
        for start in range(0, len(queries), 7):
            asked = queries[start : start + 7]
            found = bm25.shared_exact(reach, asked)
            assert found is not None
            columns = list(np.ascontiguousarray(found.T))
            bests = batch_bm25.place_best(bm25, reach, asked, columns)
            for terms, column, best in zip(asked, columns, bests, strict=True):
                every = lexical.scores_by_term(terms, ids)
                if best is not None:
                    answered += 1
                    assert best == float(every.max())
                eligible = np.sort(rng.choice(reach, int(rng.integers(0, len(reach) + 1)), replace=False))
                near, highest = batch_bm25.owner_scores(bm25, terms, eligible, (reach, column, best))
                assert near.dtype == np.float32
                assert np.array_equal(near.view(np.uint32), every[eligible].view(np.uint32))
                assert highest == float(every.max())
    return answered


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_places_best_is_the_full_scatters(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lexical, ids = _index(rng, int(rng.integers(800, 3000)), int(rng.integers(200, 3000)))
    queries = _queries(rng, lexical, ids, 40)
    answered = _check(lexical, ids, queries, rng)
    assert answered > len(queries)  # of 4 places × the queries: most ascending queries with a known term


@pytest.mark.parametrize(
    ("split", "probes", "share"), [(0.0, 1, 1.0), (1.0, 1, 1.0), (1.0, 64, 1.0), (0.4, 2, 1.0), (2.0, 1, 1.0)]
)
def test_each_pruning_step_keeps_the_best(
    monkeypatch: pytest.MonkeyPatch, split: float, probes: int, share: float
) -> None:
    monkeypatch.setattr(lexical_module, "SPLIT", split)
    monkeypatch.setattr(lexical_module, "PROBES", probes)
    monkeypatch.setattr(lexical_module, "CANDIDATE_SHARE", share)
    monkeypatch.setattr(lexical_module, "ESSENTIAL_SHARE", 1.0)
    rng = np.random.default_rng(11)
    lexical, ids = _index(rng, 1500, 400)
    queries = _queries(rng, lexical, ids, 30)
    assert _check(lexical, ids, queries, rng) > len(queries)


def test_the_capped_go_the_owners_own_way(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(6)
    lexical, ids = _index(rng, 1200, 300)
    queries = _queries(rng, lexical, ids, 20)
    monkeypatch.setattr(lexical_module, "CANDIDATE_SHARE", 0.0)  # every owner with a record left to score: None
    monkeypatch.setattr(lexical_module, "PROBES", 10**6)
    _check(lexical, ids, queries, rng)
    monkeypatch.setattr(lexical_module, "ESSENTIAL_SHARE", 0.0)  # no owner answered at the place
    assert _check(lexical, ids, queries, rng) == 0


def test_no_reach_or_index_not_its_own_answers_nothing() -> None:
    rng = np.random.default_rng(4)
    lexical, ids = _index(rng, 900, 300)
    queries = _queries(rng, lexical, ids, 10)
    bm25 = SharedBm25(lexical, ids)
    assert batch_bm25.place_best(bm25, np.zeros(0, np.int64), queries, [None] * len(queries)) == [None] * len(queries)
    wider = SharedBm25(lexical, np.concatenate([ids, [int(ids.max()) + 1]]))
    reach = np.arange(10)
    columns = [np.ones(10, np.float32)] * len(queries)
    assert batch_bm25.place_best(wider, reach, queries, columns) == [None] * len(queries)
