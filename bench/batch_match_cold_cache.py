"""How much of a nightly list's CPU on the national bench world is embedding query vectors the cache lacks.

Run: WERKMATCH_DATA_DIR=<the migrated national copy> nice -n 10 .venv/bin/python bench/batch_match_cold_cache.py
    [--ids 300] [--out bench/results/national-batch-match-cold-cache.json]
The national bench world has borrowed vectors: its records' pieces of text were never embedded, so
the embedding cache lacks most of them and a batch there embeds them as query vectors on its first
night (a world whose records ``werkmatch batch embed`` embedded holds them already: this model is
symmetric, one cache entry per piece serves both roles). For the records with ids below ``--ids``
(the first partitions of each side: open vacancies first, then clients, as the limited run took
them), the pieces the cache lacks are embedded by the model in this process (one thread, as a batch
worker; nothing is stored) and timed: the CPU the limited run's lists spent on the first night's
query vectors. Small: the records and the model only, no index.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from matching.domain import Client, Vacancy, VacancyStatus
from matching.embedding import EmbeddingCache, cache_key
from matching.index_sync import IndexSync
from matching.settings import Settings
from matching.text import content_hash

ROOT = Path(__file__).resolve().parents[1]


def _cached(session: Session, model: str, hashes: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(hashes), 500):
        chunk = hashes[start : start + 500]
        query = select(EmbeddingCache.content_hash).where(
            EmbeddingCache.model_id == model, col(EmbeddingCache.content_hash).in_(chunk)
        )
        found |= set(session.exec(query))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ids", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-match-cold-cache.json")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    index = IndexSync(Settings(), None, may_write=False)
    embedder, model = index.embedder, cache_key(index.embedder, "query")
    seen: set[str] = set()
    result: dict[str, object] = {}
    with Session(index.engine) as session:
        for side, table in (("vacancies", Vacancy), ("clients", Client)):
            query = select(table).where(col(table.id) < args.ids)
            if table is Vacancy:
                query = query.where(Vacancy.status == VacancyStatus.OPEN.value)
            rows = list(session.exec(query))
            inputs = [index._dense_input(side, row) for row in rows]  # noqa: SLF001 (what the batch embeds)
            pieces = {content_hash(p): p for item in inputs for values in item.values() for p in values}
            cached = _cached(session, model, list(pieces))
            missing = sorted((p for key, p in pieces.items() if key not in cached and key not in seen), key=len)
            seen |= set(pieces)
            start = time.process_time()
            for first in range(0, len(missing), embedder.batch_size):
                embedder.embed(missing[first : first + embedder.batch_size], "query")
            spent = time.process_time() - start
            result[side] = {
                "lists": len(rows),
                "pieces": len(pieces),
                "missing_pieces": len(missing),
                "embed_cpu_s": round(spent, 1),
                "embed_cpu_s_per_list": round(spent / len(rows), 4) if rows else None,
            }
    out = {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "cacheModelId": model,
        **result,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
