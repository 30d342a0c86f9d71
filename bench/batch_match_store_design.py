"""The list tables' design at national size: storing a night and removing the night before, per design, alternating.

Run: flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python
    bench/batch_match_store_design.py [--prefill 20000000] [--partitions 30] [--designs rowid,without_rowid]
    [--out bench/results/national-batch-design-s33-b7.json]

Per design a SQLite file in a temporary directory holds the batch tables (:data:`matching.batch_lists.TABLES`, as
the application creates them; ``without_rowid``: the two list tables ``WITHOUT ROWID``, their primary key the
table itself, the same secondary indexes) and tables ``client`` and ``vacancy`` of 400,000 and 300,000 ids. A
finished night of ``--prefill`` list rows is written first (62 % candidate rows, 38 % vacancy rows, owners in id
order, items random, the secondary indexes maintained row by row as a night's storing leaves them), then
``--partitions`` partitions of each side are stored per design, alternating (a, b, a, b, …), by
:func:`training.batch_match.store_partition` on :func:`training.batch_match.storing_engine` (77 owners a
partition, a national night's mean; a vacancy's 50 candidates drawn from 2,000 clients of the partition, a
client's 20 vacancies from 300 of it: owners of one place share their reach). Then each design's night is
finished as up to migration 0010 (:func:`shared_finish`: the night before's rows deleted), and a copy of the first
design made right after its prefill has its list tables emptied by ``DELETE`` without ``WHERE`` (SQLite's truncation:
what a night's removal costs when a night has tables of its own). Process CPU (user + system) and wall.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import Session, SQLModel, col, delete, select

from bench._result import provenance, write_json
from matching.batch_lists import (
    SLOT_TABLES,
    TABLES,
    BatchOwner,
    BatchPartition,
    BatchRun,
    NachtKandidaat,
    NachtVacature,
    Planned,
)
from matching.domain import utcnow
from matching.store import make_engine
from training import batch_match
from training.batch_match import CANDIDATES_TOP, PARTITION_IDS, VACANCIES_TOP

ROOT = Path(__file__).resolve().parents[1]
CLIENTS, VACANCIES, OWNERS = 400_000, 300_000, 77
LISTS = (NachtKandidaat, NachtVacature)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _sys() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def _create(engine: Engine, design: str) -> None:
    """The batch tables as the application creates them; ``without_rowid``: the list tables WITHOUT ROWID."""
    others = [table.__table__ for table in TABLES if table not in LISTS]  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(engine, tables=others)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE client (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql("CREATE TABLE vacancy (id INTEGER PRIMARY KEY)")
        for table, count in (("client", CLIENTS), ("vacancy", VACANCIES)):
            connection.exec_driver_sql(
                f"WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {count}) "  # noqa: S608
                f"INSERT INTO {table} SELECT x FROM s"
            )
        for model in LISTS:
            table = model.__table__  # type: ignore[attr-defined]
            ddl = str(CreateTable(table).compile(engine)).strip()
            connection.exec_driver_sql(ddl + (" WITHOUT ROWID" if design == "without_rowid" else ""))
            for index in table.indexes:
                connection.exec_driver_sql(str(CreateIndex(index).compile(engine)))


def _prefill(url: str, rows: int, rng: np.random.Generator, slot: str = "a", finished: bool = True) -> int:
    """A run of about ``rows`` list rows in ``slot``'s tables (finished, or under way), foreign keys off, the
    indexes maintained per row."""
    engine = make_engine(url)
    with Session(engine) as session:
        run = BatchRun(kind="match", partition_ids=PARTITION_IDS, finished_at=utcnow() if finished else None, slot=slot)
        session.add(run)
        session.commit()
        run_id = int(run.id)  # type: ignore[arg-type]
    engine.dispose()
    raw = make_engine(url).raw_connection()
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("PRAGMA cache_size=-1048576")
    cursor = raw.cursor()
    candidates, options = (model.__tablename__ for model in SLOT_TABLES[slot])  # type: ignore[attr-defined]
    for table, owners, items, top, share in (
        (candidates, VACANCIES, CLIENTS, CANDIDATES_TOP, 0.62),
        (options, CLIENTS, VACANCIES, VACANCIES_TOP, 0.38),
    ):
        owner_col, item_col = ("vacancy_id", "client_id") if table == candidates else ("client_id", "vacancy_id")
        count = min(owners, int(rows * share) // top)
        for first in range(1, count + 1, 5000):
            chunk = np.arange(first, min(count + 1, first + 5000))
            owner = np.repeat(chunk, top).tolist()
            item = rng.integers(1, items + 1, len(chunk) * top).tolist()
            rank = np.tile(np.arange(1, top + 1), len(chunk)).tolist()
            batch = [(run_id, *found, 0.5, 50) for found in zip(owner, item, rank, strict=True)]
            cursor.executemany(
                f"INSERT INTO {table} (run_id, {owner_col}, {item_col}, rank, ranking_score, score) "  # noqa: S608
                "VALUES (?,?,?,?,?,?)",
                batch,
            )
            raw.commit()
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    return run_id


def _lists(part: Planned, pool: np.ndarray, top: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    out = []
    for owner in part.owners:
        picked = rng.choice(pool, size=top, replace=False).tolist()
        scores = np.sort(rng.random(top))[::-1].tolist()
        items = [
            [ident, rank, score, int(score * 100)]
            for rank, (ident, score) in enumerate(zip(picked, scores, strict=True), 1)
        ]
        out.append({"owner": owner, "rankedBy": {"naam": "bench", "versie": "1"}, "items": items})
    return out


def _new_run(engine: Engine) -> int:
    with Session(engine) as session:
        run = BatchRun(kind="match", partition_ids=PARTITION_IDS)
        session.add(run)
        session.commit()
        return int(run.id)  # type: ignore[arg-type]


def _store_rounds(engines: dict[str, Engine], runs: dict[str, int], partitions: int, rng: np.random.Generator) -> dict:
    spent = {name: {"cpu_s": 0.0, "sys_s": 0.0, "wall_s": 0.0, "rows": 0} for name in engines}
    owners = {"vacatures": rng.permutation(VACANCIES) + 1, "klanten": rng.permutation(CLIENTS) + 1}
    for round_ in range(partitions):
        for side, items, top in (("vacatures", CLIENTS, CANDIDATES_TOP), ("klanten", VACANCIES, VACANCIES_TOP)):
            # the same partition (owners, lists) for every design: the designs differ, nothing else
            members = tuple(int(o) for o in owners[side][round_ * OWNERS : (round_ + 1) * OWNERS])
            part = Planned(side, min(members), "bench", members)
            pool = rng.choice(items, size=2000 if side == "vacatures" else 300, replace=False) + 1
            lists = _lists(part, pool, top, rng)
            for name, engine in engines.items():
                cpu, sys_, wall = _cpu(), _sys(), time.perf_counter()
                spent[name]["rows"] += batch_match.store_partition(engine, runs[name], part, lists)
                spent[name]["cpu_s"] += _cpu() - cpu
                spent[name]["sys_s"] += _sys() - sys_
                spent[name]["wall_s"] += time.perf_counter() - wall
    return spent


def _timed(work: Any) -> dict[str, float]:
    cpu, sys_, wall = _cpu(), _sys(), time.perf_counter()
    work()
    return {
        "cpu_s": round(_cpu() - cpu, 2),
        "sys_s": round(_sys() - sys_, 2),
        "wall_s": round(time.perf_counter() - wall, 2),
    }


def shared_finish(engine: Engine, tonight: int, before: list[int] | None = None) -> None:
    """Run ``tonight`` finished as up to migration 0010, when every night's lists shared one pair of tables (what the
    benches before 0011 measured): 5e0069d's ``training.batch_match._finish``, statement for statement, the runs
    ``before`` (default, as there: every earlier one) deleted row by row, on ``engine``."""
    with Session(engine) as session:
        run = session.get_one(BatchRun, tonight)
        run.finished_at = utcnow()
        session.add(run)
        older = select(BatchRun.id).where(BatchRun.kind == "match", col(BatchRun.id) < tonight)
        if before is not None:
            older = older.where(col(BatchRun.id).in_(before))
        for table in (NachtKandidaat, NachtVacature, BatchOwner, BatchPartition):
            session.execute(delete(table).where(col(table.run_id).in_(older)))
        session.execute(delete(BatchRun).where(col(BatchRun.id).in_(older)))
        session.commit()


def _truncate(url: str) -> None:
    storing = batch_match.storing_engine(make_engine(url))
    with storing.begin() as connection:
        for model in LISTS:
            connection.exec_driver_sql(f"DELETE FROM {model.__tablename__}")  # type: ignore[attr-defined]  # noqa: S608
    storing.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefill", type=int, default=20_000_000)
    parser.add_argument("--partitions", type=int, default=30)
    parser.add_argument("--designs", default="rowid,without_rowid")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-store-design-s33-b7.json"
    )
    args = parser.parse_args()
    names = args.designs.split(",")
    loads = [os.getloadavg()]
    prefill_s, finish, truncate = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="wm-B7-design-", dir="/tmp") as tmp:
        urls = {name: f"sqlite:///{tmp}/{name}.db" for name in names}
        for name in names:
            engine = make_engine(urls[name])
            _create(engine, name)
            engine.dispose()
            start = time.perf_counter()
            _prefill(urls[name], args.prefill, np.random.default_rng(7))
            prefill_s[name] = round(time.perf_counter() - start, 1)
            print("prefilled", name, prefill_s[name], flush=True)  # noqa: T201
        shutil.copy(f"{tmp}/{names[0]}.db", f"{tmp}/truncated.db")
        loads.append(os.getloadavg())
        engines = {name: batch_match.storing_engine(make_engine(url)) for name, url in urls.items()}
        runs = {name: _new_run(engine) for name, engine in engines.items()}
        spent = _store_rounds(engines, runs, args.partitions, np.random.default_rng(8))
        loads.append(os.getloadavg())
        for name, engine in engines.items():
            finish[name] = _timed(lambda engine=engine, name=name: shared_finish(engine, runs[name]))
            print("finished", name, finish[name], flush=True)  # noqa: T201
            loads.append(os.getloadavg())
            engine.dispose()
        truncate[names[0]] = _timed(lambda: _truncate(f"sqlite:///{tmp}/truncated.db"))
        loads.append(os.getloadavg())
    result = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "prefill_rows": args.prefill,
        "prefill_s": prefill_s,
        "store_per_row_us": {
            name: {key: round(value[key] / value["rows"] * 1e6, 2) for key in ("cpu_s", "sys_s", "wall_s")}
            | {"rows": value["rows"]}
            for name, value in spent.items()
        },
        "finish_deleting_the_night_before": finish,
        "delete_without_where_the_night_before": truncate,
        "load_average": loads,
        **provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
