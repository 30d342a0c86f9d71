"""The schema's versions (:mod:`api.services.migrations`), on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.services import audit, audit_guard, migrations, schema
from api.services.inbox import InboxItem
from api.services.users import User
from api.services.zoekopdrachten import Zoekopdracht
from matching import store
from matching.domain import Client, Vacancy, client_from_input, utcnow
from matching.outcomes import Voorstel
from matching.store import make_engine
from tests.factories import client_in, make_client, make_vacancy


def _tables() -> list:
    return [model.__table__ for model in schema.TABLES]  # type: ignore[attr-defined]


def _shape(connection, table: str) -> list[tuple[str, str]]:
    """A table's columns as (name, type) and its indexes as ("index", name), sorted: its shape, for comparing."""
    inspector = inspect(connection)
    shape = [(column["name"], str(column["type"])) for column in inspector.get_columns(table)]
    return sorted(shape + [("index", str(index["name"])) for index in inspector.get_indexes(table)])


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
    del before["record_change"], after["record_change"]  # the change counters (0006) get their rows at start
    assert {name: count for name, count in after.items() if name in before} == before
    with Session(engine) as session:
        assert sorted(c.client_nummer for c in session.exec(select(Client))) == [f"K-OUD-{n}" for n in range(5)]
        assert len(session.exec(select(Voorstel)).all()) == 1
        audit.record(session, actor="a", rol="beheerder", action="x", purpose="p", subjects=["K-OUD-0"])
        session.commit()  # the audit log is protected and writable after the upgrade
    current = CliRunner().invoke(cli_app, ["db", "current", "--json"])
    assert current.exit_code == 0 and '"bijgewerkt": true' in current.stdout
    engine.dispose()


def _at_baseline(database_url: str, version: str = migrations.BASELINE) -> Engine:
    """A database at an older schema version (default 0001, as a werkmatch of before the gemeenten made it)."""
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(migrations._config(connection), version)
    audit_guard.protect(engine)
    return engine


def test_an_older_schema_is_refused_with_the_command_that_migrates_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _at_baseline(database_url)
    head = migrations.head()
    with pytest.raises(migrations.SchemaTooOld, match=f"versie 0001.*ouder.*versie {head}.*werkmatch db upgrade"):
        schema.create_all(engine)
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", database_url)
    refused = CliRunner().invoke(cli_app, ["serve", "--port", "9"])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [
        f"Fout: het databaseschema (versie 0001) is ouder dan deze werkmatch (versie {head}); "
        "draai eerst 'werkmatch db upgrade'"
    ]
    engine.dispose()


