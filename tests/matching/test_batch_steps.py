"""The nightly batch's reorganised step 1 and BM25 (:mod:`matching.batch_steps`) answer bit for bit what the
parts they replace answer: :func:`matching.hard_filters.candidate_eligible` and
:func:`~matching.hard_filters.vacancy_eligible` (themselves held to the live step 1 in
``test_batch_rank_parts.py``), and :meth:`matching.lexical.LexicalIndex.scores_by_term` with its best.

Real parts, small: 120 generated clients and 40 vacancies (seed 23) in the ten gemeenten of the region, so
places are shared and reaches overlap; SQLite, and PostgreSQL in the whole suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from api.services import schema
from matching import batch_steps, hard_filters
from matching.embedding import Embedder
from matching.lexical import Bm25Buffer
from matching.matcher import Matcher
from matching.store import make_engine
from tests.factories import app_settings
from training.synthetic import write_streaming


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory, module_database: str, embedder: Embedder) -> Iterator[Matcher]:
    settings = app_settings(tmp_path_factory.mktemp("batch-steps") / "var", database_url=module_database)
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    write_streaming(engine, 120, 40, seed=23, progress=False)
    found = Matcher(settings, embedder)
    found.sync()
    found.index.catch_up()
    yield found
    found.close()
    engine.dispose()


def _same(found: hard_filters.Eligible, live: hard_filters.Eligible) -> None:
    assert found.eligible.dtype == live.eligible.dtype and np.array_equal(found.eligible, live.eligible)
    for mine, theirs in ((found.fit, live.fit), (found.structured, live.structured)):
        assert list(mine) == list(theirs)
        for name, values in mine.items():
            assert values.dtype == theirs[name].dtype and np.array_equal(values, theirs[name]), name


def test_step_one_kept_before_sorting_is_the_batchs_step_one(matcher: Matcher) -> None:
    clients, vacancies = matcher.index.arrays()
    eligible, empty = 0, 0
    for v_row in range(len(vacancies.ids)):
        found = batch_steps.candidate_eligible(clients, vacancies, v_row)
        _same(found, hard_filters.candidate_eligible(clients, vacancies, v_row))
        eligible, empty = eligible + len(found.eligible), empty + (not len(found.eligible))
    for c_row in range(len(clients.ids)):
        found = batch_steps.vacancy_eligible(clients, c_row, vacancies)
        _same(found, hard_filters.vacancy_eligible(clients, c_row, vacancies))
        eligible, empty = eligible + len(found.eligible), empty + (not len(found.eligible))
    assert eligible > 1000 and empty < len(vacancies.ids) + len(clients.ids)


def test_bm25_in_one_buffer_is_bit_for_bit_the_batchs_bm25_and_its_best(matcher: Matcher) -> None:
    clients, vacancies = matcher.index.arrays()
    checked = 0
    for asking, searched, ids in (("vacancies", "clients", clients.ids), ("clients", "vacancies", vacancies.ids)):
        lexical = matcher.index.sides[searched].lexical  # type: ignore[index]
        owners = (vacancies if asking == "vacancies" else clients).ids.tolist()
        queries = [*matcher.index.sides[asking].lexical.terms_of(owners)]  # type: ignore[index]
        queries += lexical.asked(["", "heftruck schoonmaak heftruck", "qqzz"])
        wider = np.concatenate([ids, [int(ids.max()) + 1]])  # an id not indexed: the index's own way
        for every in (ids, wider):
            buffer = Bm25Buffer(lexical, every)
            assert (buffer._scores is not None) == (every is ids)
            rng = np.random.default_rng(5)
            for terms in queries:
                rows = np.sort(rng.choice(len(every), size=len(every) // 3, replace=False))
                live = lexical.scores_by_term(terms, every)
                found, best = buffer.scores(terms, rows)
                assert found.dtype == live.dtype and np.array_equal(found, live[rows])
                assert best == (float(live.max()) if len(live) else 0.0)
                checked += int(np.count_nonzero(found))
    assert checked > 1000
