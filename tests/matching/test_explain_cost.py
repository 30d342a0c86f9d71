"""The explanation step shows every change of a profile at once: nothing of it is remembered between searches.

Data quality and missing fields are assessed once per shown client and search (``ProfileQuality.missing``),
from the row read for that search. Real parts, small: 80 generated clients and 24 vacancies (seed 7),
the default model and the shipped baseline ranker, SQLite. That the lists are byte-identical to those
before this step was reworked is ``bench/explain_cost.py``'s check (on the demo world).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from matching import quality
from matching.domain import Client, Vacancy, utcnow
from matching.embedding import Embedder
from matching.matcher import Matcher
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
