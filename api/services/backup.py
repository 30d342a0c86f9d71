"""Backup and restore of the database (``werkmatch backup FILE``, ``werkmatch restore FILE``).

Safe while the service runs: SQLite's online backup API copies a consistent snapshot page by page
(writers go on), ``pg_dump`` reads one snapshot transaction. The file holds everything the database
holds — profiles with beperkingen, the audit log, the embedding cache — so it is written private
(0600), through a temporary file that is fsynced before it takes its name, and never over an
existing file.

What is not in it, on purpose: the keys (``var/sleutels``: a file that carries both the data and the
token key would let whoever holds it forge logins; back them up apart) and the index files (rebuilt
from the database after a restore, from the embedding cache in it: no model runs again).

A restore goes only into an **empty** database (a new data directory, or a newly created PostgreSQL
database): it never merges into or overwrites data that is there.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from matching.errors import InvalidInputError, WerkmatchError
from matching.store import PRIVATE_FILE, make_engine, private_database_file

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(WerkmatchError):
    """A backup or restore that could not be made (the message says why, in Dutch, without secrets)."""


def _sqlite_path(url: URL) -> Path | None:
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def _pg_environment(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore; the password goes through the environment, never argv."""
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432), "--dbname", url.database or ""]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    return args, env


def _run(command: list[str], env: dict[str, str], what: str, url: URL) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} ontbreekt: installeer de PostgreSQL-clientprogramma's") from None
    if done.returncode != 0:
        first = (done.stderr or done.stdout).strip().splitlines()[:1]
        raise BackupError(f"{what} van database '{url.database}' op {url.host} mislukt: {' '.join(first)}")


def _fresh_target(target: Path) -> Path:
    if target.exists():
        raise InvalidInputError(f"'{target}' bestaat al; kies een nieuw bestand (een back-up overschrijft niets)")
    if not target.parent.is_dir():
        raise InvalidInputError(f"map '{target.parent}' bestaat niet")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    os.chmod(temporary, PRIVATE_FILE)
    return Path(temporary)


def _publish(temporary: Path, target: Path) -> None:
    with temporary.open("rb") as written:
        os.fsync(written.fileno())
    os.link(temporary, target)  # fails if the target appeared meanwhile: never overwrites
    temporary.unlink()
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def backup(database_url: str, target: Path) -> dict[str, object]:
    """Copy the database at ``database_url`` to the new file ``target`` (0600); safe while it is in use.

    Raises:
        InvalidInputError: ``target`` exists, or its folder does not.
        BackupError: pg_dump failed or is missing.
    """
    url = make_url(database_url)
    temporary = _fresh_target(target)
    try:
        source = _sqlite_path(url)
        if source is not None:
            with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(temporary)) as copy:
                live.backup(copy)  # the online backup API: a consistent snapshot while writers go on
            kind = "sqlite"
        else:
            args, env = _pg_environment(url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(temporary), *args], env, "back-up", url)
            kind = "postgresql"
        _publish(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return {"bestand": str(target), "soort": kind, "bytes": target.stat().st_size}


def _kind_of(source: Path) -> str:
    if not source.is_file():
        raise InvalidInputError(f"back-upbestand '{source}' bestaat niet")
    with source.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise InvalidInputError(f"'{source}' is geen werkmatch-back-up (geen SQLite-bestand en geen pg_dump-archief)")


def restore(database_url: str, source: Path) -> dict[str, object]:
    """Put the backup ``source`` into the empty database at ``database_url``.

    Raises:
        InvalidInputError: ``source`` is missing or not a backup, it is of the other database kind, or
            the target database is not empty.
        BackupError: pg_restore failed or is missing.
    """
    url = make_url(database_url)
    kind = _kind_of(source)
    target = _sqlite_path(url)
    wanted = "sqlite" if target is not None else "postgresql"
    if kind != wanted:
        raise InvalidInputError(f"'{source}' is een {kind}-back-up; deze installatie gebruikt {wanted}")
    engine = make_engine(database_url)
    try:
        if inspect(engine).get_table_names():
            raise InvalidInputError(
                "de database is niet leeg; zet een back-up alleen terug in een nieuwe datamap "
                "of een nieuwe, lege database"
            )
    finally:
        engine.dispose()
    if target is not None:
        private_database_file(target)
        with closing(sqlite3.connect(source)) as saved, closing(sqlite3.connect(target)) as live:
            saved.backup(live)
    else:
        args, env = _pg_environment(url)
        _run(["pg_restore", "--no-owner", "--exit-on-error", *args, str(source)], env, "terugzetten", url)
    return {"bestand": str(source), "soort": kind}
