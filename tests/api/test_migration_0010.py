"""Migration 0010 (the nightly lists keyed by their owner first), on SQLite and on the real PostgreSQL: a database at
0009 with a night's lists keeps every row, the erasure cascade's deletes find their rows by the key instead of
scanning the table (SQLite's own plan), the tables get the code's key and indexes, the cascades still delete, and back
to 0009."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.services import audit_guard, migrations, schema
from matching.batch_lists import NachtKandidaat, NachtVacature
from matching.store import make_engine
from tests.factories import make_client, make_vacancy

CASCADES = {"nacht_vacature": "client_id", "nacht_kandidaat": "vacancy_id"}  # what erasing / deleting deletes by
LIST_ROWS = "SELECT run_id, {owner}, rank, {item}, ranking_score, score FROM {table} ORDER BY run_id, {owner}, rank"


def _night(session: Session, clients: list[int], vacancies: list[int]) -> None:
    """A finished night of lists (every vacancy's candidates, every client's vacancies) as 0009 stores them."""
    session.execute(
        text(
            "INSERT INTO batch_run (id, kind, partition_ids, started_at, finished_at) VALUES (1, 'match', 100, "
            "'2026-12-05', '2026-12-06')"
        )
    )
    for table, owners, items in (("nacht_kandidaat", vacancies, clients), ("nacht_vacature", clients, vacancies)):
        owner, item = ("vacancy_id", "client_id") if table == "nacht_kandidaat" else ("client_id", "vacancy_id")
        for who in owners:
            for rank, what in enumerate(items, 1):
                session.execute(
                    text(
                        f"INSERT INTO {table} (run_id, {owner}, rank, {item}, ranking_score, score) "  # noqa: S608
                        "VALUES (1, :who, :rank, :what, :score, :shown)"
                    ),
                    {"who": who, "rank": rank, "what": what, "score": 1.0 / rank, "shown": 100 - rank},
                )


def _lists(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            table: [
                tuple(row)
                for row in connection.execute(
                    text(
                        LIST_ROWS.format(
                            table=table, owner=owner, item="vacancy_id" if owner == "client_id" else "client_id"
                        )
                    )
                )
            ]
            for table, owner in CASCADES.items()
        }


def _cascade_plans(engine: Engine) -> dict[str, str]:
    """SQLite's plan of each cascade's delete (one line each: the list table searched or scanned), on a new
    connection: a connection's cached ``EXPLAIN`` statement is not prepared again when another changed the schema."""
    engine.dispose()
    with engine.connect() as connection:
        return {
            table: " | ".join(
                str(row[-1])
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN DELETE FROM {table} WHERE {owner} = 1")  # noqa: S608
            )
            for table, owner in CASCADES.items()
        }


def _keys(engine: Engine) -> dict[str, list[str]]:
    return {table: inspect(engine).get_pk_constraint(table)["constrained_columns"] for table in CASCADES}


def _indexes(engine: Engine, table: str) -> set[str]:
    return {str(index["name"]) for index in inspect(engine).get_indexes(table)}


def test_0010_keys_the_lists_by_owner_first_keeps_every_row_and_goes_back(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(migrations._config(connection), "0009")
    audit_guard.protect(engine)
    with Session(engine) as session:
        clients = [make_client(session, client_nummer=f"K-0010-{n}").id for n in range(3)]
        vacancies = [make_vacancy(session, vacature_nummer=f"V-0010-{n}").id for n in range(2)]
        _night(session, clients, vacancies)  # type: ignore[arg-type]
        session.commit()
    before = _lists(engine)
    assert [len(rows) for rows in before.values()] == [6, 6]
    run_first = {table: ["run_id", owner, "rank"] for table, owner in CASCADES.items()}
    assert _keys(engine) == run_first
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:  # the defect: no index leads with the owner, so each cascade scans its table
        assert _cascade_plans(engine) == {table: f"SCAN {table}" for table in CASCADES}

    schema.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    assert _lists(engine) == before
    assert _keys(engine) == {table: [owner, "run_id", "rank"] for table, owner in CASCADES.items()}
    for model in (NachtVacature, NachtKandidaat):
        table = model.__table__  # type: ignore[attr-defined]
        assert _indexes(engine, table.name) == {str(index.name) for index in table.indexes}  # the code's indexes
    if sqlite:
        for table, plan in _cascade_plans(engine).items():
            assert plan.startswith(f"SEARCH {table} USING ") and plan.endswith(f"({CASCADES[table]}=?)"), plan
    with engine.begin() as connection:  # the cascades themselves, by the new keys
        connection.execute(text("DELETE FROM client WHERE id = :id"), {"id": clients[0]})
        connection.execute(text("DELETE FROM vacancy WHERE id = :id"), {"id": vacancies[0]})
    after = _lists(engine)
    assert after["nacht_vacature"] == [
        row for row in before["nacht_vacature"] if row[1] != clients[0] and row[3] != vacancies[0]
    ]
    assert after["nacht_kandidaat"] == [
        row for row in before["nacht_kandidaat"] if row[1] != vacancies[0] and row[3] != clients[0]
    ]

    with engine.begin() as connection:
        command.downgrade(migrations._config(connection), "0009")
    assert migrations.current(engine) == "0009"
    assert _lists(engine) == after
    assert _keys(engine) == run_first
    if sqlite:
        assert _cascade_plans(engine) == {table: f"SCAN {table}" for table in CASCADES}
    engine.dispose()
