"""What the service holds right now, from memory: the indexes, the embedding, the ranker, the database.

:func:`service_status` reads what the matcher holds in memory (no lock, no query, no file read), so a
probe answers in milliseconds whatever the search load; :class:`DatabaseWatch` checks the database in
a thread of its own, so a readiness probe never waits for it (SQLite's busy timeout is 30 s). Neither
names a file path (:func:`without_paths`): the probes answer anyone.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from matching.domain import Client
from matching.embedding import PendingEmbedder
from matching.results import ranker_json
from matching.settings import Settings

logger = logging.getLogger(__name__)

# An absolute file path (POSIX, or a Windows drive); not the "/" inside words, URLs or "models:/…" URIs.
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.>])(?:[A-Za-z]:)?(?:/[\w.@+~-]+)+/?")
HIDDEN_PATH = "<pad>"


def database_error(engine: Any) -> str | None:
    """None when the database answers a query on the client table, else the kind of error.

    ``SELECT 1`` is not enough: SQLite happily opens a new, empty file where the database was.
    """
    try:
        with Session(engine) as session:
            session.exec(select(Client.id).limit(1)).all()
    except (SQLAlchemyError, OSError) as error:
        logger.warning("readiness: the database does not answer: %s", error)
        return type(error).__name__
    return None


def without_paths(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every file path in it replaced by ``<pad>``: anonymous answers name no server paths.

    Args:
        text: A message, e.g. why a ranker could not be loaded.
        known: Paths to hide even when relative (the data directory, the baseline ranker's directory).
    """
    for path in sorted((str(item) for item in known if "/" in str(item)), key=len, reverse=True):
        text = text.replace(path, HIDDEN_PATH)  # a bare name such as "var" is a word as often as a path
    return ABSOLUTE_PATH.sub(HIDDEN_PATH, text)


def public_ranker(settings: Settings, ranker: dict[str, Any]) -> dict[str, Any]:
    """The ranker's description without paths (its ``source`` directory, paths in an error)."""
    known = [settings.data_dir, settings.data_dir.resolve()]
    if settings.ranker.baseline_dir is not None:
        known += [settings.ranker.baseline_dir, settings.ranker.baseline_dir.resolve()]
    shown = {key: value for key, value in ranker.items() if key != "source"}
    if isinstance(shown.get("error"), str):
        shown["error"] = without_paths(shown["error"], [str(path) for path in known])
    return shown


INDEX_KEYS = {
    "dimension": "dimensie",
    "ranker": "rangschikker",
    "clients": "klanten",
    "vacancies": "vacatures",
    "embeddingError": "embeddingFout",
    "checkedAt": "gecontroleerdOp",
}
SIDE_KEYS = {"indexed": "geindexeerd", "toEmbed": "teEmbedden", "progress": "voortgang", "inSync": "actueel"}


def index_json(status: dict[str, Any]) -> dict[str, Any]:
    """The indexes' state (:meth:`matching.matcher.Matcher.status`, or :func:`service_status`'s reading of
    memory) under the API's Dutch keys: what ``GET /api/v1/health`` and ``werkmatch index status`` print.

    The matcher keeps its own keys: the benchmark and the CLI's sync report read them.
    """
    out: dict[str, Any] = {}
    for key, value in status.items():
        if key in ("clients", "vacancies"):
            value = {SIDE_KEYS.get(name, name): item for name, item in value.items()}
        elif key == "ranker":
            value = ranker_json(value)
        out[INDEX_KEYS.get(key, key)] = value
    return out


def service_status(settings: Settings, matcher: Any) -> dict[str, Any]:
    """What ``Matcher.status`` says, from memory only: no lock, no query, no file read (API keys: :func:`index_json`).

    ``Matcher.status`` takes the matcher's lock, which every search holds while it runs, and counts
    both tables; a probe that calls it waits behind the searches. Here ``database`` is the number
    of records the matcher holds (it catches up with the database at every search and save).
    """
    ranker = public_ranker(settings, matcher.ranker_status())
    out: dict[str, Any] = {"modelId": None, "dimension": None, "ranker": ranker}
    for side in ("clients", "vacancies"):
        state = matcher.sides[side]
        vectors = state.vectors
        indexed = len(vectors) if vectors is not None else None
        model = vectors.model_id if vectors is not None else None
        if vectors is not None and out["modelId"] is None:
            out["modelId"], out["dimension"] = vectors.model_id, vectors.dimension
        waiting = len(state.queue)
        out[side] = {
            "database": state.count,
            "indexed": indexed,
            "toEmbed": waiting if vectors is not None else state.count,
            "progress": round(min((indexed or 0) / state.count, 1.0), 3) if state.count else 1.0,
            "modelId": model,
            "inSync": indexed == state.count and model is not None and not waiting,
        }
    out["embedding"] = matcher.index.embedding_state()  # klaar, bezig, wacht or fout (matching.index_sync)
    if isinstance(matcher.embedder, PendingEmbedder):  # e5-werkmatch is being built (api.lifespan)
        out["embedding"] = "voorbereiden"
    if matcher.embedding_error:
        out["embeddingError"] = without_paths(matcher.embedding_error)
    out["rol"] = "schrijver" if matcher.index.writer else "lezer"  # one writer per data directory
    out["schrijver"] = matcher.index.writer_pid()
    out["checkedAt"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return index_json(out)


class DatabaseWatch:
    """Readiness's database check, run every ``interval`` seconds in a thread of its own.

    A probe reads the last answer instead of querying: a readiness call never waits for the
    database (SQLite's busy timeout is 30 s). A check that has not come back for ``3 × interval``
    (at least 30 s) counts as a database that does not answer.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.engine: Any = None
        self.error: str | None = None
        self.checked: float | None = None  # time.monotonic() of the last finished check
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> str | None:
        """Check now (in the calling thread); None when the database answers."""
        self.error = database_error(self.engine)
        self.checked = time.monotonic()
        return self.error

    def start(self, engine: Any) -> None:
        """Check once, then keep checking in a daemon thread until :meth:`stop`."""
        self.engine = engine
        self._stop.clear()
        self.check()
        self._thread = threading.Thread(target=self._run, name="database-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def stop(self) -> None:
        """End the thread (it finishes the check it is in)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 1)
            self._thread = None

    def last_error(self, engine: Any) -> str | None:
        """The last check's answer; without a running watch (an app used without its lifespan), checks now."""
        if self.checked is None or self._thread is None:
            self.engine = engine
            return self.check()
        if time.monotonic() - self.checked > max(3 * self.interval, 30.0):
            return "TimeoutError"
        return self.error
