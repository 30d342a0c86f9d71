"""What applying the notes-readiness column costs, for the choice of when to compute it (issue 19, item 2).

Run: nice -n 10 .venv/bin/python bench/notes_apply_cost.py --data-dir <copy of the demo> [--out FILE]

The column (:class:`matching.notes_readiness.NotesReadiness`) is applied to every client of the bestand
(what an index rebuild or a champion change would do) and to one client at a time (what a refresh of one
profile would do), with the fragment vectors read through the embedding cache as serving would read
them. The artefact's weights are seeded random numbers of the embedder's width: the cost does not depend
on their values, only on the texts, the cache and the arithmetic. Fragments not yet in the cache are
embedded first and timed apart (``embedSeconds``), so the apply timings read a warm cache.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from matching.domain import Client
from matching.embedding import embed_cached, load_embedder
from matching.notes_readiness import NotesReadiness, fragments
from matching.settings import Settings
from matching.store import make_engine

SINGLE_CLIENTS = 200  # one-client applications timed, for a per-refresh cost


def seeded_artefact(model_id: str, dimension: int) -> NotesReadiness:
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(8, 2 * dimension))
    return NotesReadiness(
        model_id=model_id,
        detector_coef=rng.normal(size=dimension) * 0.1,
        detector_intercept=-2.0,
        directions=(directions / np.linalg.norm(directions, axis=1, keepdims=True)).astype(np.float32),
        ridge_coef=rng.normal(size=2 * dimension) * 0.01,
        ridge_intercept=0.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "notes-apply-cost.json")
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir)
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        texts = [
            (own or "", notes or "") for own, notes in session.exec(select(Client.zelfbeschrijving, Client.notities))
        ]
    embedder = load_embedder(settings.embedding)
    artefact = seeded_artefact(embedder.model_id, embedder.dimension)

    def embed(pieces: list[str]) -> np.ndarray:
        return embed_cached(engine, embedder, pieces, "document")

    pieces = sorted({piece for written in texts for text in written for piece in fragments(text)})
    start = time.perf_counter()
    embed(pieces)
    embed_seconds = time.perf_counter() - start
    start = time.perf_counter()
    artefact.scores(texts, embed)
    everyone = time.perf_counter() - start
    single = []
    for written in texts[:SINGLE_CLIENTS]:
        start = time.perf_counter()
        artefact.scores([written], embed)
        single.append(time.perf_counter() - start)
    result = {
        "command": "nice -n 10 .venv/bin/python " + " ".join(sys.argv),
        "loadAverage": Path("/proc/loadavg").read_text().split()[:3],
        "clients": len(texts),
        "fragments": len(pieces),
        "embedSeconds": round(embed_seconds, 2),
        "everyClientSeconds": round(everyone, 3),
        "perClientMsInBulk": round(1000 * everyone / max(len(texts), 1), 3),
        "oneClientMs": {
            "p50": round(1000 * float(np.percentile(single, 50)), 2),
            "p95": round(1000 * float(np.percentile(single, 95)), 2),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
