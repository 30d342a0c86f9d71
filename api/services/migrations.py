"""The database's schema version: Alembic's migrations in ``api/migrations/versions``, run in one place.

:func:`prepare` is what every start does (the service, the CLI, the tests, through
:func:`api.services.schema.create_all`):

* an **empty** database gets every migration (it is then at the code's version, :func:`head`);
* a database **without a version** made by werkmatch before migrations existed (or whose tables the
  matcher created on its own, :func:`matching.store.init_db`) is adopted: at the newest version when it
  already has every table and column of the code, otherwise at ``0001``, the schema all such databases
  have; tables it lacks are created;
* a database at an **older** version is refused with one Dutch line that names ``werkmatch db upgrade``
  (:class:`SchemaTooOld`), a **newer** one (written by a later werkmatch) likewise (:class:`SchemaTooNew`).

:func:`upgrade` (``werkmatch db upgrade``) runs the missing migrations in one transaction, on both
databases (:func:`_transaction`): a migration that fails halfway leaves the previous schema and every
row as they were, and the command says so in one Dutch line (:class:`MigrationFailed`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from matching.errors import WerkmatchError

SCRIPTS = Path(__file__).resolve().parents[1] / "migrations"
BASELINE = "0001"  # the schema of every database made before migrations existed
UPGRADE_COMMAND = "werkmatch db upgrade"


class MigrationFailed(WerkmatchError):
    """A migration raised: everything of this upgrade was rolled back, the database is where it was."""


class SchemaTooOld(WerkmatchError):
    """The database's schema is older than the code's: ``werkmatch db upgrade`` first."""


class SchemaTooNew(WerkmatchError):
    """The database was migrated by a newer werkmatch than this one."""


def _too_new(version: str) -> SchemaTooNew:
    return SchemaTooNew(
        f"het databaseschema (versie {version}) is nieuwer dan deze werkmatch (versie {head()}) kent; "
        "installeer de werkmatch-versie die de database bijwerkte"
    )


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The code's schema version: the newest migration."""
    found = ScriptDirectory.from_config(_config()).get_current_head()
    assert found is not None, "api/migrations/versions has no migration"
    return found


def known() -> list[str]:
    """Every version the code knows, oldest first."""
    return [script.revision for script in reversed(list(ScriptDirectory.from_config(_config()).walk_revisions()))]


def current(engine: Engine) -> str | None:
    """The database's schema version; None when it has none (empty, or made before migrations)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _missing_columns(connection: Connection, tables: list[SQLModel]) -> list[str]:
    """``table.column`` of the code's tables that the database lacks (a whole missing table counts once)."""
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    missing = []
    for table in tables:
        if table.name not in existing:  # type: ignore[attr-defined]
            missing.append(str(table.name))  # type: ignore[attr-defined]
            continue
        have = {column["name"] for column in inspector.get_columns(table.name)}  # type: ignore[attr-defined]
        missing += [f"{table.name}.{column.name}" for column in table.columns if column.name not in have]  # type: ignore[attr-defined]
    return missing


def _adopt(connection: Connection, tables: list[SQLModel]) -> None:
    """Give a database without a version one (see the module docstring), creating the tables it lacks."""
    complete = not [name for name in _missing_columns(connection, tables) if "." in name]
    SQLModel.metadata.create_all(connection, tables=tables)  # type: ignore[arg-type]
    command.stamp(_config(connection), head() if complete else BASELINE)


def prepare(engine: Engine, tables: list[SQLModel]) -> str:
    """Bring an empty or unversioned database to a version; refuse one that is older or newer than the code.

    Args:
        tables: The code's tables (:data:`api.services.schema.TABLES`).

    Returns:
        The database's version, now equal to :func:`head`.

    Raises:
        SchemaTooOld: The database is at an older version (run ``werkmatch db upgrade``).
        SchemaTooNew: The database is at a version this code does not know.
    """
    version = current(engine)
    if version is None:
        with _transaction(engine) as connection:
            if inspect(connection).get_table_names():
                _adopt(connection, tables)
            else:
                command.upgrade(_config(connection), "head")
        version = current(engine)
    newest = head()
    if version == newest:
        return version
    if version in known():
        raise SchemaTooOld(
            f"het databaseschema (versie {version}) is ouder dan deze werkmatch (versie {newest}); "
            f"draai eerst '{UPGRADE_COMMAND}'"
        )
    raise _too_new(version)


def upgrade(engine: Engine, tables: list[SQLModel]) -> tuple[str | None, str]:
    """Run every missing migration in one transaction (``werkmatch db upgrade``); (version before, after).

    An unversioned database is adopted first (see :func:`prepare`).

    Raises:
        SchemaTooNew: The database is at a version this code does not know.
    """
    before = current(engine)
    if before is not None and before not in known():
        raise _too_new(before)
    try:
        with _transaction(engine) as connection:
            if before is None and inspect(connection).get_table_names():
                _adopt(connection, tables)
            command.upgrade(_config(connection), "head")
    except WerkmatchError:
        raise
    except Exception as error:  # a migration broke: the transaction is rolled back, say so in one line
        cause = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:200]
        raise MigrationFailed(
            f"het bijwerken van het databaseschema is mislukt ({cause}); er is niets veranderd, "
            f"de database is nog bij versie {before or 'zonder versie'}"
        ) from error
    return before, head()


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction that DDL cannot escape, committed at the end, rolled back on an error.

    PostgreSQL's DDL is transactional as it is. Python's sqlite3 driver opens a transaction only before
    INSERT/UPDATE/DELETE and runs a CREATE or ALTER before that in autocommit, so a migration that
    failed after its first ``CREATE TABLE`` would leave that table behind: on SQLite the transaction is
    begun explicitly (``BEGIN IMMEDIATE``: the migration also waits for, and then holds, the write lock).
    """
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield connection
