"""A night replacing the night before at national size: one pair of list tables for every night (migration 0010) against
a slot of tables per night (0011, :mod:`matching.batch_lists`): the driver's storing CPU per row and the finish.

Run: flock /tmp/quiet.gate flock -x /tmp/quiet.lock nice -n 12 .venv/bin/python bench/batch_match_finish_night.py
    [--prefill 20000000] [--tonight 10000000] [--partitions 40] [--out bench/results/national-batch-slots-s35-w2.json]

Two SQLite files in a temporary directory, one per layout, made by ``bench/batch_match_store_design.py``'s steps
(the application's batch tables, ``client`` and ``vacancy`` of 400,000 and 300,000 ids; rows written with every index
maintained row by row, owners in id order, items random): in both the night before (a finished run of ``--prefill``
rows in slot a, and its 700,000 owners in ``batch_owner``), and tonight so far (``--tonight`` rows): in ``shared`` in
slot a beside the night before, as 0010 keeps every night, in ``slots`` in slot b, alone, as 0011 does. Then
``--partitions`` partitions of each side are stored into a new run of each layout, alternating per partition (the same
owners and lists for both), by :func:`training.batch_match.store_partition` on each file's storing engine
(:func:`training.batch_match.storing_engine`): CPU per stored row. Then each layout's night is finished on its engine:
``shared``, the night before's rows deleted by run, as ``training.batch_match._finish`` did up to 0010
(``bench/batch_match_store_design.py``'s ``shared_finish``); ``slots``, ``training.batch_match._finish`` now (the
served pointer moved, slot a emptied as a whole, the night before's owners removed). Process CPU (user + system) and
wall. (A first version stored both layouts into one file: two engines writing one file in turn invalidate each other's
page cache at every partition, and the per-row numbers of that run are not the layouts'.)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session, func, select

from bench import batch_match_store_design as store_design
from bench._result import load_average, provenance, write_json
from matching.batch_lists import LIST_TABLES, BatchRun
from matching.store import make_engine
from training import batch_match

ROOT = Path(__file__).resolve().parents[1]
LAYOUTS = {
    "shared": "a",
    "slots": "b",
}  # where tonight's rows go: beside the night before (0010), or a slot of their own


def _owners(url: str, run_id: int) -> None:
    """The night before's computed owners (``batch_owner``: every vacancy and client, as a national night's), removed
    by either finish."""
    engine = make_engine(url)
    with engine.begin() as connection:
        for side, count in (("vacatures", store_design.VACANCIES), ("klanten", store_design.CLIENTS)):
            connection.exec_driver_sql(
                f"WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {count}) "  # noqa: S608
                f"INSERT INTO batch_owner (run_id, side, owner_id, first_id) SELECT {run_id}, '{side}', x, x FROM s"
            )
    engine.dispose()


def _rows_per_run(url: str) -> dict[str, dict[int, int]]:
    engine = make_engine(url)
    with Session(engine) as session:
        found = {
            table.__tablename__: dict(session.exec(select(table.run_id, func.count()).group_by(table.run_id)).all())  # type: ignore[attr-defined]
            for table in LIST_TABLES
        }
        found["batch_run"] = {run.id: run.slot for run in session.exec(select(BatchRun))}  # type: ignore[misc]
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prefill", type=int, default=20_000_000)
    parser.add_argument("--tonight", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-slots-s35-w2.json")
    args = parser.parse_args()
    result: dict[str, Any] = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "prefill_rows": args.prefill,
        "tonight_rows": args.tonight,
    }
    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="wm-W2-slots-", dir="/tmp") as tmp:
        urls = {layout: f"sqlite:///{tmp}/{layout}.db" for layout in LAYOUTS}
        engine = make_engine(urls["shared"])
        store_design._create(engine, "rowid")
        engine.dispose()
        start = time.perf_counter()
        before = store_design._prefill(urls["shared"], args.prefill, np.random.default_rng(7), "a")
        _owners(urls["shared"], before)
        engine = make_engine(urls["shared"])
        with engine.connect() as connection:  # the night before wholly in the file, then the file copied
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        for suffix in ("", "-wal"):
            if Path(f"{tmp}/shared.db{suffix}").exists():
                shutil.copy(f"{tmp}/shared.db{suffix}", f"{tmp}/slots.db{suffix}")
        under_way = {
            layout: store_design._prefill(urls[layout], args.tonight, np.random.default_rng(8), slot, finished=False)
            for layout, slot in LAYOUTS.items()
        }
        result["prefill_s"] = round(time.perf_counter() - start, 1)
        loads.append(load_average())
        print("prefilled", result["prefill_s"], flush=True)  # noqa: T201

        storing = {layout: batch_match.storing_engine(make_engine(url)) for layout, url in urls.items()}
        runs = {}
        for layout, slot in LAYOUTS.items():
            with Session(storing[layout]) as session:
                run = BatchRun(kind="match", partition_ids=batch_match.PARTITION_IDS, slot=slot)
                session.add(run)
                session.commit()
                runs[layout] = int(run.id)  # type: ignore[arg-type]
        spent = store_design._store_rounds(storing, runs, args.partitions, np.random.default_rng(10))
        result["store_per_row_us"] = {
            layout: {key: round(value[key] / value["rows"] * 1e6, 2) for key in ("cpu_s", "sys_s", "wall_s")}
            | {"rows": value["rows"]}
            for layout, value in spent.items()
        }
        loads.append(load_average())
        print("stored", result["store_per_row_us"], flush=True)  # noqa: T201

        finish = {
            "shared": store_design._timed(
                lambda: store_design.shared_finish(storing["shared"], runs["shared"], [before])
            ),
            "slots": store_design._timed(lambda: batch_match._finish(storing["slots"], runs["slots"])),
        }
        for engine in storing.values():
            engine.dispose()
        result["finish"] = finish
        result["rows_after_finish"] = {layout: _rows_per_run(url) for layout, url in urls.items()}
        result["runs"] = {"night_before": before, "under_way": under_way, "stored": runs}
        loads.append(load_average())
    result |= {"load_average": loads, **provenance()}
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
