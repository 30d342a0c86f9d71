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
with this one (``--before-lexical``: the earlier ways with an earlier ``matching/lexical.py``'s BM25 too;
``--no-probes``: also 'place now, no probes', this code with ``batch_bm25.TOP_PROBES`` off). Reported per way and
round: process CPU seconds per list per side and the load average; and whether every owner's list is the same
both ways. ``--profile``: after the rounds, one more pass of the first and the last way under cProfile, per side
the functions that take the most CPU (own and cumulative) with their share of the side's total.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import json
import os
import pstats
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench._result import provenance, write_json
from matching import batch_bm25
from matching import lexical as lexical_module
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


def _profiled(worker: ListWorker, parts: Parts, top: int = 25) -> dict[str, Any]:
    """One pass under cProfile, a profile per side: the ``top`` functions by own and by cumulative time."""
    found: dict[str, Any] = {}
    for side in SIDES:
        profiler = cProfile.Profile()
        for at, owners in parts:
            if at == side:
                profiler.enable()
                worker.owner_lists(side, owners)
                profiler.disable()
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        total = sum(row[2] for row in stats.values()) or 1.0
        rows = [
            {
                "function": f"{Path(key[0]).name}:{key[1]}:{key[2]}",
                "calls": row[1],
                "own_s": round(row[2], 3),
                "own_share": round(row[2] / total, 4),
                "cumulative_s": round(row[3], 3),
                "cumulative_share": round(row[3] / total, 4),
            }
            for key, row in stats.items()
        ]
        found[side] = {
            "total_s": round(total, 2),
            "by_own": sorted(rows, key=lambda row: -row["own_s"])[:top],
            "by_cumulative": sorted(rows, key=lambda row: -row["cumulative_s"])[:top],
        }
    return found


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


def _earlier(
    worker: ListWorker, module: Path, steps: Path | None, lexical: Path | None = None, name: str = "before"
) -> Any:
    """The ranking-only path of an earlier ``batch_rank.py`` (loaded from its file) on this worker's matcher, with
    an earlier ``batch_steps.py`` and ``lexical.py`` (its BM25 for the batch, :class:`SharedBm25`) too where given."""
    shared = _load(f"lexical_{name}", lexical).SharedBm25 if lexical is not None else batch_bm25.SharedBm25
    lexical_module.SharedBm25 = shared  # type: ignore[attr-defined]  # where an earlier batch_rank.py imports it from
    try:
        earlier = _load(f"batch_rank_{name}", module)
    finally:
        del lexical_module.SharedBm25  # type: ignore[attr-defined]
    if steps is not None:
        earlier.batch_steps = _load(f"batch_steps_{name}", steps)
    earlier.SharedBm25 = shared
    return earlier.NightlyRanking(worker.matcher)


def _without_probes(worker: ListWorker) -> Any:
    """This code's ranking-only path with its own copy of ``matching/batch_bm25.py``, ``TOP_PROBES`` off."""
    earlier = _load("batch_rank_no_probes", ROOT / "matching" / "batch_rank.py")
    shared = _load("batch_bm25_no_probes", ROOT / "matching" / "batch_bm25.py")
    shared.TOP_PROBES = False
    earlier.SharedBm25 = shared.SharedBm25
    return earlier.NightlyRanking(worker.matcher)


def _arguments() -> argparse.Namespace:
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
    parser.add_argument("--before-lexical", type=Path, default=None, help="an earlier matching/lexical.py for it")
    parser.add_argument("--no-probes", action="store_true", help="also 'place now, no probes' (TOP_PROBES off)")
    parser.add_argument("--profile", action="store_true", help="then a pass of the first and last ways profiled")
    parser.add_argument("--without-mixed", action="store_true", help="no 'mixed' passes (with --before-module)")
    parser.add_argument(
        "--middle", action="store_true", help="also 'place half': this batch_rank.py with --before-steps' steps"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-place-s30-p.json")
    return parser.parse_args()


def _variants(args: argparse.Namespace, worker: ListWorker, place: Parts) -> list[tuple[str, Parts, Any]]:
    """The ways compared, in the order each round runs them."""
    now = worker.ranking
    earlier = (
        _earlier(worker, args.before_module, args.before_steps, args.before_lexical) if args.before_module else now
    )
    variants = [("mixed", _mixed(place), earlier), ("place", place, earlier)]
    if args.without_mixed and args.before_module:
        variants = variants[1:]
    if args.before_module and args.middle:
        half = _earlier(worker, ROOT / "matching" / "batch_rank.py", args.before_steps, name="half")
        variants.append(("place half", place, half))
    if args.no_probes:
        variants.append(("place now, no probes", place, _without_probes(worker)))
    if args.before_module:
        variants.append(("place now", place, now))
    return variants


def main() -> None:
    args = _arguments()
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
    warm: dict[tuple[str, int], Any] = {}
    cold = _pass(worker, place, warm)  # the embedding cache gains these owners' query vectors
    print("cold", json.dumps(cold), worker_start, file=sys.stderr, flush=True)  # noqa: T201
    now = worker.ranking
    variants = _variants(args, worker, place)
    passes: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in variants}
    identical = {name: True for name, _, _ in variants}
    for _ in range(args.rounds):
        for name, parts, ranking in variants:
            worker.ranking = ranking
            found: dict[tuple[str, int], Any] = {}
            passes[name].append(_pass(worker, parts, found))
            print(name, json.dumps(passes[name][-1]), file=sys.stderr, flush=True)  # noqa: T201
            identical[name] = identical[name] and found == warm
    profiles = {}
    if args.profile:
        for name, parts, ranking in variants[:: max(len(variants) - 1, 1)]:
            worker.ranking = ranking
            profiles[name] = _profiled(worker, parts)
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
        "before_lexical": str(args.before_lexical) if args.before_lexical else None,
        "profiles": profiles,
        "identical_lists": all(identical.values()),
        "identical_per_way": identical,
        "lists_compared": len(warm),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        **provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
