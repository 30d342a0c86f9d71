"""CPU seconds per nightly list with partitions cut by place against the same owners in partitions of mixed places.

Run: WERKMATCH_DATA_DIR=<a migrated copy of the national world> flock /tmp/bigmem.lock nice -n 10
    .venv/bin/python bench/batch_match_place.py [--partitions 30] [--rounds 3]
    [--out bench/results/national-batch-place-s30-p.json]
One :class:`training.batch_match.ListWorker` (the batch's worker, no Ray) loads the data directory's indexes,
the driver's plan of the whole night is made (:func:`training.batch_match.run_partitions`, timed: it is the
driver's preparation now), and ``--partitions`` partitions of each side are drawn from it at random (seeded).
The same owners are then computed in turn, alternating in this process after one pass that warms the embedding
cache: ``place``, the partitions as planned (owners of one woonplaats), and ``mixed``, the same owners sorted
by id and cut into as many partitions (owners of ``--partitions`` places mixed, as the id ranges before were:
ids are random with respect to place); with ``--before-module`` (an earlier ``matching/batch_rank.py``) those
two with the earlier code (``--before-steps``: with an earlier ``matching/batch_steps.py`` too) and ``place now``
with this one. Reported per way and round: process CPU seconds per
list per side and the load average; and whether every owner's list is the same both ways.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matching.batch_lists import KIND_MATCH, SIDES, BatchRun
from matching.settings import Settings
from matching.store import make_engine
from training.batch_match import PARTITION_IDS, ListWorker, run_partitions

ROOT = Path(__file__).resolve().parents[1]
Parts = list[tuple[str, list[int]]]


def _pass(worker: ListWorker, parts: Parts, found: dict[tuple[str, int], Any]) -> dict[str, Any]:
    spent = {side: 0.0 for side in SIDES}
    lists = {side: 0 for side in SIDES}
    load = os.getloadavg()[0]
    for side, owners in parts:
        start = time.process_time()
        computed = worker.owner_lists(side, owners)
        spent[side] += time.process_time() - start
        lists[side] += len(computed)
        found.update({(side, item["owner"]): item for item in computed})
    per_list = {side: round(spent[side] / lists[side], 5) if lists[side] else None for side in SIDES}
    return {"cpu_s_per_list": per_list, "lists": lists, "load_average": [load, os.getloadavg()[0]]}


def _mixed(parts: Parts) -> Parts:
    """The same owners per side sorted by id, cut into as many partitions of near-equal size."""
    mixed: Parts = []
    for side in SIDES:
        owners = sorted(owner for found, members in parts if found == side for owner in members)
        count = sum(found == side for found, _ in parts)
        base, extra = divmod(len(owners), count)
        start = 0
        for chunk in range(count):
            size = base + (chunk < extra)
            mixed.append((side, owners[start : start + size]))
            start += size
    return mixed


def _load(name: str, module: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, module)
    assert spec is not None and spec.loader is not None
    earlier = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = earlier  # its dataclasses look their module up
    spec.loader.exec_module(earlier)
    return earlier


def _earlier(worker: ListWorker, module: Path, steps: Path | None) -> Any:
    """The ranking-only path of an earlier ``batch_rank.py`` (loaded from its file) on this worker's matcher, with
    an earlier ``batch_steps.py`` too where given."""
    earlier = _load("batch_rank_before", module)
    if steps is not None:
        earlier.batch_steps = _load("batch_steps_before", steps)
    return earlier.NightlyRanking(worker.matcher)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partitions", type=int, default=30, help="partitions per side, drawn from the plan")
    parser.add_argument("--rounds", type=int, default=3, help="pairs of passes (place, mixed), alternating")
    parser.add_argument("--seed", type=int, default=30)
    parser.add_argument(
        "--before-module",
        type=Path,
        default=None,
        help="an earlier matching/batch_rank.py: mixed and place run with it, 'place now' with this code",
    )
    parser.add_argument("--before-steps", type=Path, default=None, help="an earlier matching/batch_steps.py for it")
    parser.add_argument("--without-mixed", action="store_true", help="no 'mixed' passes (with --before-module)")
    parser.add_argument(
        "--middle", action="store_true", help="also 'place half': this batch_rank.py with --before-steps' steps"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-place-s30-p.json")
    args = parser.parse_args()
    started, wall = time.process_time(), time.perf_counter()
    worker = ListWorker(Settings())
    worker_start = {"cpu_s": round(time.process_time() - started, 1), "wall_s": round(time.perf_counter() - wall, 1)}
    engine = make_engine(Settings().resolved_database_url)
    wall, cpu = time.perf_counter(), time.process_time()
    planned, _ = run_partitions(engine, BatchRun(kind=KIND_MATCH, partition_ids=PARTITION_IDS))
    driver = {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2)}
    engine.dispose()
    rng = random.Random(args.seed)
    place: Parts = []
    for side in SIDES:
        drawn = rng.sample([part for part in planned if part.side == side], args.partitions)
        place += [(side, list(part.owners)) for part in drawn]
    mixed = _mixed(place)
    warm: dict[tuple[str, int], Any] = {}
    cold = _pass(worker, place, warm)  # the embedding cache gains these owners' query vectors
    now = worker.ranking
    earlier = _earlier(worker, args.before_module, args.before_steps) if args.before_module else now
    variants = [("mixed", mixed, earlier), ("place", place, earlier)]
    if args.without_mixed and args.before_module:
        variants = variants[1:]
    if args.before_module and args.middle:
        variants.append(("place half", place, _earlier(worker, ROOT / "matching" / "batch_rank.py", args.before_steps)))
    if args.before_module:
        variants.append(("place now", place, now))
    passes: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in variants}
    identical = True
    for _ in range(args.rounds):
        for name, parts, ranking in variants:
            worker.ranking = ranking
            found: dict[tuple[str, int], Any] = {}
            passes[name].append(_pass(worker, parts, found))
            identical = identical and found == warm
    worker.ranking = now
    mean = {
        name: {side: round(sum(one["cpu_s_per_list"][side] for one in runs) / len(runs), 5) for side in SIDES}
        for name, runs in passes.items()
    }
    result = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "what": "the same owners computed in partitions of one woonplaats (place) and in id-ordered partitions "
        "of mixed places (mixed, as the id ranges before): per-list CPU, alternating in one process",
        "worker_start": worker_start,
        "driver_plan": {"partitions": len(planned), **driver},
        "partitions_per_side": args.partitions,
        "owners": {side: sum(len(owners) for found, owners in place if found == side) for side in SIDES},
        "cold_pass": cold,
        "passes": passes,
        "cpu_s_per_list_mean": mean,
        "vs_first": {
            name: {side: round(mean[name][side] / mean[variants[0][0]][side], 3) for side in SIDES} for name in mean
        },
        "before_module": str(args.before_module) if args.before_module else None,
        "before_steps": str(args.before_steps) if args.before_steps else None,
        "identical_lists": identical,
        "lists_compared": len(warm),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "git": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
