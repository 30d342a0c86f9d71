"""The driver's storing of nightly lists, per row: Core's ``executemany`` (before) against the driver's own (now).

Run: /tmp/heavy .venv/bin/python bench/batch_match_store.py [--source /tmp/wm-base] [--partitions 40]
    [--out bench/results/national-batch-match-store.json]
The world is copied to a temporary directory and migrated; a batch run is made and ``--partitions``
partitions of each side are stored each way, alternating (before, now, before, now, …; a new run each), with lists
of the world's real ids (every open vacancy's 50 clients, every client's 20 vacancies: the national
list lengths) through :func:`training.batch_match.store_partition` (now) and through the previous code
(Core's ``executemany`` of one dict per row, kept here). Process CPU and wall seconds per stored row,
the driver's side only (the database is in this process: SQLite). Nothing of the world is changed but the
copy's batch tables.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench._result import provenance, write_json
from matching.batch_lists import BatchPartition, BatchRun, NachtKandidaat, NachtVacature, Planned
from matching.domain import Client, Vacancy
from matching.settings import Settings
from matching.store import make_engine
from training.batch_match import CANDIDATES_TOP, PARTITION_IDS, VACANCIES_TOP, store_partition

ROOT = Path(__file__).resolve().parents[1]


def store_core(engine: Engine, run_id: int, side: str, first: int, lists: list[dict[str, Any]]) -> int:
    """The storing before (as of commit 1f5cb4d): one dict per row, Core's ``executemany``."""
    table = NachtKandidaat if side == "vacatures" else NachtVacature
    owner, item = ("vacancy_id", "client_id") if side == "vacatures" else ("client_id", "vacancy_id")
    rows = [
        {"run_id": run_id, owner: found["owner"], item: ident, "rank": rank, "ranking_score": score, "score": shown}
        for found in lists
        for ident, rank, score, shown in found["items"]
    ]
    ranked_by = lists[0]["rankedBy"] if lists else {}
    with Session(engine) as session:
        if session.get(BatchPartition, (run_id, side, first)) is not None:
            return 0
        session.add(BatchPartition(run_id=run_id, side=side, first_id=first, lists=len(lists), ranked_by=ranked_by))
        session.flush()
        if rows:
            session.connection().execute(insert(table.__table__), rows)  # type: ignore[attr-defined]
        session.commit()
    return len(rows)


def _lists(owners: np.ndarray, items: np.ndarray, top: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    out = []
    for owner in owners.tolist():
        picked = rng.choice(items, size=min(top, len(items)), replace=False).tolist()
        scores = np.sort(rng.random(len(picked)))[::-1].round(4).tolist()
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
    return out


def _store_now(engine: Engine, run_id: int, side: str, first: int, lists: list[dict[str, Any]]) -> int:
    """:func:`store_partition` of a partition planned with the lists' owners (their rows in ``batch_owner`` too)."""
    return store_partition(engine, run_id, Planned(side, first, "bench", tuple(item["owner"] for item in lists)), lists)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, default=Path("/tmp/wm-base"))
    parser.add_argument("--partitions", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-match-store.json")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="wm-batch-store-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(args.source, data, ignore=shutil.ignore_patterns("index.lock", "batch.lock", "index"))
        os.environ["WERKMATCH_DATA_DIR"] = str(data)
        werkmatch = str(Path(sys.executable).parent / "werkmatch")
        subprocess.run([werkmatch, "db", "upgrade", "--json"], check=True, capture_output=True)
        engine = make_engine(Settings().resolved_database_url)
        with Session(engine) as session:
            vacancies = np.array(session.exec(select(Vacancy.id)).scalars().all(), np.int64)  # type: ignore[call-overload]
            clients = np.array(session.exec(select(Client.id)).scalars().all(), np.int64)  # type: ignore[call-overload]
        spent = {name: {"cpu_s": 0.0, "wall_s": 0.0, "rows": 0} for name in ("before", "now")}
        for _ in range(args.partitions):
            for name, store in (("before", store_core), ("now", _store_now)):
                with Session(engine) as session:  # a run each: a partition's owners are new to it
                    run = BatchRun(kind="bench", partition_ids=PARTITION_IDS)
                    session.add(run)
                    session.commit()
                    run_id = int(run.id)  # type: ignore[arg-type]
                for side, owners, items, top in (
                    ("vacatures", vacancies, clients, CANDIDATES_TOP),
                    ("klanten", clients, vacancies, VACANCIES_TOP),
                ):
                    lists = _lists(rng.choice(owners, PARTITION_IDS, replace=False), items, top, rng)
                    cpu, wall = time.process_time(), time.perf_counter()
                    spent[name]["rows"] += store(engine, run_id, side, 0, lists)
                    spent[name]["cpu_s"] += time.process_time() - cpu
                    spent[name]["wall_s"] += time.perf_counter() - wall
        engine.dispose()
    result = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "source": str(args.source),
        "per_row": {
            name: {
                "cpu_s": value["cpu_s"] / value["rows"],
                "wall_s": value["wall_s"] / value["rows"],
                "rows": value["rows"],
            }
            for name, value in spent.items()
        },
        "load_average": os.getloadavg(),
        **provenance(),
    }
    result["cpu_ratio_before_over_now"] = round(
        result["per_row"]["before"]["cpu_s"] / result["per_row"]["now"]["cpu_s"], 2
    )
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
