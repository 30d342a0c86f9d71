"""End to end through the façade: real SQLite, real model, real FAISS, real BM25."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sqlmodel import Session, select

from matching.domain import Client, EmbeddingCache, utcnow
from matching.errors import InvalidInputError, NotFoundError
from matching.hard_filters import CandidateFilters
from matching.index import VectorIndex
from matching.index_sync import digest
from matching.matcher import Matcher
from tests.factories import SCHOONMAAKWERK, SCHOONMAKER, make_client, make_vacancy


@pytest.fixture
def matcher(settings, embedder) -> Matcher:
    return Matcher(settings, embedder=embedder)


@pytest.fixture
def small_world(matcher: Matcher) -> Matcher:
    """Three clients near Arnhem and three vacancies of different kinds."""
    with Session(matcher.engine) as session:
        make_client(
            session, client_nummer="K-ORDER", zelfbeschrijving="Ik werkte jaren als orderpicker in een magazijn."
        )
        make_client(session, client_nummer="K-SCHOON", **SCHOONMAKER)
        make_client(  # incomplete profile: only the mandatory fields and a short text
            session,
            client_nummer="K-LEEG",
            competenties=[],
            werkervaring=[],
            opleidingsniveau=None,
            taalniveau=None,
            wensen={},
            zelfbeschrijving="Wil graag in een magazijn werken, orderpicken lijkt me leuk.",
        )
        make_vacancy(session, vacature_nummer="V-ORDER")
        make_vacancy(session, vacature_nummer="V-SCHOON", **SCHOONMAAKWERK)
        make_vacancy(session, vacature_nummer="V-DICHT", status="vervuld")
    matcher.sync()
    return matcher


def test_candidates_are_ranked_and_explained(small_world: Matcher) -> None:
    result = small_world.search_candidates("V-ORDER", top=3).to_json()
    ids = [item["klantId"] for item in result["resultaten"]]
    assert ids[0] == "K-ORDER"
    # incomplete, but its text fits: still found (whether above the complete K-SCHOON, whom nothing of the vacancy
    # fits, is the shipped ranker's call: its notes column reads K-SCHOON's notes higher)
    assert "K-LEEG" in ids
    for item in result["resultaten"]:
        assert item["redenen"] and all(isinstance(r, str) and r.endswith(".") for r in item["redenen"])
        assert all(0 <= value <= 1 for value in item["signalen"].values())
    scores = [item["rangschikkingsscore"] for item in result["resultaten"]]  # what ordered the list
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(item["score"], int) and 0 <= item["score"] <= 100 for item in result["resultaten"])
    assert result["gerangschiktDoor"]["naam"] == "baseline"  # the shipped ranker, before anyone trains
    assert "geen besluit" in result["advies"]
    leeg = next(i for i in result["resultaten"] if i["klantId"] == "K-LEEG")
    assert "competenties" in leeg["ontbrekendeGegevens"]


def test_vacancies_for_client_skip_closed_vacancies(small_world: Matcher) -> None:
    result = small_world.search_vacancies("K-SCHOON", top=5).to_json()
    ids = [item["vacatureId"] for item in result["resultaten"]]
    assert ids[0] == "V-SCHOON"
    assert "V-DICHT" not in ids
    assert result["nietGetoond"]["vacatureNietOpen"] == 1


def test_unknown_and_closed_references_give_dutch_errors(small_world: Matcher) -> None:
    with pytest.raises(NotFoundError, match="bestaat niet"):
        small_world.search_candidates("V-BESTAATNIET").to_json()
    with pytest.raises(InvalidInputError, match="open vacatures"):
        small_world.search_candidates("V-DICHT").to_json()
    with pytest.raises(InvalidInputError, match="top"):
        small_world.search_vacancies("K-ORDER", top=0).to_json()


def test_a_saved_change_is_found_by_the_next_search(small_world: Matcher) -> None:
    before = [i["klantId"] for i in small_world.search_candidates("V-SCHOON", top=3).to_json()["resultaten"]]
    assert before[0] == "K-SCHOON"
    with Session(small_world.engine) as session:  # another process would do the same through the store
        make_client(
            session,
            client_nummer="K-LEEG",
            competenties=[{"code": "schoonmaakwerk", "niveau": 3}],
            werkervaring=[{"beroep_code": "schoonmaker", "jaren": 8}],
            wensen={"beroepen": ["schoonmaker"]},
            zelfbeschrijving="Ervaren schoonmaker van kantoren, ook in de avond.",
        )
    after = small_world.search_candidates("V-SCHOON", top=3).to_json()["resultaten"]
    assert {after[0]["klantId"], after[1]["klantId"]} == {"K-SCHOON", "K-LEEG"}


def test_unchanged_records_are_never_embedded_again(small_world: Matcher, settings, embedder) -> None:
    with Session(small_world.engine) as session:
        cached = len(session.exec(select(EmbeddingCache)).all())
    fresh = Matcher(settings, embedder=embedder)
    report = fresh.sync()
    assert report["clients"]["embedded"] == 0 and report["vacancies"]["embedded"] == 0
    with Session(fresh.engine) as session:
        assert len(session.exec(select(EmbeddingCache)).all()) == cached


def test_index_repairs_itself_when_it_does_not_match_the_database(small_world: Matcher, settings, embedder) -> None:
    index_dir = settings.index_dir
    broken = VectorIndex.load(index_dir, "clients")
    broken.remove(broken.ids()[:1])
    broken.upsert(np.array([999], np.int64), np.ones((1, broken.dimension), np.float32) / 20, ["stale"])
    broken.save(index_dir, "clients")
    fresh = Matcher(settings, embedder=embedder)
    fresh.sync()
    repaired = VectorIndex.load(index_dir, "clients")
    with Session(fresh.engine) as session:
        db_ids = sorted(c.id for c in session.exec(select(Client)))
    assert sorted(repaired.ids().tolist()) == db_ids
    assert fresh.status()["clients"]["inSync"]


def test_an_index_from_another_model_is_rebuilt(small_world: Matcher, settings, embedder) -> None:
    index = VectorIndex.load(settings.index_dir, "clients")
    index.model_id = "another-model@000"
    index.save(settings.index_dir, "clients")
    fresh = Matcher(settings, embedder=embedder)
    assert not fresh.status()["clients"]["inSync"]
    fresh.sync()
    assert VectorIndex.load(settings.index_dir, "clients").model_id == embedder.model_id


def test_deleted_records_leave_the_index(small_world: Matcher) -> None:
    with Session(small_world.engine) as session:
        session.delete(session.exec(select(Client).where(Client.client_nummer == "K-SCHOON")).one())
        session.commit()
    ids = [i["klantId"] for i in small_world.search_candidates("V-SCHOON", top=5).to_json()["resultaten"]]
    assert "K-SCHOON" not in ids
    assert small_world.status()["clients"]["inSync"]


def save_self_description(matcher: Matcher, client_nummer: str, text: str) -> int:
    """Save a new zelfbeschrijving the way the API will: a committed row with a newer updated_at."""
    with Session(matcher.engine) as session:
        row = session.exec(select(Client).where(Client.client_nummer == client_nummer)).one()
        row.zelfbeschrijving = text
        row.updated_at = utcnow()
        session.add(row)
        session.commit()
        return row.id


class GatedEmbedder:
    """Wraps the real embedder; the background worker's calls wait until the test opens the gate."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.worker_calls = 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def embed(self, texts, role, progress=False):
        if threading.current_thread().name == "embedden":
            self.worker_calls += 1
            assert self.gate.wait(60)
        return self.inner.embed(texts, role, progress)


