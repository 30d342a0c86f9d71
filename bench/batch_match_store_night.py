"""The driver's storing of a night's partitions at national size: where its CPU goes, and variants alternating.

Run: flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 10 .venv/bin/python
    bench/batch_match_store_night.py --source <repaired national copy> [--prefill 20000000] [--partitions 60]
    [--out bench/results/national-batch-store-night-s32.json]

The copy's database (only the database: werkmatch.db and its WAL) is copied to a temporary directory. A finished
run of ``--prefill`` list rows is written first (the night before, as a real night finds it: the list tables and
their indexes at full size; ids of the world's clients and vacancies), then ``--partitions`` partitions of each
side are stored per variant, alternating (a, b, c, a, b, c, …), each into its own unfinished run, as the driver
stores them: the lists serialised by a worker as JSON, decoded and stored by :func:`store_partition` in one
transaction each. Partitions are the world's own (:func:`matching.batch_lists.plan` of the open vacancies and of
the clients), their lists made of ids of the world (a vacancy's 50 clients, a client's 20 vacancies, random).
Process CPU (user + system) and wall per row, per variant; the variants are the driver's connection settings.
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
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench import batch_match_store_design as store_design
from bench._result import provenance, write_json
from matching.batch_lists import BatchRun, Planned, plan
from matching.domain import Client, Vacancy, VacancyStatus, utcnow
from matching.store import make_engine
from training import batch_match
from training.batch_match import CANDIDATES_TOP, PARTITION_IDS, VACANCIES_TOP

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _sys() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def _lists(part: Planned, items: np.ndarray, top: int, rng: np.random.Generator) -> str:
    out = []
    for owner in part.owners:
        picked = rng.choice(items, size=top, replace=False).tolist()
        scores = np.sort(rng.random(top))[::-1].tolist()
        out.append(
            {
                "owner": owner,
                "rankedBy": {"naam": "bench", "versie": "1"},
                "items": [
                    [ident, rank, score, int(score * 100)]
                    for rank, (ident, score) in enumerate(zip(picked, scores, strict=True), 1)
                ],
            }
        )
    return json.dumps(out)


def _prefill(engine: Engine, vacancies: np.ndarray, clients: np.ndarray, rows: int, rng: np.random.Generator) -> int:
    """A finished run of about ``rows`` list rows (2/3 candidate rows, 1/3 vacancy rows), foreign keys off."""
    with Session(engine) as session:
        run = BatchRun(kind="match", partition_ids=PARTITION_IDS, finished_at=utcnow())
        session.add(run)
        session.commit()
        run_id = int(run.id)  # type: ignore[arg-type]
    raw = engine.raw_connection()
    raw.execute("PRAGMA foreign_keys=OFF")
    cursor = raw.cursor()
    for table, owners, items, top, share in (
        ("nacht_kandidaat", vacancies, clients, CANDIDATES_TOP, 0.62),
        ("nacht_vacature", clients, vacancies, VACANCIES_TOP, 0.38),
    ):
        owner_col, item_col = ("vacancy_id", "client_id") if table == "nacht_kandidaat" else ("client_id", "vacancy_id")
        count = min(len(owners), int(rows * share) // top)
        for chunk in np.array_split(owners[:count], max(1, count // 5000)):
            batch = [
                (run_id, owner, ident, rank, 0.5, 50)
                for owner in chunk.tolist()
                for rank, ident in enumerate(rng.choice(items, size=top, replace=False).tolist(), 1)
            ]
            cursor.executemany(
                f"INSERT INTO {table} (run_id, {owner_col}, {item_col}, rank, ranking_score, score) "  # noqa: S608
                "VALUES (?,?,?,?,?,?)",
                batch,
            )
            raw.commit()
    raw.execute("PRAGMA foreign_keys=ON")
    raw.close()
    return run_id


def _pragmas(engine: Engine, pragmas: list[str]) -> None:
    @event.listens_for(engine, "connect")
    def _more(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()


VARIANTS: dict[str, list[str]] = {
    "now": [],
    "new": ["training.batch_match.storing_engine (its pragmas; foreign keys checked once per partition)"],
    "cache256": ["PRAGMA cache_size=-262144"],
    "cache256_mmap": ["PRAGMA cache_size=-262144", "PRAGMA mmap_size=4294967296"],
    "nofk": ["PRAGMA foreign_keys=OFF"],
    "ckpt": ["PRAGMA wal_autocheckpoint=100000"],
    "all": [
        "PRAGMA cache_size=-262144",
        "PRAGMA mmap_size=4294967296",
        "PRAGMA wal_autocheckpoint=100000",
    ],
}


def _rounds(
    engines: dict[str, Engine],
    runs: dict[str, int],
    parts: dict[str, list[Planned]],
    picks: dict[str, np.ndarray],
    ids: tuple[np.ndarray, np.ndarray],
    rounds: int,
    rng: np.random.Generator,
    loads: list[Any],
) -> dict[str, dict[str, float]]:
    """The variants in turn, a partition of each side each per round; CPU and wall of decoding and storing."""
    names = list(engines)
    vacancies, clients = ids
    spent = {name: {"cpu_s": 0.0, "sys_s": 0.0, "wall_s": 0.0, "rows": 0, "decode_cpu_s": 0.0} for name in names}
    for round_ in range(rounds):
        for k, name in enumerate(names):
            for side, items, top in (("vacatures", clients, CANDIDATES_TOP), ("klanten", vacancies, VACANCIES_TOP)):
                part = parts[side][picks[side][round_ * len(names) + k]]
                payload = _lists(part, items, top, rng)
                cpu, sys_, wall = _cpu(), _sys(), time.perf_counter()
                lists = json.loads(payload)
                spent[name]["decode_cpu_s"] += _cpu() - cpu
                spent[name]["rows"] += batch_match.store_partition(engines[name], runs[name], part, lists)
                spent[name]["cpu_s"] += _cpu() - cpu
                spent[name]["sys_s"] += _sys() - sys_
                spent[name]["wall_s"] += time.perf_counter() - wall
        if round_ % 10 == 0:
            loads.append(os.getloadavg())
    return spent


def _finish_timed(engine: Engine) -> dict[str, float]:
    """A new run finished by ``engine`` as up to 0010 (deleting the night before and the variants' runs row by row:
    ``bench/batch_match_store_design.py``'s ``shared_finish``): CPU and wall."""
    with Session(engine) as session:
        tonight = BatchRun(kind="match", partition_ids=PARTITION_IDS)
        session.add(tonight)
        session.commit()
        tonight_id = int(tonight.id)  # type: ignore[arg-type]
    start = {"cpu_s": _cpu(), "sys_s": _sys(), "wall_s": time.perf_counter()}
    store_design.shared_finish(engine, tonight_id)
    now = {"cpu_s": _cpu(), "sys_s": _sys(), "wall_s": time.perf_counter()}
    return {key: round(now[key] - start[key], 2) for key in start}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--prefill", type=int, default=20_000_000)
    parser.add_argument("--partitions", type=int, default=60)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-store-night-s32.json")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    names = args.variants.split(",")
    loads = [os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="wm-B4-store-", dir="/tmp") as tmp:
        for suffix in ("", "-wal"):
            source = args.source / f"werkmatch.db{suffix}"
            if source.exists():
                shutil.copy(source, Path(tmp) / f"werkmatch.db{suffix}")
        url = f"sqlite:///{tmp}/werkmatch.db"
        engine = make_engine(url)
        with Session(engine) as session:
            open_ = session.exec(
                select(Vacancy.id, Vacancy.postcode).where(Vacancy.status == VacancyStatus.OPEN.value)
            ).all()
            every = session.exec(select(Client.id, Client.postcode)).all()
        vacancies = np.array([ident for ident, _ in open_], np.int64)
        clients = np.array([ident for ident, _ in every], np.int64)
        start = time.perf_counter()
        _prefill(engine, rng.permutation(vacancies), rng.permutation(clients), args.prefill, rng)
        prefill_s = time.perf_counter() - start
        engine.dispose()
        engines = {}
        for name in names:
            engines[name] = make_engine(url)
            if name == "new":
                engines[name] = batch_match.storing_engine(engines[name])
            else:
                _pragmas(engines[name], VARIANTS[name])
        parts = {
            "vacatures": plan("vacatures", open_, PARTITION_IDS),  # type: ignore[arg-type]
            "klanten": plan("klanten", every, PARTITION_IDS),  # type: ignore[arg-type]
        }
        picks = {side: rng.permutation(len(found))[: args.partitions * len(names)] for side, found in parts.items()}
        runs = {}
        for name in names:
            with Session(engines[name]) as session:
                run = BatchRun(kind="match", partition_ids=PARTITION_IDS)
                session.add(run)
                session.commit()
                runs[name] = int(run.id)  # type: ignore[arg-type]
        spent = _rounds(engines, runs, parts, picks, (vacancies, clients), args.partitions, rng, loads)
        finish = _finish_timed(engines[names[0]])
        for found in engines.values():
            found.dispose()
    result = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "source": str(args.source),
        "prefill_rows": args.prefill,
        "prefill_s": round(prefill_s, 1),
        "variants": {name: VARIANTS[name] for name in names},
        "per_row_us": {
            name: {
                key: round(value[key] / value["rows"] * 1e6, 2) for key in ("cpu_s", "sys_s", "wall_s", "decode_cpu_s")
            }
            | {"rows": value["rows"]}
            for name, value in spent.items()
        },
        "finish_deleting_the_night_before": finish,
        "load_average": loads,
        **provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
