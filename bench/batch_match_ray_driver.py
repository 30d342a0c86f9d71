"""The driver's CPU in the nightly batch's Ray Data pipeline (``training.batch_match._run_lists``), per partition.

Run: flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python
    bench/batch_match_ray_driver.py [--partitions 600] [--rounds 3] [--per-block 1,4,8] [--sleep 0.3]
    [--out bench/results/national-batch-ray-s33-b7.json]

Ray is started as the batch starts it (:func:`training.batch_embed.start_ray`, this machine's CPUs). Each variant
(partitions per Ray Data block, :data:`training.batch_match.PARTITIONS_PER_BLOCK`) runs ``_run_lists`` itself over
``--partitions`` partitions, the variants alternating round by round (a, b, c, a, b, c, …), with two changes: a
stub in place of :class:`training.batch_match.ListWorker` returns lists of a night's shape (per owner a vacancy's
50 candidates or a client's 20 vacancies, as ListWorker's JSON) without computing them, and the driver's
``store_partition`` makes the partition's rows as the real one does but writes nothing
(``bench/batch_match_store_night.py`` measures the storing). Partitions: 61 % clients', 39 % vacancies' (a
national night's owners), 55-100 owners each (a national night's 8,497 partitions hold 77 on average). With
``--sleep`` a stub worker also waits that long per partition, so that the pipeline runs as long as a night's per
partition (Ray Data's executor loop in the driver costs CPU per second of wall as well as per block). A variant
named with a trailing ``q`` (``8q``) runs with :data:`QUIET`'s DataContext fields (Ray Data's stats and metrics
collection off), the others with Ray Data's defaults.

Measured per variant, per partition: the driver process's CPU (user + system, every thread: Ray Data's executor
runs in a thread of it) and that of Ray's other processes (raylet, GCS, …: every descendant of the driver that is
not one of the variant's actors), both on the two CPUs the workers compute on in a real night.
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
import ray
from tqdm import tqdm

from bench._result import provenance, write_json
from matching.batch_lists import BatchRun, Planned
from training import batch_match
from training.batch_embed import RaySizing, start_ray

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


class StubWorker:
    """ListWorker's output without its work: per owner a list of ``top`` random ids and falling scores."""

    def __init__(self, settings: Any) -> None:
        self.rng = np.random.default_rng(os.getpid())
        self.sleep = float(os.environ.get("BENCH_PARTITION_SLEEP", "0"))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        lists = []
        for side, owners in zip(batch["side"], batch["owners"], strict=True):
            top = batch_match.CANDIDATES_TOP if str(side) == "vacatures" else batch_match.VACANCIES_TOP
            found = []
            for owner in str(owners).split(","):
                idents = self.rng.integers(1, 400_000, top).tolist()
                scores = np.sort(self.rng.random(top))[::-1].tolist()
                ranked = enumerate(zip(idents, scores, strict=True), 1)
                items = [[ident, rank, score, int(score * 100)] for rank, (ident, score) in ranked]
                found.append({"owner": int(owner), "rankedBy": {"naam": "bench", "versie": "1"}, "items": items})
            lists.append(json.dumps(found))
            time.sleep(self.sleep)  # a real partition's wall (the driver's executor loop runs meanwhile)
        count = len(lists)
        made = {"lists": np.array(lists, dtype=object), "cpu": np.zeros(count), "missing": np.zeros(count, np.int64)}
        return {**batch, **made, "pid": np.full(count, os.getpid()), "prepared": np.full(count, "bench")}


