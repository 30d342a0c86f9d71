"""The first candidate search after one client is deleted: the deletion taken up by its id (the side's ids read,
the record's vector, digest, BM25 row and array row dropped: :func:`matching.side_state.deleted_ids`) against the
side read again from the database (every row read, rendered, counted: what every deletion cost before),
alternating in one process.

Run: ``WERKMATCH_DATA_DIR=<copy of the demo world> PYTHONPATH=. nice -n 10 .venv/bin/python
bench/live_after_deletion.py [--world bench-400000] [--rounds 10] [--ways sideReadAgain,byIds] > result.json``

Each round deletes a random client and times the next candidate search (top 50) of one open vacancy, which catches
up with the deletion first; then the same search again (an ordinary search, for reference), whose list must be
the same JSON. Milliseconds per search, medians and the load average are printed as JSON. It deletes clients: run
it on a copy.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime

import numpy as np
from sqlmodel import Session, select

from api.cli.common import settings
from matching import index_sync
from matching.domain import Client, Vacancy
from matching.embedding import load_embedder
from matching.matcher import Matcher

BY_IDS = index_sync.deleted_ids


def _delete(live: Matcher, ref: str) -> None:
    with Session(live.engine) as session:
        session.delete(session.exec(select(Client).where(Client.client_nummer == ref)).one())
        session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", default=".", help="the world's folder in the data directory ('.': itself)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--ways", default="sideReadAgain,byIds", help="alternated per round")
    args = parser.parse_args()
    config = settings()
    started = time.perf_counter()
    live = Matcher(
        config.model_copy(update={"data_dir": config.data_dir / args.world}), embedder=load_embedder(config.embedding)
    )
    live.sync()
    load_seconds = time.perf_counter() - started
    rng = np.random.default_rng(3)
    with Session(live.engine) as session:
        vacancy = session.exec(select(Vacancy.vacature_nummer).where(Vacancy.status == "open")).first()
        clients = list(session.exec(select(Client.client_nummer)))
    live.search_candidates(vacancy, 50)
    ways = args.ways.split(",")
    times: dict[str, list[float]] = {way: [] for way in [*ways, "ordinary"]}
    load = os.getloadavg()
    for at, gone in enumerate(rng.choice(clients, size=args.rounds, replace=False).tolist()):
        way = ways[at % len(ways)]
        index_sync.deleted_ids = BY_IDS if way == "byIds" else (lambda *_: None)  # type: ignore[assignment]
        _delete(live, gone)
        start = time.perf_counter()
        answer = live.search_candidates(vacancy, 50).to_json()
        times[way].append((time.perf_counter() - start) * 1e3)
        start = time.perf_counter()
        assert live.search_candidates(vacancy, 50).to_json() == answer and gone not in json.dumps(answer)
        times["ordinary"].append((time.perf_counter() - start) * 1e3)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "WERKMATCH_DATA_DIR=<demo copy> PYTHONPATH=. .venv/bin/python bench/live_after_deletion.py "
        f"--world {args.world} --rounds {args.rounds} --ways {args.ways}",
        "clients": len(clients),
        "loadSeconds": round(load_seconds, 1),
        "load": {"beforeTimings": load, "afterTimings": os.getloadavg()},
        **{
            way: {"p50": round(float(np.median(v)), 1), "max": round(float(np.max(v)), 1)}
            for way, v in times.items()
            if v
        },
        "perSearchMs": times,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
