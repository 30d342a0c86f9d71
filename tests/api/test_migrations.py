"""The schema's versions (:mod:`api.services.migrations`), on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.services import audit, audit_guard, migrations, schema
from matching.domain import Client, Vacancy
from matching.outcomes import Voorstel
from matching.store import make_engine
from tests.factories import make_client, make_vacancy


def _tables() -> list:
    return [model.__table__ for model in schema.TABLES]  # type: ignore[attr-defined]


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        names = [name for name in inspect(connection).get_table_names() if name != "alembic_version"]
        return {name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}


def test_the_migrations_make_exactly_the_codes_schema(database_url: str) -> None:
    """An empty database gets every migration; the result has every table and column of the code, no more."""
    engine = make_engine(database_url)
    schema.create_all(engine)
    assert migrations.current(engine) == migrations.head()
    with engine.connect() as connection:
        assert migrations._missing_columns(connection, _tables()) == []  # a model change needs a migration
        made = set(inspect(connection).get_table_names()) - {"alembic_version"}
    assert made == {table.name for table in _tables()}
    engine.dispose()


def test_a_database_from_before_migrations_is_upgraded_and_every_row_survives(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The previous schema: the tables and guards as create_all made them before migrations, filled, no version."""
    engine = make_engine(database_url)
    SQLModel.metadata.create_all(engine, tables=_tables())
    audit_guard.protect(engine)
    with Session(engine) as session:
        for number in range(5):
            make_client(session, client_nummer=f"K-OUD-{number}", consulent="wc-a")
        make_vacancy(session, vacature_nummer="V-OUD")
        session.commit()
        client_ids = [client.id for client in session.exec(select(Client))]
        vacancy_id = session.exec(select(Vacancy.id)).one()
        session.add(
            Voorstel(client_id=client_ids[0], vacancy_id=vacancy_id, made_by="consulent1", made_by_role="werkconsulent")
        )
        session.commit()
        audit.record(session, actor="consulent1", rol="werkconsulent", action="x", purpose="p", subjects=["K-OUD-1"])
        session.commit()
    before = _row_counts(engine)
    assert before["audit_log"] == 1 and before["client"] == 5
    assert migrations.current(engine) is None

    monkeypatch.setenv("WERKMATCH_DATABASE_URL", database_url)
    done = CliRunner().invoke(cli_app, ["db", "upgrade", "--json"])
    assert done.exit_code == 0, done.output
    assert '"naar": "' + migrations.head() + '"' in done.stdout
    after = _row_counts(engine)
    assert {name: count for name, count in after.items() if name in before} == before
    with Session(engine) as session:
        assert sorted(c.client_nummer for c in session.exec(select(Client))) == [f"K-OUD-{n}" for n in range(5)]
        assert len(session.exec(select(Voorstel)).all()) == 1
        audit.record(session, actor="a", rol="beheerder", action="x", purpose="p", subjects=["K-OUD-0"])
        session.commit()  # the audit log is protected and writable after the upgrade
    current = CliRunner().invoke(cli_app, ["db", "current", "--json"])
    assert current.exit_code == 0 and '"bijgewerkt": true' in current.stdout
    engine.dispose()


def test_an_older_schema_is_refused_with_the_command_that_migrates_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code is one version ahead (a migration ``0002`` that this database has not had)."""
    engine = make_engine(database_url)
    schema.create_all(engine)
    monkeypatch.setattr(migrations, "head", lambda: "0002")
    monkeypatch.setattr(migrations, "known", lambda: ["0001", "0002"])
    with pytest.raises(migrations.SchemaTooOld, match="versie 0001.*ouder.*werkmatch db upgrade"):
        schema.create_all(engine)
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", database_url)
    refused = CliRunner().invoke(cli_app, ["serve", "--port", "9"])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [
        "Fout: het databaseschema (versie 0001) is ouder dan deze werkmatch (versie 0002); "
        "draai eerst 'werkmatch db upgrade'"
    ]
    engine.dispose()


def test_a_schema_from_a_newer_werkmatch_is_refused(database_url: str) -> None:
    engine = make_engine(database_url)
    schema.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(migrations.SchemaTooNew, match="versie 9999.*nieuwer"):
        schema.create_all(engine)
    with pytest.raises(migrations.SchemaTooNew):
        schema.upgrade(engine)
    engine.dispose()
