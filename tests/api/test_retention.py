"""Retention of the audit and inference logs: old rows go, the hash chain stays verifiable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from api.cli import app as cli
from api.services import audit, schema
from api.services.audit import AuditEntry, InferenceEntry
from api.services.retention import apply_retention
from matching import store
from matching.settings import RetentieSettings, Settings

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "var"))
    engine = store.make_engine(f"sqlite:///{tmp_path}/var/werkmatch.db")
    schema.create_all(engine)
    yield engine
    engine.dispose()


def write(engine: Engine, monkeypatch: pytest.MonkeyPatch, days_ago: int, n: int = 1, base: datetime = NOW) -> None:
    """``n`` audit and ``n`` inference entries dated ``days_ago`` days before ``base``."""
    monkeypatch.setattr(audit, "utcnow", lambda: base - timedelta(days=days_ago))
    for _ in range(n):
        with Session(engine) as session:
            audit.record(
                session, actor="c1", rol="werkconsulent", action="klantprofiel_gelezen", purpose="p", subjects=["K1"]
            )
            audit.log_inference(
                session,
                request_id=None,
                actor="c1",
                kind="vacatures",
                query_ref="K1",
                model={"name": "x"},
                index={},
                inputs={},
                output=[["V1", 0.5]],
            )
            session.commit()


def counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(AuditEntry)).one(),
            session.exec(select(func.count()).select_from(InferenceEntry)).one(),
        )


def verify(engine: Engine) -> dict:
    with Session(engine) as session:
        return audit.verify_chain(session)


def test_retention_deletes_old_rows_and_the_chain_still_verifies(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(engine, monkeypatch, days_ago=800, n=3)  # past both terms
    write(engine, monkeypatch, days_ago=400, n=2)  # past the inference term only
    write(engine, monkeypatch, days_ago=1, n=2)
    settings = Settings(retentie=RetentieSettings(audit_dagen=730, inferentie_dagen=183))
    assert counts(engine) == (7, 7)

    result = apply_retention(settings, engine, now=NOW)

    assert result["audit"] == {"bewaardagen": 730, "verwijderd": 3, "anker": 3}
    assert result["inferentie"]["verwijderd"] == 5
    assert counts(engine) == (4, 2)
    assert verify(engine) == {"ok": True, "entries": 4, "firstBroken": None}
    assert apply_retention(settings, engine, now=NOW)["audit"]["verwijderd"] == 0  # idempotent
    write(engine, monkeypatch, days_ago=0)  # the chain goes on from its head
    assert verify(engine) == {"ok": True, "entries": 5, "firstBroken": None}


def test_rows_past_the_anchor_stay_protected(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    write(engine, monkeypatch, days_ago=800, n=2)
    write(engine, monkeypatch, days_ago=1, n=3)
    apply_retention(Settings(), engine, now=NOW)
    with pytest.raises(IntegrityError, match="alleen-toevoegen"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 4"))  # a row in the middle of what is kept
    with pytest.raises(IntegrityError, match="alleen vooruit"), engine.begin() as connection:
        connection.execute(text("UPDATE audit_anchor SET seq = 4, hash = 'x'"))  # not the row's hash
    with pytest.raises(IntegrityError, match="alleen vooruit"), engine.begin() as connection:
        connection.execute(text("UPDATE audit_anchor SET seq = 5, hash = (SELECT hash FROM audit_log WHERE seq = 5)"))
    with pytest.raises(IntegrityError, match="alleen-toevoegen"), engine.begin() as connection:
        connection.execute(text("DELETE FROM inference_log"))
    assert verify(engine) == {"ok": True, "entries": 3, "firstBroken": None}
    # Cutting rows out right after the anchor (with DDL rights) is still seen: the first kept row's link breaks.
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        connection.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    assert verify(engine)["firstBroken"] == 3


def test_the_head_is_never_deleted(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    write(engine, monkeypatch, days_ago=800, n=2)
    result = apply_retention(Settings(), engine, now=NOW)
    assert result["audit"]["verwijderd"] == 1 and counts(engine)[0] == 1
    write(engine, monkeypatch, days_ago=0)
    assert verify(engine) == {"ok": True, "entries": 2, "firstBroken": None}


def test_cli_retentie(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    today = datetime.now(UTC)  # the command counts back from the real now
    write(engine, monkeypatch, days_ago=5000, n=2, base=today)
    write(engine, monkeypatch, days_ago=0, n=1, base=today)
    monkeypatch.setenv("WERKMATCH_RETENTIE__AUDIT_DAGEN", "30")
    result = CliRunner().invoke(cli, ["retentie", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["audit"]["verwijderd"] == 2 and report["inferentie"]["verwijderd"] == 2
    assert report["keten"]["ok"] is True and "stderr" in report["toegangslog"]
    monkeypatch.setenv("WERKMATCH_RETENTIE__INFERENTIE_DAGEN", "30")  # under the AI Act's six months
    refused = CliRunner().invoke(cli, ["retentie"])
    assert refused.exit_code != 0


def test_a_retention_term_below_the_legal_minimum_is_one_dutch_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """It was a pydantic traceback; every command now says which variable to change."""
    from typer.testing import CliRunner

    from api.cli import app as cli

    monkeypatch.setenv("WERKMATCH_RETENTIE__INFERENTIE_DAGEN", "10")
    result = CliRunner().invoke(cli, ["retentie"])
    assert result.exit_code == 1
    assert "WERKMATCH_RETENTIE__INFERENTIE_DAGEN: moet minstens 183 zijn" in result.output
    assert "Traceback" not in result.output
