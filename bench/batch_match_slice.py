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
to ``--out``. ``--lists-out`` writes the warm pass's lists (owner, ranker, items) as JSON; ``--compare A B``
says whether two such files hold the same lists (two versions of the code on one world).
``--before-module <an earlier matching/batch_rank.py>`` times that file's ranking-only path beside this
one in the same process on the same loaded worker (warm passes alternating, none profiled: before,
after, before, after, or ``--rounds`` pairs; the lists compared), so one worker start serves both and both see the same
machine; then the profiled pass. The per-list CPU it reports (``variants``) is then the unprofiled
after passes' mean.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import json
import os
import pstats
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench._result import provenance, write_json
from matching.batch_lists import KIND_MATCH, BatchRun
from matching.settings import Settings
from matching.store import make_engine
from training.batch_match import PARTITION_IDS, ListWorker, run_partitions

ROOT = Path(__file__).resolve().parents[1]


def _pass(worker: ListWorker, parts: list[tuple[str, int]], found: list | None = None) -> dict[str, float | None]:
    spent = {"vacatures": 0.0, "klanten": 0.0}
    lists = {"vacatures": 0, "klanten": 0}
    for side, first in parts:
        start = time.process_time()
        computed = worker.partition_lists(side, first, PARTITION_IDS)
        spent[side] += time.process_time() - start
        lists[side] += len(computed)
        if found is not None:
            found.extend([side, *item.values()] for item in computed)
    return {side: round(spent[side] / lists[side], 5) if lists[side] else None for side in spent} | {
        f"{side}_lists": lists[side] for side in lists
    }


def _side_by_side(worker: ListWorker, parts: list[tuple[str, int]], module: Path, rounds: int = 2) -> dict[str, Any]:
    """Warm passes of an earlier ``batch_rank.py`` (loaded from its file, on this worker's matcher) alternating
    with this code's, none profiled: before, after, before, after (``rounds`` pairs). The earlier code's passes
    run with the loaded indexes back in the collector's sight (``gc.unfreeze``), as its worker had them."""
    spec = importlib.util.spec_from_file_location("batch_rank_before", module)
    assert spec is not None and spec.loader is not None
    earlier = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = earlier  # its dataclasses look their module up
    spec.loader.exec_module(earlier)
    now, then = worker.ranking, earlier.NightlyRanking(worker.matcher)
    passes: dict[str, Any] = {"module": str(module), "before": [], "after": []}
    found: dict[str, list] = {}
    identical = True
    for ranking, name in ((then, "before"), (now, "after")) * rounds:
        worker.ranking = ranking
        if name == "before":
            gc.unfreeze()
        else:
            gc.freeze()
        found[name] = []
        passes[name].append(_pass(worker, parts, found[name]) | {"load_average": os.getloadavg()[0]})
        identical = identical and (name == "before" or found["before"] == found["after"])
    worker.ranking = now
    passes["identical_lists"] = identical  # every after pass's lists equal the before pass's just before it
    passes["lists_compared"] = len(found["after"])
    passes["cpu_s_per_list"] = {
        name: {
            side: round(sum(one[side] for one in passes[name]) / len(passes[name]), 5)
            for side in ("vacatures", "klanten")
        }
        for name in ("before", "after")
    }
    return passes


def _largest(profile: cProfile.Profile) -> list[dict[str, Any]]:
    """The profile's 15 functions of the most own time."""
    stats = pstats.Stats(profile).sort_stats("tottime")
    top = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:15]  # type: ignore[attr-defined]
    return [
        {
            "function": f"{Path(name[0]).name}:{name[1]} {name[2]}",
            "own_s": round(value[2], 2),
            "cum_s": round(value[3], 2),
        }
        for name, value in top
    ]


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
    parser.add_argument(
        "--before-module",
        type=Path,
        default=None,
        help="an earlier matching/batch_rank.py: its warm passes alternate with this one's in this process",
    )
    parser.add_argument("--rounds", type=int, default=2, help="--before-module: pairs of passes (before, after)")
    parser.add_argument("--lists-out", type=Path, default=None, help="write the warm pass's lists here (JSON)")
    parser.add_argument("--compare", type=Path, nargs=2, default=None, help="two --lists-out files: equal?")
    args = parser.parse_args()
    if args.compare:
        first, second = (json.loads(path.read_text()) for path in args.compare)
        print(json.dumps({"lists": [len(first), len(second)], "identical": first == second}))  # noqa: T201
        return
    if args.driver_only:
        result = json.loads(args.out.read_text())
        result["driver_prepare"] = _driver_prepare()
        result["variants"][0]["prepare_seconds"] = result["driver_prepare"]["wall_s"]
        write_json(args.out, result)
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
    side_by_side = _side_by_side(worker, parts, args.before_module, args.rounds) if args.before_module else None
    profile = cProfile.Profile()
    found: list = []
    profile.enable()
    warm = _pass(worker, parts, found)
    profile.disable()
    if args.lists_out:
        args.lists_out.write_text(json.dumps(found))
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
            {
                "cpu_s_per_list": side_by_side["cpu_s_per_list"]["after"]  # not profiled
                if side_by_side
                else {side: warm[side] for side in ("vacatures", "klanten")},
                "prepare_seconds": None,
            }
        ],
        "side_by_side": side_by_side,
        "warm_profile_own_s": _largest(profile),
        **provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
