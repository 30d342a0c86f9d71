"""What one side (clients or vacancies) holds in memory, and how its records are read without holding them all.

At national size (400,000 clients, 300,000 vacancies) the texts the embedder and BM25 read took
2.1 GB when held per record. They are not held: a side keeps the **digest** of each record's
embedded content (what change detection compares), BM25 keeps only its term-frequency matrix, and a
record's texts are rendered from the database when something asks for them (:class:`RecordTexts`:
the query record of a search, a record to embed), remembering the last ``TEXT_MEMO`` records.

Reading a whole side goes :data:`CHUNK_ROWS` rows at a time (:func:`read_chunks`), so the ORM rows
of one chunk are alive at once, never the whole bestand's.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session, select

from matching.domain import Client, Vacancy
from matching.identifier_side import IdentifierSide
from matching.index import VectorIndex
from matching.lexical import LexicalIndex
from matching.text import Fields

CHUNK_ROWS = 5000  # rows read at a time when a whole side is read
TEXT_MEMO = 4096  # records whose rendered texts a side remembers (the latest searched or changed)
FETCH_IDS = 900  # ids per ``IN (…)`` when texts are read from the database

Rendered = tuple[str | Fields, str]  # (what the embedder reads, what BM25 reads)


@dataclass
class SideRead:
    """What one pass over a side's rows leaves: no row and no text."""

    digests: dict[int, str]  # per id, the digest of what the embedder reads
    lexical: LexicalIndex
    arrays: list[Any]  # the structured arrays of each chunk, in id order
    watermark: datetime | None  # the newest ``updated_at``
    identifiers: IdentifierSide = field(default_factory=IdentifierSide)  # the rare gate's, from BM25's text


def read_side(
    session: Session,
    table: type[Client] | type[Vacancy],
    saved: dict[int, str],
    digest_of: Callable[[Any], str],
    lexical_of: Callable[[Any], str],
    build: Callable[[list[Any]], Any],
) -> SideRead:
    """Every row of ``table`` read once, a chunk at a time: digests, BM25 term frequencies, the held identifiers and
    the identifier-token BM25 (:class:`matching.identifier_side.IdentifierSide`, from the same text), arrays, watermark.

    Args:
        saved: The digests of the saved vectors: a digest equal to one of them is kept as that same
            string, not a second copy.
        digest_of: A row's digest of what the embedder reads; ``lexical_of``: what BM25 reads.
        build: A chunk's structured arrays.
    """
    digests: dict[int, str] = {}
    lexical, identifiers = LexicalIndex(), IdentifierSide()
    ids: list[int] = []
    frequencies, parts, identifier_parts = [], [], []
    watermark: datetime | None = None
    for rows in read_chunks(session, table):
        for row in rows:
            value = digest_of(row)
            known = saved.get(row.id)
            digests[row.id] = known if known == value else value
        ids.extend(row.id for row in rows)
        texts = [lexical_of(row) for row in rows]
        frequencies.append(lexical.term_frequencies(texts))
        identifier_parts.append(identifiers.parts(texts))
        del texts
        parts.append(build(rows))
        newest = max(row.updated_at for row in rows)
        watermark = newest if watermark is None else max(watermark, newest)
    lexical.fill(np.array(ids, np.int64), frequencies)
    identifiers.fill(np.array(ids, np.int64), identifier_parts)
    return SideRead(digests, lexical, parts, watermark, identifiers)


def deleted_ids(
    session: Session, table: type[Client] | type[Vacancy], held: Mapping[int, Any], changed: list[Any]
) -> np.ndarray | None:
    """The ``held`` ids whose rows are gone from ``table``, from its ids alone (no row read or rendered); None where
    its ids are not the held ones less those plus ``changed``'s (a row inserted without a newer timestamp, or a
    changed row deleted since it was read): then the side is read again."""
    present = np.fromiter(session.exec(select(table.id)), np.int64)
    known = np.fromiter(held, np.int64, len(held))
    fresh = np.fromiter((row.id for row in changed), np.int64, len(changed))
    if not (np.isin(present, known) | np.isin(present, fresh)).all() or not np.isin(fresh, present).all():
        return None
    return known[~np.isin(known, present)]


def read_chunks(session: Session, table: type[Client] | type[Vacancy]) -> Iterator[list[Any]]:
    """Every row of ``table`` in ascending id, ``CHUNK_ROWS`` at a time (by id range, not by offset).

    The session keeps no unchanged row alive (its identity map holds them weakly): a chunk the
    caller lets go is freed before the next one is read.
    """
    last: int | None = None
    while True:
        query = select(table).order_by(table.id).limit(CHUNK_ROWS)  # type: ignore[arg-type]
        if last is not None:
            query = query.where(table.id > last)  # type: ignore[operator]
        rows = list(session.exec(query))
        if not rows:
            return
        last = rows[-1].id
        yield rows
        del rows


