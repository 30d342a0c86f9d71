"""The lists of the nightly batch match (``werkmatch batch match``, :mod:`training.batch_match`): its tables.

A run (:class:`BatchRun`) writes, per partition (about ``partition_ids`` owners of one side and one
place, :class:`BatchPartition`), every open vacancy's top candidates (:class:`NachtKandidaat`) and
every client's top vacancies (:class:`NachtVacature`) in one transaction with the partition's mark and
the owners it computed (:class:`BatchOwner`, an owner without a list too): a partition is there whole
or not at all. A (re)start plans the owners not yet computed into partitions (:func:`plan`): by place
cell (:func:`cell_of`, the PC4's woonplaats), within a cell by PC4 then id, cut into near-equal chunks,
each keyed by its smallest owner id. Membership is fixed when a partition is planned and stored with
its lists, never derived again from a record's place: a record that moves or changes status while a
run goes on (or between a kill and the restart) is computed once, in the partition it was planned in,
or, if that partition was not stored, in the next start's plan.

Each night writes into a slot of its own (:data:`SLOTS`: a pair of list tables, :data:`SLOT_TABLES`): the served
night's (the newest finished run, :func:`latest_finished`, its :attr:`BatchRun.slot`) and the other. A new run takes
the slot the served night is not in and empties it first (:func:`start_run`); a killed run resumes in its own slot;
a finished run becomes the served one and empties the other slot as a whole (:func:`finish_run`). So the database
holds one night's lists, and while a run is under way the served night's beside it, and removing a night is emptying
its tables (SQLite's truncation, PostgreSQL's ``TRUNCATE``). At national size (SQLite, a night before of 20 M rows,
``bench/batch_match_finish_night.py``, ``bench/results/national-batch-slots-s35-w2.json``) finishing a night took
1.2 CPU s instead of 151 (its 20 M rows deleted from tables that also held tonight's), and storing a row 15.4 µs CPU
instead of 18.9 (tonight's tables without the night before's rows).

Every list row names a client: on PostgreSQL the list tables of both slots are under the row-level security of
migration ``0002`` (visible when the client is, :mod:`matching.tenancy`), and erasing a client
removes its rows in both (``ON DELETE CASCADE``). The list tables are keyed owner first (``client_id, run_id, rank`` and
``vacancy_id, run_id, rank``, migration ``0010``): erasing a client deletes its client list by the key, and deleting a
vacancy its candidate list; keyed run first, each cascade scanned the whole table (0.6-2 s at national size). An index
on the owner beside the run-first key served the cascades as well, but cost 26-32 % more CPU per stored row and 8 %
more to remove the night before; the owner-first key 3-14 % and nothing, though no index leads with ``run_id`` now
(``bench/batch_lists_cascade.py``, ``bench/results/national-batch-cascade-s34.json``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, PrimaryKeyConstraint, delete
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlmodel import Field, Session, SQLModel, col, select

from matching import geo
from matching.columns import moment_column, optional_moment_column
from matching.domain import Client, Vacancy, utcnow
from matching.errors import ConflictError

logger = logging.getLogger(__name__)

KIND_MATCH = "match"
SIDES = ("vacatures", "klanten")  # the vacancies' candidate lists, the clients' vacancy lists
SLOTS = ("a", "b")  # a night's list tables: the served night's slot and the other (the next night's)
# How long emptying a slot waits for its lock on PostgreSQL (finish_run, start_run): requests hold it for milliseconds
# (a list read 56-60 ms in all at national size); a request that waits behind the emptying waits up to this, then the
# emptying's hold: the TRUNCATE and its commit up to the locks' release, 10 ms at national size (the truncated files are
# deleted after it, bench/results/batch-slots-postgres-s38.json).
EMPTY_LOCK_TIMEOUT = "2s"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout
# A start that finds its slot full (the night before's emptying gave up) and held tries this often, pausing between
# tries, then refuses: each try makes the slot's new users (an erasure's cascade) wait up to EMPTY_LOCK_TIMEOUT, a
# pause lets them through. A short hold (an analyst's query, a request) is past within the 2 x 15 s; a long one (a
# pg_dump of minutes) is not worth waiting for: the previous night stays served and the operator restarts the batch.
START_EMPTY_TRIES = 3
START_EMPTY_PAUSE_S = 15.0


class BatchRun(SQLModel, table=True):
    """One run of a batch: when it started and finished, and how its partitions were cut."""

    __tablename__ = "batch_run"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    partition_ids: int  # owners per partition of one place cell, about (:func:`plan`; before 0007: record ids)
    started_at: datetime = moment_column()
    finished_at: datetime | None = optional_moment_column()
    slot: str = Field(default=SLOTS[0], max_length=1)  # the list tables its rows are in (:data:`SLOT_TABLES`)


class BatchPartition(SQLModel, table=True):
    """A partition a run has stored (its lists are committed in the same transaction)."""

    __tablename__ = "batch_partition"

    run_id: int = Field(foreign_key="batch_run.id", primary_key=True, ondelete="CASCADE")
    side: str = Field(max_length=10, primary_key=True)
    first_id: int = Field(primary_key=True)  # its smallest owner id (each owner is in one partition of a run)
    cell: str | None = Field(default=None, max_length=60)  # the place cell its owners were planned in
    lists: int  # how many lists the partition holds (its open vacancies, or its clients)
    ranked_by: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the ranker's name and version
    committed_at: datetime = moment_column()


class BatchOwner(SQLModel, table=True):
    """An owner (vacancy or client) a stored partition computed, with or without a list: stored with the
    partition's lists, so a restart plans only the owners not computed yet and a reader finds the mark."""

    __tablename__ = "batch_owner"

    run_id: int = Field(foreign_key="batch_run.id", primary_key=True, ondelete="CASCADE")
    side: str = Field(max_length=10, primary_key=True)
    owner_id: int = Field(primary_key=True)
    first_id: int  # the partition's key (with run_id and side)


