"""Helpers shared by matching, training and the API (one copy each), and the callers that once had their own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from api.cli import app
from api.cli.models import parse_since
from api.services import schema
from api.services.voorstellen import training_labels
from matching.errors import InvalidInputError
from matching.store import make_engine
from matching.timeutil import add_months, aware_utc, stored_utc

YEAR_ONE = "0001-01-01T00:00+00:01"  # before year 1 once in UTC: datetime.astimezone overflows


def test_aware_utc_converts_and_refuses_in_dutch() -> None:
    moment = datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert aware_utc(moment, "since") == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    naive = r"^since 2026-03-01 10:00:00 heeft geen tijdzone; geef een tijd in UTC$"
    with pytest.raises(InvalidInputError, match=naive):
        aware_utc(moment.replace(tzinfo=None), "since")
    with pytest.raises(InvalidInputError, match=r"geef een tijd in UTC, bijv\. 2025-03-01T09:00\+00:00$"):
        aware_utc(moment.replace(tzinfo=None), "tijdstip", example="2025-03-01T09:00+00:00")
    with pytest.raises(InvalidInputError, match="valt buiten het bereik van de kalender"):
        aware_utc(datetime.fromisoformat(YEAR_ONE), "until")


def test_stored_utc_reads_naive_as_utc() -> None:
    assert stored_utc(datetime(2026, 1, 2, 3, 4)) == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert stored_utc(datetime(2026, 1, 2, 4, 4, tzinfo=timezone(timedelta(hours=1)))).tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (datetime(2026, 8, 31, 12, tzinfo=UTC), 6, datetime(2027, 2, 28, 12, tzinfo=UTC)),
    ],
)
def test_add_months_keeps_the_type_and_clamps_the_day(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected
    assert type(add_months(start, months)) is type(start)


def test_training_labels_refuse_bad_moments_in_dutch() -> None:
    """Both label sources (inbox declines and voorstellen) refuse before the database sees the moment."""
    engine = make_engine("sqlite://")
    schema.create_all(engine)
    with Session(engine) as session:
        with pytest.raises(InvalidInputError, match="valt buiten het bereik van de kalender"):
            training_labels(session, datetime.fromisoformat(YEAR_ONE))
        with pytest.raises(InvalidInputError, match="heeft geen tijdzone"):
            training_labels(session, datetime(2026, 1, 31))
        assert training_labels(session, datetime(2026, 1, 31, tzinfo=UTC)) == []


def test_train_since_reads_a_date_as_utc_midnight() -> None:
    assert parse_since("2026-01-31") == datetime(2026, 1, 31, tzinfo=UTC)
    assert parse_since("2026-01-31T10:00+02:00") == datetime(2026, 1, 31, 8, tzinfo=UTC)


def test_train_since_before_year_one_is_one_dutch_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was an OverflowError traceback: only the audit route had the year-1 guard."""
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(app, ["train", "--since", YEAR_ONE])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "--since 0001-01-01 00:00:00+00:01 valt buiten het bereik van de kalender" in result.output
    assert "Traceback" not in result.output
