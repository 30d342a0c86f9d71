"""``werkmatch batch embed``: every distinct piece of the bestand embedded once, on Ray, resumable.

The embedding cache (:class:`matching.domain.EmbeddingCache`, keyed by model and content hash) is the
ledger. The driver (this process) reads every client and vacancy, collects the distinct pieces the
indexes will ask for (``embedding.compose``: the field pieces, or whole rendered texts), leaves out
every piece already cached, and splits the rest, sorted by content hash, into partitions. Ray actors
(one embedding model each) turn a partition into vectors; the driver stores each finished partition
in one transaction (:func:`matching.embedding.store_cached`), so a cached piece is never embedded
again. Killed at any moment, a run started again embeds what is missing and nothing else: at most
the partitions in flight when it died are computed a second time, and none is stored twice (the
cache is unique per model and hash, and a write keeps what is there). Only the driver touches the
database, so the workers of a cluster need no database access.

Ray: ``ray.init()`` on this machine, sized by :class:`RaySizing` (the CPUs, a bounded object store,
no dashboard); with ``RAY_ADDRESS`` set, the same code joins that cluster instead (its nodes need
werkmatch installed, as here). One batch at a time per database: a ``flock`` on
``<data_dir>/batch.lock`` for SQLite, a session advisory lock for PostgreSQL; both end with the
process that holds them, so a killed batch leaves no lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import ray
from ray.exceptions import RayError
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select
from tqdm import tqdm

from matching.domain import Client, EmbeddingCache, Vacancy
from matching.embedding import Role, cache_key, load_embedder, store_cached
from matching.errors import ConflictError, WerkmatchError
from matching.notes_readiness import fragments
from matching.settings import EmbeddingSettings, Settings
from matching.taxonomy import Taxonomy
from matching.text import client_fields, content_hash, render_client, render_vacancy, vacancy_fields
from training import registry

logger = logging.getLogger(__name__)

ROLE: Role = "document"  # what the index writer embeds records as (matching.index_sync)
LOCK_NAME = "batch.lock"
PG_LOCK_KEY = 0x7765726B6D61  # "werkma": the advisory lock of werkmatch batches on one PostgreSQL database
PG_LOCK_GRACE_S = 10.0  # how long a start waits for the lock of a session that may have just died
PARTITION = 512  # pieces per Ray task: ~5 s of one core, so a kill costs little and progress moves
IN_FLIGHT = 2  # tasks queued per worker: the next partition is there when one finishes
READ_BATCH = 2000  # rows per fetch while collecting pieces


@dataclass(frozen=True)
class RaySizing:
    """How this machine's local Ray is started (ignored when ``RAY_ADDRESS`` names a cluster)."""

    num_cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    object_store_mb: int = 1024  # partitions are ~0.1 MB of text and ~0.8 MB of vectors: 1 GB is plenty


@dataclass(frozen=True)
class BatchReport:
    """What one run did."""

    pieces: int  # distinct pieces of the bestand
    cached_before: int  # of those, already in the cache when the run started
    embedded: int  # embedded and stored by this run
    workers: int
    collect_seconds: float  # reading the bestand and the cache
    startup_seconds: float  # Ray and the workers' models
    seconds: float  # embedding and storing
    worker_cpu_seconds: float = 0.0  # CPU the workers spent embedding (a restarted worker's earlier part is lost)

    @property
    def pieces_per_s(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0

    @property
    def pieces_per_cpu_s(self) -> float:
        return self.embedded / self.worker_cpu_seconds if self.worker_cpu_seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        rates = {"pieces_per_s": round(self.pieces_per_s, 1), "pieces_per_cpu_s": round(self.pieces_per_cpu_s, 1)}
        return {**asdict(self), **rates}


@contextlib.contextmanager
def batch_lock(settings: Settings, engine: Engine) -> Iterator[None]:
    """Hold the one batch lock of this database for the block; refuse when another run holds it (on PostgreSQL after
    :data:`PG_LOCK_GRACE_S`, see :func:`_advisory_lock`).

    Raises:
        ConflictError: another batch runs on this database.
    """
    busy = "er draait al een batch op deze database{}; wacht tot die klaar is (of stop die) en start dan opnieuw"
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            if not _advisory_lock(connection):
                raise ConflictError(busy.format(""))
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
        return
    path = Path(settings.data_dir).resolve() / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="ascii") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            raise ConflictError(busy.format(f" (proces {holder})" if holder else "")) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _advisory_lock(connection: Connection) -> bool:
    """Take the batch's advisory lock on this session; False when another session still holds it after
    :data:`PG_LOCK_GRACE_S`. A run killed a moment ago holds it until the server notices its session is
    gone, which under load can take longer than its restart (a flaky CI run once); a live run holds it
    for the whole night, so waiting a few seconds before refusing never lets two runs in."""
    deadline = time.monotonic() + PG_LOCK_GRACE_S
    while True:
        if connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": PG_LOCK_KEY}).scalar():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.25)


