"""Database engine, schema creation and the upserts every writer goes through."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Column, Integer, event, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, Session, SQLModel, create_engine, select

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


class RecordChange(SQLModel, table=True):
    """What the database counts of inserted and deleted clients, vacancies and voorstellen: a search's cheap check.

    A search catches up with saved changes by ``updated_at``; a deleted row (or one inserted with an
    older timestamp) leaves no such trace, and counting every row per search to notice it cost
    6–21 ms at 400,000 clients. Triggers (:func:`track_changes`) keep this table instead, and
    :func:`change_marks` reads it in one query over a handful of rows:

    * **SQLite**: one row per side, ``n`` counts every inserted and deleted row (a row trigger;
      SQLite's writers take turns anyway);
    * **PostgreSQL**: an append-only log, one row per statement and gemeente (a statement trigger with
      a transition table), so concurrent writers never wait for a shared counter; ``n`` rows changed.
      Under the same row-level security as ``client``: a transaction sees the rows of its gemeente
      (clients) and every vacancy row (``gemeente`` empty), nothing of another gemeente.
      :func:`compact_changes` folds the log into one fresh row per gemeente now and then.

    Either way a side's mark, ``(rows, newest id, sum of n)`` over the rows a transaction sees,
    changes with every committed insert or delete that transaction could count: the count grows
    with each commit, and a compaction gives the newest id a value never seen before.

    The side ``voorstellen`` is for :mod:`matching.floor_state` (who was ever proposed): on PostgreSQL an inserted
    voorstel is logged under its client's gemeente, a deleted one (and a client moved to another gemeente, whose
    voorstellen move with it) under none, so every scope sees it.
    """

    __tablename__ = "record_change"
    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    side: str = Field(max_length=16, index=True)  # "clients" or "vacancies"
    gemeente: str | None = Field(default=None, max_length=60)  # a client statement's gemeente (PostgreSQL)
    n: int = 0


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
    RecordChange,
)
"""The domain core's tables: bestand, embedding cache, voorstellen, kill switch, exposure ledger, change marks."""


def init_db(engine: Engine) -> None:
    """Create the tables of every module imported so far (at least :data:`TABLES`) that do not exist.

    For the domain core on its own: the matcher and the training scripts (whose table,
    ``training.latent.SyntheticLatent``, is created here once imported). The service, the CLI and the
    tests call :func:`api.services.schema.create_all`, which creates every table of werkmatch by name
    and also protects the audit log.
    """
    SQLModel.metadata.create_all(engine)
    track_changes(engine)


# ---------------------------------------------------------------------- change marks (RecordChange)
SIDE_TABLES = {"clients": "client", "vacancies": "vacancy", "voorstellen": "voorstel"}
RECORD_SIDES = ("clients", "vacancies")  # PostgreSQL: counted by werkmatch_record_change; voorstellen by their own
COMPACT_ABOVE = 64  # log rows of a side (PostgreSQL) beyond which compact_changes folds them
Mark = tuple[int, int | None, int | None]
"""A side's change mark: (log rows, newest id, sum of n) as one transaction sees them."""

_SQLITE_CHANGE_DDL = [
    statement
    for side, table in SIDE_TABLES.items()
    for event_name in ("INSERT", "DELETE")
    for statement in (
        f"""CREATE TRIGGER IF NOT EXISTS {table}_{event_name.lower()}_counted AFTER {event_name} ON {table}
            BEGIN UPDATE record_change SET n = n + 1 WHERE side = '{side}'; END""",
    )
]

# What each side's PostgreSQL triggers call (a function per kind of side).
_POSTGRES_COUNTER = {side: f"werkmatch_record_change('{side}')" for side in RECORD_SIDES}
_POSTGRES_COUNTER["voorstellen"] = "werkmatch_voorstel_change()"