class NachtKandidaatBase(SQLModel):
    """A candidate on a vacancy's nightly list: rank, client, and the scores the live list would show."""

    run_id: int = Field(foreign_key="batch_run.id", primary_key=True, ondelete="CASCADE")
    vacancy_id: int = Field(foreign_key="vacancy.id", primary_key=True, ondelete="CASCADE")
    rank: int = Field(primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True, ondelete="CASCADE")
    ranking_score: float
    score: int  # the shown score, 0–100 (matching.display_score)


class NachtVacatureBase(SQLModel):
    """A vacancy on a client's nightly list of options."""

    run_id: int = Field(foreign_key="batch_run.id", primary_key=True, ondelete="CASCADE")
    client_id: int = Field(foreign_key="client.id", primary_key=True, ondelete="CASCADE")
    rank: int = Field(primary_key=True)
    vacancy_id: int = Field(foreign_key="vacancy.id", index=True, ondelete="CASCADE")
    ranking_score: float
    score: int


# Slot "a" keeps the tables' names from before the slots (migration 0011 left their rows where they were).
class NachtKandidaat(NachtKandidaatBase, table=True):
    __tablename__ = "nacht_kandidaat"
    __table_args__ = (PrimaryKeyConstraint("vacancy_id", "run_id", "rank"),)  # owner first: a deleted vacancy's cascade


class NachtVacature(NachtVacatureBase, table=True):
    __tablename__ = "nacht_vacature"
    __table_args__ = (PrimaryKeyConstraint("client_id", "run_id", "rank"),)  # owner first: the erasure's cascade


class NachtKandidaatB(NachtKandidaatBase, table=True):
    __tablename__ = "nacht_kandidaat_b"
    __table_args__ = (PrimaryKeyConstraint("vacancy_id", "run_id", "rank"),)


class NachtVacatureB(NachtVacatureBase, table=True):
    __tablename__ = "nacht_vacature_b"
    __table_args__ = (PrimaryKeyConstraint("client_id", "run_id", "rank"),)


