"""The index writer's fill of the serving ranker's notes column (issue 19, item 2).

A ranker that reads the notes column (:mod:`matching.notes_readiness`) needs every client's value. Live searches
compute only a few themselves (:data:`~matching.notes_readiness.SEARCH_CLIENTS_MAX`); the writer of the index files
computes the rest once the records are embedded and keeps them beside the index, where readers (a night's workers, a
restart) find them. :class:`NotesFill` is that duty for one matcher (:class:`matching.matcher.Matcher`): :meth:`now`
in the caller's thread (a foreground sync, a night's worker), :meth:`soon` in a thread of its own (a background sync,
a promotion, a search that left clients out), one at a time, stopped by :meth:`close`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matching import index_lock
from matching.domain import Client
from matching.embedding import Embedder
from matching.settings import Settings
from matching.structured import epoch_seconds

if TYPE_CHECKING:
    from pathlib import Path

    from matching.index_sync import IndexSync
    from matching.ranker import LearnedRanker

logger = logging.getLogger(__name__)


class NotesFill:
    """Fills the notes column of the serving ranker (``serving()``; nothing when it reads none) over ``index``'s
    clients, saving the values in ``directory`` (the index directory) when this process writes the index."""

    def __init__(self, index: IndexSync, serving: Callable[[], LearnedRanker | None], directory: Path) -> None:
        self.index, self.serving, self.directory = index, serving, directory
        self._closing = threading.Event()  # set by close: a fill stops after its step
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None

    def now(self) -> int:
        """The serving ranker's notes value of every client not known at its last change, computed now (fragments
        the cache lacks are embedded), so that searches only compute clients changed since; the writer keeps them
        beside the index (:meth:`matching.notes_readiness.NotesColumn.save`). Returns how many were computed."""
        ranker = self.serving()
        if ranker is None or ranker.notes is None:
            return 0
        clients, _ = self.index.arrays()
        computed = ranker.notes.fill(clients.ids, clients.updated_at, self._closing.is_set)
        if computed and self.index.writer and not self._closing.is_set():
            with self.index.lock:  # the bestand as it is now: a client erased meanwhile is not written
                current, _ = self.index.arrays()
                ranker.notes.save(self.directory, current.ids)
        return computed

    def soon(self) -> None:
        """(The writer, for a serving ranker with a notes column) :meth:`now` in a thread of its own, after the
        background embedding, unless one is running."""
        ranker = self.serving()
        if not self.index.writer or ranker is None or ranker.notes is None or self._closing.is_set():
            return
        with self._starting:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._after_embedding, name="notities", daemon=True)
                self._thread.start()

    def after_sync(self, background: bool) -> None:
        """After the index's sync: :meth:`soon` (``background``), else :meth:`now` in the writer."""
        if background:
            self.soon()
        elif self.index.writer:
            self.now()

    def when_lacking(self) -> None:
        """:meth:`soon` when the serving ranker's notes column read 0 for clients it left out."""
        ranker = self.serving()
        if ranker is not None and ranker.notes is not None and ranker.notes.lacking:
            self.soon()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a fill started by :meth:`soon`; True when none runs."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def close(self, close_index: Callable[[], None]) -> None:
        """Stop: a running fill ends after its step, once ``close_index`` has stopped the background embedding it
        may be waiting for; returns when it has."""
        self._closing.set()
        close_index()
        self.wait()

    def _after_embedding(self) -> None:
        try:
            self.index.wait_embedded()
            logger.info("notes column: %d clients' values computed", self.now())
        except Exception:  # a failed fill leaves the searches to compute the values themselves
            logger.exception("computing the notes column's values failed; searches compute them as they go")


def fill_saved(settings: Settings, engine: Engine, embedder: Embedder, ranker: LearnedRanker | None) -> int | None:
    """``ranker``'s notes column filled once over every client of the database and saved beside the index, as this
    process takes the index writer's lease for it (a night's driver before its workers start: they then read the
    file instead of each computing every value). Returns how many values were computed; None when ``ranker`` reads no
    column or another process writes the index files (that writer keeps the file itself)."""
    if ranker is None or ranker.notes is None or not index_lock.acquire(settings.data_dir):
        return None
    try:
        ranker.bind(engine, embedder, settings.index_dir)
        with Session(engine) as session:
            rows = session.exec(select(Client.id, Client.updated_at)).all()
        ids = np.array([cid for cid, _ in rows], np.int64)
        moments = np.array([epoch_seconds(at) for _, at in rows], np.float64)
        computed = ranker.notes.fill(ids, moments)
        if computed:
            ranker.notes.save(settings.index_dir, ids)
        return computed
    finally:
        index_lock.release(settings.data_dir)
