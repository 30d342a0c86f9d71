"""The lists of the nightly batch match (``werkmatch batch match``, :mod:`training.batch_match`): its tables.

A run (:class:`BatchRun`) writes, per partition (a range of :data:`PARTITION_IDS` record ids of one
side, :class:`BatchPartition`), every open vacancy's top candidates (:class:`NachtKandidaat`) and
every client's top vacancies (:class:`NachtVacature`) in one transaction with the partition's mark:
a partition is there whole or not at all, and a restarted run skips the marked ones. A finished run
removes the lists of the runs before it, so the database holds one night's lists (and, while a run
is under way, the last finished night's beside the new one).

Every list row names a client: on PostgreSQL both list tables are under the row-level security of
migration ``0002`` (visible when the client is, :mod:`matching.tenancy`), and erasing a client
removes its rows (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, col, select

from matching.columns import moment_column, optional_moment_column

KIND_MATCH = "match"
SIDES = ("vacatures", "klanten")  # the vacancies' candidate lists, the clients' vacancy lists


class BatchRun(SQLModel, table=True):
    """One run of a batch: when it started and finished, and how its partitions were cut."""

    __tablename__ = "batch_run"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    partition_ids: int  # record ids per partition: partition ``first`` holds ids first … first + partition_ids - 1
    started_at: datetime = moment_column()
    finished_at: datetime | None = optional_moment_column()


class BatchPartition(SQLModel, table=True):
    """A partition a run has stored (its lists are committed in the same transaction)."""

    __tablename__ = "batch_partition"

    run_id: int = Field(foreign_key="batch_run.id", primary_key=True, ondelete="CASCADE")
    side: str = Field(max_length=10, primary_key=True)
    first_id: int = Field(primary_key=True)
    lists: int  # how many lists the partition holds (its open vacancies, or its clients)
    ranked_by: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the ranker's name and version
    committed_at: datetime = moment_column()


class NachtKandidaat(SQLModel, table=True):
    """A candidate on a vacancy's nightly list: rank, client, and the scores the live list would show."""

    __tablename__ = "nacht_kandidaat"

    run_id: int = Field(foreign_key="batch_run.id", primary_key=True, ondelete="CASCADE")
    vacancy_id: int = Field(foreign_key="vacancy.id", primary_key=True, ondelete="CASCADE")
    rank: int = Field(primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True, ondelete="CASCADE")
    ranking_score: float
    score: int  # the shown score, 0–100 (matching.display_score)


class NachtVacature(SQLModel, table=True):
    """A vacancy on a client's nightly list of options."""

    __tablename__ = "nacht_vacature"

    run_id: int = Field(foreign_key="batch_run.id", primary_key=True, ondelete="CASCADE")
    client_id: int = Field(foreign_key="client.id", primary_key=True, ondelete="CASCADE")
    rank: int = Field(primary_key=True)
    vacancy_id: int = Field(foreign_key="vacancy.id", index=True, ondelete="CASCADE")
    ranking_score: float
    score: int


TABLES: tuple[type[SQLModel], ...] = (BatchRun, BatchPartition, NachtKandidaat, NachtVacature)


def partition_of(record_id: int, partition_ids: int) -> int:
    """The first id of the partition that holds ``record_id``."""
    return record_id - record_id % partition_ids


def latest_finished(session: Session, kind: str = KIND_MATCH) -> BatchRun | None:
    """The newest run of ``kind`` that finished (the lists shown as "van vannacht"), or None."""
    query = (
        select(BatchRun)
        .where(BatchRun.kind == kind, col(BatchRun.finished_at).is_not(None))
        .order_by(col(BatchRun.id).desc())
        .limit(1)
    )
    return session.exec(query).first()
