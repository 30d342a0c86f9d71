"""What erasing one client costs in a national night's client lists, by the cascade's own statement.

Run: nice -n 5 .venv/bin/python bench/batch_lists_cascade.py [--out bench/results/national-batch-cascade-s33.json]
A scratch SQLite file (WAL, 256 MB page cache) gets ``nacht_vacature`` as migration 0007 leaves it (key ``run_id,
client_id, rank``, an index on ``vacancy_id``) filled with one night of 400,000 clients × 20 vacancies; then five
random clients' rows are deleted as ``ON DELETE CASCADE`` does (``DELETE … WHERE client_id = ?``), each committed, and
again after an index on ``client_id``. ``nacht_kandidaat`` has the same shape for a deleted vacancy (key ``run_id,
vacancy_id, rank``). The scratch file is removed.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from bench._result import provenance, write_json

CLIENTS, PER_LIST, CHUNK = 400_000, 20, 20_000


def _fill(connection: sqlite3.Connection, rng: random.Random) -> float:
    start = time.perf_counter()
    for first in range(1, CLIENTS + 1, CHUNK):
        rows = (
            (client, rank, rng.randrange(300_000), 0.5, 50)
            for client in range(first, first + CHUNK)
            for rank in range(1, PER_LIST + 1)
        )
        connection.executemany("INSERT INTO nacht_vacature VALUES (1, ?, ?, ?, ?, ?)", rows)
        connection.commit()
    return time.perf_counter() - start


def _erase(connection: sqlite3.Connection, clients: list[int]) -> list[float]:
    spent = []
    for client in clients:
        start = time.perf_counter()
        connection.execute("DELETE FROM nacht_vacature WHERE client_id = ?", (client,))
        connection.commit()
        spent.append(round(time.perf_counter() - start, 4))
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench/results/national-batch-cascade-s33.json"))
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as scratch:
        connection = sqlite3.connect(os.path.join(scratch, "lists.db"))
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA cache_size=-262144")
        connection.execute(
            "CREATE TABLE nacht_vacature (run_id INTEGER NOT NULL, client_id INTEGER NOT NULL, rank INTEGER NOT NULL, "
            "vacancy_id INTEGER NOT NULL, ranking_score FLOAT NOT NULL, score INTEGER NOT NULL, "
            "PRIMARY KEY (run_id, client_id, rank))"
        )
        connection.execute("CREATE INDEX ix_nacht_vacature_vacancy_id ON nacht_vacature (vacancy_id)")
        filled = _fill(connection, rng)
        plan = connection.execute("EXPLAIN QUERY PLAN DELETE FROM nacht_vacature WHERE client_id = 1").fetchall()
        without = _erase(connection, [rng.randrange(1, CLIENTS + 1) for _ in range(5)])
        connection.execute("CREATE INDEX ix_nacht_vacature_client_id ON nacht_vacature (client_id)")
        indexed = _erase(connection, [rng.randrange(1, CLIENTS + 1) for _ in range(5)])
        rows = connection.execute("SELECT count(*) FROM nacht_vacature").fetchone()[0]
        connection.close()
    result = {
        "command": "nice -n 5 .venv/bin/python bench/batch_lists_cascade.py",
        "rows": rows,
        "fill_seconds": round(filled, 1),
        "plan_without_index": [str(step) for step in plan],
        "erase_one_client_seconds": {"as_migrated": without, "with_client_id_index": indexed},
        "load_average": os.getloadavg(),
        **provenance(),
    }
    write_json(args.out, result)


if __name__ == "__main__":
    main()