class TextSource:
    """A side's rendered texts by id: remembered for the last ``TEXT_MEMO`` records, else read and rendered.

    Args:
        digests: The side's ids and content digests (the keys are what exists).
        fetch: Reads and renders the given ids from the database (missing ids left out).
    """

    def __init__(self, digests: dict[int, str], fetch: Callable[[list[int]], dict[int, Rendered]]) -> None:
        self.digests = digests
        self._fetch = fetch
        self._memo: OrderedDict[int, Rendered] = OrderedDict()
        self._memo_lock = threading.Lock()  # the embedding worker reads texts while searches do

    def remember(self, rendered: dict[int, Rendered]) -> None:
        """Texts just rendered from records' current rows (a change, a search): later reads take them from here."""
        with self._memo_lock:
            for key, value in rendered.items():
                self._memo[key] = value
                self._memo.move_to_end(key)
            while len(self._memo) > TEXT_MEMO:
                self._memo.popitem(last=False)

    def forget(self) -> None:
        with self._memo_lock:
            self._memo.clear()

    def many(self, ids: list[int]) -> dict[int, Rendered]:
        """The texts of those of ``ids`` that exist on this side, read in batches.

        A single record read (a search's query record) is remembered; bulk reads (embedding, an
        evaluation over every record) are not, so they do not push the searched records out.
        """
        wanted = [key for key in ids if key in self.digests]
        with self._memo_lock:
            out = {key: self._memo[key] for key in wanted if key in self._memo}
        missing = [key for key in wanted if key not in out]
        for start in range(0, len(missing), FETCH_IDS):
            out.update(self._fetch(missing[start : start + FETCH_IDS]))
        if len(wanted) == 1 and missing:
            self.remember({key: out[key] for key in missing if key in out})
        return {key: out[key] for key in wanted if key in out}  # in the order asked


class RecordTexts(Mapping[int, Any]):
    """One of a side's two texts per record (``lexical``: what BM25 reads), read-only, never all held.

    A mapping over the side's ids: ``texts[id]`` renders one record (remembered), :meth:`many` many
    at once; iterating gives the ids, ``len`` their number.
    """

    def __init__(self, source: TextSource, lexical: bool) -> None:
        self.source = source
        self.part = 1 if lexical else 0

    def __getitem__(self, key: int) -> Any:
        found = self.source.many([key])
        if key not in found:
            raise KeyError(key)
        return found[key][self.part]

    def __iter__(self) -> Iterator[int]:
        return iter(self.source.digests)

    def __len__(self) -> int:
        return len(self.source.digests)

    def __contains__(self, key: object) -> bool:
        return key in self.source.digests

    def many(self, ids: list[int]) -> dict[int, Any]:
        """The texts of those of ``ids`` on this side, read from the database in batches."""
        return {key: value[self.part] for key, value in self.source.many(ids).items()}


@dataclass
class SideState:
    """Everything held in memory for one side (clients or vacancies)."""

    source: TextSource
    vectors: VectorIndex | None = None
    lexical: LexicalIndex = field(default_factory=LexicalIndex)
    identifiers: IdentifierSide = field(default_factory=IdentifierSide)  # the rare gate's, beside ``lexical``
    queue: dict[int, str] = field(default_factory=dict)  # id → digest of records still to embed
    unsaved: bool = False  # vectors changed since the index was last written
    watermark: datetime | None = None
    count: int = 0
    stamp: tuple[int, int] | None = None  # mtimes of the files the vectors were read from (readers)

    def drop(self, gone: np.ndarray) -> None:
        """Forget the records ``gone`` (deleted): their vectors, digests, queued embeddings and BM25 rows."""
        if self.vectors is not None and len(gone):
            self.vectors.remove(gone)
            self.unsaved = True
        for key in gone.tolist():
            self.digests.pop(key, None)
            self.queue.pop(key, None)
        self.lexical.remove(gone)
        self.identifiers.remove(gone)
        self.count -= len(gone)

    def take(self, read: SideRead) -> None:
        """Hold ``read``'s BM25, identifiers, watermark and count (every record of the side read)."""
        self.lexical, self.identifiers, self.watermark, self.count = (
            read.lexical,
            read.identifiers,
            read.watermark,
            len(read.digests),
        )

    def upsert_texts(self, ids: list[int], texts: list[str]) -> None:
        """Changed records' BM25 texts into BM25 and the identifiers."""
        self.lexical.upsert(ids, texts)
        self.identifiers.upsert(ids, texts)

    @property
    def digests(self) -> dict[int, str]:
        """Per id, the digest of what the embedder reads of the record now (its text or fields)."""
        return self.source.digests

    @property
    def texts(self) -> RecordTexts:
        """What is embedded per id (text or fields), rendered from the database on demand."""
        return RecordTexts(self.source, lexical=False)

    @property
    def lexical_texts(self) -> RecordTexts:
        """What BM25 reads per id (adds synonyms), rendered from the database on demand."""
        return RecordTexts(self.source, lexical=True)


def side_status(
    vectors: VectorIndex | None, queue: dict[int, str] | None, db_count: int, model_id: str
) -> dict[str, Any]:
    """One side's indexes against the database: ``vectors`` loaded (with the ``queue`` of what they lack here)
    or read from the files (``queue`` None), or None (no readable files)."""
    indexed, model = (len(vectors), vectors.model_id) if vectors is not None else (None, None)
    current = model == model_id
    # Not loaded here: what the files lack (records of another model's index count as not embedded).
    missing = len(queue) if queue is not None else max(db_count - (indexed if current and indexed else 0), 0)
    return {
        "database": db_count,
        "indexed": indexed,
        "toEmbed": missing,
        "progress": round(min((indexed or 0) / db_count, 1.0), 3) if db_count else 1.0,
        "modelId": model,
        "inSync": indexed == db_count and current and not missing,
    }