def test_search_works_while_embedding_runs_in_the_background(settings, embedder, monkeypatch) -> None:
    monkeypatch.setattr("matching.index_sync.EMBED_CHUNK", 1)
    gated = GatedEmbedder(embedder)
    matcher = Matcher(settings, embedder=gated)  # type: ignore[arg-type]
    with Session(matcher.engine) as session:
        make_client(session, client_nummer="K-1", zelfbeschrijving="Ik werkte als orderpicker.")
        make_client(session, client_nummer="K-2", zelfbeschrijving="Ik maak graag kantoren schoon.")
        make_vacancy(session, vacature_nummer="V-1")
    matcher.sync(background=True)
    status = matcher.status()
    assert status["embedding"] == "bezig" and status["clients"]["toEmbed"] == 2
    # Lexical and structured signals answer before any vector exists.
    found = matcher.search_candidates("V-1", 5).to_json()["resultaten"]
    assert {item["klantId"] for item in found} == {"K-1", "K-2"}

    # K-1 is saved again while the worker holds its old text: the newer vector must win.
    client_id = save_self_description(matcher, "K-1", "Ik ben heftruckchauffeur en wil in de logistiek werken.")
    matcher.refresh("clients")
    gated.gate.set()
    assert matcher.wait_embedded(timeout=120)
    state = matcher.sides["clients"]
    expected = matcher.index.vectors_for([state.texts[client_id]], "document")[0]
    np.testing.assert_allclose(state.vectors.vectors(np.array([client_id]))[0], expected, atol=1e-5)
    status = matcher.status()
    assert status["embedding"] == "klaar" and status["clients"]["inSync"] and status["clients"]["toEmbed"] == 0
    assert gated.worker_calls >= 1
    # The index on disk holds everything, so a restart embeds nothing.
    assert Matcher(settings, embedder=embedder).sync() == {
        side: {"records": n, "embedded": 0, "removed": 0} for side, n in (("clients", 2), ("vacancies", 1))
    }


