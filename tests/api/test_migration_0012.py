"""Migration 0012 (voorstellen counted in ``record_change``), on SQLite and on the real PostgreSQL: at head every
inserted and deleted voorstel moves the count of side ``voorstellen``; back at 0011 the triggers (and the side's
rows) are gone and voorstellen are written as before; up again, counted again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.services import audit_guard, migrations
from matching.domain import utcnow
from matching.store import make_engine
from tests.factories import make_client, make_vacancy

VOORSTEL_TRIGGERS = {"voorstel_insert_counted", "voorstel_delete_counted"}


def _triggers(engine: Engine) -> set[str]:
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        if engine.dialect.name == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    )
    with engine.connect() as connection:
        return set(connection.exec_driver_sql(query).scalars())


def _count(engine: Engine) -> int | None:
    with engine.connect() as connection:
        return connection.execute(text("SELECT sum(n) FROM record_change WHERE side = 'voorstellen'")).scalar()


def _propose(engine: Engine, client: int, vacancy: int) -> None:
    row = {"c": client, "v": vacancy, "at": utcnow()}
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO voorstel (client_id, vacancy_id, made_by, made_by_role, status, created_at, updated_at) "
                "VALUES (:c, :v, 'consulent-a', 'consulent', 'afgewezen', :at, :at)"
            ),
            row,
        )


def _migrate(engine: Engine, version: str, down: bool = False) -> None:
    with engine.begin() as connection:
        (command.downgrade if down else command.upgrade)(migrations._config(connection), version)


def test_0012_counts_voorstellen_and_goes_back_to_0011(database_url: str) -> None:
    engine = make_engine(database_url)
    _migrate(engine, "0012")
    audit_guard.protect(engine)
    with Session(engine) as session:
        client, vacancy = make_client(session, client_nummer="K-0012").id, make_vacancy(session).id
    assert _triggers(engine) >= VOORSTEL_TRIGGERS
    before = _count(engine) or 0
    _propose(engine, client, vacancy)  # type: ignore[arg-type]
    assert _count(engine) == before + 1

    _migrate(engine, "0011", down=True)
    assert not _triggers(engine) & (VOORSTEL_TRIGGERS | {"client_moved_voorstellen_counted"})
    assert _count(engine) is None
    _propose(engine, client, vacancy)  # type: ignore[arg-type]  # written as before 0012
    assert _count(engine) is None

    _migrate(engine, "0012")
    assert _triggers(engine) >= VOORSTEL_TRIGGERS
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM voorstel WHERE client_id = :c"), {"c": client})
    assert _count(engine) == 2  # both deleted, counted
    engine.dispose()
