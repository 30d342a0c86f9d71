"""State the service reads on every search and people change while it runs: the kill switch and the exposure ledger.

**Kill switch** (AI Act art. 14(4)(e): a person can stop the system). ``ranking_mode`` is ``"model"``
(the learned ranker, exposure-aware) or ``"transparant"`` (the rule-based weighted score of
:mod:`matching.scoring`, which every consulent can follow, and no re-ranking). It lives in the
database, so ``werkmatch ranking transparant`` or ``PUT /api/v1/instellingen/rangschikking`` switches
every running process at its next search, without a restart. Until someone switches, the
``WERKMATCH_RANKER__MODE`` setting decides. Who switched, when and why is kept on the row (and in
the audit log by the API).

**Exposure ledger** (anti-afromen, :mod:`matching.exposure`). One row per (client, vacancy) for each
client that stood in the top :data:`matching.exposure.LIST_SIZE` of a candidate list shown for that
vacancy; seeing the same vacancy again adds nothing. A client's exposure is the number of *other*
vacancies whose list showed them within :data:`WINDOW_DAYS`, so reopening a list does not reshuffle
it by its own earlier showing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import numpy as np
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, select

from matching.domain import utcnow
from matching.errors import InvalidInputError
from matching.lookup import in_chunks

RankingMode = Literal["model", "transparant"]
RANKING_MODES: tuple[str, ...] = ("model", "transparant")
RANKING_KEY = "ranking_mode"
WINDOW_DAYS = 180  # exposure older than half a year no longer counts: bestand and vacancies have moved on


class RuntimeSetting(SQLModel, table=True):
    __tablename__ = "runtime_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)
    changed_by: str = Field(max_length=200)
    changed_at: datetime = Field(default_factory=utcnow)
    reason: str = Field(default="", max_length=1000)


class ExposureEntry(SQLModel, table=True):
    __tablename__ = "exposure_entry"

    client_id: int = Field(foreign_key="client.id", primary_key=True, ondelete="CASCADE")
    vacancy_id: int = Field(foreign_key="vacancy.id", primary_key=True, index=True, ondelete="CASCADE")
    shown_at: datetime = Field(default_factory=utcnow, index=True)


def ranking_mode(session: Session, default: str) -> dict[str, object]:
    """The mode in force and, once someone switched, who, when and why."""
    row = session.get(RuntimeSetting, RANKING_KEY)
    if row is None:
        return {"modus": default, "bron": "instelling WERKMATCH_RANKER__MODE"}
    return {
        "modus": row.value,
        "bron": "database",
        "gewijzigdDoor": row.changed_by,
        "gewijzigdOp": row.changed_at.isoformat(),
        "reden": row.reason,
    }


def set_ranking_mode(session: Session, mode: str, by: str, reason: str) -> RuntimeSetting:
    """Switch every process to ``mode`` from its next search on (the caller commits)."""
    if mode not in RANKING_MODES:
        raise InvalidInputError(f"onbekende modus '{mode}'; kies uit: {', '.join(RANKING_MODES)}")
    if not reason.strip():
        raise InvalidInputError("geef een reden voor het omzetten van de rangschikking")
    row = session.get(RuntimeSetting, RANKING_KEY) or RuntimeSetting(key=RANKING_KEY, value=mode, changed_by=by)
    row.value, row.changed_by, row.changed_at, row.reason = mode, by, utcnow(), reason.strip()
    session.add(row)
    session.flush()
    return row


def exposure(
    session: Session, client_ids: np.ndarray, vacancy_id: int, now: datetime | None = None
) -> tuple[np.ndarray, float]:
    """Per client in ``client_ids``: lists of other vacancies that showed them; and the average over them.

    The average is over the clients asked about (the pool), the same population
    :class:`matching.exposure.ExposureLedger` averages over in evaluation.
    """
    since = (now or utcnow()) - timedelta(days=WINDOW_DAYS)
    wanted = [int(value) for value in client_ids]
    counts: dict[int, int] = {}
    for chunk in in_chunks(wanted):
        statement = (
            select(ExposureEntry.client_id, func.count())
            .where(ExposureEntry.client_id.in_(chunk))  # type: ignore[attr-defined]
            .where(ExposureEntry.vacancy_id != vacancy_id)
            .where(ExposureEntry.shown_at >= since)
            .group_by(ExposureEntry.client_id)
        )
        counts.update({int(client): int(count) for client, count in session.exec(statement)})
    values = np.array([counts.get(client, 0) for client in wanted], np.float64)
    return values, float(values.mean()) if len(values) else 0.0


def record_shown(session: Session, vacancy_id: int, client_ids: list[int]) -> None:
    """The clients in the top of a list shown for ``vacancy_id``; already recorded pairs keep their date."""
    if not client_ids:
        return
    rows = [{"client_id": int(client), "vacancy_id": vacancy_id, "shown_at": utcnow()} for client in client_ids]
    if session.get_bind().dialect.name == "sqlite":
        statement = sqlite_insert(ExposureEntry).values(rows).on_conflict_do_nothing()
    else:
        statement = postgres_insert(ExposureEntry).values(rows).on_conflict_do_nothing()
    session.exec(statement)  # type: ignore[call-overload]
