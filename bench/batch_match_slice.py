"""CPU seconds per nightly list at national scale, measured in one process: a worker of the batch without Ray.

Run: WERKMATCH_DATA_DIR=<a migrated copy of the national world> flock /tmp/bigmem.lock nice -n 10
    .venv/bin/python bench/batch_match_slice.py [--partitions 3] [--out bench/results/national-batch-match-slice.json]
A :class:`training.batch_match.ListWorker` (the batch's worker: the champion, the ranking-only path)
loads the data directory's indexes (its start, timed apart), then computes the first ``--partitions``
partitions of 100 ids of each side twice: cold (the query vectors of records never searched are
embedded by the model and stored in the embedding cache, as on a first night) and warm (every later
night: they come from the cache). Process CPU seconds per list per side for both passes, and the warm
pass's largest functions (cProfile, own time). Nothing is stored: the lists are computed and dropped.
The data directory's embedding cache gains the query vectors, so use a copy. ``--driver-only`` times
the driver's preparation before Ray starts (reading every record's id into partitions) and adds it
to ``--out``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from matching.batch_lists import KIND_MATCH, BatchRun
from matching.settings import Settings
from matching.store import make_engine
from training.batch_match import PARTITION_IDS, ListWorker, run_partitions

ROOT = Path(__file__).resolve().parents[1]


def _pass(worker: ListWorker, parts: list[tuple[str, int]]) -> dict[str, float | None]:
    spent = {"vacatures": 0.0, "klanten": 0.0}
    lists = {"vacatures": 0, "klanten": 0}
    for side, first in parts:
        start = time.process_time()
        lists[side] += len(worker.partition_lists(side, first, PARTITION_IDS))
        spent[side] += time.process_time() - start
    return {side: round(spent[side] / lists[side], 5) if lists[side] else None for side in spent} | {
        f"{side}_lists": lists[side] for side in lists
    }


def _driver_prepare() -> dict[str, object]:
    """The driver's work before Ray starts, at this size: reading every record's id into partitions (it no
    longer reads the index: the workers say when the index files are behind)."""
    engine = make_engine(Settings().resolved_database_url)
    wall, cpu = time.perf_counter(), time.process_time()
    parts, stored = run_partitions(engine, BatchRun(kind=KIND_MATCH, partition_ids=PARTITION_IDS))
    engine.dispose()
    return {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "partitions": len(parts),
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument(
        "--driver-only", action="store_true", help="time the driver's preparation alone and add it to --out"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-match-slice.json")
    parser.add_argument(
        "--label", default="", help="what code this is (a run beside another's, e.g. the commit before)"
    )
    args = parser.parse_args()
    if args.driver_only:
        result = json.loads(args.out.read_text())
        result["driver_prepare"] = _driver_prepare()
        result["variants"][0]["prepare_seconds"] = result["driver_prepare"]["wall_s"]
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        return
    started = time.process_time()
    wall = time.perf_counter()
    worker = ListWorker(Settings())
    load = {"cpu_s": round(time.process_time() - started, 1), "wall_s": round(time.perf_counter() - wall, 1)}
    parts = [
        (side, first)
        for side in ("vacatures", "klanten")
        for first in range(0, args.partitions * PARTITION_IDS, PARTITION_IDS)
    ]
    load_before = os.getloadavg()
    cold = _pass(worker, parts)
    profile = cProfile.Profile()
    profile.enable()
    warm = _pass(worker, parts)
    profile.disable()
    stats = pstats.Stats(profile).sort_stats("tottime")
    top = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:15]  # type: ignore[attr-defined]
    result = {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "label": args.label,
        "worker_start": load,
        "load_average_before_after": [load_before, os.getloadavg()],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "partitions_per_side": args.partitions,
        "cold": cold,
        "warm": warm,
        "variants": [
            {"cpu_s_per_list": {side: warm[side] for side in ("vacatures", "klanten")}, "prepare_seconds": None}
        ],
        "warm_profile_own_s": [
            {
                "function": f"{Path(name[0]).name}:{name[1]} {name[2]}",
                "own_s": round(value[2], 2),
                "cum_s": round(value[3], 2),
            }
            for name, value in top
        ],
        "git": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
