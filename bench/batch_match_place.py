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
ids are random with respect to place; ``--without-mixed``: not run). With ``--before-module``, ``--before-steps``,
``--before-bm25``, ``--before-lexical`` or ``--before-pipeline`` (earlier ``matching/batch_rank.py``,
``batch_steps.py``, ``batch_bm25.py``, ``lexical.py``, ``pipeline.py``) those two run with the earlier files
(every module of that chain loaded again, each reading the earlier ones before it) and ``place now`` with this
code; ``--also NAME=DIR`` (repeatable): also the way NAME, the chain with the files DIR holds (others this code's: a
variant to try, such as a ``lexical.py`` with another ``SPLIT``). Reported per way and round: process CPU seconds
per list per side and the load average; and whether every owner's list is the same every way. ``--profile``: after
the rounds, one more pass of every way under cProfile, per side the functions that take the most CPU (own and
cumulative) with their share of the side's total. ``--abba``: every second round runs the ways in reverse order.
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


CHAIN = ("pipeline", "lexical", "batch_bm25", "batch_steps", "batch_rank")  # each imports the ones before it


def _earlier(worker: ListWorker, files: dict[str, Path | None]) -> Any:
    """The ranking-only path of earlier files (``files`` by module of :data:`CHAIN`; a module without one: this
    code's file), every module of the chain loaded again from its file under its own name while the next one
    imports it, so each earlier module reads the earlier ones before it: ``from matching.x import y`` reads
    ``sys.modules``, ``from matching import x`` the package's attribute (until session 40 only the first was set,
    so an earlier ``batch_rank.py`` ran with this code's ``batch_steps`` and ``pipeline``)."""
    import matching

    held = {module: sys.modules[f"matching.{module}"] for module in CHAIN}
    try:
        for module in CHAIN:
            spec = importlib.util.spec_from_file_location(
                f"matching.{module}", files.get(module) or ROOT / "matching" / f"{module}.py"
            )
            assert spec is not None and spec.loader is not None
            earlier = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = earlier  # what the next one imports; its dataclasses look their module up
            setattr(matching, module, earlier)
            spec.loader.exec_module(earlier)
        return sys.modules["matching.batch_rank"].NightlyRanking(worker.matcher)
    finally:
        sys.modules.update({f"matching.{module}": found for module, found in held.items()})
        for module, found in held.items():
            setattr(matching, module, found)


def _in(directory: Path, module: str) -> Path | None:
    """``directory``'s file of ``module``, None where it has none."""
    path = directory / f"{module}.py"
    return path if path.exists() else None


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partitions", type=int, default=30, help="partitions per side, drawn from the plan")
    parser.add_argument("--rounds", type=int, default=3, help="passes of every way, alternating")
    parser.add_argument("--seed", type=int, default=30)
    for module, name in zip(CHAIN, ("pipeline", "lexical", "bm25", "steps", "module"), strict=True):
        parser.add_argument(
            f"--before-{name}",
            dest=module,
            type=Path,
            default=None,
            help=f"an earlier matching/{module}.py: 'mixed' and 'place' run with the earlier files, 'place now' "
            "with this code",
        )
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="also the way NAME: the chain's files found in DIR (lexical.py, batch_bm25.py, ...), else this code's",
    )
    parser.add_argument("--profile", action="store_true", help="then a pass of every way profiled")
    parser.add_argument("--without-mixed", action="store_true", help="no 'mixed' passes")
    parser.add_argument(
        "--abba",
        action="store_true",
        help="every second round runs the ways in reverse order (ABBA...), so neither way always runs first",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-place-s30-p.json")
    return parser.parse_args()


def _variants(args: argparse.Namespace, worker: ListWorker, place: Parts) -> list[tuple[str, Parts, Any]]:
    """The ways compared, in the order each round runs them."""
    now = worker.ranking
    files = {module: getattr(args, module) for module in CHAIN}
    before = any(files.values())
    earlier = _earlier(worker, files) if before else now
    variants = [("mixed", _mixed(place), earlier), ("place", place, earlier)]
    if args.without_mixed:
        variants = variants[1:]
    for also in args.also:
        name, found = also.split("=", 1)
        variants.append((name, place, _earlier(worker, {module: _in(Path(found), module) for module in CHAIN})))
    if before:
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
    for round_number in range(args.rounds):
        for name, parts, ranking in variants[::-1] if args.abba and round_number % 2 else variants:
            worker.ranking = ranking
            found: dict[tuple[str, int], Any] = {}
            passes[name].append(_pass(worker, parts, found))
            print(name, json.dumps(passes[name][-1]), file=sys.stderr, flush=True)  # noqa: T201
            identical[name] = identical[name] and found == warm
    profiles = {}
    if args.profile:
        for name, parts, ranking in variants:
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
        "before": {module: str(getattr(args, module)) for module in CHAIN if getattr(args, module)},
        "also": args.also,
        "abba": args.abba,
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
