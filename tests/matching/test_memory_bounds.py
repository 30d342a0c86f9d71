"""What a serving process holds (issue 16, item 3): digests instead of texts, sides read a chunk at a time.

Reading in chunks must change nothing a search sees: the same arrays, the same BM25 scores, the same
lists as one read of every row.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from scipy import sparse
from sqlmodel import Session, select

from matching import side_state
from matching.domain import Client, Vacancy
from matching.index_sync import digest
from matching.lexical import LexicalIndex
from matching.matcher import Matcher
from matching.structured import ClientArrays, VacancyArrays, Vocabularies
from tests.factories import SCHOONMAAKWERK, SCHOONMAKER, make_client, make_vacancy


@pytest.fixture
def world(settings, embedder) -> Matcher:
    """Seven clients and five vacancies with different codes, so the vocabularies grow from chunk to chunk."""
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        for number in range(7):
            extra = (
                SCHOONMAKER if number % 2 else {"zelfbeschrijving": f"Profiel {number}: orderpicker in een magazijn."}
            )
            make_client(session, client_nummer=f"K-{number}", **extra)
        for number in range(5):
            extra = SCHOONMAAKWERK if number % 2 else {}
            make_vacancy(session, vacature_nummer=f"V-{number}", **extra)
    return matcher


def _same_arrays(left: object, right: object) -> None:
    for item in fields(left):  # type: ignore[arg-type]
        a, b = getattr(left, item.name), getattr(right, item.name)
        if sparse.issparse(a):
            assert a.shape == b.shape, item.name
            assert (a != b).nnz == 0, item.name
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=item.name)
        else:
            assert a == b, item.name


def _lists(matcher: Matcher) -> list[object]:
    candidates = [matcher.search_candidates(f"V-{n}", top=7).to_json()["resultaten"] for n in range(5)]
    vacancies = [matcher.search_vacancies(f"K-{n}", top=5).to_json()["resultaten"] for n in range(7)]
    return candidates + vacancies


def test_a_side_read_in_chunks_equals_one_read_of_every_row(world: Matcher, monkeypatch) -> None:
    monkeypatch.setattr(side_state, "CHUNK_ROWS", 2)  # 4 chunks of clients, 3 of vacancies
    world.sync()
    chunked_lists = _lists(world)
    clients, vacancies = world.index.arrays()
    vocab = Vocabularies()  # one read of every row, clients first as the index reads them
    with Session(world.engine) as session:
        all_clients = list(session.exec(select(Client).order_by(Client.id)))
        all_vacancies = list(session.exec(select(Vacancy).order_by(Vacancy.id)))
        whole_clients = ClientArrays.build(all_clients, vocab)
        whole_vacancies = VacancyArrays.build(all_vacancies, vocab)
        whole_clients.widen(vocab)
        whole_vacancies.widen(vocab)
        _same_arrays(clients, whole_clients)
        _same_arrays(vacancies, whole_vacancies)
        lexical = LexicalIndex()
        lexical.upsert(
            [c.id for c in all_clients], [world.index.render("clients", c, lexical=True) for c in all_clients]
        )
        for vacancy in all_vacancies:
            query = world.index.render("vacancies", vacancy, lexical=True)
            found, scores = world.sides["clients"].lexical.scores(query)
            expected_ids, expected = lexical.scores(query)
            np.testing.assert_array_equal(found, expected_ids)
            np.testing.assert_array_equal(scores, expected)
        assert world.sides["clients"].digests == {
            c.id: digest(world.index._dense_input("clients", c)) for c in all_clients
        }
    monkeypatch.setattr(side_state, "CHUNK_ROWS", 5000)  # read again in one chunk: the same lists
    world.index.prepare()
    assert _lists(world) == chunked_lists


def test_no_text_is_held_beyond_the_searched_records(world: Matcher) -> None:
    world.sync()
    clients = world.sides["clients"]
    assert len(clients.texts) == 7 and len(clients.digests) == 7
    assert not clients.source._memo  # the sync rendered every record and kept none of the texts
    everything = clients.texts.many(list(clients.texts))  # a bulk read is not remembered either
    assert len(everything) == 7 and not clients.source._memo
    world.search_candidates("V-1", top=3)
    assert list(world.sides["vacancies"].source._memo) == [world.index.arrays()[1].ids[1]]  # the query record
    with Session(world.engine) as session:
        row = session.exec(select(Client).where(Client.client_nummer == "K-3")).one()
        assert clients.texts[row.id] == world.index._dense_input("clients", row)  # rendered from the database
        assert clients.lexical_texts[row.id] == world.index.render("clients", row, lexical=True)
        assert digest(clients.texts[row.id]) == clients.digests[row.id]


def test_a_reloaded_digest_is_the_saved_vectors_string_not_a_copy(world: Matcher, settings, embedder) -> None:
    world.sync()
    world.close()
    again = Matcher(settings, embedder=embedder)
    again.sync()
    state = again.sides["clients"]
    assert state.vectors is not None and state.digests
    assert all(state.digests[key] is state.vectors.hashes[key] for key in state.digests)
    again.close()


def test_a_record_deleted_before_its_turn_to_be_embedded_is_dropped(world: Matcher) -> None:
    world.sync()
    with Session(world.engine) as session:
        row = session.exec(select(Client).where(Client.client_nummer == "K-2")).one()
        gone = row.id
        session.delete(row)
        session.commit()
    state = world.sides["clients"]
    state.queue[gone] = "verouderd"  # queued, then deleted before the worker reached it
    world.index._drain()
    assert gone not in state.queue
    assert world.search_candidates("V-1", top=7).to_json()["resultaten"]  # the next search catches up
    assert gone not in state.digests and gone not in state.vectors.hashes  # type: ignore[union-attr]
