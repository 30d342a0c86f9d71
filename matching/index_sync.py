"""Keeping the indexes in step with the database: texts, embeddings, the vector and lexical indexes, arrays.

One writer per data directory (:mod:`matching.index_lock`):

* the **writer** (``schrijver``: the service, or the CLI when no service runs) embeds what changed — in
  a worker thread at the first start, so search works at once — and writes the index files within
  ``SAVE_EVERY_S`` of a change;
* a **reader** (``lezer``: another worker process of the service, or the CLI next to a running
  service) loads the saved files and loads them again when the writer has written newer ones. It
  never starts an embedding run and never writes an index file: it embeds its queries, and at most
  ``READER_EMBED_MAX`` changed records in memory (from the embedding cache when the writer already
  embedded them). Told to sync in the foreground, it waits for the writer and says so.

Every search first catches up with changes saved by any process (rows whose ``updated_at`` moved past
the last sync), so a changed profile is searchable on the next search after it is saved. A deletion
(or an insert with an older timestamp) leaves no such trace: a side is counted (``COUNT(*)``) only
when its change mark moved (:class:`matching.store.RecordChange`, kept by the database's triggers).
The writer also drops **deleted** records without waiting for a search: every ``SAVE_EVERY_S`` it does
the same (:meth:`IndexSync.catch_up_deletions`), so a reader's erasure leaves the files within that time.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select
from tqdm import tqdm

from matching import index_lock, index_status
from matching.domain import Client, Vacancy
from matching.embedding import Embedder, Role, embed_cached, embed_fields, load_embedder
from matching.index import VectorIndex
from matching.results import IndexInfo
from matching.settings import Settings
from matching.side_state import Rendered, SideRead, SideState, TextSource, deleted_ids, read_chunks, read_side
from matching.store import Mark, change_marks, compact_changes, deleted_since, init_db, make_engine
from matching.structured import ClientArrays, RecordArrays, VacancyArrays, Vocabularies
from matching.taxonomy import load_taxonomy
from matching.text import (
    Fields,
    client_fields,
    content_hash,
    fields_hash,
    render_client,
    render_vacancy,
    vacancy_fields,
)

logger = logging.getLogger(__name__)

Side = Literal["clients", "vacancies"]
SIDES: tuple[Side, Side] = ("clients", "vacancies")
TABLES: dict[Side, type[Client] | type[Vacancy]] = {"clients": Client, "vacancies": Vacancy}
EMBED_CHUNK = 64  # records per embedding step: a search waits for the model at most one step
QUERY_MEMO = 4096  # query vectors remembered (384 floats each: ≈ 6 MB)
SAVE_EVERY_S = 20.0  # a changed index is written within this (readers load it then)
READER_EMBED_MAX = 64  # changed records a reader embeds itself (in memory); more waits for the writer
WAIT_POLL_S = 2.0  # how often a waiting reader looks at the writer's files
STALL_S = 60.0  # a writer whose files gained nothing for this long is not embedding what a reader lacks


def digest(item: str | Fields) -> str:
    """The content digest of what the embedder reads of a record (text or fields)."""
    return fields_hash(item) if isinstance(item, dict) else content_hash(item)


class IndexSync:
    """The indexes of one data directory in memory, kept in step with its database.

    Args:
        settings: The data directory, the database, the embedding model.
        embedder: A loaded embedder (tests share one); default: loaded on first use.
        may_write: False for a process that must never write the index files (a CLI search): it stays
            a reader even when no other process writes.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None, may_write: bool = True) -> None:
        self.settings = settings
        self.engine = make_engine(settings.resolved_database_url)
        init_db(self.engine)
        self.taxonomy = load_taxonomy()
        self.lock = threading.RLock()  # searches and sync steps take turns (the worker embeds outside it)
        self.sides: dict[Side, SideState] = {side: self._new_side(side) for side in SIDES}
        self.vocab = Vocabularies()
        self.embedding_error: str | None = None
        self.may_write = may_write
        self.writer = may_write and index_lock.acquire(settings.data_dir)
        self._embedder = embedder
        self._clients: ClientArrays | None = None
        self._vacancies: VacancyArrays | None = None
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._saver: threading.Timer | None = None
        self._watcher: threading.Thread | None = None
        self._closed = threading.Event()
        # A query vector by the digest of what is embedded: a search embeds nothing it already has
        # (a cache read per search cost ≈ 2.5 ms of the ≈ 40 ms a candidate search takes on 2 cores).
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        # Per side, the change mark read just before ``SideState.count`` was taken: while the database's mark
        # is still this one, no row was inserted or deleted since (None: count at the next search).
        self._marks: dict[Side, Mark | None] = dict.fromkeys(SIDES)

    # ------------------------------------------------------------------ the model
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embedding)
        return self._embedder

    def vectors_for(self, items: list[str | Fields], role: Role, progress: bool = False) -> np.ndarray:
        """Vectors of ``items`` through the embedding cache (the model runs for new content only)."""
        if items and isinstance(items[0], dict):
            return embed_fields(self.engine, self.embedder, items, role, progress)  # type: ignore[arg-type]
        return embed_cached(self.engine, self.embedder, items, role, progress)  # type: ignore[arg-type]

    def query_vector(self, item: str | Fields) -> np.ndarray:
        """The query vector of one record, remembered (by content digest) for the last QUERY_MEMO searches."""
        key = digest(item)
        vector = self._query_vectors.get(key)
        if vector is None:
            vector = self.vectors_for([item], "query")[0]
            self._query_vectors[key] = vector
            if len(self._query_vectors) > QUERY_MEMO:
                self._query_vectors.popitem(last=False)
        else:
            self._query_vectors.move_to_end(key)
        return vector

    # ------------------------------------------------------------------ records
    def _new_side(self, side: Side) -> SideState:
        return SideState(source=TextSource({}, lambda ids: self._fetch_texts(side, ids)))

    def _fetch_texts(self, side: Side, ids: list[int]) -> dict[int, Rendered]:
        """Both texts of the records ``ids`` of ``side``, read from the database and rendered."""
        table = TABLES[side]
        with Session(self.engine) as session:
            return {row.id: self._rendered(side, row) for row in session.exec(select(table).where(table.id.in_(ids)))}  # type: ignore[union-attr]

    def _rendered(self, side: Side, row: Any) -> Rendered:
        return self._dense_input(side, row), self.render(side, row, lexical=True)

    def render(self, side: Side, row: Any, lexical: bool = False) -> str:
        """The text of a record as embedded (``lexical``: as BM25 reads it, with synonyms)."""
        if side == "clients":
            return render_client(row, self.taxonomy, lexical)
        return render_vacancy(row, self.taxonomy, lexical)

    def _dense_input(self, side: Side, row: Any) -> str | Fields:
        """What the embedder reads of a record: the rendered text, or its fields (``embedding.compose``)."""
        if self.settings.embedding.compose == "fields":
            return client_fields(row, self.taxonomy) if side == "clients" else vacancy_fields(row, self.taxonomy)
        return self.render(side, row)

    @property
    def prepared(self) -> bool:
        """True once both sides are loaded (search works; embedding may still run)."""
        return all(state.vectors is not None for state in self.sides.values())

    def pending(self) -> dict[Side, int]:
        """Per side, how many records have no (current) vector yet."""
        return {side: len(state.queue) for side, state in self.sides.items()}

    def arrays(self) -> tuple[ClientArrays, VacancyArrays]:
        """The structured arrays of both sides, built once and merged with changes since."""
        if self._clients is None or self._vacancies is None:
            with Session(self.engine) as session:  # clients first: the vocabularies number codes as they meet them
                for side in SIDES:
                    self._set_arrays(side, [self._build(side, rows) for rows in read_chunks(session, TABLES[side])])
        assert self._clients is not None and self._vacancies is not None
        self._clients.widen(self.vocab)
        self._vacancies.widen(self.vocab)
        return self._clients, self._vacancies

    # ------------------------------------------------------------------ writer or reader
    def _claim(self) -> None:
        """A reader that may write asks for the lock again: the writer may have stopped."""
        if not self.writer and self.may_write and index_lock.acquire(self.settings.data_dir):
            self.writer = True
            logger.info("this process now writes the indexes of %s", self.settings.data_dir)
            for state in self.sides.values():
                state.unsaved = state.unsaved or bool(state.queue)
        if self.writer and self._watcher is None:  # a weak reference: a matcher nobody holds ends its watcher
            self._closed = threading.Event()
            args = (weakref.ref(self), self._closed)
            self._watcher = threading.Thread(target=_watch_deletions, args=args, name="verwijderingen", daemon=True)
            self._watcher.start()

    def catch_up_deletions(self) -> bool:
        """The writer: drop the vectors of deleted rows and write the files; True if any.

        Counts only a side whose change mark moved, and folds the change log. The marks held here stay
        as they are: an insert noticed here is taken up by the next search's refresh.
        """
        with self.lock:
            if not self.writer or not self.prepared:
                return False
            compact_changes(self.engine)
            with Session(self.engine) as session:
                marks = change_marks(session)
                moved = [side for side in SIDES if marks[side] is None or marks[side] != self._marks[side]]
                held = {side: (self._marks[side], self.sides[side].count) for side in moved}
                shrunk = [side for side in moved if deleted_since(*held[side], marks[side], self._count(session, side))]
                for side in shrunk:
                    self._refresh(session, side, None)  # a full sync of the side: removes stale vectors
            if shrunk:
                self._flush()
            return bool(shrunk)

    def writer_pid(self) -> int | None:
        """The process that writes these indexes (this one, another, or none)."""
        return index_lock.writer_pid(self.settings.data_dir)

    def _files_stamp(self, side: Side) -> tuple[int, int] | None:
        directory = self.settings.index_dir
        try:
            return (directory / f"{side}.json").stat().st_mtime_ns, (directory / f"{side}.faiss").stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def _load_vectors(self, side: Side) -> VectorIndex:
        state = self.sides[side]
        stamp = self._files_stamp(side)
        if stamp is not None:
            try:
                index = VectorIndex.load(self.settings.index_dir, side)
                if index.model_id == self.embedder.model_id:
                    state.stamp = stamp
                    return index
                logger.warning("index %s was built with %s, not %s", side, index.model_id, self.embedder.model_id)
            except (ValueError, RuntimeError, OSError, KeyError) as error:
                logger.warning("index %s unreadable (%s)", side, error)
        return VectorIndex(self.embedder.dimension, self.embedder.model_id)

    def _reload(self, side: Side) -> None:
        """A reader: take the writer's newer files, if whole (the ``.json`` is written after the ``.faiss``)."""
        state = self.sides[side]
        stamp = self._files_stamp(side)
        if stamp is None or stamp == state.stamp or stamp[0] < stamp[1]:
            return
        try:
            loaded = VectorIndex.load(self.settings.index_dir, side)
        except (ValueError, RuntimeError, OSError, KeyError):
            return  # caught mid-write: the next search looks again
        if self._files_stamp(side) != stamp or loaded.model_id != self.embedder.model_id:
            return
        stale = [key for key in loaded.hashes if key not in state.digests]
        if stale:
            loaded.remove(np.array(stale, np.int64))
        state.vectors, state.stamp = loaded, stamp
        state.queue = {key: value for key, value in state.digests.items() if loaded.hashes.get(key) != value}

    def _embed_few(self) -> None:
        """A reader embeds what it lacks itself only when that is little (in memory; the writer saves)."""
        if sum(len(state.queue) for state in self.sides.values()) > READER_EMBED_MAX:
            return
        for state in self.sides.values():
            if state.queue and state.vectors is not None:
                items = state.texts.many(list(state.queue))  # a record deleted meanwhile: the next refresh drops it
                keys = list(items)
                if keys:
                    vectors = self.vectors_for([items[key] for key in keys], "document")
                    state.vectors.upsert(np.array(keys, np.int64), vectors, [state.queue[key] for key in keys])
                state.queue.clear()

    # ------------------------------------------------------------------ sync
    def sync(self, progress: bool = False, background: bool = False) -> dict[str, Any]:
        """Bring the indexes in line with the database: load from disk, then embed and index what differs.

        Lexical and structured search work as soon as this returns. The writer embeds in a worker
        thread with ``background=True`` (``status`` says how far it is), otherwise before returning. A
        reader embeds nothing in bulk: in the foreground it waits for the writer's files.
        """
        with self.lock:
            self._claim()
            report = self.prepare()
            if not self.writer:
                self._embed_few()
            elif background:
                self._start_worker(progress)
                return report
        if self.writer:
            self._drain(progress)
        elif not background:
            self.await_writer(progress)
        return report

    def prepare(self) -> dict[str, Any]:
        """Both sides read from the database and the saved files; what differs queued, nothing embedded."""
        with self.lock, Session(self.engine) as session:
            return {side: self._prepare_side(session, side) for side in SIDES}

    def await_writer(self, progress: bool = False) -> int:
        """A reader in the foreground: wait until the writer's files hold every record, saying so.

        Gives up when no process writes (and this one may not), or when the writer has taken on nothing
        for ``STALL_S`` (it embeds changes when it next searches). Returns how many records still lack
        a vector here.
        """
        total = left = sum(len(state.queue) for state in self.sides.values())
        since = time.monotonic()
        with tqdm(total=total, desc="wacht op de schrijver", unit="record", disable=not progress) as bar:
            while left:
                with self.lock:
                    self._claim()
                    if self.writer:  # the writer stopped: this process embeds the rest itself
                        break
                    for side in SIDES:
                        self._reload(side)
                    self._embed_few()
                    now_left = sum(len(state.queue) for state in self.sides.values())
                bar.update(max(total - now_left - bar.n, 0))
                if now_left < left:
                    since = time.monotonic()
                left = now_left
                writer = self.writer_pid()
                if left and (writer is None or time.monotonic() - since > STALL_S):
                    return left
                if left:
                    logger.info("waiting for process %s to embed %d records", writer, left)
                    time.sleep(WAIT_POLL_S)
        if self.writer:
            self._drain(progress)
        return sum(len(state.queue) for state in self.sides.values())

    def _start_worker(self, progress: bool) -> None:
        with self.lock:
            if self._worker is None and any(state.queue for state in self.sides.values()):
                self._worker = threading.Thread(target=self._drain, args=(progress,), name="embedden", daemon=True)
                self._worker.start()

    def wait_embedded(self, timeout: float | None = None) -> bool:
        """Wait for background embedding to finish; True when nothing is left to embed."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return self._worker is None and not any(state.queue for state in self.sides.values())

    def close(self) -> None:
        """Stop background embedding after its current step, write what is not saved yet, give the lock back."""
        self._stopping.set()
        self._closed.set()  # ends the watcher (a later claim starts a new one)
        self._watcher = None
        worker = self._worker
        if worker is not None:
            worker.join()
        self._stopping.clear()
        self._flush()
        with self.lock:
            if self.writer:
                self.writer = False
                index_lock.release(self.settings.data_dir)

    def _save_soon(self, side: Side) -> None:
        """Write a changed index within ``SAVE_EVERY_S``, not on every save of a record.

        Writing 100,000 vectors takes about a second; the database is the truth and an index that
        missed its last writes is caught up from the embedding cache at the next start.
        """
        self.sides[side].unsaved = True
        with self.lock:
            if self._saver is None and self.writer:
                self._saver = threading.Timer(SAVE_EVERY_S, self._flush)
                self._saver.daemon = True
                self._saver.start()

    def _flush(self) -> None:
        with self.lock:
            if self._saver is not None:
                self._saver.cancel()
                self._saver = None
            if not self.writer:
                return
            for name, state in self.sides.items():
                if state.vectors is not None and state.unsaved:
                    state.vectors.save(self.settings.index_dir, name)
                    state.unsaved = False
                    state.stamp = self._files_stamp(name)

    def _next_chunk(self) -> tuple[Side, list[tuple[int, str]], list[str | Fields]] | None:
        """The next records to embed, or None when done (or stopping): then everything is written."""
        with self.lock:
            side = next((name for name, state in self.sides.items() if state.queue), None)
            if side is None or self._stopping.is_set():
                self._flush()
                if threading.current_thread() is self._worker:
                    self._worker = None
                return None
            state = self.sides[side]
            chunk = list(itertools.islice(state.queue.items(), EMBED_CHUNK))
            items = state.texts.many([key for key, _ in chunk])
            # a record deleted since it was queued has no text: dropped here, its vector by the next refresh
            for key, _ in chunk:
                if key not in items:
                    state.queue.pop(key, None)
            chunk = [(key, value) for key, value in chunk if key in items]
            return side, chunk, [items[key] for key, _ in chunk]

    def _drain(self, progress: bool = False) -> None:
        """Embed every queued record, a chunk at a time, and save the indexes now and then (the writer)."""
        total = sum(len(state.queue) for state in self.sides.values())
        try:
            with tqdm(total=total, desc="embedden", unit="record", disable=not progress) as bar:
                while (step := self._next_chunk()) is not None:
                    side, chunk, items = step
                    if not chunk:
                        continue
                    vectors = self.vectors_for(items, "document")  # outside the lock: searches go on
                    with self.lock:
                        state = self.sides[side]
                        # A record saved again meanwhile was re-embedded by refresh: keep the newer vector.
                        keep = [i for i, (key, value) in enumerate(chunk) if state.queue.get(key) == value]
                        for key, _ in chunk:
                            state.queue.pop(key, None)
                        assert state.vectors is not None
                        state.vectors.upsert(
                            np.array([chunk[i][0] for i in keep], np.int64),
                            vectors[keep],
                            [chunk[i][1] for i in keep],
                        )
                        self._save_soon(side)
                    bar.update(len(chunk))
        except Exception:
            logger.exception("embedding in the background failed; dense search covers only what was embedded")
            with self.lock:
                self.embedding_error = "embedden is mislukt; zie het log van de service"
                if threading.current_thread() is self._worker:
                    self._worker = None
            raise

    def _prepare_side(self, session: Session, side: Side) -> dict[str, int]:
        """Everything but embedding: digests, BM25 and arrays read; stale vectors removed, changed ones queued."""
        state = self.sides[side]
        mark = change_marks(session)[side]  # before the rows: a change committed meanwhile moves it again
        if state.vectors is None or not self.writer:
            state.vectors = self._load_vectors(side)
        read = read_side(
            session,
            TABLES[side],
            state.vectors.hashes,
            lambda row: digest(self._dense_input(side, row)),
            lambda row: self.render(side, row, lexical=True),
            lambda rows: self._build(side, rows),
        )
        return self.adopt(side, read, mark)

    def adopt(self, side: Side, read: SideRead, mark: Mark | None) -> dict[str, int]:
        """Hold ``read`` (every record of the side, read at change mark ``mark``; or a snapshot of such a read,
        :mod:`matching.prepared_snapshot`): stale vectors removed, changed ones queued."""
        state = self.sides[side]
        if state.vectors is None:
            state.vectors = self._load_vectors(side)
        vectors = state.vectors
        self._set_arrays(side, read.arrays)
        stale = [key for key in vectors.hashes if key not in read.digests]
        if stale:
            vectors.remove(np.array(stale, np.int64))
        state.queue = {key: value for key, value in read.digests.items() if vectors.hashes.get(key) != value}
        state.unsaved = bool(stale) or not (self.settings.index_dir / f"{side}.faiss").exists()
        state.take(read)
        self._marks[side] = mark
        state.source.digests = read.digests
        state.source.forget()
        return {"records": state.count, "embedded": len(state.queue), "removed": len(stale)}

    def _build(self, side: Side, rows: list[Any]) -> RecordArrays:
        return ClientArrays.build(rows, self.vocab) if side == "clients" else VacancyArrays.build(rows, self.vocab)

    def _set_arrays(self, side: Side, parts: list[Any]) -> None:
        """The side's arrays: ``parts`` (chunks in id order) joined."""
        arrays = type(parts[0]).joined(parts) if parts else self._build(side, [])
        self._clients, self._vacancies = (arrays, self._vacancies) if side == "clients" else (self._clients, arrays)  # type: ignore[assignment]

    def refresh(self, side: Side, ids: list[int] | None = None, session: Session | None = None) -> None:
        """Re-index records changed since the last sync (or the given ids); removes deleted ones."""
        with self.lock:
            if session is None:
                with Session(self.engine) as own:
                    self._refresh(own, side, ids)
            else:
                self._refresh(session, side, ids)

    def _count(self, session: Session, side: Side) -> int:
        return int(session.exec(select(func.count()).select_from(TABLES[side])).one())

    def _refresh(self, session: Session, side: Side, ids: list[int] | None, mark: Mark | None = None) -> None:
        table = Client if side == "clients" else Vacancy
        state = self.sides[side]
        mark = change_marks(session)[side] if mark is None else mark
        # the same mark: no row inserted or deleted since it was counted, no COUNT(*)
        count = state.count if mark is not None and mark == self._marks[side] else self._count(session, side)
        query = select(table)
        if ids is not None:
            query = query.where(table.id.in_(ids))  # type: ignore[union-attr]
        elif state.watermark is not None:
            query = query.where(table.updated_at > state.watermark)  # type: ignore[operator]
        changed = list(session.exec(query))
        new = sum(1 for row in changed if row.id not in state.digests)
        # deleted (read from the ids alone), or inserted without a newer timestamp (with a deletion: the same count)
        if count != state.count + new or deleted_since(self._marks[side], state.count, mark, count):
            gone = deleted_ids(session, TABLES[side], state.digests, changed)
            if gone is None or count != state.count - len(gone) + new:  # the side read again (the cache embeds)
                del changed
                self._prepare_side(session, side)
                if self.writer and self._worker is None:
                    self._drain()
                return
            state.drop(gone)
            self._arrays_become(side, lambda held: held.without(gone))
        self._marks[side] = mark  # read before the count: a change committed after it moves it again
        if changed:
            self._apply_changes(side, changed, count)

    def _apply_changes(self, side: Side, changed: list[Any], count: int) -> None:
        state = self.sides[side]
        assert state.vectors is not None
        rendered = {row.id: self._rendered(side, row) for row in changed}
        digests = {key: digest(dense) for key, (dense, _) in rendered.items()}
        fresh = [key for key, value in digests.items() if state.digests.get(key) != value]
        state.digests.update(digests)
        state.source.remember(rendered)  # the next search of a changed record reads its texts from here
        if fresh and (self.writer or len(fresh) <= READER_EMBED_MAX):
            embedded = self.vectors_for([rendered[k][0] for k in fresh], "document")
            state.vectors.upsert(np.array(fresh, np.int64), embedded, [digests[k] for k in fresh])
            for key in fresh:
                state.queue.pop(key, None)
            self._save_soon(side)
        else:  # a reader with more changes than it embeds itself: the writer's files bring them
            state.queue.update({key: digests[key] for key in fresh})
        state.upsert_texts(list(rendered), [text for _, text in rendered.values()])
        state.count = count
        newest = max(row.updated_at for row in changed)
        state.watermark = max(state.watermark, newest) if state.watermark else newest
        self._arrays_become(side, lambda held: held.merged(self._build(side, changed)))

    def _arrays_become(self, side: Side, change: Callable[[Any], RecordArrays]) -> None:
        """The side's arrays, where held, replaced by what ``change`` makes of them."""
        if side == "clients" and self._clients is not None:
            self._clients = change(self._clients)  # type: ignore[assignment]
        elif side == "vacancies" and self._vacancies is not None:
            self._vacancies = change(self._vacancies)  # type: ignore[assignment]

    def catch_up(self, session: Session | None = None) -> None:
        """Before a search: load on first use, take newer files (a reader), then every saved change."""
        with self.lock:
            self._claim()
            if not self.prepared:
                self.sync(background=not self.writer)
            elif not self.writer:
                for side in SIDES:
                    self._reload(side)
            self._catch_up_sides(session)
            if not self.writer:
                self._embed_few()

    def _catch_up_sides(self, session: Session | None) -> None:
        """Both sides' saved changes, their change marks read in one query."""
        if session is None:
            with Session(self.engine) as own:
                return self._catch_up_sides(own)
        marks = change_marks(session)
        for side in SIDES:
            self._refresh(session, side, None, marks[side])

    # ------------------------------------------------------------------ status
    def summary(self) -> IndexInfo:
        """What the indexes hold now, from memory: for the inference log of every search (no count query)."""
        clients, vacancies = (state.vectors for state in self.sides.values())
        return IndexInfo(
            model_id=self.embedder.model_id,
            clients=len(clients) if clients is not None else 0,
            vacancies=len(vacancies) if vacancies is not None else 0,
        )

    def embedding_state(self) -> str:
        """``klaar``, ``bezig``, ``wacht`` or ``fout`` (:func:`matching.index_status.embedding_state`)."""
        return index_status.embedding_state(self)

    def status(self) -> dict[str, Any]:
        """Indexes against the database (counted), this process's role and the writer's pid."""
        return index_status.status(self)


def _watch_deletions(ref: weakref.ref[IndexSync], closed: threading.Event) -> None:
    """The writer's watcher thread: :meth:`IndexSync.catch_up_deletions` every ``SAVE_EVERY_S`` until closed."""
    while not closed.wait(SAVE_EVERY_S) and (index := ref()) is not None:
        try:
            index.catch_up_deletions()
        except (SQLAlchemyError, OSError, RuntimeError) as error:  # the next round tries again
            logger.warning("catching up with deletions failed (%s)", error)
        del index  # no strong reference while it waits
