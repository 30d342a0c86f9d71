"""Beperkingen as kansen: the compatibility table, and what the matcher does with it (real SQLite, model, FAISS)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import Session

from matching import compatibility
from matching.compatibility import Status
from matching.domain import Client, Vacancy, client_from_input, utcnow, vacancy_from_input
from matching.features import FEATURE_NAMES, pair_matrix
from matching.matcher import Matcher
from matching.structured import ClientArrays, VacancyArrays, Vocabularies
from matching.vocab import ASPECTS
from tests.factories import client_in, make_client, make_vacancy, vacancy_in

A = len(ASPECTS)
TILLEN = list(ASPECTS).index("tillen")
PRIKKELS = list(ASPECTS).index("prikkels")


def _row(**ernst: int) -> np.ndarray:
    row = np.zeros(A, np.int8)
    for aspect, value in ernst.items():
        row[list(ASPECTS).index(aspect)] = value
    return row


def _closed(jobcarving: bool = False, jobcoach: bool = False, guided: bool = False) -> np.ndarray:
    return compatibility.accommodated(np.array([jobcarving]), np.array([jobcoach]), np.array([guided]))[0]


@pytest.mark.parametrize(
    ("ernst", "niveau", "closed", "expected"),
    [
        (0, 3, _closed(), Status.GEEN),  # no beperking
        (3, 0, _closed(), Status.GEEN),  # no demand
        (1, 2, _closed(), Status.GEEN),  # 1 + 2 - 3 = 0: light limitation, moderate demand
        (2, 2, _closed(), Status.AANPASSING),  # partial conflict, nothing offered: shown with remedies
        (3, 3, _closed(), Status.HARD),  # cannot lift, heavy lifting, no jobcarving: not shown
        (3, 3, _closed(jobcarving=True), Status.GEACCOMMODEERD),  # jobcarving takes the lifting away
        (3, 3, _closed(jobcoach=True), Status.HARD),  # a jobcoach does not lift boxes
    ],
)
def test_table_for_tillen(ernst: int, niveau: int, closed: np.ndarray, expected: Status) -> None:
    demand = np.zeros(A, np.int8)
    demand[TILLEN] = niveau
    assert compatibility.statuses(_row(tillen=ernst)[None, :], demand, closed)[0] == expected


def test_a_jobcoach_accommodates_psychic_demands_and_the_worst_aspect_wins() -> None:
    demand = np.zeros(A, np.int8)
    demand[PRIKKELS], demand[TILLEN] = 3, 3
    both = _row(prikkels=3, tillen=3)[None, :]
    assert compatibility.statuses(_row(prikkels=3)[None, :], demand, _closed(jobcoach=True))[0] == Status.GEACCOMMODEERD
    assert compatibility.statuses(both, demand, _closed(jobcoach=True))[0] == Status.HARD  # tillen still hard
    assert compatibility.statuses(both, demand, _closed(jobcoach=True, jobcarving=True))[0] == Status.GEACCOMMODEERD


def test_one_client_against_many_vacancies_broadcasts() -> None:
    demands = np.zeros((3, A), np.int8)
    demands[:, TILLEN] = (1, 3, 3)
    closed = compatibility.accommodated(np.array([False, False, True]), np.zeros(3, bool), np.zeros(3, bool))
    got = compatibility.statuses(_row(tillen=3), demands, closed)
    assert got.tolist() == [Status.AANPASSING, Status.HARD, Status.GEACCOMMODEERD]


def test_every_aspect_has_remedies_and_the_texts_say_what_to_do() -> None:
    assert set(compatibility.REMEDIES) == set(ASPECTS)
    found = compatibility.pair_aanpassingen(
        [{"aspect": "tillen", "ernst": 2}, {"aspect": "prikkels", "ernst": 3}],
        [{"aspect": "tillen", "niveau": 2}, {"aspect": "prikkels", "niveau": 3}],
        compatibility.offered(jobcarving=False, jobcoach=True, guided=False),
    )
    by_aspect = {item.aspect: item for item in found}
    assert by_aspect["prikkels"].status == Status.GEACCOMMODEERD
    assert "jobcoach" in by_aspect["prikkels"].tekst()
    assert by_aspect["tillen"].status == Status.AANPASSING
    assert by_aspect["tillen"].tekst().startswith("Kans met aanpassing")
    assert "jobcarving" in by_aspect["tillen"].tekst()


def test_beperkingen_are_not_ranker_features() -> None:
    """A beperking changes no feature of any pair: the learned ranker cannot rank anyone down for one."""
    vocab = Vocabularies()
    plain = Client(id=1, **client_from_input(client_in(client_nummer="K-P")))
    limited = Client(
        id=2,
        **client_from_input(
            client_in(
                client_nummer="K-B", beperkingen=[{"aspect": "tillen", "ernst": 3}, {"aspect": "prikkels", "ernst": 2}]
            )
        ),
    )
    for client in (plain, limited):
        client.updated_at = plain.updated_at
    vacancy = Vacancy(id=1, **vacancy_from_input(vacancy_in(belasting=[{"aspect": "tillen", "niveau": 3}])))
    clients = ClientArrays.build([plain, limited], vocab)
    vacancies = VacancyArrays.build([vacancy], vocab)
    clients.widen(vocab)
    vacancies.widen(vocab)
    pairs = pair_matrix(clients, np.array([0, 1]), vacancies, np.zeros(2, int), np.ones(2), np.ones(2), utcnow())
    np.testing.assert_array_equal(pairs[0], pairs[1])
    assert not any("belasting" in name or "beperking" in name for name in FEATURE_NAMES)


@pytest.fixture
def lifting_world(settings, embedder) -> Matcher:
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        make_client(session, client_nummer="K-ZONDER")
        make_client(session, client_nummer="K-RUG", beperkingen=[{"aspect": "tillen", "ernst": 3}])
        make_client(session, client_nummer="K-LICHT", beperkingen=[{"aspect": "tillen", "ernst": 2}])
        heavy = [{"aspect": "tillen", "niveau": 3}]
        make_vacancy(session, vacature_nummer="V-ZWAAR", belasting=heavy)
        make_vacancy(session, vacature_nummer="V-CARVING", belasting=heavy, jobcarving=True)
    matcher.sync()
    return matcher


def test_hard_conflict_is_not_shown_but_counted_with_its_reason(lifting_world: Matcher) -> None:
    listing = lifting_world.search_candidates("V-ZWAAR", top=10).to_json()
    shown = {item["klantId"]: item for item in listing["resultaten"]}
    assert "K-RUG" not in shown  # ernst 3 against heavy lifting, no jobcarving
    assert listing["nietGetoond"]["beperkingOnverenigbaar"] == 1
    assert listing["nietGetoond"]["beperkingPerEis"] == {"tillen": 1}
    assert any("beperking" in text for text in listing["nietGetoond"]["toelichting"])
    light = shown["K-LICHT"]  # partial conflict: shown, as a kans with the remedy to arrange
    assert light["kansMetAanpassing"] is True
    assert light["aanpassingen"][0]["status"] == "aanpassing"
    assert "jobcarving" in light["aandachtspuntenBeperkingen"][0]
    assert shown["K-ZONDER"]["kansMetAanpassing"] is False and shown["K-ZONDER"]["aanpassingen"] == []


def test_an_accommodated_beperking_never_lowers_the_score(lifting_world: Matcher) -> None:
    listing = lifting_world.search_candidates("V-CARVING", top=10).to_json()
    shown = {item["klantId"]: item for item in listing["resultaten"]}
    assert set(shown) == {"K-ZONDER", "K-RUG", "K-LICHT"}  # jobcarving: nobody left out
    assert listing["nietGetoond"]["beperkingOnverenigbaar"] == 0
    assert shown["K-RUG"]["aanpassingen"][0]["status"] == "geaccommodeerd"
    assert shown["K-RUG"]["kansMetAanpassing"] is True

    # The same client without the beperking: the same score and rank, whichever ranker serves.
    with Session(lifting_world.engine) as session:
        make_client(session, client_nummer="K-RUG", beperkingen=[])
    again = {
        item["klantId"]: item for item in lifting_world.search_candidates("V-CARVING", top=10).to_json()["resultaten"]
    }
    assert again["K-RUG"]["aanpassingen"] == []
    for number in shown:
        assert again[number]["score"] == shown[number]["score"]
        assert again[number]["rang"] == shown[number]["rang"]
