"""A borrowed-vector world's embedding cache given a vector for every piece of its records' text (a warm night).

Run: WERKMATCH_DATA_DIR=<a copy of the national world> nice -n 10 .venv/bin/python bench/batch_match_borrow_cache.py
    [--out bench/results/national-batch-borrow-cache-s31.json]
The national bench world (``werkmatch bench search --scale-clients``) has borrowed vectors: its records' pieces
of text were never embedded, so a ``werkmatch batch match`` there embeds about 683,000 pieces as query vectors
(12 hours on this machine, ``national-batch-embed.json``) and measures an embedding night, not a matching one.
In a world whose records ``werkmatch batch embed`` embedded, the cache holds every piece (this model is
symmetric: one entry serves both roles). This script writes that state with borrowed vectors: each piece the
(where the serving ranker reads a notes column, also each fragment of the clients' own words and notes)
cache lacks gets a vector already in the cache (cycled, with a little noise, normalised), stored under the
piece's own content hash and the model's cache key, exactly where :func:`matching.embedding.embed_cached`
looks. Lists computed afterwards are not the lists of real vectors (latency only, as the world's own vectors).
Only for a copy of a bench world: it writes into the data directory's database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matching.domain import Client, Vacancy
from matching.embedding import EmbeddingCache, cache_key, store_cached
from matching.index_sync import IndexSync
from matching.notes_readiness import fragments
from matching.settings import Settings
from matching.side_state import read_chunks
from matching.text import content_hash
from training import registry

ROOT = Path(__file__).resolve().parents[1]
SIDES = (("vacancies", Vacancy), ("clients", Client))


def _cached(session: Session, model: str) -> tuple[set[str], np.ndarray]:
    """The hashes the cache holds under ``model`` and their vectors (the donors)."""
    query = select(EmbeddingCache.content_hash, EmbeddingCache.vector).where(col(EmbeddingCache.model_id) == model)
    rows = list(session.exec(query))
    return {row[0] for row in rows}, np.stack([np.frombuffer(row[1], np.float32) for row in rows])


def _borrow(engine: Engine, model: str, missing: list[str], donors: np.ndarray, rng: np.random.Generator) -> None:
    """A cached vector for each hash of ``missing``: a donor's, with a little noise, normalised."""
    vectors = donors[rng.integers(len(donors), size=len(missing))]
    vectors = vectors + rng.normal(scale=0.02, size=vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store_cached(engine, model, missing, vectors.astype(np.float32))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-borrow-cache-s31.json")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    index = IndexSync(Settings(), None, may_write=False)
    model = cache_key(index.embedder, "query")
    rng = np.random.default_rng(args.seed)
    start, started = time.perf_counter(), time.process_time()
    with Session(index.engine) as session:
        known, donors = _cached(session, model)
        before, records = len(known), 0
        for side, table in SIDES:
            for rows in read_chunks(session, table):
                records += len(rows)
                inputs = [index._dense_input(side, row) for row in rows]  # noqa: SLF001 (what the batch embeds)
                pieces = {content_hash(p) for item in inputs for values in item.values() for p in values}
                missing = sorted(pieces - known)
                if missing:
                    _borrow(index.engine, model, missing, donors, rng)
                    known.update(missing)
        # a serving ranker with a notes column reads every fragment of the clients' own words and notes, which
        # `werkmatch batch embed` embeds too (training.batch_embed.bestand_pieces(notes=True)): borrowed the same way
        serving = registry.serving_ranker(index.settings)
        fragments_borrowed = 0
        if serving is not None and serving.notes is not None:
            for rows in read_chunks(session, Client):
                pieces = {
                    content_hash(f) for row in rows for f in fragments(row.zelfbeschrijving) + fragments(row.notities)
                }
                missing = sorted(pieces - known)
                if missing:
                    _borrow(index.engine, model, missing, donors, rng)
                    known.update(missing)
                    fragments_borrowed += len(missing)
    out = {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "cacheModelId": model,
        "records": records,
        "cached_before": before,
        "borrowed": len(known) - before,
        "notes_fragments_borrowed": fragments_borrowed,
        "seconds": round(time.perf_counter() - start, 1),
        "cpu_seconds": round(time.process_time() - started, 1),
        "load_average_after": list(os.getloadavg()),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
