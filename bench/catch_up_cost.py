"""What a search's catch-up costs, counting every row (before) and reading the change marks (after).

Every search first catches up with saved changes (:meth:`matching.index_sync.IndexSync.catch_up`).
It used to count each side (``COUNT(*)``) to notice deletions; it now reads the database's change
marks (:class:`matching.store.RecordChange`) and counts a side only when its mark moved. This opens a
data directory (on a COPY: the matcher writes what it lacks, such as the marks' table of a world made
before it), syncs, and times the catch-up both ways in turn, each round: ``before`` forgets the
marks, so that catch-up counts both sides as every search did; ``after`` is a plain catch-up with
nothing changed. Also the bare statements: each ``COUNT(*)`` and the marks' query::

    cp -a /tmp/wm-nat /tmp/wm-a-nat
    WERKMATCH_DATA_DIR=/tmp/wm-a-nat/bench-400000 flock /tmp/bigmem.lock /tmp/heavy \\
        .venv/bin/python bench/catch_up_cost.py --rounds 60 --out bench/results/national-catch-up.json

With ``--database FILE`` only the bare statements are timed, on a SQLite file opened read-only (a
world being built or measured by someone else may be read this way, never written)::

    .venv/bin/python bench/catch_up_cost.py --database /tmp/wm-nat/bench-400000/werkmatch.db --rounds 40
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import time
from pathlib import Path

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, select

from matching.domain import Client, Vacancy
from matching.index_sync import SIDES
from matching.matcher import Matcher
from matching.settings import Settings
from matching.store import change_marks


def _ms(samples: list[float]) -> dict[str, float]:
    values = np.array(samples) * 1000
    return {
        "p50": round(float(np.percentile(values, 50)), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
        "mean": round(float(values.mean()), 2),
    }


def _timed(call) -> float:  # noqa: ANN001
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


STATEMENTS = {
    "countClients": "SELECT count(*) FROM client",
    "countVacancies": "SELECT count(*) FROM vacancy",
    "marks": "SELECT side, count(*), max(id), sum(n) FROM record_change GROUP BY side",
}


def statements_only(database: Path, rounds: int) -> dict:
    """Each catch-up statement timed in turn on a read-only SQLite connection (no matcher, nothing written)."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    samples: dict[str, list[float]] = {key: [] for key in STATEMENTS}
    load = [os.getloadavg()[0]]
    for _ in range(rounds):
        for key, statement in STATEMENTS.items():
            samples[key].append(_timed(lambda q=statement: connection.execute(q).fetchall()))
    load.append(os.getloadavg()[0])
    records = {
        "clients": connection.execute(STATEMENTS["countClients"]).fetchone()[0],
        "vacancies": connection.execute(STATEMENTS["countVacancies"]).fetchone()[0],
    }
    connection.close()
    return {
        "database": str(database),
        "records": records,
        "rounds": rounds,
        "statementMs": {key: _ms(values) for key, values in samples.items()},
        "loadAverage1m": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--database", type=Path, help="only the statements, on this SQLite file (read-only)")
    args = parser.parse_args()
    if args.database:
        text = json.dumps(statements_only(args.database, args.rounds), indent=2)
        print(text)
        if args.out:
            args.out.write_text(text + "\n")
        return
    settings = Settings()
    matcher = Matcher(settings)
    started = time.perf_counter()
    matcher.sync()
    index = matcher.index
    index.catch_up()  # the marks as the first search leaves them
    samples: dict[str, list[float]] = {
        "before": [],
        "after": [],
        "countClients": [],
        "countVacancies": [],
        "marks": [],
    }
    load = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        index._marks = dict.fromkeys(SIDES)  # as before: both sides counted
        samples["before"].append(_timed(index.catch_up))
        samples["after"].append(_timed(index.catch_up))
        with Session(index.engine) as session:
            samples["marks"].append(_timed(lambda s=session: change_marks(s)))
            for key, table in (("countClients", Client), ("countVacancies", Vacancy)):
                count = select(func.count()).select_from(table)
                samples[key].append(_timed(lambda s=session, q=count: s.exec(q).one()))
    load.append(os.getloadavg()[0])
    result = {
        "dataDir": str(settings.data_dir),
        "records": {side: index.sides[side].count for side in SIDES},
        "rounds": args.rounds,
        "syncSeconds": round(time.perf_counter() - started, 1),
        "catchUpMs": {key: _ms(samples[key]) for key in ("before", "after")},
        "statementMs": {key: _ms(samples[key]) for key in ("countClients", "countVacancies", "marks")},
        "loadAverage1m": load,
    }
    matcher.close()
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
