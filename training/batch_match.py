"""``werkmatch batch match``: every open vacancy's candidates and every client's vacancies, overnight on Ray Data.

What a list is: exactly what the live search answers (:class:`matching.matcher.Matcher`, the same
pipeline, ranked by the ranker that serves: the registry's champion, else the shipped baseline, or
the weighted score when the kill switch says ``transparant``), with ``served=False``: a nightly list
enters no exposure ledger and is not re-ranked for exposure (nobody saw it yet; the live list a
person opens is). Candidates are ranked as for a viewer without a caseload (an accountmanager,
:data:`matching.disclosure.OUTSIDER`): nobody's beperkingen shape the list, so it can be shown to any
role that may see the live list, cut as the live list is (:mod:`api.services.batch_lists`). A
client's vacancies are ranked as the client's own consulent's live search ranks them.

How: the driver (this process) takes the batch lock (:func:`training.batch_embed.batch_lock`: one batch per
database) and plans both sides' owners not yet computed into partitions of about :data:`PARTITION_IDS` owners
of one place (:func:`matching.batch_lists.plan`: owners of one partition share their reach, so a worker's
caches serve all of them). A Ray Data pipeline (``ray.data.from_items`` → ``map_batches`` over a pool of
:class:`ListWorker` actors, each with its own read-only matcher that loads the index files, as any reader of
the data directory does; the records are read once per night, not once per worker: the first worker reads them
and writes the prepared indexes into the data directory, the others wait for that file and take it
(:mod:`matching.prepared_snapshot`; the next night takes it too and catches up with the day's changes)
computes a partition's lists; the driver stores each finished partition with its mark and its owners in one
transaction (:mod:`matching.batch_lists`). The driver does not read the index itself: a worker says, per
partition, whether it lacked a record's current vector (the files behind the database by more than a reader
embeds itself); only then does the driver bring the files up to date and have those partitions computed again
(:func:`_compute`). Killed at any moment, the same command resumes the unfinished run: it plans only the
owners no stored partition computed, a partition is stored whole or not at all with its owners, so no list is
lost or stored twice, also of a record that moved or changed status meanwhile (its partition is fixed when
planned). A killed worker is restarted by Ray and its partition computed again (nothing of it was stored). A
run writes into a slot of its own (:data:`matching.batch_lists.SLOTS`), never the served night's; a finished run
replaces the previous night's lists and empties their slot. Ray starts as ``batch embed``'s does
(:func:`training.batch_embed.start_ray`): locally sized by :class:`training.batch_embed.RaySizing`, or the
cluster of ``RAY_ADDRESS``; the workers then need the database and the data directory's index files (a shared
volume), where the prepared indexes and their lock file (``flock``) lie too; a node with its own copy of the
data directory reads the records once itself, and a read-only one has every worker read them (as before).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import ray
import ray.data
from ray.exceptions import RayError
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select
from tqdm import tqdm

from matching import prepared_snapshot
from matching.batch_lists import (
    KIND_MATCH,
    SIDES,
    BatchOwner,
    BatchPartition,
    BatchRun,
    Planned,
    finish_run,
    list_table,
    plan,
    start_run,
)
from matching.batch_rank import NightlyRanking
from matching.domain import Client, Vacancy, VacancyStatus
from matching.embedding import Embedder, load_embedder
from matching.errors import WerkmatchError
from matching.index_sync import IndexSync
from matching.matcher import Matcher
from matching.notes_fill import fill_saved
from matching.settings import Settings
from matching.store import make_engine
from training import registry
from training.batch_embed import RaySizing, batch_lock, start_ray

logger = logging.getLogger(__name__)

PARTITION_IDS = 100  # owners per partition of one place (at most; ~80 on average): a second or two of one core
CANDIDATES_TOP = 50
VACANCIES_TOP = 20
# Partitions per Ray Data block: the driver's and Ray's own processes' share of Ray Data (a task, its input and
# output blocks, the executor's bookkeeping) is paid per block, 9.2 ms CPU a block besides 7.2 ms a partition
# and 0.076 CPU s per second of wall (bench/batch_match_ray_driver.py, national-batch-ray-*-s33-b7.json): 8,497
# blocks of one partition cost a national night about 79 CPU s, blocks of 8 about 10. A block's lists reach the
# driver when its last partition is computed; a worker killed meanwhile has the whole block computed again.
PARTITIONS_PER_BLOCK = 8
Part = tuple[str, int]  # (side, first id): a partition's key in its run


@dataclass(frozen=True)
class MatchReport:
    """What one run (or the resumed part of one) did."""

    run_id: int
    resumed: bool
    partitions: int  # of the whole run
    done_before: int  # partitions stored before this start (a resumed run)
    vacancy_lists: int  # stored by this start
    client_lists: int
    rows: int  # list rows stored by this start
    workers: int
    prepare_seconds: float  # the lock, the run and its partitions
    sync_seconds: float  # of ``seconds``, bringing the index files up to date (only when a worker found them behind)
    seconds: float  # Ray, the workers and the lists
    # CPU seconds the workers spent on the stored partitions, per side (a worker's start not included)
    cpu_seconds: dict[str, float]
    store_seconds: float  # of ``seconds``, the driver's storing of the lists (one transaction per partition)
    finished: bool  # False: ``limit`` stopped this start early; the run resumes on the next
    notes_seconds: float = 0.0  # of ``seconds``, the driver filling the serving ranker's notes column first
    # partitions whose worker found the index files behind (it computed nothing): computed again after the sync
    behind_partitions: int = 0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def cpu_per_list(self) -> dict[str, float | None]:
        """CPU seconds per list, per side (None: no list of that side computed)."""
        lists = {"vacatures": self.vacancy_lists, "klanten": self.client_lists}
        return {side: self.cpu_seconds[side] / lists[side] if lists[side] else None for side in lists}

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_s": round(self.rows_per_s, 1), "cpu_s_per_list": self.cpu_per_list()}


class ListWorker:
    """A Ray Data actor: a read-only matcher serving the champion; a partition in, its lists out (as JSON).

    It reads the database and the index files and writes nothing but the embedding cache's query
    vectors (as every search does); the driver stores the lists.
    """

    def __init__(self, settings: Settings) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        self.matcher = Matcher(settings, may_write=False)
        registry.serve_champion(settings, self.matcher)
        # load the indexes now (the actor's start, not its first partition's time): from the prepared indexes the
        # first worker of the night wrote (matching.prepared_snapshot), so N workers read the records once
        self.prepared_from = prepared_snapshot.prepare(self.matcher.index)
        # a champion's notes column: every client's value read from the writer's file, or computed here (every
        # fragment embedded), so that a list reads each client's value as the live search does once filled
        self.matcher.notes_fill.now()
        self.ranking = NightlyRanking(self.matcher)
        # the loaded indexes are millions of long-lived objects at national size (a digest per record, …): out of
        # the collector's sight, or every full collection during the night walks them all again
        gc.freeze()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        lists, cpu, missing = [], [], []
        for side, owners in zip(batch["side"], batch["owners"], strict=True):
            # records whose current vector this worker lacks (the index files behind, too many to embed itself):
            # the driver stores none of this partition's lists, so none is computed (a whole night's work
            # otherwise, thrown away before the files are synced and the night computed again)
            lacking = sum(self.matcher.index.pending().values())
            start = time.process_time()
            if not lacking:
                lists.append(json.dumps(self.owner_lists(str(side), _owners(str(owners)))))
                lacking = sum(self.matcher.index.pending().values())  # a search may have read newer changes
            else:
                lists.append("[]")
            cpu.append(time.process_time() - start)
            missing.append(lacking)
        found = {"lists": np.array(lists, dtype=object), "cpu": np.array(cpu), "missing": np.array(missing)}
        started = np.full(len(lists), self.prepared_from)  # "bestand": this worker took the prepared indexes
        return {**batch, **found, "pid": np.full(len(lists), os.getpid()), "prepared": started}

    def partition_lists(self, side: str, first: int, size: int) -> list[dict[str, Any]]:
        """The lists of the owners with ids ``first`` … ``first + size - 1`` (the partitions before 0007; benches)."""
        return self.owner_lists(side, list(range(first, first + size)))

    def owner_lists(self, side: str, planned: list[int]) -> list[dict[str, Any]]:
        """The lists of one partition's owners (vacancy or client ids, in the order given; an owner gone, or a
        vacancy no longer open, is left out): per owner its ranked ids and scores."""
        matcher = self.matcher
        with Session(matcher.engine) as session:
            table = Vacancy if side == "vacatures" else Client
            query = select(table.id).where(col(table.id).in_(planned))
            if side == "vacatures":
                query = query.where(Vacancy.status == VacancyStatus.OPEN.value)
            present = set(session.exec(query))
        owners = [owner for owner in planned if owner in present]
        if side == "vacatures":
            found = self.ranking.candidate_lists(owners, CANDIDATES_TOP)
        else:
            found = self.ranking.vacancy_lists(owners, VACANCIES_TOP)
        return [
            {
                "owner": item.owner,
                "rankedBy": item.ranked_by,
                "items": [
                    [ident, rank, score, shown]
                    for rank, (ident, score, shown) in enumerate(
                        zip(item.ids, item.ranking_scores, item.scores, strict=True), start=1
                    )
                ],
            }
            for item in found
        ]


def _current_run(engine: Engine, partition_ids: int) -> tuple[BatchRun, bool]:
    """The unfinished run to resume (its own partition size and slot), or a new one (:func:`start_run`)."""
    with Session(engine) as session:
        query = select(BatchRun).where(BatchRun.kind == KIND_MATCH, col(BatchRun.finished_at).is_(None))
        run = session.exec(query.order_by(col(BatchRun.id).desc())).first()
        resumed = run is not None
        if run is None:
            run = start_run(session, partition_ids)
        session.refresh(run)
        session.expunge(run)
        return run, resumed


def run_partitions(engine: Engine, run: BatchRun) -> tuple[list[Planned], set[Part]]:
    """The partitions left to compute (the open vacancies and the clients there now that no stored partition of
    the run computed, planned by place: :func:`matching.batch_lists.plan`), and the keys of those stored."""
    size = run.partition_ids
    with Session(engine) as session:
        computed = session.exec(select(BatchOwner.side, BatchOwner.owner_id).where(BatchOwner.run_id == run.id))
        done: dict[str, set[int]] = {side: set() for side in SIDES}
        for side, owner in computed:
            done[side].add(owner)
        vacancies = session.exec(
            select(Vacancy.id, Vacancy.postcode).where(Vacancy.status == VacancyStatus.OPEN.value)
        ).all()
        clients = session.exec(select(Client.id, Client.postcode).execution_options(yield_per=50_000)).all()
        stored = session.exec(
            select(BatchPartition.side, BatchPartition.first_id).where(BatchPartition.run_id == run.id)
        )
        marks = {(side, first) for side, first in stored}
    left = []
    for side, owners in (("klanten", clients), ("vacatures", vacancies)):
        left += plan(side, ((owner, postcode) for owner, postcode in owners if owner not in done[side]), size)  # type: ignore[misc]
    return left, marks


def store_partition(engine: Engine, run_id: int, part: Planned, lists: list[dict[str, Any]]) -> int:
    """A partition's lists, its mark and its owners, in one transaction; 0 when it was stored already. Returns rows.

    On an engine of :func:`storing_engine` (SQLite, foreign keys not checked per row) the rows' clients and
    vacancies are looked up once each, sorted, after the mark is written (this transaction then holds SQLite's
    one write lock, so none of them is deleted before the commit); a row naming a record deleted since its
    worker computed it (an erased client) is left out, as the foreign key's ``ON DELETE CASCADE`` would have
    removed it, instead of failing the partition."""
    side, first = part.side, part.first
    owner, item = ("vacancy_id", "client_id") if side == "vacatures" else ("client_id", "vacancy_id")
    rows = [
        (run_id, found["owner"], ident, rank, score, shown)
        for found in lists
        for ident, rank, score, shown in found["items"]
    ]
    ranked_by = lists[0]["rankedBy"] if lists else {}
    with Session(engine) as session:
        if session.get(BatchPartition, (run_id, side, first)) is not None:
            return 0
        table = list_table(session.get_one(BatchRun, run_id), side)  # the run's slot's
        session.add(
            BatchPartition(
                run_id=run_id, side=side, first_id=first, cell=part.cell, lists=len(lists), ranked_by=ranked_by
            )
        )
        session.flush()
        connection = session.connection()
        owners = [(run_id, side, owner, first) for owner in part.owners]
        _insert_rows(connection, "batch_owner", ("run_id", "side", "owner_id", "first_id"), owners)
        if rows and connection.info.get(UNCHECKED_REFERENCES):
            rows = _referenced(connection, rows, side)
        if rows:
            _insert_rows(connection, table.__tablename__, ("run_id", owner, item, *LIST_VALUES), rows)  # type: ignore[attr-defined]
        session.commit()
    return len(rows)


UNCHECKED_REFERENCES = "werkmatch_batch_unchecked_references"  # a storing connection's info key (storing_engine)
# The storing connection's SQLite page cache (KiB, negative: a size, not pages): the list tables' indexes of a
# night and the night before are about 20 M entries each; with SQLite's default 2 MB nearly every row's index
# insert read its page from the file again. 1 GiB instead was tried end to end in session 37 and gave nothing: the
# driver's storing 485 s and 137 s of kernel CPU in a first night, against 458 s and 138 s with 256 MB in session 36
# (bench/results/national-batch-e2e-s37.json). A checkpoint every 10,000 pages (40 MB) instead of 1,000: a
# partition's commit dirties about 2,500 pages, so the default copied the WAL into the file at every commit.
STORING_CACHE_KIB = 262_144
STORING_CHECKPOINT_PAGES = 10_000


def storing_engine(engine: Engine) -> Engine:
    """The driver's own engine for storing the lists: ``engine`` itself on PostgreSQL; on SQLite an engine of
    the same file (WAL, ``synchronous=FULL``: each partition's commit is durable) with a larger page cache, a
    larger WAL between checkpoints and its foreign keys not checked per row: :func:`store_partition` looks the
    rows' clients and vacancies up once per partition itself. It empties the night before's slot too (:func:`_finish`;
    SQLite frees a table's pages at once only where it checks no foreign key), without zeroing the pages. Dispose of it
    when done (unless it is ``engine``). ``bench/batch_match_store_night.py``: per stored row at national size with
    the night before's 20 M rows in the tables, alternating, 32.2 µs CPU (13.2 of it the kernel's) instead of 50.3
    (29.0), load 6.6-7.5 (``bench/results/national-batch-store-night-s32.json``)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine  # (an in-memory database is the engine's own: another engine would open another one)
    storing = make_engine(engine.url.render_as_string(hide_password=False))

    @event.listens_for(storing, "connect")
    def _storing(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA cache_size=-{STORING_CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={STORING_CHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys=OFF")
        # the rows this engine deletes are the nights before's (_finish): an erased client's rows were deleted
        # (and zeroed) by the erasure's cascade, and none is stored after it, so no freed byte here is an erased
        # person's; zeroing them rewrote every freed page of a night (20 M rows)
        cursor.execute("PRAGMA secure_delete=OFF")
        cursor.close()
        record.info[UNCHECKED_REFERENCES] = True

    return storing


def _referenced(connection: Connection, rows: list[tuple[Any, ...]], side: str) -> list[tuple[Any, ...]]:
    """``rows`` (run, owner, item, …) whose owner and item still exist (the checks of the foreign keys, once
    per record, in id order)."""
    owners, items = ("vacancy", "client") if side == "vacatures" else ("client", "vacancy")
    present = {}
    for at, table in ((1, owners), (2, items)):
        wanted = json.dumps(sorted({row[at] for row in rows}))
        found = connection.exec_driver_sql(
            f"SELECT id FROM {table} WHERE id IN (SELECT value FROM json_each(?))",  # noqa: S608 (names are ours)
            (wanted,),
        )
        present[at] = {ident for (ident,) in found}
    kept = [row for row in rows if row[1] in present[1] and row[2] in present[2]]
    if len(kept) < len(rows):
        logger.info("%d list rows of records deleted meanwhile left out", len(rows) - len(kept))
    return kept


LIST_VALUES = ("rank", "ranking_score", "score")
_ARRAY_TYPES = {"ranking_score": "float8[]", "side": "text[]"}  # every other column is an integer


def _insert_rows(connection: Connection, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Plain tuples into ``table`` by the driver itself: one ``executemany`` of a prepared statement on SQLite,
    one ``INSERT … SELECT FROM unnest`` of a column array each on PostgreSQL (``COPY`` is refused on a table
    under forced row-level security). No SQLAlchemy object per row: less CPU per row than Core's
    ``executemany`` (``bench/batch_match_store.py``: 1.7x less)."""
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        arrays = ", ".join(f"%s::{_ARRAY_TYPES.get(name, 'int8[]')}" for name in columns)
        sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608 (names are ours)
        connection.exec_driver_sql(sql, tuple(list(values) for values in zip(*rows, strict=True)))
    else:
        marks = ", ".join("?" * len(columns))
        connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _owners(joined: str) -> list[int]:
    """A partition's owners as the pipeline carries them (ids joined by commas)."""
    return [int(owner) for owner in joined.split(",") if owner]


def _finish(engine: Engine, run_id: int) -> None:
    """Mark the run finished (its slot's lists are served) and empty the night before's slot, in three transactions
    (:func:`matching.batch_lists.finish_run`)."""
    with Session(engine) as session:
        finish_run(session, run_id)


OnPartition = Callable[[dict[str, Any]], None]


@dataclass
class _Computed:
    """What the Ray Data rounds of one start stored (and what they had to leave for the next round)."""

    lists: dict[str, int]
    rows: int
    cpu: dict[str, float]  # the workers' CPU seconds per side, on the stored partitions
    storing: float
    behind: list[Planned]  # computed by a worker that lacked vectors (the index files behind): not stored
    synced_for: int = 0  # partitions left by a first round with the files behind, computed again after the sync


def _dataset(settings: Settings, todo: list[Planned], workers: int) -> ray.data.Dataset:
    """The partitions of ``todo`` through a pool of ``workers`` :class:`ListWorker` actors, in blocks of
    :data:`PARTITIONS_PER_BLOCK` consecutive partitions (each computed by one call of its actor)."""
    items = [{"side": part.side, "first": part.first, "owners": ",".join(map(str, part.owners))} for part in todo]
    return ray.data.from_items(items, override_num_blocks=-(-len(items) // PARTITIONS_PER_BLOCK)).map_batches(
        ListWorker,
        fn_constructor_args=(settings,),
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,  # Ray Data restarts a killed actor and retries its block's partitions (max_restarts=-1 by default)
    )


def _run_lists(
    settings: Settings,
    engine: Engine,
    run: BatchRun,
    todo: list[Planned],
    workers: int,
    bar: tqdm,
    on_partition: OnPartition | None,
    done: _Computed,
) -> None:
    """The Ray Data pipeline over ``todo``; each partition stored into ``done`` as it arrives.

    A partition whose worker lacked the current vector of some record (the index files were behind
    the database by more than a reader embeds itself) is not stored but put in ``done.behind`` (its worker
    computed none of its lists: :meth:`ListWorker.__call__`).
    """
    assert run.id is not None
    if not todo:
        return
    planned = {(part.side, part.first): part for part in todo}
    for row in _dataset(settings, todo, workers).iter_rows():
        part = planned[str(row["side"]), int(row["first"])]
        if int(row["missing"]):
            done.behind.append(part)
            continue
        start = time.perf_counter()
        lists = json.loads(row["lists"])
        done.rows += store_partition(engine, run.id, part, lists)
        done.storing += time.perf_counter() - start
        done.lists[row["side"]] += len(lists)
        done.cpu[row["side"]] += float(row["cpu"])
        bar.update(1)
        if on_partition is not None:
            on_partition(row)


def _compute(
    settings: Settings,
    engine: Engine,
    run: BatchRun,
    todo: list[Planned],
    workers: int,
    bar: tqdm,
    on_partition: OnPartition | None,
    embedder: Embedder | None,
) -> tuple[_Computed, float]:
    """Every partition of ``todo`` computed and stored; returns what was stored and the seconds spent syncing.

    The driver does not read the whole index first: the workers load it and say what they lack. Only
    when a worker lacked vectors are the index files brought up to date here (as ``werkmatch index
    sync`` would: embedding what changed, or waiting for the process that writes them) and the
    partitions it left computed again by fresh workers.
    """
    done = _Computed({"vacatures": 0, "klanten": 0}, 0, {"vacatures": 0.0, "klanten": 0.0}, 0.0, [])
    _run_lists(settings, engine, run, todo, workers, bar, on_partition, done)
    syncing = 0.0
    if done.behind:
        logger.info("%d partitions met index files behind: syncing them, then computing those", len(done.behind))
        done.synced_for = len(done.behind)
        start = time.perf_counter()
        index = IndexSync(settings, embedder)
        index.sync()  # the workers read these files
        index.close()
        del index
        syncing = time.perf_counter() - start
        again, done.behind = done.behind, []
        _run_lists(settings, engine, run, again, workers, bar, on_partition, done)
        if done.behind:
            raise WerkmatchError(
                f"de indexbestanden lopen achter op de database ({len(done.behind)} partities); "
                "voer 'werkmatch index sync' uit en start de nachtelijke match opnieuw"
            )
    done.cpu = {side: round(value, 3) for side, value in done.cpu.items()}
    done.storing = round(done.storing, 3)
    return done, syncing


def _limited(todo: list[Planned], limit: int | None) -> list[Planned]:
    """The first ``limit`` partitions of each side of ``todo`` (all of them without a limit)."""
    if limit is None:
        return todo
    return [part for side in SIDES for part in [part for part in todo if part.side == side][:limit]]


def _on_ray(
    settings: Settings,
    engine: Engine,
    run: BatchRun,
    todo: list[Planned],
    workers: int,
    bar: tqdm,
    on_partition: OnPartition | None,
    embedder: Embedder | None,
    started: bool,
) -> tuple[_Computed, float]:
    """:func:`_compute` on Ray, a Ray failure said in Dutch; local Ray (``started``) shut down after."""
    try:
        with bar:
            return _compute(settings, engine, run, todo, workers, bar, on_partition, embedder)
    except RayError as error:
        raise WerkmatchError(
            f"Ray-fout tijdens de nachtelijke match ({type(error).__name__}); start opnieuw: "
            "de partities die al zijn opgeslagen, worden niet opnieuw berekend"
        ) from error
    finally:
        if started:
            ray.shutdown()


def _fill_notes(settings: Settings, engine: Engine, embedder: Embedder | None) -> None:
    """The serving ranker's notes column (the champion's, else the shipped baseline's, if it reads one) filled once
    and saved beside the index before the workers start (:func:`matching.notes_fill.fill_saved`); a ranker that
    cannot be loaded here is the workers' to report."""
    ranker = registry.serving_ranker(settings)
    if ranker is not None and ranker.notes is not None:
        computed = fill_saved(settings, engine, embedder or load_embedder(settings.embedding), ranker)
        logger.info("notes column: %s clients' values computed before the workers", computed)


def match_bestand(
    settings: Settings,
    engine: Engine,
    *,
    workers: int | None = None,
    partition_ids: int = PARTITION_IDS,
    sizing: RaySizing | None = None,
    progress: bool = False,
    embedder: Embedder | None = None,
    on_partition: OnPartition | None = None,
    limit: int | None = None,
) -> MatchReport:
    """Write every open vacancy's top candidates and every client's top vacancies; resumable, one per database.

    Args:
        settings: the data directory (index files, lock), the database, the ranker.
        engine: the database the lists go into.
        workers: Ray Data actors, one CPU each (default: the cluster's CPUs).
        partition_ids: owners per partition (at most, of one place) of a new run (a resumed run keeps its own).
        sizing: local Ray's size (default: this machine's CPUs, a 1 GB object store).
        progress: a progress bar (partitions stored/total).
        embedder: the model for bringing the index files up to date (default: loaded from settings).
        on_partition: called with each stored partition's row (side, first, pid of its worker).
        limit: compute at most this many partitions of each side in this start (a measurement on a
            slice); the run then stays unfinished, the previous night's lists stay the ones shown, and
            the next start resumes it.

    Raises:
        ConflictError: another batch runs on this database.
        WerkmatchError: a worker failed for good.
    """
    with batch_lock(settings, engine):
        start = time.perf_counter()
        storing = storing_engine(engine)  # a new run's slot emptied, the lists stored, the night before's emptied
        try:
            run, resumed = _current_run(storing, partition_ids)
            todo, stored = run_partitions(engine, run)
            now = _limited(todo, limit)
            prepared = time.perf_counter() - start
            total = len(stored) + len(todo)
            logger.info("run %s: %d partitions, %d stored before, %d to do", run.id, total, len(stored), len(todo))
            notes = time.perf_counter()
            _fill_notes(settings, engine, embedder)  # the workers then read every client's value from the file
            notes = time.perf_counter() - notes
            started = start_ray(sizing or RaySizing())
            count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
            ray.data.DataContext.get_current().enable_progress_bars = False  # ours counts stored partitions
            bar = tqdm(total=total, initial=len(stored), desc="batch match", unit="partitie", disable=not progress)
            done, syncing = _on_ray(settings, storing, run, now, count, bar, on_partition, embedder, started)
            finished = len(now) == len(todo)
            if finished:
                _finish(storing, run.id)  # type: ignore[arg-type]
        finally:
            if storing is not engine:
                storing.dispose()
        seconds = time.perf_counter() - start - prepared
    report = MatchReport(
        run_id=run.id,  # type: ignore[arg-type]
        resumed=resumed,
        partitions=total,
        done_before=len(stored),
        vacancy_lists=done.lists["vacatures"],
        client_lists=done.lists["klanten"],
        rows=done.rows,
        workers=count,
        prepare_seconds=prepared,
        sync_seconds=round(syncing, 3),
        seconds=seconds,
        cpu_seconds=done.cpu,
        store_seconds=done.storing,
        finished=finished,
        notes_seconds=round(notes, 3),
        behind_partitions=done.synced_for,
    )
    logger.info("batch match: %d rows in %.1f s (%.1f/s)", report.rows, report.seconds, report.rows_per_s)
    return report
