"""The finished night's removal of the night before (``training.batch_match._finish``) at national size, two ways.

Run: flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 10 .venv/bin/python
    bench/batch_match_finish_night.py --source <repaired national copy> [--prefill 20000000] [--tonight 2000000]
    [--out bench/results/national-batch-finish-night-s32.json]

The copy's database is copied to a temporary directory; a finished run of ``--prefill`` list rows (the night
before) and an unfinished one of ``--tonight`` rows (tonight's, stored before its end) are written
(``bench/batch_match_store_night.py``'s prefill, ids of the world), then the database file is copied once per way
and tonight's run finished in each copy, in turn: ``now``, by the application's engine (foreign keys on,
``secure_delete``, SQLite's default 2 MB page cache), and ``storing``, by the driver's storing engine
(:func:`training.batch_match.storing_engine`). Process CPU (user + system) and wall of the ``_finish`` call.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from bench._result import provenance, write_json
from bench.batch_match_store_night import _cpu, _prefill, _sys
from matching.batch_lists import BatchRun
from matching.domain import Client, Vacancy, VacancyStatus
from matching.store import make_engine
from training import batch_match

ROOT = Path(__file__).resolve().parents[1]


def _copy(source: Path, target: Path) -> None:
    target.mkdir()
    for suffix in ("", "-wal"):
        if (source / f"werkmatch.db{suffix}").exists():
            shutil.copy(source / f"werkmatch.db{suffix}", target / f"werkmatch.db{suffix}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--prefill", type=int, default=20_000_000)
    parser.add_argument("--tonight", type=int, default=2_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-finish-night-s32.json")
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    loads = [os.getloadavg()]
    spent = {}
    with tempfile.TemporaryDirectory(prefix="wm-B4-finish-", dir="/tmp") as tmp:
        filled = Path(tmp) / "filled"
        _copy(args.source, filled)
        engine = make_engine(f"sqlite:///{filled}/werkmatch.db")
        with Session(engine) as session:
            vacancies = np.array(
                session.exec(select(Vacancy.id).where(Vacancy.status == VacancyStatus.OPEN.value)).all(), np.int64
            )
            clients = np.array(session.exec(select(Client.id)).all(), np.int64)
        _prefill(engine, rng.permutation(vacancies), rng.permutation(clients), args.prefill, rng)
        tonight = _prefill(engine, rng.permutation(vacancies), rng.permutation(clients), args.tonight, rng)
        with Session(engine) as session:
            run = session.get(BatchRun, tonight)
            assert run is not None
            run.finished_at = None
            session.add(run)
            session.commit()
        engine.dispose()
        for name in ("now", "storing"):
            copy = Path(tmp) / name
            _copy(filled, copy)
            engine = make_engine(f"sqlite:///{copy}/werkmatch.db")
            used = batch_match.storing_engine(engine) if name == "storing" else engine
            cpu, sys_, wall = _cpu(), _sys(), time.perf_counter()
            batch_match._finish(used, tonight)
            spent[name] = {
                "cpu_s": round(_cpu() - cpu, 2),
                "sys_s": round(_sys() - sys_, 2),
                "wall_s": round(time.perf_counter() - wall, 2),
            }
            loads.append(os.getloadavg())
            if used is not engine:
                used.dispose()
            with Session(engine) as session:
                assert [found.id for found in session.exec(select(BatchRun))] == [tonight]
            engine.dispose()
            shutil.rmtree(copy)
            print(name, spent[name], flush=True)  # noqa: T201
    result = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "source": str(args.source),
        "prefill_rows": args.prefill,
        "tonight_rows": args.tonight,
        "finish": spent,
        "load_average": loads,
        **provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
