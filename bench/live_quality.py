"""``quality.assess`` on the national world's stored rows, as at a base commit (before) and as now (after),
alternating in one process: the part of a ranked search's shown rows that a change to ``matching/quality.py``
moves, timed alone (the whole search's ±10 % noise hides a fraction of a millisecond).

Run: ``WERKMATCH_BEFORE=<base> WERKMATCH_DATA_DIR=<copy of the national world> PYTHONPATH=. nice -n 10
.venv/bin/python bench/live_quality.py [--lists 400] > result.json`` (``WERKMATCH_DATA_DIR`` is the national
world's own folder, e.g. ``<copy>/bench-400000``; ``WERKMATCH_BEFORE_REPO``: the checkout to read the base from).

Each list is 50 random stored clients read with their JSON columns, as a search's shown rows are; per list both
variants assess all 50 (the first of the two alternating), and every :class:`ProfileQuality` is asserted the same
(API JSON, codes, missing fields).
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
from bench.live_explained import OLD_QUALITY
from matching import quality
from matching.domain import Client
from matching.store import make_engine

SHOWN = 50


def _percentiles(values: list[float]) -> dict[str, float]:
    return {f"p{q}": round(float(np.percentile(values, q)), 4) for q in (50, 95)} | {"mean": round(np.mean(values), 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lists", type=int, default=400)
    args = parser.parse_args()
    config = settings()
    engine = make_engine(config.resolved_database_url)
    now = datetime.now(UTC)
    rng = np.random.default_rng(33)
    with Session(engine) as session:
        ids = list(session.exec(select(Client.id)))
        picks = rng.choice(np.asarray(ids), size=(args.lists, SHOWN), replace=False).tolist()
        lists = [list(session.exec(select(Client).where(Client.id.in_(chosen)))) for chosen in picks]  # type: ignore[union-attr]
    times: dict[str, list[float]] = {"before": [], "after": []}
    faster = 0
    load_before = os.getloadavg()
    for at, rows in enumerate(lists):
        took = {}
        answers = {}
        for new in (at % 2 == 0, at % 2 != 0):
            assess = quality.assess if new else OLD_QUALITY.assess
            start = time.perf_counter()
            checked = [assess(row, now) for row in rows]
            took[new] = (time.perf_counter() - start) * 1e3
            answers[new] = [(item.to_json(), item.codes, item.missing) for item in checked]
            times["after" if new else "before"].append(took[new])
        assert answers[True] == answers[False]
        faster += took[True] < took[False]
    flagged = sum(not quality._sound(row) for rows in lists for row in rows)
    print(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "lists": args.lists,
                "rowsPerList": SHOWN,
                "clients": len(ids),
                "rowsTakingTheFullChecks": flagged,
                "load": {"beforeTimings": load_before, "afterTimings": os.getloadavg()},
                "identicalQualities": True,
                "afterFasterIn": faster,
                "msPerList": {side: _percentiles(values) for side, values in times.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