# per slot its list tables: the vacancies' candidate lists, the clients' vacancy lists
SLOT_TABLES: dict[str, tuple[type[NachtKandidaatBase], type[NachtVacatureBase]]] = {
    "a": (NachtKandidaat, NachtVacature),
    "b": (NachtKandidaatB, NachtVacatureB),
}
LIST_TABLES: tuple[type[SQLModel], ...] = tuple(table for pair in SLOT_TABLES.values() for table in pair)


TABLES: tuple[type[SQLModel], ...] = (BatchRun, BatchPartition, BatchOwner, *LIST_TABLES)


@dataclass(frozen=True)
class Planned:
    """A partition planned: its side, key (smallest owner id), place cell and owners in the order computed."""

    side: str
    first: int
    cell: str
    owners: tuple[int, ...]


def cell_of(postcode: str) -> str:
    """The place cell of a record: the woonplaats of its PC4 (GeoNames' ``plaats``), or ``?`` and its PC4.

    A woonplaats rather than a grid cell or a postcode prefix: at national size (partitions of at most 100) the
    owners of one partition lie within 1.9–2.5 km of each other in 9 partitions of 10, 99 % of their pairs
    within 5 km and 86–92 % at one PC4 (what their reach shares exactly); a PC3 prefix gives 5.0–6.1 km and
    60–84 %, a grid of 0.05° 3.8–4.1 km and 67–86 %, with 10–20 % fewer partitions
    (``bench/batch_match_cells.py``, ``bench/results/national-batch-cells-s30-p.json``)."""
    place = geo.place_of(postcode)
    return place if place is not None else f"?{(postcode or '')[:4]}"


