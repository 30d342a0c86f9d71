"""Erasure of a client (AVG art. 17): API and CLI, every table, the index, the cache, the logs, the disk."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from api.cli import app as cli
from api.services import audit, erasure
from matching.domain import AuditKenmerken, Client, ClientPersonalia, EmbeddingCache
from matching.index import VectorIndex
from matching.settings import OpsSettings, Settings
from matching.text import content_hash
from tests.factories import app_settings, login, make_client, make_vacancy, running_app, writer_process

GONE = "K-WEG-0077"  # the client to erase (caseload wc-a: consulent1)
KEPT = "K-BLIJF-0078"  # same caseload, shares a sentence with GONE
UNIQUE_SENTENCE = "Ik heb twaalf jaar tulpenbollen gepeld bij een kwekerij in Lisse."
SHARED_SENTENCE = "Ik wil graag weer aan het werk in een magazijn."
NAME, EMAIL, PHONE = "Vlinderhoek", "zwanette.vlinderhoek@example.org", "0612345678"


@pytest.fixture
def world(
    tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> Iterator[tuple[TestClient, Settings]]:
    """A running app whose client GONE left traces everywhere: audit, inference, exposure, voorstel, inbox, …"""
    data_dir = tmp_path / "var"
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(data_dir))  # the CLI reads the same data directory
    monkeypatch.setenv("WERKMATCH_PORT", "9")  # no service answers there: the CLI erases in process
    if not database_url.startswith("postgresql"):
        database_url = ""  # SQLite in the data directory, where the file checks look
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", database_url)  # the CLI reads the same database
    settings = app_settings(data_dir, database_url=database_url, ops=OpsSettings(rate_burst=10_000, access_log=False))

    def records(session: Session) -> None:
        gone = make_client(
            session,
            client_nummer=GONE,
            consulent="wc-a",
            zelfbeschrijving=f"{UNIQUE_SENTENCE} {SHARED_SENTENCE}",
            beperkingen=[{"aspect": "tillen", "ernst": 2}],
        )
        make_client(session, client_nummer=KEPT, consulent="wc-a", zelfbeschrijving=SHARED_SENTENCE)
        make_client(session, client_nummer="K-ANDER-0079", consulent="wc-b")
        make_vacancy(session, vacature_nummer="V-ERAS-1")
        make_vacancy(session, vacature_nummer="V-ERAS-2")
        session.add(
            ClientPersonalia(client_id=gone.id, voornaam="Zwanette", achternaam=NAME, email=EMAIL, telefoon=PHONE)
        )
        session.add(AuditKenmerken(client_id=gone.id, geslacht="vrouw", geboortejaar=1971))
        session.commit()

    with running_app(settings, embedder, records) as http:
        consulent = login(http, "consulent1")
        assert http.get(f"/api/v1/klanten/{GONE}", headers=consulent).status_code == 200
        for vacancy in ("V-ERAS-1", "V-ERAS-2"):
            body = {"vacatureId": vacancy, "top": 10, "doel": "bemiddeling"}
            assert http.post("/api/v1/matches/kandidaten", json=body, headers=consulent).status_code == 200
        body = {"klantId": GONE, "top": 5, "doel": "bemiddeling"}
        assert http.post("/api/v1/matches/vacatures", json=body, headers=consulent).status_code == 200
        proposal = {"klantId": GONE, "vacatureId": "V-ERAS-1", "toelichting": f"{GONE} wil graag"}
        assert http.post("/api/v1/voorstellen", json=proposal, headers=consulent).status_code == 201, "voorstel"
        rejection = {"klantId": GONE, "reden": "reisafstand", "toelichting": f"te ver voor {GONE}"}
        response = http.post("/api/v1/vacatures/V-ERAS-2/afwijzingen", json=rejection, headers=consulent)
        assert response.status_code == 201, response.text
        assert http.post("/api/v1/zoekopdrachten", json={"klantId": GONE}, headers=consulent).status_code == 201
        pushed = http.post("/api/v1/vacatures/V-ERAS-2/push", json={"aantal": 3}, headers=login(http, "accountmanager"))
        assert pushed.status_code == 200, pushed.text
        http.app.state.matcher.close()  # the indexes on disk, with GONE's vector in them
        yield http, settings


def _client_id(settings: Settings, number: str) -> int | None:
    from matching.store import make_engine

    with Session(make_engine(settings.resolved_database_url)) as session:
        return session.exec(select(Client.id).where(Client.client_nummer == number)).first()


def _files_naming(roots: list[Path], needles: list[str]) -> list[str]:
    """Files under the roots whose bytes contain any needle (UTF-8, also as JSON-escaped text)."""
    found = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                found += [f"{path.name}: {needle}" for needle in needles if needle.encode() in data]
    return found


def _disk(settings: Settings, request: pytest.FixtureRequest) -> list[Path]:
    """Where the client could be on disk: the data directory, and on PostgreSQL the server's own files
    (tables, indexes, write-ahead log), written out by a checkpoint first so that they hold what it holds."""
    if not settings.database_url:
        return [settings.data_dir]
    server = request.getfixturevalue("postgres")
    with create_engine(server.url(), isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text("CHECKPOINT"))
    return [settings.data_dir, server.base / "data"]


def _rows_mentioning(settings: Settings, needle: str) -> list[str]:
    """Every table and column whose text contains ``needle``: the database as a whole, not a list of tables."""
    from matching.store import make_engine

    hits = []
    with make_engine(settings.resolved_database_url).connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                query = text(f'SELECT COUNT(*) FROM "{table.name}" WHERE CAST("{column.name}" AS TEXT) LIKE :needle')
                if connection.execute(query, {"needle": f"%{needle}%"}).scalar():
                    hits.append(f"{table.name}.{column.name}")
    return hits


def _verify(settings: Settings) -> dict[str, Any]:
    from matching.store import make_engine

    with Session(make_engine(settings.resolved_database_url)) as session:
        return audit.verify_chain(session)


def test_every_table_with_a_client_is_erased() -> None:
    """A new table with a foreign key to client.id must be added to the erasure, or this fails."""
    handled = {table.__tablename__ for table in erasure.CLIENT_TABLES} | {"client", "voorstel", "inbox_item"}
    referencing = {
        table.name
        for table in SQLModel.metadata.sorted_tables
        for key in table.foreign_keys
        if key.target_fullname == "client.id"
    }
    assert referencing <= handled, referencing - handled


def test_api_erasure_leaves_nothing_of_the_client_on_disk(
    world: tuple[TestClient, Settings], request: pytest.FixtureRequest
) -> None:
    """SQLite: the erasure alone. PostgreSQL: the erasure, then the owner's nightly ``werkmatch db schoonmaken``."""
    http, settings = world
    gone_id = _client_id(settings, GONE)
    assert gone_id is not None
    saved = VectorIndex.load(settings.index_dir, "clients")
    assert gone_id in saved.hashes
    needles = [GONE, NAME, EMAIL, PHONE, "tulpenbollen"]
    assert _files_naming(_disk(settings, request), [GONE, NAME])  # the attack: before erasure the client is on disk
    assert _rows_mentioning(settings, GONE)

    response = http.delete(
        f"/api/v1/klanten/{GONE}", params={"reden": "verzoek_klant"}, headers=login(http, "consulent1")
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["logLeeggemaakt"] is (not settings.database_url)  # PostgreSQL: the owner's scrub does it
    assert result["verwijderd"]["client"] == 1
    assert {"client_personalia", "audit_kenmerken", "voorstel", "voorstel_event", "zoekopdracht"} <= set(
        result["verwijderd"]
    )
    assert {"exposure_entry", "kandidaat_afwijzing", "inbox_item"} <= set(result["verwijderd"])
    assert result["auditGeredigeerd"] >= 5 and result["inferentieGeredigeerd"] >= 3
    assert result["embeddingsVerwijderd"] >= 1  # the index: the running matcher itself already saved it without
    assert _rows_mentioning(settings, GONE) == []
    assert _rows_mentioning(settings, NAME) == []
    if settings.database_url:
        # the rows are gone, their bytes are not: dead tuples and write-ahead log, until the owner scrubs
        assert _files_naming(_disk(settings, request), [NAME])
        scrubbed = CliRunner().invoke(cli, ["db", "schoonmaken", "--json"])
        assert scrubbed.exit_code == 0, scrubbed.output
        report = json.loads(scrubbed.stdout)
        assert report["walGewisseld"] and report["walVerwijderd"] and report["waarschuwingen"] == []
    assert _files_naming(_disk(settings, request), needles) == []
    assert gone_id not in VectorIndex.load(settings.index_dir, "clients").hashes
    assert _verify(settings) == {"ok": True, "entries": result["auditVolgnummer"], "firstBroken": None}
    # The tombstone: pseudonym, who, when, why; the pseudonym is what replaced the number in the logs.
    tombstone = http.post(
        "/api/v1/audit/zoeken", json={"actie": "klant_verwijderd"}, headers=login(http, "beheerder")
    ).json()["regels"]
    assert [(e["gebruiker"], e["betrokkenen"], e["details"]["reden"]) for e in tombstone] == [
        ("consulent1", [result["pseudoniem"]], "verzoek_klant")
    ]
    redacted = http.post(
        "/api/v1/audit/zoeken", json={"betrokkene": result["pseudoniem"]}, headers=login(http, "beheerder")
    )
    assert len(redacted.json()["regels"]) == result["auditGeredigeerd"] + 1
    # The other clients are untouched and still searchable.
    assert _client_id(settings, KEPT) is not None
    body = {"vacatureId": "V-ERAS-1", "top": 10, "doel": "bemiddeling"}
    listed = http.post("/api/v1/matches/kandidaten", json=body, headers=login(http, "consulent1")).json()
    assert GONE not in json.dumps(listed) and KEPT in json.dumps(listed)


def test_a_piece_another_client_uses_keeps_its_cached_vector(world: tuple[TestClient, Settings]) -> None:
    http, settings = world
    from matching.store import make_engine

    engine = make_engine(settings.resolved_database_url)

    def cached(sentence: str) -> bool:
        with Session(engine) as session:
            query = select(EmbeddingCache.id).where(EmbeddingCache.content_hash == content_hash(sentence))
            return session.exec(query).first() is not None

    assert cached(UNIQUE_SENTENCE) and cached(SHARED_SENTENCE)
    response = http.delete(
        f"/api/v1/klanten/{GONE}", params={"reden": "verzoek_klant"}, headers=login(http, "beheerder")
    )
    assert response.status_code == 200, response.text
    assert not cached(UNIQUE_SENTENCE)
    assert cached(SHARED_SENTENCE)


def test_only_the_own_consulent_or_a_beheerder_may_erase(world: tuple[TestClient, Settings]) -> None:
    http, settings = world
    path = f"/api/v1/klanten/{GONE}"
    other = http.delete(path, params={"reden": "verzoek_klant"}, headers=login(http, "consulent2"))
    unknown = http.delete(
        "/api/v1/klanten/K-BESTAAT-NIET", params={"reden": "verzoek_klant"}, headers=login(http, "consulent2")
    )
    assert other.status_code == unknown.status_code == 404
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["detail"].replace(GONE, "X") == unknown.json()["detail"].replace("K-BESTAAT-NIET", "X")
    forbidden = http.delete(path, params={"reden": "verzoek_klant"}, headers=login(http, "accountmanager"))
    assert forbidden.status_code == 403
    for params in ({}, {"reden": "omdat het moet"}):
        refused = http.delete(path, params=params, headers=login(http, "consulent1"))
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert _client_id(settings, GONE) is not None
    assert _verify(settings)["ok"]


def _erase_cli(*args: str) -> Any:
    return CliRunner().invoke(cli, ["klant", "verwijderen", *args])


def test_cli_erasure(world: tuple[TestClient, Settings]) -> None:
    _http, settings = world
    refused = _erase_cli(GONE, "--reden", "zomaar", "--gebruiker", "beheerder")
    assert refused.exit_code == 1 and "verzoek_klant" in refused.output
    missing = _erase_cli("K-BESTAAT-NIET", "--reden", "verzoek_klant", "--gebruiker", "beheerder")
    assert missing.exit_code == 1 and "bestaat niet" in missing.output
    other_caseload = _erase_cli(GONE, "--reden", "verzoek_klant", "--gebruiker", "consulent2")
    assert other_caseload.exit_code == 1 and "bestaat niet" in other_caseload.output  # as the API's 404
    forbidden = _erase_cli(GONE, "--reden", "verzoek_klant", "--gebruiker", "accountmanager")
    assert forbidden.exit_code == 1 and "werkconsulent of beheerder nodig" in forbidden.output  # as the API's 403
    unknown = _erase_cli(GONE, "--reden", "verzoek_klant", "--gebruiker", "niemand")
    assert unknown.exit_code == 1 and "gebruiker 'niemand' bestaat niet" in unknown.output
    assert _client_id(settings, GONE) is not None

    result = _erase_cli(GONE, "--reden", "onterecht_vastgelegd", "--gebruiker", "consulent1", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["verwijderd"]["client"] == 1 and report["reden"] == "onterecht_vastgelegd"
    assert report["indexVerwijderd"] == 1  # this process wrote the index (no other did): taken off the saved index
    assert _client_id(settings, GONE) is None
    assert _files_naming([settings.data_dir], [GONE, NAME, EMAIL, PHONE]) == []
    assert _verify(settings)["ok"]
    from matching.store import make_engine

    with Session(make_engine(settings.resolved_database_url)) as session:
        tombstone = audit.query(session, action=audit.TOMBSTONE_ACTION, limit=1)[0]
    assert tombstone["actor"] == "consulent1" and tombstone["rol"] == "werkconsulent"
    assert tombstone["details"]["via"] == "cli" and tombstone["details"]["osGebruiker"]
    assert tombstone["requestId"].startswith("cli-")


HOLDER = """
import sys
from pathlib import Path
from matching import index_lock

assert index_lock.acquire(Path(sys.argv[1]))
print("schrijver", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def other_writer(world: tuple[TestClient, Settings]) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the index lock of the world's data directory (a running service, say)."""
    _http, settings = world
    with writer_process(HOLDER, str(settings.data_dir)) as process:
        yield process


@pytest.mark.slow  # another Python process holds the index lock (5 s set-up in a loaded quick run)
def test_a_reader_leaves_the_index_files_to_the_writer(world: tuple[TestClient, Settings], other_writer) -> None:
    """Only the writer edits the index files: the CLI refuses without a service, a reader worker leaves them."""
    http, settings = world
    files = {path.name: path.stat().st_mtime_ns for path in settings.index_dir.glob("*")}
    refused = _erase_cli(GONE, "--reden", "verzoek_klant", "--gebruiker", "beheerder")
    assert refused.exit_code == 1 and f"proces {other_writer.pid} schrijft de index" in refused.output
    assert _client_id(settings, GONE) is not None  # refused before anything was erased

    engine = http.app.state.matcher.engine  # as a worker of the service that is not the writer
    result = erasure.erase_client(settings, engine, GONE, actor="beheerder", rol="beheerder", reden="verzoek_klant")

    assert result["indexVerwijderd"] == erasure.BY_WRITER == "schrijver"
    assert _client_id(settings, GONE) is None
    assert {path.name: path.stat().st_mtime_ns for path in settings.index_dir.glob("*")} == files  # not written


def test_a_redaction_cannot_be_added_or_forged_afterwards(world: tuple[TestClient, Settings]) -> None:
    http, settings = world
    from matching.store import make_engine

    engine = make_engine(settings.resolved_database_url)
    assert http.get(f"/api/v1/klanten/{KEPT}", headers=login(http, "consulent1")).status_code == 200
    with engine.connect() as connection:  # a row that does not name GONE: it is not redacted
        plain = connection.execute(text("SELECT MAX(seq) FROM audit_log")).scalar()
    response = http.delete(
        f"/api/v1/klanten/{GONE}", params={"reden": "verzoek_klant"}, headers=login(http, "beheerder")
    )
    tombstone = response.json()["auditVolgnummer"]
    with pytest.raises(DatabaseError, match="alleen-toevoegen"):
        with engine.begin() as connection:
            connection.execute(text("UPDATE audit_log SET subjects = '[]' WHERE seq = :s"), {"s": plain})
    with pytest.raises(DatabaseError, match="alleen-toevoegen"):
        with engine.begin() as connection:
            connection.execute(text("UPDATE audit_log SET actor = 'x' WHERE seq IN (SELECT seq FROM audit_redaction)"))
    # Registering one more row under the tombstone (to rewrite it) is allowed by the database, but the
    # tombstone committed to the set it redacted: the chain check names the tombstone.
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO audit_redaction (seq, tombstone_seq) VALUES (:s, :t)"), {"s": plain, "t": tombstone}
        )
        connection.execute(text("UPDATE audit_log SET subjects = '[]' WHERE seq = :s"), {"s": plain})
    assert _verify(settings)["firstBroken"] == tombstone


@pytest.mark.slow
def test_a_search_that_raced_the_erasure_logs_the_pseudonym_not_the_number(world: tuple[TestClient, Settings]) -> None:
    """A list read just before the erasure and logged just after it (helper D's race) names no erased number."""
    from api.services.matches import Trace, log_search, viewer_for
    from api.services.users import get_user

    http, settings = world
    matcher = http.app.state.matcher
    stale = matcher.search_candidates("V-ERAS-1", 10)  # read before the erasure ...
    assert GONE in {item.client_id for item in stale.results}
    consulent = login(http, "consulent1")
    erased = http.delete(f"/api/v1/klanten/{GONE}", params={"reden": "verzoek_klant"}, headers=consulent)
    assert erased.status_code == 200, erased.text
    with Session(matcher.engine) as session:
        user = get_user(session, "consulent1")
        log_search(  # ... and logged after it, as a request that was still running would
            session,
            settings,
            viewer_for(user, "bemiddeling"),  # type: ignore[arg-type]
            stale,
            Trace("race-1"),
            action="kandidatenlijst_opgevraagd",
            inputs={"vacatureId": "V-ERAS-1", "top": 10},
        )
        session.commit()
    assert _rows_mentioning(settings, GONE) == []
    assert _rows_mentioning(settings, erased.json()["pseudoniem"])  # logged under the tombstone's pseudonym
    assert _verify(settings)["ok"]


def test_the_scrub_on_sqlite_empties_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``werkmatch db schoonmaken`` on the embedded default: VACUUM, then the erasure's own checkpoint."""
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("WERKMATCH_DATABASE_URL", raising=False)
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    done = CliRunner().invoke(cli, ["db", "schoonmaken", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["tabellen"] >= len(SQLModel.metadata.sorted_tables) and report["waarschuwingen"] == []
    assert report["walGewisseld"] is True and report["walVerwijderd"] is True
    log = tmp_path / "var" / "werkmatch.db-wal"
    assert not log.exists() or log.stat().st_size == 0