def test_a_database_at_0001_is_upgraded_every_row_survives_and_belongs_to_this_gemeente(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0002 (gemeenten as tenants) on a filled 0001 database: rows kept, the gemeente filled in."""
    engine = _at_baseline(database_url)
    clients = Table("client", MetaData(), autoload_with=engine)
    users_table = Table("gebruiker", MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        for number in range(3):
            row = client_from_input(client_in(client_nummer=f"K-0001-{number}", consulent="wc-a"))
            connection.execute(clients.insert().values({**row, "updated_at": utcnow()}))
        connection.execute(
            users_table.insert().values(
                username="wc",
                password_hash="x",
                rol="werkconsulent",
                consulent="wc-a",
                naam="wc",
                actief=True,
                created_at=utcnow(),
            )
        )
        # an audit entry as 0001 wrote it: ten keys under the hash, no gemeente column
        entry = audit.AuditEntry(
            seq=1,
            at=utcnow(),
            actor="wc",
            rol="werkconsulent",
            action="x",
            purpose="p",
            subjects=["K-0001-1"],
            details={},
            prev_hash=audit.GENESIS_HASH,
            hash="",
        )
        entry.hash = audit.entry_hash(entry)
        row = entry.model_dump(exclude={"gemeente"})
        connection.execute(Table("audit_log", MetaData(), autoload_with=connection).insert().values(row))
        connection.execute(text("UPDATE audit_head SET seq = 1, hash = :h WHERE id = 1"), {"h": entry.hash})
    before = _row_counts(engine)
    monkeypatch.setenv("WERKMATCH_GEMEENTE", "Duiven")
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", database_url)
    done = CliRunner().invoke(cli_app, ["db", "upgrade", "--json"])
    assert done.exit_code == 0, done.output
    assert '"van": "0001"' in done.stdout and f'"naar": "{migrations.head()}"' in done.stdout
    after = _row_counts(engine)  # later migrations add tables: those start empty
    assert {name: after[name] for name in before} == before and before["audit_log"] == 1
    assert not any(after[name] for name in after.keys() - before.keys() - {"record_change"})  # its counters: 0006
    with Session(engine) as session:
        assert {c.client_nummer: c.gemeente for c in session.exec(select(Client))} == {
            f"K-0001-{n}": "Duiven" for n in range(3)
        }
        assert session.exec(select(User.gemeente)).one() == "Duiven"
        # the old entry keeps its hash; a new one carries the actor's gemeente inside its hash
        audit.record(session, actor="wc", rol="werkconsulent", action="y", purpose="p", subjects=[], gemeente="Duiven")
        session.commit()
        assert audit.verify_chain(session) == {"ok": True, "entries": 2, "firstBroken": None}
        assert '"gemeente":"Duiven"' in audit.canonical_json(session.get(audit.AuditEntry, 2)).decode()
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


def test_0003_puts_saved_searches_on_the_shown_scale_and_drops_raw_inbox_scores(database_url: str) -> None:
    engine = _at_baseline(database_url, "0002")
    with Session(engine) as session:
        client, vacancy = make_client(session, client_nummer="K-SCORE"), make_vacancy(session, vacature_nummer="V-S")
        session.add(Zoekopdracht(consulent="wc-a", made_by="wc", client_id=client.id, min_score=0.45))
        for score in (0.734, -1.25, 87.0, None):
            session.add(
                InboxItem(
                    soort="push", consulent="wc-a", client_id=client.id, vacancy_id=vacancy.id, sender="am", score=score
                )
            )
        session.commit()
    with engine.begin() as connection:
        command.upgrade(migrations._config(connection), "0003")
    with Session(engine) as session:
        assert session.exec(select(Zoekopdracht.min_score)).one() == pytest.approx(45.0)
        assert sorted(session.exec(select(InboxItem.score)), key=str) == [87.0, None, None, None]
    engine.dispose()


def test_0005_maps_saved_searches_to_the_chance_and_drops_scores_of_the_old_scale(database_url: str) -> None:
    engine = _at_baseline(database_url, "0004")
    with Session(engine) as session:
        client, vacancy = make_client(session, client_nummer="K-KANS"), make_vacancy(session, vacature_nummer="V-K")
        for old in (0.0, 70.0, 72.5, 90.0, 100.0):
            session.add(Zoekopdracht(consulent="wc-a", made_by="wc", client_id=client.id, min_score=old))
        session.add(
            InboxItem(soort="push", consulent="wc-a", client_id=client.id, vacancy_id=vacancy.id, sender="am", score=87)
        )
        session.commit()
        session.execute(
            text("INSERT INTO batch_run (id, kind, partition_ids, started_at) VALUES (1, 'match', 500, '2026-12-01')")
        )
        session.commit()
    schema.upgrade(engine)
    with Session(engine) as session:
        assert sorted(session.exec(select(Zoekopdracht.min_score))) == [0.0, 18.0, 20.5, 45.0, 100.0]
        assert session.exec(select(InboxItem.score)).one() is None
        assert session.execute(text("SELECT count(*) FROM batch_run")).scalar_one() == 0
    with engine.begin() as connection:
        command.downgrade(migrations._config(connection), "0004")
    with Session(engine) as session:
        assert sorted(session.exec(select(Zoekopdracht.min_score))) == pytest.approx(
            [0.0, 70.0, 72.5, 90.0, 100.0], abs=1.5
        )
    engine.dispose()


def _triggers(engine: Engine) -> set[str]:
    """The names of the triggers that keep ``record_change`` (0006)."""
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        if engine.dialect.name == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    )
    with engine.connect() as connection:
        return {name for name in connection.exec_driver_sql(query).scalars() if name.endswith("_counted")}


def test_0006_counts_changes_on_a_filled_database_and_goes_back_to_0005(database_url: str) -> None:
    engine = _at_baseline(database_url, "0005")
    with Session(engine) as session:
        for number in range(3):
            make_client(session, client_nummer=f"K-TEL-{number}")
        make_vacancy(session, vacature_nummer="V-TEL")
    rows_before = _row_counts(engine)
    schema.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    after = _row_counts(engine)
    assert {name: after[name] for name in rows_before} == rows_before and not after.get("batch_owner")
    assert _triggers(engine) >= {"client_insert_counted", "client_delete_counted", "vacancy_delete_counted"}
    with Session(engine) as session:
        before = store.change_marks(session)
        session.execute(text("DELETE FROM client WHERE client_nummer = 'K-TEL-0'"))
        session.commit()
        after = store.change_marks(session)
    assert after["clients"] != before["clients"] and after["vacancies"] == before["vacancies"]
    with engine.begin() as connection:
        command.downgrade(migrations._config(connection), "0005")
    assert "record_change" not in inspect(engine).get_table_names() and _triggers(engine) == set()
    with Session(engine) as session:  # the tables write as before 0006
        make_client(session, client_nummer="K-TEL-9")
        assert len(session.exec(select(Client.id)).all()) == 3
    store.init_db(engine)  # a newer matcher opened the database before the upgrade: the table is there already
    schema.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    with Session(engine) as session:
        before = store.change_marks(session)
        make_client(session, client_nummer="K-TEL-10")
        assert store.change_marks(session)["clients"] != before["clients"]
    engine.dispose()


_FAILING_MIGRATION = '''"""A migration that fails halfway: it alters the schema and fills a table, then breaks."""

import sqlalchemy as sa
from alembic import op

revision = "9998"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("halverwege", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO halverwege (id) VALUES (1)")
    with op.batch_alter_table("client") as batch:
        batch.add_column(sa.Column("halverwege", sa.Integer, nullable=True))
    op.execute("UPDATE client SET halverwege = 1")
    raise RuntimeError("stroomstoring halverwege de migratie")


def downgrade() -> None:
    raise NotImplementedError
'''


def test_a_migration_that_fails_halfway_leaves_the_previous_schema_and_every_row(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """0001 → every real migration → one that breaks after changing tables: the database stays at 0001, whole."""
    import shutil

    scripts = tmp_path / "migrations"
    shutil.copytree(migrations.SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9998_fails_halfway.py").write_text(_FAILING_MIGRATION.format(head=migrations.head()))
    engine = _at_baseline(database_url)
    clients = Table("client", MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        for number in range(3):
            row = client_from_input(client_in(client_nummer=f"K-HALF-{number}", consulent="wc-a"))
            connection.execute(clients.insert().values({**row, "updated_at": utcnow()}))
    with engine.connect() as connection:
        tables_before = {name: _shape(connection, name) for name in inspect(connection).get_table_names()}
    rows_before = _row_counts(engine)
    monkeypatch.setattr(migrations, "SCRIPTS", scripts)
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", database_url)

    failed = CliRunner().invoke(cli_app, ["db", "upgrade"])

    assert failed.exit_code == 1, failed.output
    assert failed.output.strip().splitlines() == [
        "Fout: het bijwerken van het databaseschema is mislukt (RuntimeError: stroomstoring halverwege de "
        "migratie); er is niets veranderd, de database is nog bij versie 0001"
    ]
    assert migrations.current(engine) == "0001"
    with engine.connect() as connection:
        tables_after = {name: _shape(connection, name) for name in inspect(connection).get_table_names()}
    assert tables_after == tables_before  # no table, column or index of 0002, 0003, … or of the broken one
    assert _row_counts(engine) == rows_before and rows_before["client"] == 3
    engine.dispose()