def bestand_pieces(engine: Engine, compose: str, taxonomy: Taxonomy, notes: bool = False) -> dict[str, str]:
    """Content hash → text of every distinct piece the indexes embed for the clients and vacancies (``notes``: and
    every fragment of the clients' own words and notes, which a ranker's notes column reads)."""
    pieces: dict[str, str] = {}
    sides = ((Client, client_fields, render_client), (Vacancy, vacancy_fields, render_vacancy))
    with Session(engine) as session:
        for table, fields_of, render in sides:
            query = select(table).order_by(table.id).execution_options(yield_per=READ_BATCH)  # type: ignore[arg-type]
            for row in session.exec(query):
                if compose == "fields":
                    items = [piece for group in fields_of(row, taxonomy).values() for piece in group]
                else:
                    items = [render(row, taxonomy)]
                if notes and table is Client:
                    items += fragments(row.zelfbeschrijving) + fragments(row.notities)
                for piece in items:
                    pieces.setdefault(content_hash(piece), piece)
            session.expunge_all()
    return pieces


def cached_hashes(engine: Engine, key_model: str) -> set[str]:
    """The content hashes the cache holds for ``key_model``."""
    with Session(engine) as session:
        query = select(EmbeddingCache.content_hash).where(EmbeddingCache.model_id == key_model)
        return set(session.exec(query.execution_options(yield_per=20_000)))


class PieceWorker:
    """A Ray actor: one embedding model, texts in, unit vectors out (it never touches the database)."""

    def __init__(self, embedding: EmbeddingSettings, threads: int) -> None:
        os.environ["OMP_NUM_THREADS"] = str(threads)  # before the engine loads: one thread per reserved CPU
        self.embedder = load_embedder(embedding)

    def key(self) -> str:
        return cache_key(self.embedder, ROLE)

    def pid(self) -> int:
        return os.getpid()

    def cpu_seconds(self) -> float:
        """CPU time of this worker process, all engine threads (a rate per CPU second ignores other load)."""
        return time.process_time()

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts, ROLE)


def start_ray(sizing: RaySizing) -> bool:
    """Join ``RAY_ADDRESS``'s cluster, or start Ray on this machine; False when Ray already runs here."""
    if ray.is_initialized():
        return False
    if os.environ.get("RAY_ADDRESS"):
        ray.init()  # the cluster decides its own size
    else:
        ray.init(
            num_cpus=sizing.num_cpus,
            object_store_memory=sizing.object_store_mb * 1024 * 1024,
            include_dashboard=False,
        )
    return True


def _partitions(missing: list[str], pieces: dict[str, str], size: int) -> Iterator[list[str]]:
    """Hash ranges of ``size`` pieces, each sorted by text length (less padding inside a model call)."""
    for first in range(0, len(missing), size):
        yield sorted(missing[first : first + size], key=lambda digest: len(pieces[digest]))


def _dispatch(
    engine: Engine, key_model: str, workers: list[Any], parts: Iterator[list[str]], pieces: dict[str, str], bar: tqdm
) -> int:
    """Keep every worker busy; store each finished partition as it arrives. Returns pieces stored."""
    pending: dict[Any, tuple[int, list[str]]] = {}

    def submit(worker: int) -> None:
        part = next(parts, None)
        if part is not None:
            pending[workers[worker].embed.remote([pieces[digest] for digest in part])] = (worker, part)

    for worker in range(len(workers)):
        for _ in range(IN_FLIGHT):
            submit(worker)
    stored = 0
    while pending:
        (ready, *_), _ = ray.wait(list(pending), num_returns=1)
        worker, part = pending.pop(ready)
        store_cached(engine, key_model, part, ray.get(ready))
        stored += len(part)
        bar.update(len(part))
        submit(worker)
    return stored


