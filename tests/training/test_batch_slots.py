"""Each night's lists in a slot of their own (:mod:`matching.batch_lists`): the served night untouched while the next
one is stored, a finished night served and the other slot emptied, a killed night resumed in its own slot, an erased
client and a deleted vacancy gone from both slots. SQLite (on the driver's storing engine, as a night runs) and the
real PostgreSQL; no Ray, no model: the lists are made of the world's ids, as a worker returns them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.services import erasure
from matching.batch_lists import (
    LIST_TABLES,
    SLOT_TABLES,
    BatchOwner,
    BatchPartition,
    BatchRun,
    latest_finished,
)
from matching.domain import Client, Vacancy
from matching.store import make_engine
from tests.factories import app_settings, slot_world, stored_night
from tests.postgres import PostgresServer
from training.batch_match import _current_run, _finish, storing_engine


def _counts(engine: Engine) -> dict[str, Any]:
    """Rows per list table and per run; the runs, their slots; the runs with marks and owners."""
    with Session(engine) as session:
        per_table = {}
        for table in LIST_TABLES:
            found = session.exec(select(table.run_id, func.count()).group_by(table.run_id))  # type: ignore[attr-defined]
            per_table[table.__tablename__] = dict(found.all())  # type: ignore[attr-defined]
        return {
            "lists": per_table,
            "runs": {run.id: run.slot for run in session.exec(select(BatchRun))},
            "marked": set(session.exec(select(BatchPartition.run_id).distinct())),
            "owned": set(session.exec(select(BatchOwner.run_id).distinct())),
        }


def _served(engine: Engine) -> BatchRun | None:
    with Session(engine) as session:
        return latest_finished(session)


def test_each_night_is_stored_beside_the_served_one_and_replaces_it_emptying_its_slot(engine: Engine) -> None:
    vacancies, clients = slot_world(engine)
    full = {"vacatures": 3 * 6, "klanten": 6 * 3}
    storing = storing_engine(engine)
    try:
        first = stored_night(storing, vacancies, clients)
        assert first.slot == "a"
        assert _counts(engine)["lists"] == {
            "nacht_kandidaat": {first.id: full["vacatures"]},
            "nacht_vacature": {first.id: full["klanten"]},
            "nacht_kandidaat_b": {},
            "nacht_vacature_b": {},
        }
        # the second night under way: in slot b, the first still served and whole
        second = stored_night(storing, vacancies, clients, finish=False)
        assert second.slot == "b"
        assert _served(engine).id == first.id  # type: ignore[union-attr]
        during = _counts(engine)
        assert during["lists"]["nacht_kandidaat"] == {first.id: full["vacatures"]}
        assert during["lists"]["nacht_kandidaat_b"] == {second.id: full["vacatures"]}
        assert during["runs"] == {first.id: "a", second.id: "b"}
        _finish(storing, second.id)  # type: ignore[arg-type]
        after = _counts(engine)
        assert _served(engine).id == second.id  # type: ignore[union-attr]
        assert after["lists"] == {
            "nacht_kandidaat": {},
            "nacht_vacature": {},
            "nacht_kandidaat_b": {second.id: full["vacatures"]},
            "nacht_vacature_b": {second.id: full["klanten"]},
        }
        assert after["runs"] == {second.id: "b"} and after["marked"] == after["owned"] == {second.id}
        # the third night goes back to slot a, emptied by the second's end
        third = stored_night(storing, vacancies, clients)
        assert third.slot == "a"
        assert _counts(engine)["lists"]["nacht_kandidaat"] == {third.id: full["vacatures"]}
        assert _counts(engine)["lists"]["nacht_kandidaat_b"] == {}
    finally:
        if storing is not engine:
            storing.dispose()
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_a_night_killed_halfway_resumes_in_its_own_slot_and_never_empties_the_served_one(engine: Engine) -> None:
    vacancies, clients = slot_world(engine)
    storing = storing_engine(engine)
    try:
        served = stored_night(storing, vacancies, clients)
        killed = stored_night(
            storing, vacancies[:1], clients[:2], finish=False
        )  # a partition of each side, then killed
        before = _counts(engine)
        resumed, was_resumed = _current_run(storing, 100)  # the next start
        assert was_resumed and (resumed.id, resumed.slot) == (killed.id, "b")
        assert _counts(engine) == before  # nothing emptied, nothing removed
        assert _served(engine).id == served.id  # type: ignore[union-attr]
        # the rest of the night stored, then finished: the killed night's partitions kept, the served slot emptied
        stored_night(storing, vacancies[1:], clients[2:])
        after = _counts(engine)
        partitions = 1 * 2 + 2 * 4  # (each owner lists the other side's owners of its partition here)
        assert after["lists"]["nacht_kandidaat_b"] == after["lists"]["nacht_vacature_b"] == {killed.id: partitions}
        assert after["lists"]["nacht_kandidaat"] == after["lists"]["nacht_vacature"] == {}
        assert _served(engine).id == killed.id  # type: ignore[union-attr]
    finally:
        if storing is not engine:
            storing.dispose()


def test_an_erased_client_and_a_deleted_vacancy_leave_no_row_in_either_slot(engine: Engine, tmp_path: Path) -> None:
    vacancies, clients = slot_world(engine)
    storing = storing_engine(engine)
    try:
        stored_night(storing, vacancies, clients)
        stored_night(storing, vacancies, clients, finish=False)  # both slots hold lists naming every record
    finally:
        if storing is not engine:
            storing.dispose()
    settings = app_settings(tmp_path / "var", database_url=engine.url.render_as_string(hide_password=False))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    done = erasure.erase_client(settings, engine, "K-SLOT-0", actor="test", rol="beheerder", reden="verzoek_klant")
    assert {"nacht_kandidaat", "nacht_vacature", "nacht_kandidaat_b", "nacht_vacature_b"} <= set(done["verwijderd"])
    with Session(engine) as session:
        session.exec(delete(Vacancy).where(Vacancy.id == vacancies[0]))  # type: ignore[call-overload]
        session.commit()
        for candidates, options in SLOT_TABLES.values():
            assert session.exec(select(candidates).where(candidates.client_id == clients[0])).all() == []
            assert session.exec(select(options).where(options.client_id == clients[0])).all() == []
            assert session.exec(select(candidates).where(candidates.vacancy_id == vacancies[0])).all() == []
            assert session.exec(select(options).where(options.vacancy_id == vacancies[0])).all() == []
            assert len(session.exec(select(candidates)).all()) == 2 * 5  # the other vacancies' other clients
        assert session.get(Client, clients[0]) is None


@pytest.mark.slow
def test_the_service_role_empties_the_night_befores_slot_on_postgresql(postgres: PostgresServer) -> None:
    """``TRUNCATE`` needs its own privilege: ``werkmatch db upgrade --dienstrol`` grants it on the list tables."""
    with postgres.service_database() as (_, service_url):
        service = make_engine(service_url)
        vacancies, clients = slot_world(service)
        first = stored_night(service, vacancies, clients)
        second = stored_night(service, vacancies, clients)
        assert (first.slot, second.slot) == ("a", "b")
        assert _counts(service)["lists"] == {
            "nacht_kandidaat": {},
            "nacht_vacature": {},
            "nacht_kandidaat_b": {second.id: 3 * 6},
            "nacht_vacature_b": {second.id: 6 * 3},
        }
        service.dispose()
