"""``werkmatch backup`` and ``restore`` (:mod:`api.services.backup`), on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.services import schema
from matching.domain import Client
from matching.matcher import Matcher
from matching.settings import Settings
from matching.store import make_engine
from tests.factories import app_settings, make_client, make_vacancy
from tests.postgres import PostgresServer


def _settings(data_dir: Path, database_url: str) -> Settings:
    return app_settings(data_dir, database_url=database_url if database_url.startswith("postgresql") else "")


def _candidates(settings: Settings, embedder: Any) -> list[tuple[str, float]]:
    matcher = Matcher(settings, embedder=embedder)
    try:
        matcher.sync()
        found = matcher.search_candidates("V-BACKUP", top=10)
        return [(item.client_id, item.score) for item in found.results]
    finally:
        matcher.close()


def _cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, *args: str) -> Any:
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", settings.database_url)
    return CliRunner().invoke(cli_app, list(args))


def _second_database(request: pytest.FixtureRequest, database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        return ""
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.database()


def test_a_restored_backup_gives_the_same_candidate_lists(
    tmp_path: Path, database_url: str, embedder: Any, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    original = _settings(tmp_path / "origineel", database_url)
    engine = make_engine(original.resolved_database_url)
    schema.create_all(engine)
    with Session(engine) as session:
        for number in range(12):
            make_client(session, client_nummer=f"K-B{number:02d}", consulent="wc-a", trede=number % 5)
        make_vacancy(session, vacature_nummer="V-BACKUP")
    before = _candidates(original, embedder)
    assert len(before) == 10

    stop = threading.Event()

    def keep_writing() -> None:  # the service goes on while the backup is made
        with Session(engine) as session:
            number = 0
            while not stop.is_set():
                make_client(session, client_nummer=f"K-LOPEND-{number}", consulent="wc-b")
                number += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    target = tmp_path / "werkmatch.backup"
    made = _cli(monkeypatch, original, "backup", str(target), "--json")
    stop.set()
    writer.join()
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # profiles with beperkingen: private

    restored = _settings(tmp_path / "hersteld", _second_database(request, database_url))
    done = _cli(monkeypatch, restored, "restore", str(target))
    assert done.exit_code == 0, done.output
    restored_engine = make_engine(restored.resolved_database_url)
    with Session(restored_engine) as session:
        copied = session.exec(select(func.count()).select_from(Client)).one()
        written = session.exec(select(Client.client_nummer).where(Client.client_nummer.startswith("K-LOPEND-"))).all()  # type: ignore[union-attr]
    assert copied == 12 + len(written)  # a consistent snapshot: whole rows, the running writes up to a moment
    assert sorted(written) == sorted(f"K-LOPEND-{n}" for n in range(len(written)))
    with Session(restored_engine) as session:  # the running writes took no place in the list: wc-b's are new
        for row in session.exec(select(Client).where(Client.client_nummer.startswith("K-LOPEND-"))):  # type: ignore[union-attr]
            session.delete(row)
        session.commit()
    assert _candidates(restored, embedder) == before  # the indexes caught up from the database alone
    restored_engine.dispose()
    engine.dispose()


def test_backup_and_restore_refuse_what_would_lose_data(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path / "var", database_url)
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    existing = tmp_path / "bestaat.backup"
    existing.write_bytes(b"iets")
    refused = _cli(monkeypatch, settings, "backup", str(existing))
    assert refused.exit_code == 1 and "bestaat al" in refused.output and existing.read_bytes() == b"iets"

    made = tmp_path / "goed.backup"
    assert _cli(monkeypatch, settings, "backup", str(made)).exit_code == 0
    into_full = _cli(monkeypatch, settings, "restore", str(made))  # the same, filled database
    assert into_full.exit_code == 1 and "niet leeg" in into_full.output

    not_a_backup = _cli(monkeypatch, settings, "restore", str(existing))
    assert not_a_backup.exit_code == 1 and "geen werkmatch-back-up" in not_a_backup.output
    missing = _cli(monkeypatch, settings, "restore", str(tmp_path / "weg.backup"))
    assert missing.exit_code == 1 and "bestaat niet" in missing.output
    engine.dispose()
