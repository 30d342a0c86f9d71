"""A nightly batch worker's start (:class:`training.batch_match.ListWorker`): reading every record, or taking the
prepared indexes (:mod:`matching.prepared_snapshot`) the first worker wrote. One start per process.

Run, each in its own process, on a migrated copy of a world (the national one: under ``flock /tmp/bigmem.lock``):
    WERKMATCH_DATA_DIR=<copy> nice -n 10 .venv/bin/python bench/batch_worker_start.py --mode records --out A.json
    WERKMATCH_DATA_DIR=<copy> nice -n 10 .venv/bin/python bench/batch_worker_start.py --mode bestand --out B.json
    WERKMATCH_DATA_DIR=<copy> nice -n 10 .venv/bin/python bench/batch_worker_start.py --mode changed --touch 0.01 …
``records``: the file removed first, the worker reads every record and writes the file (the first worker of a
night without a current file; what every worker did before); the file's writing is then timed once more on its
own (to a temporary file) so ``records`` minus that is the start before this change. ``bestand``: the worker
takes the file (every other worker, every later night). ``changed``: first ``--touch`` of the clients and of the
vacancies get a new ``updated_at`` (a day's changes: the worker takes the file, catches up with them and
writes the file again). Process CPU seconds and wall of the start, the peak resident memory (``ru_maxrss``),
the load average before and after; ``--lists-out`` writes the lists of the first ``--partitions`` partitions
of each side (compare two with ``--compare A B``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from matching import prepared_snapshot
from matching.settings import Settings
from matching.store import make_engine
from training.batch_match import PARTITION_IDS, ListWorker

ROOT = Path(__file__).resolve().parents[1]


def _touch(settings: Settings, share: float) -> dict[str, int]:
    """A new ``updated_at`` for the first ``share`` of each side's rows (by id): a day's changes, as the catch-up
    sees them. Returns the rows touched per side."""
    engine = make_engine(settings.resolved_database_url)
    touched = {}
    with engine.begin() as connection:
        for side, table in (("clients", "client"), ("vacancies", "vacancy")):
            total = int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
            rows = int(total * share)
            now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
            sql = f"UPDATE {table} SET updated_at = :now WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT :n)"  # noqa: S608
            touched[side] = connection.execute(text(sql), {"now": now, "n": rows}).rowcount
    engine.dispose()
    return touched


def _start(settings: Settings) -> tuple[ListWorker, dict[str, object]]:
    cpu, wall, load = time.process_time(), time.perf_counter(), os.getloadavg()
    worker = ListWorker(settings)
    return worker, {
        "prepared_from": worker.prepared_from,
        "cpu_s": round(time.process_time() - cpu, 2),
        "wall_s": round(time.perf_counter() - wall, 2),
        "load_average_before_after": [load, os.getloadavg()],
    }


def _save_alone(worker: ListWorker) -> dict[str, object]:
    """The file's writing on its own: what a ``records`` start spends beyond the start before this change."""
    with tempfile.TemporaryDirectory(dir=worker.matcher.settings.index_dir) as tmp:
        cpu, wall = time.process_time(), time.perf_counter()
        size = prepared_snapshot.save(worker.matcher.index, Path(tmp) / "prepared.npz")
        return {
            "cpu_s": round(time.process_time() - cpu, 2),
            "wall_s": round(time.perf_counter() - wall, 2),
            "mb": round(size / 1e6),
        }


def _lists(worker: ListWorker, partitions: int) -> list:
    return [
        [side, *item.values()]
        for side in ("vacatures", "klanten")
        for first in range(0, partitions * PARTITION_IDS, PARTITION_IDS)
        for item in worker.partition_lists(side, first, PARTITION_IDS)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("records", "bestand", "changed"), default="bestand")
    parser.add_argument("--touch", type=float, default=0.01, help="--mode changed: the share of each side touched")
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--out", type=Path, required=False)
    parser.add_argument("--lists-out", type=Path, default=None)
    parser.add_argument("--compare", type=Path, nargs=2, default=None)
    args = parser.parse_args()
    if args.compare:
        first, second = (json.loads(path.read_text()) for path in args.compare)
        print(json.dumps({"lists": [len(first), len(second)], "identical": first == second}))  # noqa: T201
        return
    settings = Settings()
    path = prepared_snapshot.snapshot_path(settings)
    result: dict[str, object] = {"command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]), "mode": args.mode}
    if args.mode == "records":
        path.unlink(missing_ok=True)
    elif args.mode == "changed":
        result["touched"] = _touch(settings, args.touch)
    stamp = path.stat().st_mtime_ns if path.exists() else None
    worker, result["worker_start"] = _start(settings)
    result["file_written"] = path.exists() and path.stat().st_mtime_ns != stamp
    result["file_mb"] = round(path.stat().st_size / 1e6) if path.exists() else None
    result["peak_rss_mb_after_start"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if args.mode == "records":
        result["save_alone"] = _save_alone(worker)
    if args.lists_out:
        found = _lists(worker, args.partitions)
        args.lists_out.write_text(json.dumps(found))
        result["lists"] = len(found)
    result["git"] = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
