"""What one side holds for the rare-identifier gate (:mod:`matching.identifier_gate`): per record the identifiers its
BM25 text holds, and BM25 over identifier tokens.

Both are read from the text BM25 reads (``render(..., lexical=True)``), case kept: CE, OPT and MIG are identifiers
only in capitals. :class:`HeldIdentifiers` keeps them (and, apart, those the text negates: a record is a query too,
in the night's lists, whose gate reads them from here instead of reading its text again) as a vocabulary
(identifier → id, growing as records bring new ones) and a CSR of vocabulary ids, a row per record id ascending, as
:class:`matching.lexical.LexicalIndex` keeps its term frequencies: an upsert or removal waits until the next read
merges it. :class:`IdentifierSide` holds them with the identifier-token BM25, beside the side's ordinary BM25
(:class:`matching.side_state.SideState`), and is changed with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse

from matching.identifier_gate import IdentifierIndex
from matching.identifiers import identifiers

Parts = tuple[sparse.csr_matrix, list[np.ndarray], list[np.ndarray]]  # a chunk read: identifier tf, held, negated


class HeldRows(Sequence[frozenset[str]]):
    """The held identifiers of some records (a search's pool rows), in their order: ``rows[i]`` is record ``i``'s set,
    made when read; :attr:`holding` counts, per identifier, the records that hold it (:func:`identifier_gate.holders`
    of them, from the CSR's column counts)."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, names: list[str]) -> None:
        self._indptr, self._indices, self._names = indptr, indices, names

    @cached_property
    def holding(self) -> dict[str, int]:
        """Per identifier held here, how many of the records hold it (counted when first read)."""
        counts = np.bincount(self._indices, minlength=0)
        return {self._names[code]: int(counts[code]) for code in np.flatnonzero(counts).tolist()}

    def __len__(self) -> int:
        return len(self._indptr) - 1

    def holds_any(self, names: AbstractSet[str]) -> np.ndarray:
        """Per record, whether it holds one of ``names`` (a bool array in the records' order)."""
        codes = [code for code, name in enumerate(self._names) if name in names]
        hits = np.isin(self._indices, codes)
        row_of = np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self._indptr))
        return np.bincount(row_of[hits], minlength=len(self)) > 0

    def __getitem__(self, at: int) -> frozenset[str]:  # type: ignore[override]
        codes = self._indices[self._indptr[at] : self._indptr[at + 1]]
        return frozenset(self._names[code] for code in codes.tolist())

    def __iter__(self) -> Iterator[frozenset[str]]:
        return (self[at] for at in range(len(self)))


