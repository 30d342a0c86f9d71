"""The driver's storing of the nightly lists on its own SQLite engine (:func:`training.batch_match.storing_engine`):
the same rows as through the application's engine, a partition whole or not at all, and no row of a record
deleted meanwhile (the foreign keys are checked once per partition by the driver, not per row by SQLite).

Real SQLite files, 40 generated clients and 15 vacancies; no Ray, no model (the lists are made up of the world's
ids, as a worker returns them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.services import schema
from matching.batch_lists import BatchOwner, BatchPartition, BatchRun, Planned, list_table
from matching.domain import Client, Vacancy
from matching.store import make_engine
from training.batch_match import STORING_CACHE_KIB, _finish, store_partition, storing_engine
from training.synthetic import write_streaming


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    found = make_engine(f"sqlite:///{tmp_path / 'werkmatch.db'}")
    schema.create_all(found)
    write_streaming(found, 40, 15, seed=5, progress=False)
    yield found
    found.dispose()


def _run(engine: Engine, slot: str = "a") -> int:
    with Session(engine) as session:
        run = BatchRun(kind="match", partition_ids=100, slot=slot)
        session.add(run)
        session.commit()
        return int(run.id)  # type: ignore[arg-type]


def _ids(engine: Engine) -> tuple[list[int], list[int]]:
    with Session(engine) as session:
        return list(session.exec(select(Vacancy.id))), list(session.exec(select(Client.id)))


def _lists(owners: list[int], items: list[int], top: int) -> list[dict[str, Any]]:
    """A list per owner as a worker returns it: its top items (rotated per owner), ranks from 1, both scores."""
    return [
        {
            "owner": owner,
            "rankedBy": {"naam": "test", "versie": "1"},
            "items": [
                [ident, rank, round(1 - rank / 100, 4), 100 - rank]
                for rank, ident in enumerate((items[at:] + items[:at])[:top], start=1)
            ],
        }
        for at, owner in enumerate(owners)
    ]


def _rows(engine: Engine, run_id: int) -> dict[str, list[tuple[Any, ...]]]:
    with Session(engine) as session:
        run = session.get_one(BatchRun, run_id)
        candidates, options = list_table(run, "vacatures"), list_table(run, "klanten")
        return {
            "kandidaat": [
                (row.vacancy_id, row.rank, row.client_id, row.ranking_score, row.score)
                for row in session.exec(select(candidates).where(candidates.run_id == run_id))
            ],
            "vacature": [
                (row.client_id, row.rank, row.vacancy_id, row.ranking_score, row.score)
                for row in session.exec(select(options).where(options.run_id == run_id))
            ],
            "owners": [
                (row.side, row.owner_id, row.first_id)
                for row in session.exec(select(BatchOwner).where(BatchOwner.run_id == run_id))
            ],
        }


def _store_both_sides(engine: Engine, run_id: int, vacancies: list[int], clients: list[int]) -> int:
    rows = store_partition(
        engine, run_id, Planned("vacatures", min(vacancies), "X", tuple(vacancies)), _lists(vacancies, clients, 30)
    )
    return rows + store_partition(
        engine, run_id, Planned("klanten", min(clients), "X", tuple(clients)), _lists(clients, vacancies, 12)
    )


def test_the_storing_engine_stores_the_same_rows_and_checks_foreign_keys_itself(engine: Engine) -> None:
    vacancies, clients = _ids(engine)
    storing = storing_engine(engine)
    try:
        assert storing is not engine
        plain_run, storing_run = _run(engine, "a"), _run(engine, "b")  # a night in each slot
        assert _store_both_sides(engine, plain_run, vacancies, clients) == 15 * 30 + 40 * 12
        assert _store_both_sides(storing, storing_run, vacancies, clients) == 15 * 30 + 40 * 12
        assert _rows(storing, storing_run) == _rows(engine, plain_run)
        with storing.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -STORING_CACHE_KIB
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: each commit durable
            assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 0
        with engine.connect() as connection:  # the application's connections check every row as before
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        # stored already: nothing stored twice
        assert _store_both_sides(storing, storing_run, vacancies, clients) == 0
        # the storing run finished by the storing engine: the run before it gone, its slot emptied
        _finish(storing, storing_run)
        with engine.connect() as connection:
            for table in ("nacht_kandidaat", "nacht_vacature"):
                assert connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() == 0  # noqa: S608
        assert len(_rows(engine, storing_run)["kandidaat"]) == 15 * 30
        with Session(engine) as session:
            assert [run.id for run in session.exec(select(BatchRun))] == [storing_run]
            assert session.exec(select(BatchPartition.run_id).distinct()).all() == [storing_run]
            assert session.exec(select(BatchOwner.run_id).distinct()).all() == [storing_run]
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        storing.dispose()


def test_a_record_deleted_after_its_list_was_computed_leaves_its_rows_out_and_the_rest_stored(engine: Engine) -> None:
    vacancies, clients = _ids(engine)
    gone_client, gone_vacancy = clients[3], vacancies[2]
    computed = _lists(vacancies, clients, 30), _lists(clients, vacancies, 12)  # before the deletion
    with Session(engine) as session:  # an erased client, a removed vacancy (the cascade finds no list row yet)
        session.exec(delete(Client).where(Client.id == gone_client))  # type: ignore[call-overload]
        session.exec(delete(Vacancy).where(Vacancy.id == gone_vacancy))  # type: ignore[call-overload]
        session.commit()
    storing = storing_engine(engine)
    try:
        run_id = _run(engine)
        stored = store_partition(
            storing, run_id, Planned("vacatures", min(vacancies), "X", tuple(vacancies)), computed[0]
        )
        stored += store_partition(storing, run_id, Planned("klanten", min(clients), "X", tuple(clients)), computed[1])
    finally:
        storing.dispose()
    rows = _rows(engine, run_id)
    # every row but those naming the deleted records, as the foreign keys' cascade would have left them
    expected = sum(
        1
        for lists, gone_owner, gone_item in (
            (computed[0], gone_vacancy, gone_client),
            (computed[1], gone_client, gone_vacancy),
        )
        for found in lists
        for item in found["items"]
        if found["owner"] != gone_owner and item[0] != gone_item
    )
    assert expected < 15 * 30 + 40 * 12
    assert stored == len(rows["kandidaat"]) + len(rows["vacature"]) == expected
    assert all(gone_client != owner for owner, _, _, _, _ in rows["vacature"])
    assert all(gone_client != item and gone_vacancy != owner for owner, _, item, _, _ in rows["kandidaat"])
    assert all(gone_vacancy != item for _, _, item, _, _ in rows["vacature"])
    # both partitions' owners and marks stored (a restart plans none of them again)
    assert len(rows["owners"]) == 15 + 40
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_a_partition_that_fails_halfway_leaves_nothing_of_itself(engine: Engine) -> None:
    vacancies, clients = _ids(engine)
    lists = _lists(vacancies, clients, 30)
    lists[-1]["items"].append(lists[-1]["items"][0])  # a rank stored twice: the list rows' primary key refuses it
    storing = storing_engine(engine)
    try:
        run_id = _run(engine)
        with pytest.raises(IntegrityError):
            store_partition(storing, run_id, Planned("vacatures", min(vacancies), "X", tuple(vacancies)), lists)
    finally:
        storing.dispose()
    with Session(engine) as session:
        assert session.exec(select(BatchPartition).where(BatchPartition.run_id == run_id)).all() == []
        assert _rows(engine, run_id) == {"kandidaat": [], "vacature": [], "owners": []}
        assert session.exec(text("SELECT count(*) FROM nacht_kandidaat")).one()[0] == 0  # type: ignore[call-overload]