def plan(side: str, owners: Iterable[tuple[int, str]], size: int) -> list[Planned]:
    """The owners ``(id, postcode)`` of ``side`` in partitions of about ``size`` (at most ``size``) per place
    cell: sorted by cell, PC4 and id, each cell cut into ``ceil(n / size)`` chunks of near-equal length (no small
    remainder). Deterministic: the same owners give the same partitions, whatever order they come in."""
    by_cell: dict[str, list[tuple[str, int]]] = {}
    for owner, postcode in owners:
        by_cell.setdefault(cell_of(postcode), []).append(((postcode or "")[:4], int(owner)))
    planned = []
    for cell in sorted(by_cell):
        members = [owner for _, owner in sorted(by_cell[cell])]
        count = -(-len(members) // size)
        base, extra = divmod(len(members), count)
        start = 0
        for chunk in range(count):
            part = tuple(members[start : start + base + (chunk < extra)])
            start += len(part)
            planned.append(Planned(side, min(part), cell, part))
    return planned


def mark_of(session: Session, run_id: int, side: str, owner_id: int) -> BatchPartition | None:
    """The mark of the partition of run ``run_id`` that computed ``owner_id`` of ``side``, or None."""
    owner = session.get(BatchOwner, (run_id, side, owner_id))
    return None if owner is None else session.get(BatchPartition, (run_id, side, owner.first_id))


def latest_finished(session: Session, kind: str = KIND_MATCH) -> BatchRun | None:
    """The newest run of ``kind`` that finished (the lists shown as "van vannacht"), or None."""
    query = (
        select(BatchRun)
        .where(BatchRun.kind == kind, col(BatchRun.finished_at).is_not(None))
        .order_by(col(BatchRun.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def list_table(run: BatchRun, side: str) -> type[NachtKandidaatBase] | type[NachtVacatureBase]:
    """The table of ``run``'s lists of ``side`` (its slot's)."""
    candidates, vacancies = SLOT_TABLES[run.slot]
    return candidates if side == "vacatures" else vacancies


@dataclass(frozen=True)
class ServedList:
    """An owner's list of the served night, read as one: the run, the mark of the partition that computed the owner,
    and the rows (best first), each with its item's record (a candidate's :class:`Client`, an option's
    :class:`Vacancy`)."""

    run: BatchRun
    mark: BatchPartition
    rows: list[tuple[Any, Any]]


# A new read per night that finished during the request: one finishing while a request reads is rare (a night ends once
# a day, in a second); two during one request cannot happen (a night takes minutes to store). The bound keeps a
# pathological loop finite, and its end is an error to try again, never a "geen lijst" while a list exists.
READ_ATTEMPTS = 3


def served_list(session: Session, side: str, owner_id: int) -> ServedList | None:
    """The list of ``owner_id`` of ``side`` in the served night (:func:`latest_finished`), or None: no night finished,
    or it computed no list for the owner (its partition's mark missing, or no row).

    The run, its mark and its rows are separate statements. A night that finishes between them (:func:`finish_run`)
    removes the served night's marks, then empties its slot, so the later statements find nothing of the run the first
    one named. Under PostgreSQL's READ COMMITTED each statement sees what was committed when it began;
    REPEATABLE READ would not help, as a ``TRUNCATE`` is not MVCC-safe (a snapshot taken before it sees the table
    empty). SQLite's reads outside a write transaction are each a transaction of their own (pysqlite begins one only
    before a write), so there too. Where a run's mark or rows are missing and :func:`latest_finished` has moved on,
    the list is read again from the newer run: the answer is one night's list, never a mix, and never "none" while
    a finished night holds one (``tests/matching/test_batch_read_race.py``, both databases, the finish run on another
    connection between the statements).

    Raises:
        ConflictError: a newer night finished during each of :data:`READ_ATTEMPTS` reads (cannot happen with nights
            minutes long; an answer to try again rather than a false "no list").
    """
    owner, item = ("vacancy_id", "client_id") if side == "vacatures" else ("client_id", "vacancy_id")
    record = Client if side == "vacatures" else Vacancy
    run = latest_finished(session)
    for _ in range(READ_ATTEMPTS):
        if run is None or run.id is None:
            return None
        mark = mark_of(session, run.id, side, owner_id)
        rows: list[tuple[Any, Any]] = []
        if mark is not None:
            table = list_table(run, side)
            query = (
                select(table, record)
                .join(record, col(record.id) == getattr(table, item))
                .where(table.run_id == run.id, getattr(table, owner) == owner_id)
                .order_by(col(table.rank))
            )
            rows = list(session.exec(query).all())
        if mark is not None and rows:
            return ServedList(run, mark, rows)
        newer = latest_finished(session)
        if newer is None or newer.id == run.id:
            return None  # the served night has no list for the owner
        run = newer
    raise ConflictError("de lijst van vannacht werd tijdens het lezen steeds vervangen; probeer het opnieuw")


def _other(slot: str) -> str:
    """The slot that is not ``slot``."""
    return SLOTS[1 - SLOTS.index(slot)]


def start_run(session: Session, partition_ids: int, *, pause: Callable[[float], None] = time.sleep) -> BatchRun:
    """A new run of the nightly match, committed, in the slot the served night is not in. That slot is empty when the
    night before finished (:func:`finish_run`, unless its emptying gave up waiting for the lock); a slot that still
    holds rows is emptied here (:func:`_empty_for_start`), and every run but the served one is removed, so that a
    night's tables hold its rows only whatever a database was left with (an abandoned run's, the night before's).

    An empty slot is left as it is: the start then takes no lock a reader or an erasure could wait for, so a
    ``pg_dump`` or an open transaction that holds the slot does not hold up a night. The slot's emptying, if needed,
    is a transaction of its own, before the other runs' removal (whose cascade scans the served slot: 1.0 s at
    national size on PostgreSQL), so its lock is held only for the ``TRUNCATE`` and its commit. A crash between the
    two leaves an empty slot and the old runs, which the next start removes.

    On SQLite, run it on a connection that does not check foreign keys (:func:`training.batch_match.storing_engine`):
    only then does SQLite empty a table as a whole instead of deleting row by row.

    Args:
        session: a session on the database of the lists.
        partition_ids: owners per partition of the new run (:func:`plan`).
        pause: waits the given seconds between tries to empty a held slot (tests pass their own).

    Raises:
        ConflictError: the slot holds rows and another transaction held it at each of :data:`START_EMPTY_TRIES`
            tries (PostgreSQL); nothing changed, the served night stays served.
    """
    served = latest_finished(session)
    slot = SLOTS[0] if served is None else _other(served.slot)
    _empty_for_start(session, slot, pause)
    _remove_marks(session, served)
    _remove_runs(session, served)
    run = BatchRun(kind=KIND_MATCH, partition_ids=partition_ids, slot=slot)
    session.add(run)
    session.commit()
    session.refresh(run)
    return run


def _empty_for_start(session: Session, slot: str, pause: Callable[[float], None]) -> None:
    """Empty ``slot`` and commit, if it holds rows: at most :data:`START_EMPTY_TRIES` tries of
    :data:`EMPTY_LOCK_TIMEOUT` each on PostgreSQL, ``pause`` (:data:`START_EMPTY_PAUSE_S`) between them.

    Raises:
        ConflictError: another transaction held the slot at every try.
    """
    if not _holds_rows(session.connection(), slot):
        return
    for attempt in range(1, START_EMPTY_TRIES + 1):
        if _emptied(session, slot):
            return
        logger.warning(
            "slot %s not emptied (another transaction held it over %s), try %d of %d",
            slot,
            EMPTY_LOCK_TIMEOUT,
            attempt,
            START_EMPTY_TRIES,
        )
        if attempt < START_EMPTY_TRIES:
            pause(START_EMPTY_PAUSE_S)
    raise ConflictError(
        f"de nachtlijsten van slot {slot} zijn nog niet leeg en konden niet worden leeggemaakt: een andere "
        f"databasetransactie (een pg_dump, een open transactie) hield ze {START_EMPTY_TRIES} keer langer dan "
        f"{EMPTY_LOCK_TIMEOUT} vast. Er is niets veranderd en de lijsten van de vorige nacht blijven getoond; start "
        "de batch opnieuw als die transactie klaar is"
    )


def finish_run(session: Session, run_id: int) -> None:
    """Mark run ``run_id`` finished (its lists are the ones served from now on), then empty the other slot and remove
    the runs before it (as :func:`start_run`, on such a connection). Three transactions, so that no request waits for
    more than the emptying itself.

    The first marks the run finished and deletes the other runs' marks and owners: row deletions, which readers do not
    wait for (on PostgreSQL they see the old rows until the commit). From its commit on, every request reads this run's
    slot. The second empties the other slot: PostgreSQL's ``TRUNCATE`` takes an ACCESS EXCLUSIVE lock, which waits for
    every transaction that read the slot and, while it waits and until its commit, makes every new reader of the slot
    wait behind it. Only a request that read the night before's mark before the first commit and its rows after the
    second began waits, then reads this night's list (:func:`served_list`). The third removes the other runs: their
    deletion cascades to every list table, on PostgreSQL a scan of this run's slot (no index leads with ``run_id``),
    1.0-1.7 s at national size; under the ``TRUNCATE``'s lock, as up to session 37, every reader of the emptied slot
    waited for that scan (1.7 s), outside it no reader waits for it (a row deletion's ROW EXCLUSIVE lock lets readers
    through). A crash before the third commit leaves the old runs, without rows, marks or owners, to the next start.

    At national size on PostgreSQL (two nights of 20 M rows, ``bench/batch_slots_postgres.py``,
    ``bench/results/batch-slots-postgres-s38.json``, load 4.0-6.3) the finish took 3.0 s wall, 1.6 s of the server's
    CPU: the first transaction 0.5 s, the ``TRUNCATE`` 2 ms, and a reader that asked for the slot after it got it 10 ms
    after the ``TRUNCATE`` began (PostgreSQL releases the locks at the commit before it deletes the truncated files,
    2.1 GB, which the commit's return waits for: 0.8 s); the old runs' removal 1.7 s after that. A request in flight
    across the finish waited 0.23 s, against 1.8-2.3 s with the removal under the lock (the same day, load 5-8).

    The emptying waits at most :data:`EMPTY_LOCK_TIMEOUT` for the lock on PostgreSQL. A transaction that holds the slot
    longer (a ``pg_dump``, an analyst's open transaction) would otherwise keep it waiting, and every erasure and vacancy
    deletion, whose cascades reach both slots, behind it. Past the limit it gives up: the night is served all the same,
    the old runs stay (removing them now would delete the slot's rows one by one through the cascade), and the next
    :func:`start_run` empties the slot and removes them (measured in session 36: such a finish 2.4 s, the next start
    1.9 s wall, 1.2 s server CPU). The readers take no ``lock_timeout``: the only ones that can wait are bounded by the
    emptying's limit and its hold.
    """
    run = session.get(BatchRun, run_id)
    assert run is not None
    run.finished_at = utcnow()
    session.add(run)
    before = _other(run.slot)
    _remove_marks(session, run)
    session.commit()
    if not _emptied(session, before):
        logger.warning(
            "slot %s of the night before not emptied (another transaction held it over %s); the next start empties it",
            before,
            EMPTY_LOCK_TIMEOUT,
        )
        return
    _remove_runs(session, run)
    session.commit()


def _emptied(session: Session, slot: str) -> bool:
    """Empty ``slot`` and commit, waiting at most :data:`EMPTY_LOCK_TIMEOUT` for its lock on PostgreSQL; False, rolled
    back, where another transaction held it longer (PostgreSQL's ``lock_timeout``; any other error is raised)."""
    try:
        _empty(session.connection(), slot, lock_timeout=EMPTY_LOCK_TIMEOUT)
        session.commit()
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        session.rollback()
        return False
    return True


def _others(kept: BatchRun | None) -> Any:
    """The ids of the match runs but ``kept`` (a subquery)."""
    others = select(BatchRun.id).where(BatchRun.kind == KIND_MATCH)
    return others if kept is None else others.where(BatchRun.id != kept.id)


# no session to keep in step (synchronize_session): else SQLAlchemy has every deleted key returned to Python (a
# night's 700,000 owners: 2.6 CPU s of 2.7 at 1/60 of a national night's lists)
_UNSYNCHRONISED = {"synchronize_session": False}


def _remove_marks(session: Session, kept: BatchRun | None) -> None:
    """Delete the marks and owners of every match run but ``kept``."""
    for table in (BatchOwner, BatchPartition):
        session.execute(delete(table).where(col(table.run_id).in_(_others(kept))), execution_options=_UNSYNCHRONISED)


def _remove_runs(session: Session, kept: BatchRun | None) -> None:
    """Delete every match run but ``kept``: after their slot was emptied, else the deletion cascades row by row."""
    session.execute(delete(BatchRun).where(col(BatchRun.id).in_(_others(kept))), execution_options=_UNSYNCHRONISED)


def _empty(connection: Connection, slot: str, lock_timeout: str | None = None) -> None:
    """Every row of ``slot``'s list tables: ``TRUNCATE`` on PostgreSQL (which row-level security does not limit: the
    role needs the ``TRUNCATE`` privilege, migration 0011), waiting at most ``lock_timeout`` for its lock where given;
    ``DELETE`` without ``WHERE`` on SQLite (the whole table's pages freed at once, without triggers or foreign key
    checks)."""
    names = [table.__tablename__ for table in SLOT_TABLES[slot]]  # type: ignore[attr-defined]
    if connection.dialect.name == "postgresql":
        if lock_timeout is not None:
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{lock_timeout}'")
        connection.exec_driver_sql(f"TRUNCATE {', '.join(names)}")
        return
    for name in names:
        connection.exec_driver_sql(f"DELETE FROM {name}")  # noqa: S608 (names are ours)


def _holds_rows(connection: Connection, slot: str) -> bool:
    """Whether any of ``slot``'s list tables holds a row (a read: no ``pg_dump`` or other reader holds it up; 1 ms on an
    empty slot, 0.5 s on a full one of 20 M rows). On PostgreSQL the batch's regional scope sees every row
    (:mod:`matching.tenancy`: a list row is visible when its client is, and a deleted client's rows are deleted)."""
    names = [table.__tablename__ for table in SLOT_TABLES[slot]]  # type: ignore[attr-defined]
    found = " OR ".join(f"EXISTS (SELECT 1 FROM {name})" for name in names)
    return bool(connection.exec_driver_sql(f"SELECT {found}").scalar_one())  # noqa: S608 (names are ours)
