"""A real PostgreSQL server for the tests: started once per session, a fresh database per test.

Debian's ``postgresql`` package (installed by the README's test command) provides ``initdb`` and
``pg_ctl``; both refuse to run as root, and CI runs as root, so as root the server runs as the
``postgres`` system user (``runuser``), in a directory under ``/tmp`` that user can reach. The
cluster trusts local connections (a throw-away test cluster on 127.0.0.1 and a private socket
directory) and runs without fsync: these tests are about SQL behaviour, not durability.

A missing server is an error, not a skip: CI must never pass by leaving PostgreSQL out.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from api.services import schema
from matching import tenancy
from matching.store import make_engine

SUPERUSER = "werkmatch_test"
OWNER = "werkmatch_eigenaar"  # owns the tables, runs the migrations
SERVICE = "werkmatch_dienst"  # what the service connects as: owns nothing, cannot bypass row-level security


def _binaries() -> Path:
    """The directory with ``initdb`` and ``pg_ctl``: the newest Debian version, else the one on PATH."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    initdb = versions[-1] if versions else shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL ontbreekt: installeer Debian's 'postgresql' (zie het testcommando in README.md)")
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """One throw-away cluster; :meth:`database` makes an empty database and answers its URL."""

    base: Path
    port: int
    run_as: list[str]
    bin_dir: Path
    _numbers: itertools.count = field(default_factory=itertools.count)

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = _binaries()
        base = Path(tempfile.mkdtemp(prefix="werkmatch-pg-"))
        run_as: list[str] = []
        if os.geteuid() == 0:  # initdb and pg_ctl refuse root: run them as the postgres system user
            run_as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(base, "postgres", "postgres")
        server = cls(base, _free_port(), run_as, bin_dir)
        data, log = base / "data", base / "server.log"
        server._run("initdb", "-D", str(data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--no-locale")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {server.port} -k {base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c wal_recycle=off"  # as the README asks of a server: old WAL deleted, not reused (api.services.scrub)
        )
        server._run("pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        return server

    def _run(self, program: str, *args: str) -> None:
        command = [*self.run_as, str(self.bin_dir / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr or done.stdout}")

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def database(self, owner: str = SUPERUSER) -> str:
        """A new, empty database owned by ``owner``; its URL (as the superuser)."""
        name = f"test_{os.getpid()}_{next(self._numbers)}"
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for role in (OWNER, SERVICE):
                if connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is None:
                    connection.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS"))
            connection.execute(text(f"CREATE DATABASE \"{name}\" OWNER {owner} TEMPLATE template0 ENCODING 'UTF8'"))
        admin.dispose()
        return self.url(name)

    @contextmanager
    def tenant_database(self) -> Iterator[tuple[str, str]]:
        """A new database owned by :data:`OWNER`, dropped afterwards: (the owner's URL, the service role's URL).

        The schema is not made: the caller runs the migrations as the owner and grants :data:`SERVICE`.
        """
        url = self.database(owner=OWNER)
        name = url.rsplit("/", 1)[1]
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:  # PostgreSQL 15: only the owner may create in schema public
            connection.execute(text(f"ALTER SCHEMA public OWNER TO {OWNER}"))
        admin.dispose()
        try:
            yield self.url(name, OWNER), self.url(name, SERVICE)
        finally:
            self.drop(url)

    @contextmanager
    def service_database(self) -> Iterator[tuple[str, str]]:
        """A :meth:`tenant_database` set up as in production, dropped afterwards: the owner ran the migrations
        and granted :data:`SERVICE` its rows; (the owner's URL, the service role's URL)."""
        with self.tenant_database() as (owner_url, service_url):
            owner = make_engine(owner_url)
            schema.upgrade(owner)
            tenancy.grant(owner, SERVICE)
            owner.dispose()
            yield owner_url, service_url

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    @contextmanager
    def fresh_database(self) -> Iterator[str]:
        """A new, empty database for the ``with`` block (its URL), dropped afterwards."""
        url = self.database()
        try:
            yield url
        finally:
            self.drop(url)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)