# One function for inserts and deletes: the trigger names its transition table ``changed_rows``.
_POSTGRES_CHANGE_DDL = [
    """CREATE OR REPLACE FUNCTION werkmatch_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            INSERT INTO record_change (side, gemeente, n) VALUES (TG_ARGV[0], NULL, 0);
        ELSIF TG_TABLE_NAME = 'client' THEN
            INSERT INTO record_change (side, gemeente, n)
                SELECT TG_ARGV[0], gemeente, count(*) FROM changed_rows GROUP BY gemeente;
        ELSE
            INSERT INTO record_change (side, gemeente, n)
                SELECT TG_ARGV[0], NULL, count(*) FROM changed_rows HAVING count(*) > 0;
        END IF;
        RETURN NULL;
    END $$""",
    # A client moved to another gemeente leaves the one and enters the other's count.
    """CREATE OR REPLACE FUNCTION werkmatch_client_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO record_change (side, gemeente, n)
            SELECT 'clients', moved.gemeente, count(*) FROM (
                SELECT o.gemeente FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE w.gemeente <> o.gemeente
                UNION ALL
                SELECT w.gemeente FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE w.gemeente <> o.gemeente
            ) moved GROUP BY moved.gemeente;
        RETURN NULL;
    END $$""",
    # A voorstel inserted counts in its client's gemeente (the scope that sees it); deleted, truncated or moved with
    # its client to another gemeente, in every scope (its client may be gone, and two scopes see the move).
    """CREATE OR REPLACE FUNCTION werkmatch_voorstel_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO record_change (side, gemeente, n)
                SELECT 'voorstellen', c.gemeente, count(*) FROM changed_rows r LEFT JOIN client c ON c.id = r.client_id
                GROUP BY c.gemeente;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO record_change (side, gemeente, n)
                SELECT 'voorstellen', NULL, count(*) FROM changed_rows HAVING count(*) > 0;
        ELSIF TG_OP = 'TRUNCATE' THEN
            INSERT INTO record_change (side, gemeente, n) VALUES ('voorstellen', NULL, 1);
        ELSE
            INSERT INTO record_change (side, gemeente, n)
                SELECT 'voorstellen', NULL, count(*) FROM old_rows o JOIN new_rows w ON w.id = o.id
                WHERE w.gemeente <> o.gemeente HAVING count(*) > 0;
        END IF;
        RETURN NULL;
    END $$""",
    *[
        f"""CREATE TRIGGER {table}_{event_name.lower()}_counted AFTER {event_name} ON {table}
            REFERENCING {"NEW" if event_name == "INSERT" else "OLD"} TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {_POSTGRES_COUNTER[side]}"""
        for side, table in SIDE_TABLES.items()
        for event_name in ("INSERT", "DELETE")
    ],
    *[
        f"""CREATE TRIGGER {table}_truncate_counted AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {_POSTGRES_COUNTER[side]}"""
        for side, table in SIDE_TABLES.items()
    ],
    *[
        f"""CREATE TRIGGER client_{name}_counted AFTER UPDATE ON client
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {function}()"""
        for name, function in (("moved", "werkmatch_client_moved"), ("moved_voorstellen", "werkmatch_voorstel_change"))
    ],
]
_POSTGRES_TRIGGERS = (
    *(f"{table}_{name}_counted" for table in SIDE_TABLES.values() for name in ("insert", "delete", "truncate")),
    "client_moved_counted",
    "client_moved_voorstellen_counted",
)
_POSTGRES_POLICY = f"gemeente IS NULL OR current_setting('{tenancy.SETTING}', true) IN (gemeente, '{tenancy.REGIONAL}')"


def change_tracking_ddl(dialect: str) -> list[str]:
    """The statements that make ``record_change`` count (triggers; on PostgreSQL also its row-level security).

    The table must exist. SQLite's are idempotent; PostgreSQL's are for a database without them
    (:func:`track_changes` checks first; migration ``0006`` runs them once).
    """
    if dialect == "sqlite":
        return list(_SQLITE_CHANGE_DDL)
    if dialect == "postgresql":
        return [
            "ALTER TABLE record_change ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE record_change FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY gemeente_scope ON record_change USING ({_POSTGRES_POLICY}) WITH CHECK ({_POSTGRES_POLICY})",
            *_POSTGRES_CHANGE_DDL,
        ]
    raise NotImplementedError(f"geen wijzigingstelling voor database '{dialect}'; gebruik SQLite of PostgreSQL")


def _seed_sqlite_counters(connection: Connection) -> None:
    for side in SIDE_TABLES:
        connection.execute(
            text(
                "INSERT INTO record_change (side, n) SELECT :side, 0 "
                "WHERE NOT EXISTS (SELECT 1 FROM record_change WHERE side = :side)"
            ),
            {"side": side},
        )


def _postgres_tracking(connection: Connection) -> tuple[set[str], bool]:
    """The change triggers present, and whether ``record_change`` has its row-level security policy."""
    present = connection.execute(
        text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(:names)"),
        {"names": list(_POSTGRES_TRIGGERS)},
    ).scalars()
    policy = connection.execute(
        text("SELECT 1 FROM pg_policies WHERE tablename = 'record_change' AND policyname = 'gemeente_scope'")
    ).first()
    return set(present), policy is not None