@dataclass
class HeldIdentifiers:
    """Per record id, the identifiers its text holds (:func:`matching.identifiers.identifiers`' held set; or another
    set of identifiers per record: the negated ones)."""

    names: list[str] = field(default_factory=list)  # vocabulary id → identifier
    _codes: dict[str, int] = field(default_factory=dict, repr=False)
    _ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    _indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64), repr=False)
    _indices: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32), repr=False)
    _pending: dict[int, np.ndarray | None] = field(default_factory=dict, repr=False)  # None: removed

    def codes(self, held: Iterable[str]) -> np.ndarray:
        """Vocabulary ids of ``held`` (ascending), new identifiers added to the vocabulary in sorted order."""
        found = []
        for name in sorted(held):
            if name not in self._codes:
                self._codes[name] = len(self.names)
                self.names.append(name)
            found.append(self._codes[name])
        return np.array(sorted(found), np.int32)

    def rows_of(self, found: list[set[str]]) -> list[np.ndarray]:
        """Each record's identifiers as vocabulary ids, for :meth:`fill` and :meth:`upsert`."""
        return [self.codes(names) for names in found]

    def fill(self, ids: np.ndarray, rows: list[np.ndarray]) -> None:
        """Hold exactly these records: ``rows`` (from :meth:`rows_of`), one per id of ``ids``."""
        keys = np.asarray(ids, np.int64)
        order = np.argsort(keys, kind="stable")
        lengths = np.array([len(rows[at]) for at in order.tolist()], np.int64)
        self._ids, self._indptr = keys[order], np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        parts = [rows[at] for at in order.tolist()]
        self._indices = np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, np.int32)
        self._pending = {}

    def upsert(self, ids: list[int] | np.ndarray, rows: list[np.ndarray]) -> None:
        """Hold ``rows`` (from :meth:`rows_of`) for the records ``ids``, in place of what they held."""
        for key, row in zip(np.asarray(ids, np.int64).tolist(), rows, strict=True):
            self._pending[key] = row

    def remove(self, ids: list[int] | np.ndarray) -> None:
        for key in np.asarray(ids, np.int64).tolist():
            self._pending[key] = None

    def _merge(self) -> None:
        if not self._pending:
            return
        held = {key: self._indices[start:end] for key, start, end in self._spans()}
        held.update(self._pending)
        kept = {key: row for key, row in held.items() if row is not None}
        keys = np.fromiter(kept, np.int64, len(kept))
        self.fill(keys, list(kept.values()))

    def _spans(self) -> Iterator[tuple[int, int, int]]:
        return zip(self._ids.tolist(), self._indptr[:-1].tolist(), self._indptr[1:].tolist(), strict=True)

    def rows(self) -> tuple[np.ndarray, sparse.csr_matrix]:
        """(ids ascending, a CSR of ones: a row per id, a column per vocabulary id), as :meth:`restore` takes back."""
        self._merge()
        data = np.ones(len(self._indices), np.int8)
        shape = (len(self._ids), len(self.names))
        return self._ids, sparse.csr_matrix((data, self._indices, self._indptr), shape=shape)

    def restore(self, ids: np.ndarray, matrix: sparse.csr_matrix, names: list[str]) -> None:
        """Hold what :meth:`rows` gave (``matrix``'s rows for ``ids``), with its vocabulary ``names``."""
        self.names, self._codes = list(names), {name: code for code, name in enumerate(names)}
        matrix = matrix.tocsr()
        self._ids, self._pending = np.asarray(ids, np.int64), {}
        self._indptr, self._indices = matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32)

    def holds(self, ids: np.ndarray) -> np.ndarray:
        """Per id of ``ids``: is it a record held here?"""
        self._merge()
        keys = np.asarray(ids, np.int64)
        at = np.minimum(np.searchsorted(self._ids, keys), max(len(self._ids) - 1, 0))
        return (self._ids[at] == keys) if len(self._ids) else np.zeros(len(keys), bool)

    def among(self, ids: np.ndarray) -> HeldRows:
        """The held identifiers of the records ``ids`` (each held here), in that order."""
        self._merge()
        at = np.searchsorted(self._ids, np.asarray(ids, np.int64))
        if len(at) and (at.max() >= len(self._ids) or not np.array_equal(self._ids[at], ids)):
            raise KeyError("records without held identifiers asked")
        starts, lengths = self._indptr[at], self._indptr[at + 1] - self._indptr[at]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        # each row's slice of the CSR in one gather: position k of row r reads starts[r] + (k - indptr[r])
        taken = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1], dtype=np.int64)
        return HeldRows(indptr, self._indices[taken], self.names)


@dataclass
class IdentifierSide:
    """One side's held and negated identifiers and identifier-token BM25, changed with the side's ordinary BM25."""

    bm25: IdentifierIndex = field(default_factory=IdentifierIndex)
    held: HeldIdentifiers = field(default_factory=HeldIdentifiers)
    negated: HeldIdentifiers = field(default_factory=HeldIdentifiers)

    def parts(self, texts: list[str]) -> Parts:
        """A chunk of records' texts read for :meth:`fill`: identifier-token term frequencies, held, negated."""
        found = [identifiers(text) for text in texts]
        held = self.held.rows_of([names for names, _ in found])
        return self.bm25.term_frequencies(texts), held, self.negated.rows_of([names for _, names in found])

    def fill(self, ids: np.ndarray, parts: list[Parts]) -> None:
        """Hold exactly these records (``parts``: :meth:`parts` of chunks in ``ids``' order)."""
        self.bm25.fill(ids, [frequencies for frequencies, _, _ in parts])
        self.held.fill(ids, [row for _, rows, _ in parts for row in rows])
        self.negated.fill(ids, [row for _, _, rows in parts for row in rows])

    def upsert(self, ids: list[int] | np.ndarray, texts: list[str]) -> None:
        found = [identifiers(text) for text in texts]
        self.bm25.upsert(ids, texts)
        self.held.upsert(ids, self.held.rows_of([names for names, _ in found]))
        self.negated.upsert(ids, self.negated.rows_of([names for _, names in found]))

    def remove(self, ids: list[int] | np.ndarray) -> None:
        self.bm25.remove(ids)
        self.held.remove(ids)
        self.negated.remove(ids)

    def known(self, ids: list[int]) -> list[tuple[frozenset[str], frozenset[str], np.ndarray] | None]:
        """Per id, the record's (held, negated, identifier-token terms) as its text gives them to a query
        (:meth:`matching.lexical.LexicalIndex.terms_of`: the terms of its own row), None for an id not held."""
        keys = np.asarray(ids, np.int64)
        present = self.held.holds(keys) & self.negated.holds(keys)
        terms = self.bm25.terms_of(list(keys[present].tolist()))
        held, negated = self.held.among(keys[present]), self.negated.among(keys[present])
        found = iter(
            (one, other, asked) if asked is not None else None
            for one, other, asked in zip(held, negated, terms, strict=True)
        )
        return [next(found) if inside else None for inside in present.tolist()]
