"""Vector index: the only module that imports faiss.

An exact inner-product index (``IndexFlatIP``) keyed by database id (``IndexIDMap2``), so records
are added, replaced and removed one by one. FAISS answers label -1 when it finds fewer than k: this
module drops those, nobody else has to know.

A search among some records (the eligible ones of a candidate list) does not go through FAISS's id
selector, which hashes every allowed id and tests every stored vector (≈ 40 ms at 400,000): the
records' positions in the index are looked up once per change of the index (:meth:`VectorIndex.positions`),
and :meth:`VectorIndex.nearest` scores only the vectors at those positions, read in place from the
index's own storage (no copy of the vectors is kept).

On disk: ``<name>.faiss`` plus ``<name>.json`` (dimension, metric, embedding model, content hash per
id, schema version). Both are written to a temporary file, fsynced and renamed, so a crash leaves
the old or the new index, never half of one.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import faiss
import numpy as np

SCHEMA_VERSION = 1
# vectors gathered at a time by VectorIndex.cosines (768 KB of 384-dim float32, within a core's L2 cache): the nightly
# batch's choice (matching.batch_rank.CHUNK_ROWS, bench/results/national-batch-dense-gather-bg.json)
GATHER_ROWS = 512


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write(temporary path)``, fsynced, then renamed to ``path``: the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name per writer: the matcher's saver and an erasure (api.services.erasure) may write the same index at once.
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.{threading.get_ident()}.tmp")
    write(tmp)
    handle = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@dataclass
class VectorIndex:
    """Unit vectors by integer id, searchable by inner product (cosine)."""

    dimension: int
    model_id: str
    hashes: dict[int, str] = field(default_factory=dict)
    _index: faiss.IndexIDMap2 = field(init=False, repr=False)

    _version: int = field(default=0, init=False, repr=False)  # counts changes, for the positions cache
    _positions: tuple[np.ndarray, int, np.ndarray] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def upsert(self, ids: np.ndarray, vectors: np.ndarray, hashes: list[str]) -> None:
        """Add or replace the vectors of ``ids`` (content ``hashes`` record what was embedded)."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        if vectors.shape != (len(ids), self.dimension):
            raise ValueError(f"expected vectors of shape ({len(ids)}, {self.dimension}), got {vectors.shape}")
        self.remove(ids)
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self._version += 1
        self.hashes.update(zip(ids.tolist(), hashes, strict=True))

    def remove(self, ids: np.ndarray) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        present = ids[np.isin(ids, self.ids())] if len(self) else ids[:0]
        if len(present):
            self._index.remove_ids(faiss.IDSelectorBatch(present))
            self._version += 1
        for key in ids.tolist():
            self.hashes.pop(key, None)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ids and cosine scores for one query vector among all stored vectors."""
        if len(self) == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        k = min(k, len(self))
        scores, labels = self._index.search(np.ascontiguousarray(query.reshape(1, -1), np.float32), k)
        keep = labels[0] >= 0
        return labels[0][keep], scores[0][keep]

    def _stored(self) -> np.ndarray:
        """The stored vectors, (len, dimension), as a view into the index: valid until the next change."""
        flat = faiss.downcast_index(self._index.index)
        return faiss.rev_swig_ptr(flat.get_xb(), len(self) * self.dimension).reshape(len(self), self.dimension)

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Per id of ``ids`` (sorted ascending, as the arrays hold them): its position in the index, -1 if absent.

        Remembered for the last ``ids`` array (by identity) until the index changes, so a search pays
        one gather, not a lookup per record.
        """
        cached = self._positions
        if cached is not None and cached[0] is ids and cached[1] == self._version:
            return cached[2]
        stored = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        out = np.full(len(ids), -1, np.int64)
        if len(stored) and len(ids):
            at = np.searchsorted(ids, stored)
            inside = at < len(ids)
            inside[inside] = ids[at[inside]] == stored[inside]
            out[at[inside]] = np.flatnonzero(inside)
        self._positions = (ids, self._version, out)
        return out

    def cosines(self, query: np.ndarray, ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine of ``query`` with the vector of each ``ids[rows]``; 0 for a record not (yet) embedded."""
        at = self.positions(ids)[rows]
        present = at >= 0
        out = np.zeros(len(rows), np.float32)
        if present.any():
            stored, query = self._stored(), np.asarray(query, np.float32)
            # past a quarter of the index one pass over all of it beats gathering the rows first. einsum, not
            # BLAS: one matrix-vector product is too small to share out, and BLAS threads that wait on a
            # busy machine made it 5x slower
            if 4 * len(at) > len(stored):
                out[present] = np.einsum("ij,j->i", stored, query)[at[present]]
                return out
            # GATHER_ROWS vectors at a time, multiplied while still in cache (a row's value depends on its own
            # vector alone: the same bits as one gather of them all)
            embedded = np.flatnonzero(present)
            for start in range(0, len(embedded), GATHER_ROWS):
                part = embedded[start : start + GATHER_ROWS]
                out[part] = np.einsum("ij,j->i", stored[at[part]], query)
        return out

    def nearest(self, query: np.ndarray, k: int, ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The ``k`` of ``rows`` (rows of ``ids``) whose vectors are nearest ``query``, exactly.

        Records not (yet) embedded are left out, as FAISS leaves them out; equal scores go to the
        lower row, as a stable sort orders them.
        """
        rows = rows[self.positions(ids)[rows] >= 0]
        return rows[best(self.cosines(query, ids, rows), k)]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids``; zeros for an id not (yet) embedded."""
        out = np.zeros((len(ids), self.dimension), np.float32)
        present = np.fromiter((int(key) in self.hashes for key in ids), bool, len(ids))
        if present.any():  # one call into faiss instead of one per id (≈ 575 per candidate search)
            out[present] = self._index.reconstruct_batch(np.ascontiguousarray(ids[present], np.int64))
        return out

    def save(self, directory: Path, name: str) -> None:
        # straight to the file: serialising in memory first held two more copies of every vector
        atomic_write(directory / f"{name}.faiss", lambda tmp: faiss.write_index(self._index, str(tmp)))
        config = {
            "schemaVersion": SCHEMA_VERSION,
            "dimension": self.dimension,
            "metric": "inner_product",
            "modelId": self.model_id,
            "count": len(self),
            "hashes": {str(key): value for key, value in self.hashes.items()},
        }
        atomic_write(directory / f"{name}.json", lambda tmp: tmp.write_bytes(json.dumps(config).encode("utf-8")))

    @classmethod
    def load(cls, directory: Path, name: str) -> Self:
        config = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        if config.get("schemaVersion") != SCHEMA_VERSION:
            raise ValueError(f"index schema {config.get('schemaVersion')} != {SCHEMA_VERSION}")
        index = cls(dimension=int(config["dimension"]), model_id=config["modelId"])
        index._index = faiss.read_index(str(directory / f"{name}.faiss"))  # from the file: no copy of its bytes
        index.hashes = {int(key): value for key, value in config["hashes"].items()}
        if len(index) != config["count"] or len(index.hashes) != len(index):
            raise ValueError(f"index '{name}' is inconsistent: {len(index)} vectors, {config['count']} in config")
        return index


def best(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest ``scores``, best first; ``np.argsort(-scores, kind="stable")[:k]``
    without sorting everything (equal scores: the lower position first)."""
    if len(scores) <= k:
        return np.argsort(-scores, kind="stable")
    kth = np.partition(-scores, k - 1)[k - 1]
    candidates = np.flatnonzero(-scores <= kth)
    return candidates[np.argsort(-scores[candidates], kind="stable")[:k]]


def remove_saved(directory: Path, name: str, ids: np.ndarray) -> int:
    """Remove ``ids`` from the index saved as ``name`` in ``directory`` now, not at the next save.

    For erasure (``api.services.erasure``): the database row is already gone and a matcher would drop the vector at
    its next sync anyway; this takes it off the disk at once. Written atomically like :meth:`VectorIndex.save`.

    Returns:
        How many of ``ids`` were in the saved index (0 when there is no saved index).
    """
    if not (directory / f"{name}.faiss").exists():
        return 0
    index = VectorIndex.load(directory, name)
    present = [int(key) for key in np.asarray(ids, np.int64).tolist() if int(key) in index.hashes]
    if present:
        index.remove(np.array(present, np.int64))
        index.save(directory, name)
    return len(present)