def worker_name(number: int) -> str:
    """The Ray name of this driver's worker ``number`` (for ``ray.get_actor``: status, fault tests)."""
    return f"werkmatch-batch-{os.getpid()}-{number}"


def _start_workers(settings: Settings, workers: int | None, threads: int, key_model: str) -> list[Any]:
    """``workers`` actors (default: as many as the cluster's CPUs allow), checked to run this model."""
    count = workers or max(1, int(ray.cluster_resources().get("CPU", 1) // threads))
    actor = ray.remote(num_cpus=threads, max_restarts=-1, max_task_retries=-1)(PieceWorker)
    started = [
        actor.options(name=worker_name(number)).remote(settings.embedding, threads)  # type: ignore[attr-defined]
        for number in range(count)
    ]
    for key in ray.get([worker.key.remote() for worker in started]):
        if key != key_model:
            raise WerkmatchError(
                f"een Ray-werker embedt met model '{key}', deze machine met '{key_model}'; "
                "installeer op elke node dezelfde werkmatch en hetzelfde model"
            )
    return started


def embed_bestand(
    settings: Settings,
    engine: Engine,
    taxonomy: Taxonomy,
    *,
    workers: int | None = None,
    threads: int = 1,
    partition: int = PARTITION,
    sizing: RaySizing | None = None,
    progress: bool = False,
) -> BatchReport:
    """Embed every piece of the bestand the cache lacks, on Ray; resumable, one run per database. Where the serving
    ranker reads a notes column, the fragments of the clients' own words and notes count as pieces too.

    Args:
        settings: the embedding model and the data directory (for the lock).
        engine: the database: records in, cache out.
        taxonomy: labels for the field pieces.
        workers: Ray actors (default: the cluster's CPUs divided by ``threads``).
        threads: CPUs (and engine threads) per actor.
        partition: pieces per Ray task.
        sizing: local Ray's size (default: this machine's CPUs, a 1 GB object store).
        progress: a progress bar (pieces done/total, pieces/s).

    Raises:
        ConflictError: another batch runs on this database.
        WerkmatchError: a worker failed for good, or runs another model.
    """
    with batch_lock(settings, engine):
        start = time.perf_counter()
        serving = registry.serving_ranker(settings)  # a notes column: its fragments are embedded here too
        notes = serving is not None and serving.notes is not None
        pieces = bestand_pieces(engine, settings.embedding.compose, taxonomy, notes)
        key_model = cache_key(load_embedder(settings.embedding), ROLE)
        cached = cached_hashes(engine, key_model) & pieces.keys()
        missing = sorted(pieces.keys() - cached)
        timing = [time.perf_counter() - start, 0.0, 0.0]  # collecting, starting Ray and workers, embedding
        logger.info("%d distinct pieces, %d cached, %d to embed", len(pieces), len(cached), len(missing))
        if not missing:
            return BatchReport(len(pieces), len(cached), 0, 0, *timing)
        started = start_ray(sizing or RaySizing())
        try:
            actors = _start_workers(settings, workers, threads, key_model)
            cpu_before = sum(ray.get([actor.cpu_seconds.remote() for actor in actors]))
            timing[1] = time.perf_counter() - start - timing[0]
            bar = tqdm(total=len(pieces), initial=len(cached), desc="batch embed", unit="stuk", disable=not progress)
            with bar:
                embedded = _dispatch(engine, key_model, actors, _partitions(missing, pieces, partition), pieces, bar)
            timing[2] = time.perf_counter() - start - timing[0] - timing[1]
            cpu = sum(ray.get([actor.cpu_seconds.remote() for actor in actors])) - cpu_before
        except RayError as error:
            raise WerkmatchError(
                f"Ray-fout tijdens het embedden ({type(error).__name__}); start opnieuw: "
                "wat al in de cache staat, wordt niet opnieuw berekend"
            ) from error
        finally:
            if started:
                ray.shutdown()
    report = BatchReport(len(pieces), len(cached), embedded, len(actors), *timing, max(cpu, 0.0))
    logger.info("embedded %d pieces in %.1f s (%.1f/s)", embedded, report.seconds, report.pieces_per_s)
    return report
