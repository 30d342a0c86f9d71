"""Database engine, schema creation and the upserts every writer goes through."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine, select

from matching import tenancy
from matching.domain import (
    AuditKenmerken,
    Client,
    ClientIn,
    ClientPersonalia,
    EmbeddingCache,
    Vacancy,
    VacancyIn,
    client_from_input,
    utcnow,
    vacancy_from_input,
)
from matching.outcomes import Voorstel, VoorstelEvent
from matching.oversight_state import ExposureEntry, RuntimeSetting

logger = logging.getLogger(__name__)
Record = TypeVar("Record", Client, Vacancy)


PRIVATE_DIR = 0o700  # the data directory: only the service's own user may list or enter it
PRIVATE_FILE = 0o600  # the database holds health data (beperkingen): only the service's own user reads it
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_database_file(path: Path) -> None:
    """Create the SQLite file at ``path`` with mode 0600 (its directory 0700 when it is new) before SQLite does.

    SQLite creates the file with the process umask (0644 by default: anyone on the machine could
    read every profile), and gives its ``-wal`` and ``-shm`` files the mode of the database file
    (``findCreateFileMode`` in ``os_unix.c``), so creating the file first makes all three private.
    A file or side file that exists with a wider mode is narrowed to 0600. An existing directory
    keeps its mode: it may be a shared one such as ``/tmp``.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if not path.exists():
        # Only a new file: closing any descriptor of an open database drops every POSIX lock this process
        # holds on it, and without their shared lock another process's last connection deletes the WAL
        # files under this one's open connections ("disk I/O error").
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, PRIVATE_FILE))
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_FILES)):
        try:
            if candidate.exists() and candidate.stat().st_mode & 0o077:
                candidate.chmod(PRIVATE_FILE)
        except PermissionError as error:  # another user's file: say so, serve anyway
            logger.warning("cannot make %s private (mode 0600): %s", candidate, error)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and ``synchronous=FULL`` (durable commits).

    A SQLite file is created private first (:func:`private_database_file`).
    """
    if url.startswith("sqlite:///"):
        database = url.removeprefix("sqlite:///").partition("?")[0]
        if database and database != ":memory:":
            private_database_file(Path(database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted rows are overwritten with zeros, not left in free pages: an erased client (api.services.erasure)
            # is gone from the file, not just unreachable. Costs a write of the freed bytes, which deletes rarely do.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return tenancy.install(create_engine(url, pool_pre_ping=True))


# What psycopg says (in lower case) -> what we tell the user; the first that matches.
_CONNECT_FAILURES = (
    ("password authentication failed", "aanmelden geweigerd: gebruiker of wachtwoord klopt niet"),
    ("does not exist", "de database of de gebruiker bestaat niet"),
    ("name or service not known", "onbekende host"),
    ("temporary failure in name resolution", "onbekende host"),
    ("accepting tcp/ip connections", "verbinding geweigerd"),
    ("connection refused", "verbinding geweigerd"),
    ("timeout", "geen antwoord binnen de wachttijd"),
    ("timed out", "geen antwoord binnen de wachttijd"),
)


def unreachable(url: str, error: Exception) -> str:
    """One Dutch line for a database that cannot be reached: host, port and database, never the password."""
    where = make_url(url)
    if where.get_backend_name() == "sqlite":
        return f"de database {where.database} kan niet geopend worden ({error}); controleer WERKMATCH_DATA_DIR"
    cause = str(getattr(error, "orig", error)).lower()
    reason = next((dutch for english, dutch in _CONNECT_FAILURES if english in cause), "verbinding mislukt")
    return (
        f"de database '{where.database}' op {where.host or 'localhost'}:{where.port or 5432} is niet bereikbaar "
        f"({reason}); controleer WERKMATCH_DATABASE_URL en of de databaseserver draait"
    )


TABLES: tuple[type[SQLModel], ...] = (
    Client,
    ClientPersonalia,
    AuditKenmerken,
    Vacancy,
    EmbeddingCache,
    Voorstel,
    VoorstelEvent,
    RuntimeSetting,
    ExposureEntry,
)
"""The domain core's tables: bestand, embedding cache, voorstellen, kill switch and exposure ledger."""


def init_db(engine: Engine) -> None:
    """Create the tables of every module imported so far (at least :data:`TABLES`) that do not exist.

    For the domain core on its own: the matcher and the training scripts (whose table,
    ``training.latent.SyntheticLatent``, is created here once imported). The service, the CLI and the
    tests call :func:`api.services.schema.create_all`, which creates every table of werkmatch by name
    and also protects the audit log.
    """
    SQLModel.metadata.create_all(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: all or nothing."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _upsert(session: Session, table: type[Record], match: Any, values: dict[str, Any]) -> tuple[Record, bool]:
    """The row ``match`` finds, updated with ``values`` and a new ``updated_at``, or a new row; and if it is new."""
    row = session.exec(select(table).where(match)).first()
    created = row is None
    if row is None:
        row = table(**values)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row, created


def upsert_client(session: Session, data: ClientIn) -> tuple[Client, bool]:
    """Insert or update a client by ``client_nummer``. Returns the row and whether it was created."""
    return _upsert(session, Client, Client.client_nummer == data.client_nummer, client_from_input(data))


def upsert_vacancy(session: Session, data: VacancyIn) -> tuple[Vacancy, bool]:
    """Insert or update a vacancy by ``vacature_nummer``. Returns the row and whether it was created."""
    return _upsert(session, Vacancy, Vacancy.vacature_nummer == data.vacature_nummer, vacancy_from_input(data))


def all_clients(session: Session) -> list[Client]:
    return list(session.exec(select(Client).order_by(Client.id)))


def all_vacancies(session: Session) -> list[Vacancy]:
    return list(session.exec(select(Vacancy).order_by(Vacancy.id)))


def clients_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Client]:
    wanted = list(ids)
    return {row.id: row for row in session.exec(select(Client).where(Client.id.in_(wanted)))}  # type: ignore[union-attr]
