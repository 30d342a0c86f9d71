"""The nightly batch's lists at national size, BM25 the old way (every record) and the pruned way, alternating.

Run: WERKMATCH_DATA_DIR=<a migrated copy of the national world> flock /tmp/bigmem.lock nice -n 10
    .venv/bin/python bench/batch_bm25_slice.py [--partitions 3] [--rounds 3] [--out …]
One :class:`training.batch_match.ListWorker` (the batch's worker, loaded once) computes the first
``--partitions`` partitions of 100 ids of each side (as ``bench/batch_match_slice.py`` does, whose pass it
uses): once cold (query vectors embedded into the data directory's embedding cache: use a copy), then warm
passes, ``--rounds`` of them, each partition computed with :class:`matching.lexical.Bm25Buffer` as it
was (``_every``: each asked column added over every record for every list) and as it is (``scores``: the
pruned reading) one right after the other (which goes first alternates per round, so the load's drift falls
on both), the garbage collector as the worker has it for both; each partition's two lists compared.
Process CPU seconds per list per side, the load average per round, and the pruned reading's one-off
preparation per side (made at a worker's first partition, kept while the index's weights live). The JSON
has the slice's shape (``variants[0].cpu_s_per_list``: the pruned reading's mean) for
``bench/batch_match.py --project-only``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._result import provenance, write_json
from bench.batch_match_slice import _pass
from matching import bm25_maxscore as maxscore
from matching.lexical import Bm25Buffer
from matching.settings import Settings
from training.batch_match import PARTITION_IDS, ListWorker

ROOT = Path(__file__).resolve().parents[1]
PRUNED = Bm25Buffer.scores


def _full_scatter(self: Bm25Buffer, terms: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, float]:
    """``Bm25Buffer.scores`` before the pruned reading: every record's BM25 for every list."""
    if self._scores is None or not len(terms):
        every = self.lexical.scores_by_term(terms, self.ids)
        return every[rows], float(every.max()) if len(every) else 0.0
    return self._every(terms, rows)


def _prepare(worker: ListWorker) -> dict[str, float]:
    """CPU seconds of the pruned reading's preparation per searched side (once per worker and index weights)."""
    spent = {}
    for side in ("clients", "vacancies"):
        lexical = worker.matcher.index.sides[side].lexical
        if lexical._weights is None:
            lexical._build()
        started = time.process_time()
        maxscore.PrunedBm25.of(lexical)
        spent[side] = round(time.process_time() - started, 2)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-bm25-slice.json")
    parser.add_argument("--worker-start-cpu-s", type=float, default=None, help="a worker's start measured elsewhere")
    args = parser.parse_args()
    started, wall = time.process_time(), time.perf_counter()
    worker = ListWorker(Settings())
    load = {"cpu_s": round(time.process_time() - started, 1), "wall_s": round(time.perf_counter() - wall, 1)}
    prepared = _prepare(worker)
    parts = [
        (side, first)
        for side in ("vacatures", "klanten")
        for first in range(0, args.partitions * PARTITION_IDS, PARTITION_IDS)
    ]
    cold = _pass(worker, parts)
    ways = {"full_scatter": _full_scatter, "pruned": PRUNED}
    spent = {name: {"vacatures": 0.0, "klanten": 0.0} for name in ways}
    lists = {"vacatures": 0, "klanten": 0}
    rounds: list[dict[str, Any]] = []
    identical = True
    for turn in range(args.rounds):
        before = {name: dict(per_side) for name, per_side in spent.items()}
        for side, first in parts:  # per partition both ways, the first of the two alternating per round
            found = {}
            for name in sorted(ways, reverse=bool(turn % 2)):
                Bm25Buffer.scores = ways[name]  # type: ignore[method-assign]
                started = time.process_time()
                found[name] = worker.partition_lists(side, first, PARTITION_IDS)
                spent[name][side] += time.process_time() - started
            Bm25Buffer.scores = PRUNED  # type: ignore[method-assign]
            identical = identical and found["full_scatter"] == found["pruned"]
            lists[side] += len(found["pruned"])
        rounds.append(
            {name: {side: round(spent[name][side] - before[name][side], 3) for side in lists} for name in ways}
            | {"load_average": os.getloadavg()[0]}
        )
    mean = {name: {side: round(spent[name][side] / lists[side], 5) for side in lists} for name in ways}
    start_cpu = args.worker_start_cpu_s if args.worker_start_cpu_s is not None else load["cpu_s"]
    result = {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "worker_start": {
            "cpu_s": round(start_cpu + sum(prepared.values()), 2),
            "loaded_here": load,
            "pruned_prepare_cpu_s": prepared,
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "partitions_per_side": args.partitions,
        "cold": cold,
        "cpu_s_per_round": rounds,
        "lists_per_way": lists,
        "cpu_s_per_list": mean,
        "less_cpu_per_list": {
            side: round(1 - mean["pruned"][side] / mean["full_scatter"][side], 3) for side in ("vacatures", "klanten")
        },
        "identical_lists": identical,
        "variants": [{"cpu_s_per_list": mean["pruned"], "prepare_seconds": None}],
        **provenance(),
    }
    assert identical, "the pruned reading's lists differ from the full scatter's"
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