def install_change_tracking(connection: Connection) -> None:
    """Make ``record_change`` count on this connection's database: what is missing of it; idempotent.

    The table must exist (a matcher's :func:`init_db` may have made it before migration ``0006`` ran).
    """
    if connection.dialect.name == "sqlite":
        _seed_sqlite_counters(connection)
        for statement in change_tracking_ddl("sqlite"):
            connection.exec_driver_sql(statement)
        return
    present, policy = _postgres_tracking(connection)
    for statement in change_tracking_ddl(connection.dialect.name):
        if policy and ("ROW LEVEL SECURITY" in statement or "CREATE POLICY" in statement):
            continue
        if statement.startswith("CREATE TRIGGER") and statement.split()[2] in present:
            continue
        connection.exec_driver_sql(statement)


def track_changes(engine: Engine) -> None:
    """Make sure ``record_change`` counts: its triggers (and rows, SQLite) are there; idempotent, at every start.

    A database whose tables were made without them (an unversioned one adopted by the migrations, or
    one :func:`init_db` made) gets them here; on PostgreSQL only the tables' owner can make them.

    Raises:
        RuntimeError: PostgreSQL without the triggers, and this role may not make them (Dutch).
    """
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"geen wijzigingstelling voor database '{dialect}'; gebruik SQLite of PostgreSQL")
    with engine.begin() as connection:
        if dialect == "postgresql":
            present, policy = _postgres_tracking(connection)
            if policy and present >= set(_POSTGRES_TRIGGERS):
                return
            owner = connection.execute(
                text("SELECT pg_get_userbyid(relowner) = current_user FROM pg_class WHERE relname = 'record_change'")
            ).scalar_one()
            if not owner:
                raise RuntimeError(
                    "de tabel record_change telt geen wijzigingen (triggers ontbreken) en deze databaserol mag ze "
                    "niet maken; draai 'werkmatch db upgrade' als de eigenaar van de tabellen"
                )
        install_change_tracking(connection)


def change_marks(session: Session) -> dict[str, Mark | None]:
    """Each side's change mark as this transaction sees it (:class:`RecordChange`), in one query.

    None for a side whose mark cannot be trusted (SQLite without its counter row): count instead.
    """
    rows = session.execute(text("SELECT side, count(*), max(id), sum(n) FROM record_change GROUP BY side")).all()
    marks: dict[str, Mark | None] = {side: (0, None, None) for side in SIDE_TABLES}
    if session.get_bind().dialect.name == "sqlite":
        marks = dict.fromkeys(SIDE_TABLES)
    for side, count, newest, total in rows:
        if side in marks:
            marks[side] = (int(count), newest, total)
    return marks


def deleted_since(before: Mark | None, counted: int, after: Mark | None, count: int) -> bool:
    """Whether rows were deleted between a side's mark ``before`` (when it had ``counted`` rows) and ``after``
    (``count`` rows).

    The marks' total ``n`` grows by one for every row inserted or deleted and the count by inserts minus deletes, so
    ``(Δn − Δcount) / 2`` rows were deleted: a deletion shows even when an insert made up for it in the count (an
    insert with an older ``updated_at`` leaves no other trace). Without both totals, only a smaller count tells.
    """
    if before is None or after is None or before[2] is None or after[2] is None:
        return count < counted
    return int(after[2]) - int(before[2]) > count - counted


def compact_changes(engine: Engine) -> int:
    """Fold each side's log (PostgreSQL) into one fresh row per gemeente once it has grown; rows removed.

    The fresh rows get ids above every id handed out before, so every mark read earlier differs from
    the marks after (:class:`RecordChange`). Only the rows this transaction sees are folded; a
    concurrent fold finds them gone and folds nothing. SQLite keeps one row per side: nothing to do.
    """
    if engine.dialect.name != "postgresql":
        return 0
    removed = 0
    with engine.begin() as connection:
        for side in SIDE_TABLES:
            folded = connection.execute(
                text(
                    "WITH gone AS (DELETE FROM record_change WHERE side = :side "
                    "AND (SELECT count(*) FROM record_change WHERE side = :side) > :above RETURNING gemeente, n), "
                    "fresh AS (INSERT INTO record_change (side, gemeente, n) "
                    "SELECT :side, gemeente, sum(n) FROM gone GROUP BY gemeente RETURNING 1) "
                    "SELECT (SELECT count(*) FROM gone)"
                ),
                {"side": side, "above": COMPACT_ABOVE},
            ).scalar_one()
            removed += int(folded)
    return removed


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
