"""The nightly batch's ranking-only path (:mod:`matching.batch_rank`) answers exactly what the live search answers.

Real parts, small: 60 generated clients and 20 vacancies (seed 11), the default model, the shipped
baseline ranker; SQLite, and PostgreSQL in the whole suite. Per list: the same records in the same
order with the same ranking score and shown score as :meth:`Matcher.search_candidates` (for a viewer
without a caseload) and :meth:`Matcher.search_vacancies`, under the learned ranker and under the kill
switch; and BM25 from a partition's terms read at once bit for bit the live BM25.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, select

from api.services import schema
from matching.batch_rank import NightlyRanking, RankedList
from matching.disclosure import EVERYONE, OUTSIDER
from matching.domain import Client, Vacancy
from matching.embedding import Embedder
from matching.matcher import Matcher
from matching.oversight_state import set_ranking_mode
from matching.ranker import WEIGHTED, load_ranker
from matching.store import make_engine
from tests.factories import app_settings, notes_artefact, notes_ranker_dir
from training.synthetic import write_streaming

Listed = list[tuple[str, float, int]]  # (item number, ranking score, shown score)


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory, module_database: str, embedder: Embedder) -> Iterator[Matcher]:
    settings = app_settings(tmp_path_factory.mktemp("batch-rank") / "var", database_url=module_database)
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    write_streaming(engine, 60, 20, seed=11, progress=False)
    found = Matcher(settings, embedder)
    found.sync()
    assert found.ranker is not None  # the shipped baseline: candidate lists are ranked by LightGBM
    yield found
    found.close()
    engine.dispose()


def _numbers(matcher: Matcher) -> tuple[dict[int, str], dict[int, str]]:
    with Session(matcher.engine) as session:
        clients = dict(session.exec(select(Client.id, Client.client_nummer)).all())  # type: ignore[arg-type]
        vacancies = dict(session.exec(select(Vacancy.id, Vacancy.vacature_nummer)).all())  # type: ignore[arg-type]
    return clients, vacancies


def _as_numbers(found: list[RankedList], numbers: dict[int, str]) -> dict[int, Listed]:
    return {
        item.owner: [
            (numbers[i], s, shown) for i, s, shown in zip(item.ids, item.ranking_scores, item.scores, strict=True)
        ]
        for item in found
    }


def _open_vacancies(matcher: Matcher) -> list[int]:
    with Session(matcher.engine) as session:
        return sorted(v.id for v in session.exec(select(Vacancy)) if v.is_open)  # type: ignore[misc]


def _live_candidates(matcher: Matcher, vacancy_ids: list[int]) -> dict[int, Listed]:
    lists = {}
    for vacancy_id in vacancy_ids:
        found = matcher.search_candidates(vacancy_id, 50, viewer=OUTSIDER)
        lists[vacancy_id] = [(r.client_id, r.ranking_score, r.score) for r in found.results]
    return lists


def test_candidate_lists_are_the_live_searchs_under_the_ranker_and_the_kill_switch(matcher: Matcher) -> None:
    clients, _ = _numbers(matcher)
    vacancies = _open_vacancies(matcher)
    ranking = NightlyRanking(matcher)
    found = ranking.candidate_lists(vacancies, 50)
    assert [item.owner for item in found] == vacancies
    assert {item.ranked_by["name"] for item in found} == {matcher.ranker.describe()["name"]}  # type: ignore[union-attr]
    live = _live_candidates(matcher, vacancies)
    assert sum(len(items) for items in live.values()) > 100
    assert _as_numbers(found, clients) == live
    with Session(matcher.engine) as session:
        set_ranking_mode(session, "transparant", "test", "de batch zonder model")
        session.commit()
    try:
        weighted = ranking.candidate_lists(vacancies, 50)
        assert {item.ranked_by["name"] for item in weighted} == {WEIGHTED["name"]}
        assert _as_numbers(weighted, clients) == _live_candidates(matcher, vacancies)
        assert _as_numbers(weighted, clients) != live  # the kill switch really changed the order
    finally:
        with Session(matcher.engine) as session:
            set_ranking_mode(session, "model", "test", "terug naar het model")
            session.commit()


def test_lists_under_a_notes_column_are_the_live_searchs_as_a_worker_reads_the_writers_values(
    matcher: Matcher, embedder: Embedder, tmp_path: Path
) -> None:
    clients, _ = _numbers(matcher)
    vacancies = _open_vacancies(matcher)
    shipped = _as_numbers(NightlyRanking(matcher).candidate_lists(vacancies, 50), clients)
    directory = notes_ranker_dir(tmp_path / "notities", notes_artefact(embedder.dimension, embedder.model_id))
    matcher.use_ranker(load_ranker(directory, "notities"))
    worker = Matcher(matcher.settings, embedder, may_write=False)  # as a batch's ListWorker: a reader
    try:
        assert matcher.notes_fill.wait(timeout=120)  # the writer fills after a promotion: every value, on disk
        assert matcher.ranker is not None and matcher.ranker.notes is not None
        with np.load(matcher.ranker.notes.values_path(matcher.settings.index_dir)) as saved:
            assert set(saved["ids"].tolist()) == set(clients)
        worker.index.prepare()
        worker.use_ranker(load_ranker(directory, "notities"))
        assert worker.notes_fill.now() == 0  # the worker reads the writer's values and computes none
        found = _as_numbers(NightlyRanking(worker).candidate_lists(vacancies, 50), clients)
        assert found == _live_candidates(matcher, vacancies)
        assert found != shipped  # the column really moved the lists
    finally:
        worker.close()
        matcher.use_ranker(None)


def test_vacancy_lists_are_the_live_searchs(matcher: Matcher) -> None:
    _, vacancies = _numbers(matcher)
    with Session(matcher.engine) as session:
        client_ids = sorted(session.exec(select(Client.id)))  # type: ignore[type-var]
    found = NightlyRanking(matcher).vacancy_lists(client_ids, 20)
    assert [item.owner for item in found] == client_ids
    live = {}
    for client_id in client_ids:
        options = matcher.search_vacancies(client_id, 20, viewer=EVERYONE)
        live[client_id] = [(r.vacancy_id, r.ranking_score, r.score) for r in options.results]
    assert sum(len(items) for items in live.values()) > 100
    assert _as_numbers(found, vacancies) == live


def test_bm25_of_a_partitions_terms_is_bit_for_bit_the_live_bm25(matcher: Matcher) -> None:
    clients, vacancies = matcher.index.arrays()
    asking, searched = matcher.index.sides["vacancies"], matcher.index.sides["clients"]
    queries = [asking.lexical_texts[int(v)] for v in vacancies.ids] + ["", "heftruck schoonmaak heftruck", "qqzz"]
    wider = np.concatenate([clients.ids, [int(clients.ids.max()) + 1]])  # an id not indexed: 0, as live
    checked = 0
    for query, terms in zip(queries, searched.lexical.asked(queries), strict=True):
        for ids in (clients.ids, wider):
            live = searched.lexical.scores_for(query, ids)
            assert np.array_equal(searched.lexical.scores_for_terms(terms, ids), live)
            checked += int(np.count_nonzero(live))
    assert checked > 100