def _rows_only(engine: Any, run_id: int, part: Planned, lists: list[dict[str, Any]]) -> int:
    """``store_partition``'s rows, made as it makes them, not written."""
    rows = [
        (run_id, found["owner"], ident, rank, score, shown)
        for found in lists
        for ident, rank, score, shown in found["items"]
    ]
    return len(rows)


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _descendants() -> dict[int, float]:
    """CPU seconds (user + system) of every live descendant process of this one, by pid (from /proc)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / TICK
    found, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in found}
        found |= frontier
    return {pid: cpu[pid] for pid in found}


def _planned(count: int, rng: np.random.Generator) -> list[Planned]:
    parts, used = [], set()
    for _ in range(count):
        side = "klanten" if rng.random() < 0.61 else "vacatures"
        owners = rng.choice(10_000_000, size=int(rng.integers(55, 101)), replace=False)
        owners = tuple(int(owner) for owner in owners if int(owner) not in used)
        used.update(owners)
        parts.append(Planned(side, min(owners), "bench", owners))
    return parts


QUIET = {  # DataContext fields set by a variant named with a trailing "q" (e.g. "8q"); the others get the defaults
    "enable_stats_summary_collection": False,
    "enable_per_node_metrics": False,
    "enable_get_object_locations_for_metrics": False,
    "memory_usage_poll_interval_s": None,
}


def _context(quiet: bool, defaults: dict[str, Any]) -> None:
    context = ray.data.DataContext.get_current()
    for name, value in (QUIET if quiet else defaults).items():
        setattr(context, name, value)


def _variant(per_block: int, todo: list[Planned], workers: int) -> dict[str, float]:
    batch_match.PARTITIONS_PER_BLOCK = per_block
    run = BatchRun(id=1, kind="match", partition_ids=100)
    done = batch_match._Computed({"vacatures": 0, "klanten": 0}, 0, {"vacatures": 0.0, "klanten": 0.0}, 0.0, [])
    actors: set[int] = set()
    before, others, wall = _cpu_self(), _descendants(), time.perf_counter()
    last: dict[int, float] = {}

    def seen(row: dict[str, Any]) -> None:
        actors.add(int(row["pid"]))

    with tqdm(disable=True) as bar:
        batch_match._run_lists(None, None, run, todo, workers, bar, seen, done)  # type: ignore[arg-type]
        last = _descendants()
    driver = _cpu_self() - before
    ray_other = sum(cpu - others.get(pid, 0.0) for pid, cpu in last.items() if pid not in actors)
    assert done.rows > 0 and sum(done.lists.values()) == sum(len(part.owners) for part in todo)
    return {
        "driver_cpu_s": driver,
        "ray_other_cpu_s": ray_other,
        "wall_s": time.perf_counter() - wall,
        "partitions": len(todo),
        "rows": done.rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partitions", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-block", default="1,4,8")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds a stub worker waits per partition")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-ray-s33-b7.json")
    args = parser.parse_args()
    rng = np.random.default_rng(33)
    os.environ["BENCH_PARTITION_SLEEP"] = str(args.sleep)  # Ray's workers inherit the driver's environment
    batch_match.ListWorker = StubWorker  # type: ignore[misc,assignment]
    batch_match.store_partition = _rows_only  # type: ignore[assignment]
    start_ray(RaySizing())
    ray.data.DataContext.get_current().enable_progress_bars = False
    variants = args.per_block.split(",")
    spent: dict[str, dict[str, float]] = {k: {} for k in variants}
    loads = [os.getloadavg()]
    context = ray.data.DataContext.get_current()
    defaults = {name: getattr(context, name) for name in QUIET}
    _variant(int(variants[0].rstrip("q")), _planned(20, rng), args.workers)  # Ray Data's first use not counted
    for round_ in range(args.rounds):
        for per_block in variants:
            _context(per_block.endswith("q"), defaults)
            found = _variant(int(per_block.rstrip("q")), _planned(args.partitions, rng), args.workers)
            for key, value in found.items():
                spent[per_block][key] = spent[per_block].get(key, 0.0) + value
            print(round_, per_block, {key: round(value, 2) for key, value in found.items()}, flush=True)  # noqa: T201
        loads.append(os.getloadavg())
    ray.shutdown()
    result = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "stub_sleep_s_per_partition": args.sleep,
        "quiet_context": {name: str(value) for name, value in QUIET.items()},
        "per_partition_ms": {
            str(k): {
                key: round(value[key] / value["partitions"] * 1e3, 3)
                for key in ("driver_cpu_s", "ray_other_cpu_s", "wall_s")
            }
            | {"partitions": int(value["partitions"]), "rows": int(value["rows"])}
            for k, value in spent.items()
        },
        "night_8497_partitions_cpu_s": {
            str(k): round((value["driver_cpu_s"] + value["ray_other_cpu_s"]) / value["partitions"] * 8497, 1)
            for k, value in spent.items()
        },
        "cpu_s_per_wall_s": {
            k: round((value["driver_cpu_s"] + value["ray_other_cpu_s"]) / value["wall_s"], 4)
            for k, value in spent.items()
        },
        "load_average": loads,
        **provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
