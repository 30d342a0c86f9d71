"""The served amortised floor: Platt parameters from the model's spec, its lasting state in the database, a live
list changed for a short group with the swapped-in candidate explained; a model without them, the kill switch and a
reopened list change nothing."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from matching import floor_state, oversight_state
from matching.domain import Client, Vacancy, utcnow
from matching.exposure_amortised import SERVED, SPEC_KEY, setting_of
from matching.floor_state import AmortisedFloorState
from matching.matcher import Matcher
from matching.ranker import SPEC_FILE, load_ranker
from matching.settings import Settings
from tests.factories import make_client, make_vacancy

BASELINE = Path(__file__).resolve().parents[2] / "models" / "baseline-ranker"
WEAK = {
    "route": "perspectief",
    "competenties": [],
    "werkervaring": [],
    "wensen": {"beroepen": ["schoonmaker"], "sectoren": ["schoonmaak"], "max_reisafstand_km": 15},
    "zelfbeschrijving": "Ik wil graag iets in de schoonmaak doen.",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, embedder) -> Matcher:
    matcher = Matcher(Settings(data_dir=tmp_path_factory.mktemp("floor") / "var"), embedder=embedder)
    with Session(matcher.engine) as session:
        for number in range(14):
            make_client(session, client_nummer=f"K-STERK{number}", zelfbeschrijving=f"Magazijnwerk, variant {number}.")
        for number in range(4):
            make_client(session, client_nummer=f"K-ZWAK{number}", **WEAK)
        for name in ("V-EEN", "V-TWEE", "V-DRIE"):
            make_vacancy(session, vacature_nummer=name)
    matcher.sync()
    return matcher


def calibrated_ranker(tmp_path: Path, a: float = 1.0, b: float = 0.0):
    """The shipped baseline with Platt parameters and the served setting in its spec (what werkmatch train writes)."""
    directory = tmp_path / "ranker"
    shutil.copytree(BASELINE, directory)
    spec = json.loads((directory / SPEC_FILE).read_text(encoding="utf-8"))
    spec[SPEC_KEY] = {"platt": {"a": a, "b": b, "rows": 100}, **SERVED}
    (directory / SPEC_FILE).write_text(json.dumps(spec), encoding="utf-8")
    return load_ranker(directory, "kandidaat", "7")


def state(matcher: Matcher, ranker: str, at: datetime) -> dict[tuple[str, str], tuple[float, float]]:
    """The stored rows of ``ranker`` as plain (places, merit) as of ``at``, rounded (read afresh, not cached)."""
    with Session(matcher.engine) as session:
        rows = session.exec(select(AmortisedFloorState).where(AmortisedFloorState.ranker == ranker)).all()
        scale = floor_state.weight(at)
        return {(row.attribute, row.grp): (round(row.places / scale, 6), round(row.merit / scale, 6)) for row in rows}


def weak_ids(listing: dict) -> list[str]:
    return [item["klantId"] for item in listing["resultaten"] if item["klantId"].startswith("K-ZWAK")]


def test_a_spec_without_platt_serves_the_merit_floor_and_groups_are_only_serving_groups() -> None:
    assert setting_of({"features": []}) is None
    assert setting_of({SPEC_KEY: {"platt": {"a": 1, "b": 0}}})["groups"] == SERVED["groups"]
    with pytest.raises(ValueError, match="geslacht"):
        setting_of({SPEC_KEY: {"platt": {"a": 1, "b": 0}, "groups": ["trede", "geslacht"]}})


def test_a_ranker_exported_with_the_merit_floor_keeps_it_and_writes_no_state(world: Matcher, tmp_path: Path) -> None:
    directory = shutil.copytree(BASELINE, tmp_path / "merit")  # `werkmatch models export --merit-floor`
    spec = json.loads((directory / SPEC_FILE).read_text(encoding="utf-8"))
    spec.pop(SPEC_KEY)
    (directory / SPEC_FILE).write_text(json.dumps(spec), encoding="utf-8")
    ranker = load_ranker(directory, "merit", "1")
    world.use_ranker(ranker)
    try:
        world.search_candidates("V-DRIE", top=10, served=True)
    finally:
        world.use_ranker(None)
    key = floor_state.ranker_key(ranker.describe())
    with Session(world.engine) as session:
        assert session.exec(select(AmortisedFloorState).where(AmortisedFloorState.ranker == key)).all() == []


def test_the_shipped_baseline_serves_with_its_amortised_floor(world: Matcher) -> None:
    world.use_ranker(None)
    assert world.ranker is not None and setting_of(world.ranker.spec) is not None  # exported with its floor
    key = floor_state.ranker_key(world.ranker.describe())
    world.search_candidates("V-DRIE", top=10, served=True)
    after = state(world, key, utcnow())
    assert after[("", "")][0] == 10  # ten places of this served list
    assert sum(places for (attribute, _), (places, _) in after.items() if attribute == "trede") == 10


def test_a_short_group_gets_a_place_explained_and_the_state_is_kept(world: Matcher, tmp_path: Path) -> None:
    ranker = calibrated_ranker(tmp_path)
    key = floor_state.ranker_key(ranker.describe())
    world.use_ranker(ranker)
    try:
        plain = world.search_candidates("V-EEN", top=18).to_json()  # not served: relevance order, no floor
        assert not weak_ids({"resultaten": plain["resultaten"][:10]})  # the weak route is not in the top 10 by itself
        now = utcnow()
        with Session(world.engine) as session:  # the route perspectief ran far behind its expected merit so far
            scale = floor_state.weight(now)
            session.add(AmortisedFloorState(ranker=key, attribute="", grp="", places=100 * scale, merit=1000 * scale))
            session.add(AmortisedFloorState(ranker=key, attribute="route", grp="perspectief", merit=500 * scale))
            session.commit()
        served = world.search_candidates("V-EEN", top=10, served=True).to_json()
        lifted = [item for item in served["resultaten"] if item["klantId"].startswith("K-ZWAK")]
        assert lifted and all(floor_state.FAIR_ATTENTION in item["redenen"] for item in lifted)
        others = [item for item in served["resultaten"] if not item["klantId"].startswith("K-ZWAK")]
        assert all(floor_state.FAIR_ATTENTION not in item["redenen"] for item in others)
        after = state(world, key, now)  # a search's moments are milliseconds after now: no measurable decay
        assert after[("", "")] == (110.0, 1018.0)  # ten places, a pool of 18
        assert after[("route", "perspectief")][0] == len(lifted)
        assert sum(places for (attribute, _), (places, _) in after.items() if attribute == "trede") == 10
        assert after[("geschiedenis", floor_state.NEVER)][0] == 10  # nobody was ever proposed here
        world.search_candidates("V-EEN", top=10, served=True)  # reopened: the first showing only
        assert state(world, key, now) == after
    finally:
        world.use_ranker(None)


def test_the_kill_switch_turns_the_floor_off(world: Matcher, tmp_path: Path) -> None:
    ranker = calibrated_ranker(tmp_path)
    key = floor_state.ranker_key(ranker.describe())
    world.use_ranker(ranker)
    now = utcnow()
    before = state(world, key, now)
    with Session(world.engine) as session:
        oversight_state.set_ranking_mode(session, "transparant", by="beheerder", reason="test")
        session.commit()
    try:
        listing = world.search_candidates("V-TWEE", top=10, served=True).to_json()
        assert listing["rangschikking"]["modus"] == "transparant"
        assert all(floor_state.FAIR_ATTENTION not in item["redenen"] for item in listing["resultaten"])
        assert state(world, key, now) == before
    finally:
        with Session(world.engine) as session:
            oversight_state.set_ranking_mode(session, "model", by="beheerder", reason="terug")
            session.commit()
        world.use_ranker(None)


def test_ever_proposed_reads_other_vacancies_only(world: Matcher) -> None:
    from matching import outcomes

    with Session(world.engine) as session:
        one = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == "V-EEN")).one()
        two = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == "V-TWEE")).one()
        sterk = session.exec(select(Client).where(Client.client_nummer == "K-STERK0")).one()
        assert floor_state.ever_proposed(session, [sterk.id], two.id).tolist() == [False]  # type: ignore[arg-type,list-item]
        proposal = outcomes.propose(session, "K-STERK0", "V-EEN", "consulent-a", "consulent")  # after the first read
        flags = floor_state.ever_proposed(session, [proposal.client_id, proposal.client_id + 1], two.id)  # type: ignore[arg-type]
        assert flags.tolist() == [True, False]
        assert floor_state.ever_proposed(session, [proposal.client_id], one.id).tolist() == [False]  # type: ignore[arg-type]
