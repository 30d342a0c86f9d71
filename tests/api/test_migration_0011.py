"""Migration 0011 (each night's lists in a slot of their own), on SQLite and on the real PostgreSQL: a database at 0010
with a served night and a night under way (and slot b's tables made by a newer matcher) keeps every row, the served
night in slot a where it was and the night under way moved to slot b (where it resumes), slot b's tables with the
code's keys and indexes (on PostgreSQL under row-level security), and back to 0010 with every row in the one pair of
tables. A service role granted before 0011 stores and empties both slots after it."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from api.services import audit_guard, migrations, schema
from matching import tenancy
from matching.batch_lists import SLOT_TABLES, Planned
from matching.store import make_engine
from tests.factories import make_client, make_vacancy
from tests.postgres import SERVICE, PostgresServer
from training.batch_match import _current_run, _finish, store_partition, storing_engine

OWNERS = {"nacht_kandidaat": ("vacancy_id", "client_id"), "nacht_vacature": ("client_id", "vacancy_id")}
RUNS = (
    "INSERT INTO batch_run (id, kind, partition_ids, started_at, finished_at) VALUES "
    "(1, 'match', 100, '2026-12-05', '2026-12-05 06:00'), (2, 'match', 100, '2026-12-06', NULL)"
)


def _nights(session: Session, clients: list[int], vacancies: list[int]) -> None:
    """Run 1 finished (served), run 2 under way: each with every vacancy's candidates and every client's vacancies."""
    session.execute(text(RUNS))
    for table, (owner, item) in OWNERS.items():
        owners, items = (vacancies, clients) if owner == "vacancy_id" else (clients, vacancies)
        for run in (1, 2):
            for who in owners:
                for rank, what in enumerate(items, 1):
                    session.execute(
                        text(
                            f"INSERT INTO {table} (run_id, {owner}, rank, {item}, ranking_score, score) "  # noqa: S608
                            "VALUES (:run, :who, :rank, :what, :score, :shown)"
                        ),
                        {"run": run, "who": who, "rank": rank, "what": what, "score": run + 1 / rank, "shown": rank},
                    )


def _rows(engine: Engine, table: str) -> list[tuple]:
    owner, item = OWNERS[table.removesuffix("_b")]
    with engine.connect() as connection:
        columns = f"run_id, {owner}, rank, {item}, ranking_score, score"
        query = f"SELECT {columns} FROM {table} ORDER BY run_id, {owner}, rank"  # noqa: S608
        return [tuple(row) for row in connection.exec_driver_sql(query)]


def _pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def test_0011_keeps_the_served_night_moves_the_one_under_way_to_slot_b_and_goes_back(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(migrations._config(connection), "0010")
    audit_guard.protect(engine)
    with Session(engine) as session:
        clients = [make_client(session, client_nummer=f"K-0011-{n}").id for n in range(3)]
        vacancies = [make_vacancy(session, vacature_nummer=f"V-0011-{n}").id for n in range(2)]
        _nights(session, clients, vacancies)  # type: ignore[arg-type]
        session.commit()
    before = {table: _rows(engine, table) for table in OWNERS}
    assert [len(rows) for rows in before.values()] == [2 * 6, 2 * 6]
    # a matcher of the new code opened on the database first (matching.store.init_db): slot b's tables made already
    SQLModel.metadata.create_all(engine, tables=[model.__table__ for model in SLOT_TABLES["b"]])  # type: ignore[attr-defined]

    schema.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    for table, rows in before.items():
        assert _rows(engine, table) == [row for row in rows if row[0] == 1]  # the served night, where it was
        assert _rows(engine, f"{table}_b") == [row for row in rows if row[0] == 2]  # the night under way
    with engine.connect() as connection:
        assert dict(connection.exec_driver_sql("SELECT id, slot FROM batch_run ORDER BY id").all()) == {1: "a", 2: "b"}
    for model in SLOT_TABLES["b"]:
        table = model.__table__  # type: ignore[attr-defined]
        assert inspect(engine).get_pk_constraint(table.name)["constrained_columns"] == [
            column.name for column in table.primary_key.columns
        ]
        assert {str(index["name"]) for index in inspect(engine).get_indexes(table.name)} == {
            str(index.name) for index in table.indexes
        }
        if _pg(engine):
            with engine.connect() as connection:
                secured = connection.exec_driver_sql(
                    "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", (table.name,)
                ).one()
                assert tuple(secured) == (True, True)
    run, resumed = _current_run(engine, 100)  # the next start resumes the night under way, in its slot
    assert resumed and (run.id, run.slot) == (2, "b")

    with engine.begin() as connection:
        command.downgrade(migrations._config(connection), "0010")
    assert migrations.current(engine) == "0010"
    assert {table: _rows(engine, table) for table in OWNERS} == before
    names = set(inspect(engine).get_table_names())
    assert "nacht_kandidaat_b" not in names and "nacht_vacature_b" not in names
    assert "slot" not in {column["name"] for column in inspect(engine).get_columns("batch_run")}
    engine.dispose()


@pytest.mark.slow
def test_a_service_role_granted_before_0011_stores_and_empties_both_slots_after_it(postgres: PostgresServer) -> None:
    with postgres.tenant_database() as (owner_url, service_url):
        owner = make_engine(owner_url)
        with owner.begin() as connection:
            command.upgrade(migrations._config(connection), "0010")
        audit_guard.protect(owner)
        tenancy.grant(owner, SERVICE)
        with owner.begin() as connection:  # as granted before 0011: rows only
            connection.exec_driver_sql(f"REVOKE TRUNCATE ON nacht_kandidaat, nacht_vacature FROM {SERVICE}")
        schema.upgrade(owner)
        owner.dispose()
        service = make_engine(service_url)
        with Session(service) as session:
            clients = [make_client(session, client_nummer=f"K-0011-D{n}").id for n in range(2)]
            vacancy = make_vacancy(session, vacature_nummer="V-0011-D").id
            session.commit()
        storing = storing_engine(service)
        for _ in range(3):  # slots a, b, a: each night's finish empties the other slot as the service role
            run, _ = _current_run(storing, 100)
            lists = [{"owner": vacancy, "rankedBy": {}, "items": [[c, r, 1.0, 50] for r, c in enumerate(clients, 1)]}]
            store_partition(storing, run.id, Planned("vacatures", vacancy, "X", (vacancy,)), lists)  # type: ignore[arg-type]
            _finish(storing, run.id)  # type: ignore[arg-type]
        assert _rows(service, "nacht_kandidaat_b") == []
        assert [row[0] for row in _rows(service, "nacht_kandidaat")] == [run.id, run.id]
        service.dispose()
