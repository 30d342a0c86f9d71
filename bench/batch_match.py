"""Lists per second, wall and CPU seconds per list of ``werkmatch batch match``, 1 and 2 Ray Data workers in one run.

Run: nice -n 10 .venv/bin/python bench/batch_match.py [--source /tmp/wm-demo] [--workers 1 2] [--limit N]
    [--before OLD.json] [--slice bench/results/national-batch-match-slice.json] [--out …] [--project-only]
Writes bench/results/national-batch-match.json (or --out); ``--before`` keeps an earlier result under
"before". The world (default: the demo world, 9,000 clients and 3,000 vacancies) is copied to a
temporary directory and migrated; each variant is a whole new run (the one before it finished, so
nothing is resumed), on one local Ray of this machine's CPUs (1 GB object store, no dashboard), one
CPU per worker; ``--limit N`` computes only the first N partitions of each side (a slice of a large
world: the national one, /tmp/wm-h10/bench-400000). The workers' CPU seconds per list (per side,
the worker's start not included) are measured in the workers. The projection for the national case
takes the CPU seconds per list of a national slice (``--slice``: an earlier run of this script with
``--source`` the national world) times the national lists, spread over this machine's 2 CPUs
ideally and at the gain this run measured from the second worker; the rows stored at this run's driver
storing wall per row, or (``--store``, ``bench/batch_match_store.py``'s JSON) at its CPU per row. The
machine is shared: the load average before and after each variant is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._result import provenance, write_json
from matching.settings import Settings
from matching.store import make_engine
from training.batch_embed import RaySizing
from training.batch_match import match_bestand

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
NATIONAL_OPEN_VACANCIES = 254_973  # bench/results/national-search.json, openVacancies
NATIONAL_CLIENTS = 400_000


def _variant(settings: Settings, workers: int, limit: int | None) -> dict[str, object]:
    engine = make_engine(settings.resolved_database_url)
    load_before = os.getloadavg()
    report = match_bestand(settings, engine, workers=workers, sizing=RaySizing(), limit=limit)
    engine.dispose()
    lists = report.vacancy_lists + report.client_lists
    return {
        **report.to_json(),
        "lists_per_s": round(lists / report.seconds, 2),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def _projection(variants: list[dict], national: dict, store: dict | None = None) -> dict[str, object]:
    """National wall on this machine: the national lists at a national slice's CPU seconds per list, each
    worker's start (it loads the national matcher), the rows stored at this run's cost per row, and the
    driver's preparation; over 2 CPUs ideally and at the gain this run measured from the extra workers."""
    one = next(v for v in variants if v["workers"] == 1)
    widest = max(variants, key=lambda v: v["workers"])
    gain = widest["lists_per_s"] / one["lists_per_s"]  # what the extra workers bought here
    sliced = national["variants"][0]
    measured = sliced["cpu_s_per_list"]
    cpu_s = NATIONAL_OPEN_VACANCIES * measured["vacatures"] + NATIONAL_CLIENTS * measured["klanten"]
    rows = NATIONAL_OPEN_VACANCIES * 50 + NATIONAL_CLIENTS * 20  # at most: a list can be shorter
    store_s = rows * one["store_seconds"] / one["rows"]
    if store is not None:  # the storing's CPU per row (bench/batch_match_store.py): on 2 CPUs it is CPU it takes
        store_s = rows * store["per_row"]["now"]["cpu_s"]
    fixed_s = sliced["prepare_seconds"] or 0.0  # the driver's preparation before Ray starts
    start_s = national["worker_start"]["cpu_s"]  # each worker's, CPU
    workers = widest["workers"]
    return {
        "national_open_vacancies": NATIONAL_OPEN_VACANCIES,
        "national_clients": NATIONAL_CLIENTS,
        "slice": {
            "command": national["command"],
            "cpu_s_per_list": measured,
            "prepare_seconds": fixed_s,
            "worker_start_cpu_s": start_s,
        },
        "worker_cpu_hours": round(cpu_s / 3600, 2),
        "rows_at_most": rows,
        "driver_store_s_per_row_here": one["store_seconds"] / one["rows"],
        "driver_store_cpu_s_per_row": store["per_row"]["now"]["cpu_s"] if store else None,
        "driver_store_from": store["command"] if store else "this run's driver storing wall per row",
        "driver_store_minutes": round(store_s / 60, 1),
        "gain_from_workers_here": round(gain, 2),
        "wall_minutes_2_cpus_ideal": round((fixed_s + (2 * start_s + cpu_s + store_s) / 2) / 60, 1),
        f"wall_minutes_{workers}_workers_at_measured_gain": round((fixed_s + start_s + cpu_s / gain + store_s) / 60, 1),
        "note": "worker CPU seconds per list as measured in one process on a national slice, warm; each worker's "
        "start (CPU) counted once per worker (ideal) or once (at the measured gain); Ray's own start not in it; "
        "a night whose index files are behind the database adds the driver's index sync and the workers' restart",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, default=Path("/tmp/wm-demo"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--before", type=Path, default=None)
    parser.add_argument("--slice", type=Path, default=None)
    parser.add_argument("--store", type=Path, default=None, help="bench/batch_match_store.py's JSON: storing CPU/row")
    parser.add_argument("--project-only", action="store_true", help="add --slice's projection to --out; run nothing")
    parser.add_argument("--out", type=Path, default=RESULTS / "national-batch-match.json")
    args = parser.parse_args()
    if args.project_only:
        result = json.loads(args.out.read_text())
        store = json.loads(args.store.read_text()) if args.store else None
        result["projection"] = _projection(result["variants"], json.loads(args.slice.read_text()), store)
        result["projection"]["added_by"] = " ".join(["nice -n 10 .venv/bin/python", *sys.argv])
        write_json(args.out, result)
        return
    with tempfile.TemporaryDirectory(prefix="wm-batch-match-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(args.source, data, ignore=shutil.ignore_patterns("index.lock", "batch.lock"))
        os.environ["WERKMATCH_DATA_DIR"] = str(data)
        werkmatch = str(Path(sys.executable).parent / "werkmatch")
        subprocess.run([werkmatch, "db", "upgrade", "--json"], check=True, capture_output=True)
        variants = [_variant(Settings(), workers, args.limit) for workers in args.workers]
    result = {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "source": str(args.source),
        "variants": variants,
        "projection": _projection(variants, json.loads(args.slice.read_text())) if args.slice else None,
        **provenance(),
        **({"before": json.loads(args.before.read_text())} if args.before else {}),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
