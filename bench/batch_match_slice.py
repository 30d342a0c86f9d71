"""CPU seconds per nightly list at national scale, measured in one process: a worker of the batch without Ray.

Run: WERKMATCH_DATA_DIR=<a migrated copy of the national world> flock /tmp/bigmem.lock nice -n 10
    .venv/bin/python bench/batch_match_slice.py [--partitions 3] [--out bench/results/national-batch-match-slice.json]
A :class:`training.batch_match.ListWorker` (the batch's worker: the champion, the ranking-only path)
loads the data directory's indexes (its start, timed apart), then computes the first ``--partitions``
partitions of 100 ids of each side twice: cold (the query vectors of records never searched are
embedded by the model and stored in the embedding cache, as on a first night) and warm (every later
night: they come from the cache). Process CPU seconds per list per side for both passes, and the warm
pass's largest functions (cProfile, own time). Nothing is stored: the lists are computed and dropped.
The data directory's embedding cache gains the query vectors, so use a copy.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from matching.settings import Settings
from training.batch_match import PARTITION_IDS, ListWorker

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--prepare-from", type=Path, default=None, help="a Ray run's JSON: its driver's preparation")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-match-slice.json")
    args = parser.parse_args()
    prepare = json.loads(args.prepare_from.read_text())["variants"][0]["prepare_seconds"] if args.prepare_from else 0.0
    started = time.process_time()
    wall = time.perf_counter()
    worker = ListWorker(Settings())
    load = {"cpu_s": round(time.process_time() - started, 1), "wall_s": round(time.perf_counter() - wall, 1)}
    parts = [
        (side, first)
        for side in ("vacatures", "klanten")
        for first in range(0, args.partitions * PARTITION_IDS, PARTITION_IDS)
    ]
    cold = _pass(worker, parts)
    profile = cProfile.Profile()
    profile.enable()
    warm = _pass(worker, parts)
    profile.disable()
    stats = pstats.Stats(profile).sort_stats("tottime")
    top = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:15]  # type: ignore[attr-defined]
    result = {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "worker_start": load,
        "partitions_per_side": args.partitions,
        "cold": cold,
        "warm": warm,
        "variants": [
            {"cpu_s_per_list": {side: warm[side] for side in ("vacatures", "klanten")}, "prepare_seconds": prepare}
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
