"""The cheaper explanation step answers what the plain one answered, and shows every change at once.

A candidate search computes the learned ranker's contributions (LightGBM's SHAP values) for the shown
rows on a thread of its own while it reads those rows and checks their profiles
(``matching.matcher._in_background``). Oracle: the same search with the contributions computed in
the calling thread, first. Real parts, small: 80 generated clients and 24 vacancies (seed 7), the
default model and the shipped baseline ranker, SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlmodel import Session, select

from matching import matcher as matcher_module
from matching import quality
from matching.disclosure import Viewer
from matching.domain import Client, Vacancy, utcnow
from matching.embedding import Embedder
from matching.matcher import Matcher, _in_background
from matching.pipeline import CandidateFilters
from matching.ranker import RankerError
from matching.settings import Settings
from training.synthetic import write_streaming


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Matcher]:
    found = Matcher(Settings(data_dir=tmp_path_factory.mktemp("explain-cost")), embedder)
    write_streaming(found.engine, 80, 24, seed=7, progress=False)
    found.sync()
    assert found.ranker is not None  # the shipped baseline: the lists are explained by its SHAP values
    yield found
    found.close()


def _in_this_thread(call: Callable[[], Any]) -> Callable[[], Any]:
    value = call()
    return lambda: value


def _lists(matcher: Matcher) -> list[str]:
    """Every open vacancy's candidate list (for everyone, for a caseload, whole bestand), as the API's JSON."""
    with Session(matcher.engine) as session:
        vacancies = session.exec(select(Vacancy.vacature_nummer).where(Vacancy.status == "open")).all()
        caseload = session.exec(select(Client.consulent)).first()
    found = []
    for ref in vacancies:
        for kwargs in ({}, {"viewer": Viewer(caseload=caseload)}, {"filters": CandidateFilters(whole_bestand=True)}):
            found.append(json.dumps(matcher.search_candidates(ref, 50, **kwargs).to_json(), ensure_ascii=False))
    return found


def test_lists_equal_those_explained_in_the_calling_thread(world: Matcher, monkeypatch: pytest.MonkeyPatch) -> None:
    background = _lists(world)
    monkeypatch.setattr(matcher_module, "_in_background", _in_this_thread)
    inline = _lists(world)
    assert background == inline
    shown = [json.loads(text)["resultaten"] for text in background]
    assert sum(len(results) for results in shown) > 100  # many explained results compared, not empty lists
    assert any(item["bijdragen"] for results in shown for item in results)


def test_an_error_in_the_background_reaches_the_caller() -> None:
    def failing() -> None:
        raise RankerError("de ranker kan dit paar niet uitleggen")

    result = _in_background(failing)
    with pytest.raises(RankerError, match="niet uitleggen"):
        result()
    assert _in_background(lambda: 41 + 1)() == 42


def test_a_changed_profile_shows_in_the_next_list(world: Matcher) -> None:
    """Data quality and missing fields are the stored row's at the moment of the search, never remembered."""
    with Session(world.engine) as session:
        ref = session.exec(select(Vacancy.vacature_nummer).where(Vacancy.status == "open")).first()
    first = world.search_candidates(ref, 50).to_json()["resultaten"][0]
    assert "competenties" not in first["ontbrekendeGegevens"]
    with Session(world.engine) as session:
        client = session.exec(select(Client).where(Client.client_nummer == first["klantId"])).one()
        kept = client.competenties
        client.competenties = []
        client.updated_at = utcnow()
        session.add(client)
        session.commit()
        session.refresh(client)
        expected = quality.assess(client, utcnow()).to_json()
    again = world.search_candidates(ref, 50).to_json()["resultaten"]
    changed = next(item for item in again if item["klantId"] == first["klantId"])
    assert "competenties" in changed["ontbrekendeGegevens"]
    assert changed["datakwaliteit"] == expected
    assert changed["datakwaliteit"]["volledigheid"] < first["datakwaliteit"]["volledigheid"]
    with Session(world.engine) as session:  # the module's world as it was, for the other tests
        client = session.exec(select(Client).where(Client.client_nummer == first["klantId"])).one()
        client.competenties = kept
        client.updated_at = utcnow()
        session.add(client)
        session.commit()
