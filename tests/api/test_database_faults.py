"""A database that cannot be reached, or goes away during a request (issue 14's faults)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from api.cli import app as cli_app
from tests.factories import app_settings, login, make_client, running_app
from tests.postgres import PostgresServer


@pytest.mark.parametrize(
    "command", [["db", "current"], ["serve", "--port", "9"], ["clients", "list", "--json", "--doel", "bemiddeling"]]
)
def test_an_unreachable_database_is_one_dutch_line_naming_host_and_database_never_the_password(
    command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", "postgresql+psycopg://werkmatch:geheim-wachtwoord@127.0.0.1:1/regio")
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WERKMATCH_GEBRUIKER", "consulent1")
    done = CliRunner().invoke(cli_app, command)
    assert done.exit_code == 1
    assert done.output.strip().splitlines() == [
        "Fout: de database 'regio' op 127.0.0.1:1 is niet bereikbaar (verbinding geweigerd); "
        "controleer WERKMATCH_DATABASE_URL en of de databaseserver draait"
    ]
    assert "geheim" not in done.output


def _backend_waiting_for_a_lock(admin_url: str, database: str) -> int:
    """The pid of the app's connection that waits for the test's table lock (polls until there is one)."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        for _ in range(600):
            with admin.connect() as connection:
                pid = connection.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock'"),
                    {"db": database},
                ).scalar()
            if pid is not None:
                return int(pid)
            time.sleep(0.1)
        raise AssertionError("no request ever waited for the lock")
    finally:
        admin.dispose()


def test_a_connection_lost_during_a_request_is_a_503_and_the_next_request_works(
    postgres: PostgresServer, embedder: object, tmp_path: Path
) -> None:
    """The request waits on a row lock; its connection is killed by the server; the pool replaces it."""
    with postgres.fresh_database() as url:
        settings = app_settings(tmp_path, database_url=url)

        def records(session: Session) -> None:
            make_client(session, client_nummer="K-WEG-1", consulent="wc-weg")

        with running_app(settings, embedder, records, wait=False) as http:
            headers = {**login(http, "consulent1"), "X-Doel": "bemiddeling"}
            assert http.get("/api/v1/klanten/K-WEG-1", headers=headers).status_code == 200
            locker = create_engine(url)
            answers: list = []
            with locker.connect() as connection:
                connection.execute(text("LOCK TABLE client IN ACCESS EXCLUSIVE MODE"))
                request = threading.Thread(
                    target=lambda: answers.append(http.get("/api/v1/klanten/K-WEG-1", headers=headers))
                )
                request.start()
                pid = _backend_waiting_for_a_lock(postgres.url(), url.rsplit("/", 1)[1])
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                request.join(timeout=120)
                connection.rollback()
            locker.dispose()
            [lost] = answers
            assert lost.status_code == 503, lost.text
            assert lost.headers["content-type"].startswith("application/problem+json")
            assert lost.headers["retry-after"] == "5" and "Probeer het" in lost.json()["detail"]
            assert http.get("/api/v1/klanten/K-WEG-1", headers=headers).status_code == 200
