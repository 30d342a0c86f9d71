"""What migration 0010 (the list tables keyed owner first) costs on SQLite at national size, up and back down.

Run: flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python bench/batch_lists_migrate.py
    [--prefill 20000000] [--out bench/results/national-batch-migrate-0010-s34.json]

A scratch SQLite file gets the list tables as 0009 leaves them and a finished night of ``--prefill`` rows, with the
``client`` and ``vacancy`` rows they name (``bench/batch_lists_cascade.py``'s ``as_migrated`` design); then 0010's
``upgrade`` and ``downgrade`` run as ``werkmatch db upgrade`` runs a migration (one ``BEGIN IMMEDIATE`` transaction,
foreign keys on, Alembic's batch mode: each list table copied into one with the other key). Process CPU and wall,
and SQLite's plan of the erasure's delete after each.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from alembic.migration import MigrationContext
from alembic.operations import Operations

from bench import batch_lists_cascade as cascade
from bench import batch_match_store_design as store_design
from bench._result import load_average, provenance, write_json
from matching.store import make_engine

ROOT = Path(__file__).resolve().parents[1]
MIGRATION = ROOT / "api" / "migrations" / "versions" / "0010_nightly_lists_keyed_by_owner.py"


def _migration() -> Any:
    spec = importlib.util.spec_from_file_location("migration_0010", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prefill", type=int, default=20_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-migrate-0010-s34.json")
    args = parser.parse_args()
    migration = _migration()
    result: dict[str, Any] = {"command": " ".join([".venv/bin/python", *sys.argv]), "prefill_rows": args.prefill}
    with tempfile.TemporaryDirectory(prefix="wm-C1-migrate-", dir="/tmp") as tmp:
        url = f"sqlite:///{tmp}/lists.db"
        cascade._create(url, "as_migrated")
        store_design._prefill(url, args.prefill, np.random.default_rng(7))
        engine = make_engine(url)
        result["load_average"] = [load_average()]
        for step in ("upgrade", "downgrade"):
            cpu, wall = store_design._cpu(), time.perf_counter()
            with engine.begin() as connection:
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # as api.services.migrations runs one
                with Operations.context(MigrationContext.configure(connection, opts={"render_as_batch": True})):
                    getattr(migration, step)()
            spent = {"cpu_s": round(store_design._cpu() - cpu, 1), "wall_s": round(time.perf_counter() - wall, 1)}
            result[step] = spent | {"plans": cascade._plans(engine)}
            result["load_average"].append(load_average())
        engine.dispose()
    write_json(args.out, result | provenance())


if __name__ == "__main__":
    main()