def test_a_saved_change_reaches_the_index_file_by_close(small_world: Matcher, settings) -> None:
    client_id = save_self_description(small_world, "K-ORDER", "Ik wil graag als chauffeur op de bestelbus werken.")
    found = small_world.search_vacancies("K-ORDER", 3).to_json()  # picks the change up before searching
    assert found["resultaten"]
    small_world.close()
    on_disk = VectorIndex.load(settings.index_dir, "clients")
    assert on_disk.hashes[client_id] == digest(small_world.sides["clients"].texts[client_id])


def test_filters_narrow_the_candidate_list_and_are_counted(small_world: Matcher) -> None:
    with Session(small_world.engine) as session:
        make_client(session, client_nummer="K-T2", trede=2, route="perspectief")
        make_client(session, client_nummer="K-VER", postcode="9711AA", wensen={"max_reisafstand_km": 10})  # Groningen
    everyone = {item["klantId"] for item in small_world.search_candidates("V-ORDER", top=20).to_json()["resultaten"]}
    assert "K-T2" in everyone and "K-VER" not in everyone  # Groningen is beyond K-VER's own travel wish
    only_t2 = small_world.search_candidates("V-ORDER", top=20, filters=CandidateFilters(trede=frozenset({2}))).to_json()
    assert {item["klantId"] for item in only_t2["resultaten"]} == {"K-T2"}
    # the filters are counted within reach: the three others near Arnhem; K-VER counts under the reach only
    assert only_t2["aantalGeschikt"] == 1 and only_t2["nietGetoond"]["buitenFilters"] == 3
    assert only_t2["nietGetoond"]["buitenReisbereik"] >= 1
    routed = small_world.search_candidates(
        "V-ORDER", top=20, filters=CandidateFilters(route=frozenset({"perspectief"}))
    ).to_json()
    assert {item["klantId"] for item in routed["resultaten"]} == {"K-T2"}
    whole = small_world.search_candidates("V-ORDER", top=20, filters=CandidateFilters(whole_bestand=True)).to_json()
    assert "K-VER" in {item["klantId"] for item in whole["resultaten"]}
    near = small_world.search_candidates(
        "V-ORDER", top=20, filters=CandidateFilters(whole_bestand=True, max_km=50)
    ).to_json()
    assert "K-VER" not in {item["klantId"] for item in near["resultaten"]}
    assert all(item["afstandKm"] <= 50 for item in near["resultaten"])
    vorm = small_world.search_candidates(
        "V-ORDER", top=20, filters=CandidateFilters(plaatsingsvorm=frozenset({"werkervaringsplek"}))
    ).to_json()
    assert {item["klantId"] for item in vorm["resultaten"]} == {"K-T2"}  # perspectief 1.5–3.5 holds 2.0; werk does not
    hours = small_world.search_candidates("V-ORDER", top=20, filters=CandidateFilters(min_hours=40)).to_json()
    assert hours["resultaten"] == []  # nobody shares 40 hours with a 24–38 hour vacancy
