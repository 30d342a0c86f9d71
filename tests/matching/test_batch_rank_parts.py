"""The parts the nightly batch computes its own way answer exactly what the live search's parts answer.

An owner's BM25 terms read from its own row of the index (:meth:`LexicalIndex.terms_of`) instead of
rendering and analysing its text again; BM25 added term by term (:meth:`LexicalIndex.scores_by_term`);
step 1 on the records within reach (:func:`matching.hard_filters.candidate_eligible`,
:func:`~matching.hard_filters.vacancy_eligible`) against :func:`~matching.hard_filters.candidate_reach` and
:func:`~matching.hard_filters.vacancy_reach`.

Real parts, small: 60 generated clients and 20 vacancies (seed 11); SQLite, and PostgreSQL in the whole suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlmodel import Session, select

from api.services import schema
from matching import hard_filters
from matching.domain import Vacancy, utcnow
from matching.embedding import Embedder
from matching.matcher import Matcher
from matching.store import make_engine
from tests.factories import app_settings
from training.synthetic import write_streaming


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory, module_database: str, embedder: Embedder) -> Iterator[Matcher]:
    settings = app_settings(tmp_path_factory.mktemp("batch-terms") / "var", database_url=module_database)
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    write_streaming(engine, 60, 20, seed=11, progress=False)
    found = Matcher(settings, embedder)
    found.sync()
    yield found
    found.close()
    engine.dispose()


def _asked(matcher: Matcher, side: str, ids: list[int]) -> list[np.ndarray]:
    state = matcher.index.sides[side]  # type: ignore[index]
    return state.lexical.asked([state.lexical_texts[key] for key in ids])


def test_an_indexed_records_terms_are_the_terms_of_its_text(matcher: Matcher) -> None:
    matcher.index.catch_up()
    clients, vacancies = matcher.index.arrays()
    for side, ids in (("clients", clients.ids.tolist()), ("vacancies", vacancies.ids.tolist())):
        found = matcher.index.sides[side].lexical.terms_of(ids)  # type: ignore[index]
        assert len(found) == len(ids) > 10
        for terms, asked in zip(found, _asked(matcher, side, ids), strict=True):
            assert terms is not None and np.array_equal(terms, asked)
    missing = int(clients.ids.max()) + 1
    assert matcher.index.sides["clients"].lexical.terms_of([missing, int(clients.ids[0])])[0] is None


def test_a_changed_records_terms_follow_its_new_text(matcher: Matcher) -> None:
    with Session(matcher.engine) as session:
        vacancy = session.exec(select(Vacancy).order_by(Vacancy.id)).first()  # type: ignore[arg-type]
        assert vacancy is not None
        [before] = matcher.index.sides["vacancies"].lexical.terms_of([int(vacancy.id)])  # type: ignore[arg-type]
        vacancy.titel = "Heftruckchauffeur koelcel nachtdienst"
        vacancy.updated_at = utcnow()
        session.add(vacancy)
        session.commit()
        changed = int(vacancy.id)  # type: ignore[arg-type]
    matcher.index.catch_up()
    [terms] = matcher.index.sides["vacancies"].lexical.terms_of([changed])
    [asked] = _asked(matcher, "vacancies", [changed])
    assert terms is not None and np.array_equal(terms, asked)
    assert before is not None and not np.array_equal(terms, before)  # the index holds the new text


def test_bm25_added_term_by_term_is_bit_for_bit_the_live_bm25(matcher: Matcher) -> None:
    clients, vacancies = matcher.index.arrays()
    asking, searched = matcher.index.sides["vacancies"], matcher.index.sides["clients"]
    queries = [asking.lexical_texts[int(v)] for v in vacancies.ids] + ["", "heftruck schoonmaak heftruck", "qqzz"]
    wider = np.concatenate([clients.ids, [int(clients.ids.max()) + 1]])  # an id not indexed: 0, as live
    checked = 0
    for query, terms in zip(queries, searched.lexical.asked(queries), strict=True):
        for ids in (clients.ids, wider):
            live = searched.lexical.scores_for(query, ids)
            found = searched.lexical.scores_by_term(terms, ids)
            assert found.dtype == live.dtype and np.array_equal(found, live)
            checked += int(np.count_nonzero(live))
    assert checked > 100


def _same(found: hard_filters.Eligible, reach: hard_filters.Reach) -> None:
    assert np.array_equal(found.eligible, reach.eligible)
    for mine, theirs in ((found.fit, reach.fit), (found.structured, reach.structured)):
        assert list(mine) == list(theirs)
        for name, values in mine.items():
            assert values.dtype == theirs[name].dtype and np.array_equal(values, theirs[name]), name


def test_step_one_within_reach_is_the_live_step_one(matcher: Matcher) -> None:
    matcher.index.catch_up()
    clients, vacancies = matcher.index.arrays()
    nobody = np.zeros(len(clients.ids), bool)
    eligible = 0
    for v_row in range(len(vacancies.ids)):
        found = hard_filters.candidate_eligible(clients, vacancies, v_row)
        _same(found, hard_filters.candidate_reach(clients, vacancies, v_row, hard_filters.NO_FILTERS, nobody))
        eligible += len(found.eligible)
    for c_row in range(len(clients.ids)):
        found = hard_filters.vacancy_eligible(clients, c_row, vacancies)
        _same(found, hard_filters.vacancy_reach(clients, c_row, vacancies))
        eligible += len(found.eligible)
    assert eligible > 200
