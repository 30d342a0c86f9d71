"""The list tables' owner cascade at national size, per design: erasing a client, deleting a vacancy, and what the
design costs when a night stores its rows (and, with ``--finish``, when it removes the night before).

Run: flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python bench/batch_lists_cascade.py
    [--prefill 20000000] [--partitions 30] [--erasures 5] [--finish]
    [--out bench/results/national-batch-cascade-s34.json]

Designs of ``nacht_vacature`` (a client's vacancies) and ``nacht_kandidaat`` (a vacancy's candidates):

* ``as_migrated``: as migration 0009 leaves them, key ``run_id, owner, rank``, an index on the item only: the cascade
  of erasing a client (``DELETE … WHERE client_id = ?`` in ``nacht_vacature``) and of deleting a vacancy (``…
  WHERE vacancy_id = ?`` in ``nacht_kandidaat``) scans the table;
* ``owner_index``: the same key and an index on the owner;
* ``owner_first``: as migration 0010 makes them (:mod:`matching.batch_lists`): key ``owner, run_id, rank``, the item's
  index only (no extra index; the night before's removal, ``WHERE run_id IN …``, then has no index that leads with
  ``run_id``).

The files are made by ``bench/batch_match_store_design.py``'s own steps: the batch tables as the application creates
them, ``client`` and ``vacancy`` of 400,000 and 300,000 ids, a finished night of ``--prefill`` rows (62 % candidate
rows; owners in id order). ``owner_index`` is a copy of ``as_migrated``'s file after its prefill with the two owner
indexes created. Then ``--partitions`` partitions of each side are stored per design, alternating per partition, by
:func:`training.batch_match.store_partition` on the storing engine (CPU per stored row). Then ``--erasures`` random
clients and vacancies with lists are deleted through the application's engine (foreign keys on, as an erasure or a
deleted vacancy cascades: ``DELETE FROM client WHERE id = ?``), the designs alternating per record, each delete
committed (wall and CPU). ``--finish``: each design's night is finished as up to migration 0010 (``shared_finish`` of
``bench/batch_match_store_design.py``: the night before's rows deleted), one design after the other, the result
rewritten after each.
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
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateIndex, CreateTable

from bench import batch_match_store_design as store_design
from bench._result import load_average, provenance, write_json
from matching.batch_lists import NachtKandidaat, NachtVacature
from matching.store import make_engine
from training import batch_match

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = ("as_migrated", "owner_index", "owner_first")
# per list table: its owner (what the cascade deletes by) and its item
OWNERS = {NachtVacature: ("client_id", "vacancy_id"), NachtKandidaat: ("vacancy_id", "client_id")}
CASCADES = {"erase_client": ("client", NachtVacature), "delete_vacancy": ("vacancy", NachtKandidaat)}


def _create(url: str, design: str) -> None:
    """The batch tables of ``bench/batch_match_store_design.py`` (the application's: ``owner_first``), the list
    tables keyed run first for ``as_migrated``."""
    engine = make_engine(url)
    store_design._create(engine, "rowid")
    if design == "as_migrated":
        with engine.begin() as connection:
            for model, (owner, _) in OWNERS.items():
                table = model.__table__  # type: ignore[attr-defined]
                ddl = str(CreateTable(table).compile(engine)).strip()
                owner_first = f"PRIMARY KEY ({owner}, run_id, rank)"
                assert owner_first in ddl, ddl
                connection.exec_driver_sql(f"DROP TABLE {table.name}")
                connection.exec_driver_sql(ddl.replace(owner_first, f"PRIMARY KEY (run_id, {owner}, rank)"))
                for index in table.indexes:
                    connection.exec_driver_sql(str(CreateIndex(index).compile(engine)))
    engine.dispose()


def _index_owners(url: str) -> None:
    """What migration 0010 does to a filled database: each list table's owner index, created."""
    engine = make_engine(url)
    with engine.begin() as connection:
        for model, (owner, _) in OWNERS.items():
            name = model.__tablename__  # type: ignore[attr-defined]
            connection.exec_driver_sql(f"CREATE INDEX ix_{name}_{owner} ON {name} ({owner})")
    engine.dispose()


def _plans(engine: Engine) -> dict[str, list[str]]:
    """SQLite's plan of each cascade's own statement on the list table it scanned before."""
    plans = {}
    with engine.connect() as connection:
        for cascade, (_, model) in CASCADES.items():
            owner = OWNERS[model][0]
            statement = f"EXPLAIN QUERY PLAN DELETE FROM {model.__tablename__} WHERE {owner} = 1"  # type: ignore[attr-defined]  # noqa: S608
            plans[cascade] = [str(row[-1]) for row in connection.exec_driver_sql(statement)]
    return plans


def _owners_with_lists(engine: Engine, count: int, rng: np.random.Generator) -> dict[str, list[int]]:
    """``count`` random clients with a vacancy list and vacancies with a candidate list (the same for every design):
    the owners of random rows."""
    picked = {}
    with engine.connect() as connection:
        for cascade, (_, model) in CASCADES.items():
            owner, name = OWNERS[model][0], model.__tablename__  # type: ignore[attr-defined]
            last = connection.exec_driver_sql(f"SELECT max(rowid) FROM {name}").scalar_one()  # noqa: S608
            found: set[int] = set()
            while len(found) < count:
                row = int(rng.integers(1, last + 1))
                ident = connection.exec_driver_sql(f"SELECT {owner} FROM {name} WHERE rowid = {row}").scalar()  # noqa: S608
                if ident is not None:
                    found.add(int(ident))
            picked[cascade] = sorted(found)
    return picked


def _cascades(engines: dict[str, Engine], picked: dict[str, list[int]]) -> dict[str, Any]:
    """Each record deleted in every design, alternating, through the application's engine; wall and CPU seconds."""
    spent: dict[str, Any] = {
        cascade: {name: {"wall_s": [], "cpu_s": [], "rows": []} for name in engines} for cascade in CASCADES
    }
    for cascade, (parent, model) in CASCADES.items():
        owner = OWNERS[model][0]
        for record in picked[cascade]:
            for name, engine in engines.items():
                with engine.begin() as connection:
                    rows = connection.execute(
                        text(f"SELECT count(*) FROM {model.__tablename__} WHERE {owner} = :id"),  # type: ignore[attr-defined]  # noqa: S608
                        {"id": record},
                    ).scalar_one()
                cpu, wall = store_design._cpu(), time.perf_counter()
                with engine.begin() as connection:
                    connection.execute(text(f"DELETE FROM {parent} WHERE id = :id"), {"id": record})  # noqa: S608
                spent[cascade][name]["wall_s"].append(round(time.perf_counter() - wall, 4))
                spent[cascade][name]["cpu_s"].append(round(store_design._cpu() - cpu, 4))
                spent[cascade][name]["rows"].append(rows)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prefill", type=int, default=20_000_000)
    parser.add_argument("--partitions", type=int, default=30)
    parser.add_argument("--erasures", type=int, default=5)
    parser.add_argument("--finish", action="store_true", help="also remove each design's night before, one by one")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-cascade-s34.json")
    args = parser.parse_args()
    result: dict[str, Any] = {"command": " ".join([".venv/bin/python", *sys.argv]), "prefill_rows": args.prefill}
    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="wm-C1-cascade-", dir="/tmp") as tmp:
        urls = {name: f"sqlite:///{tmp}/{name}.db" for name in DESIGNS}
        prepared = {}
        for name in ("as_migrated", "owner_first"):
            _create(urls[name], name)
            start = time.perf_counter()
            store_design._prefill(urls[name], args.prefill, np.random.default_rng(7))
            prepared[f"prefill_{name}_s"] = round(time.perf_counter() - start, 1)
            print(name, prepared, flush=True)  # noqa: T201
        shutil.copy(f"{tmp}/as_migrated.db", f"{tmp}/owner_index.db")
        start = time.perf_counter()
        _index_owners(urls["owner_index"])
        prepared["create_owner_indexes_s"] = round(time.perf_counter() - start, 1)
        result["prepared"] = prepared
        loads.append(load_average())

        storing = {name: batch_match.storing_engine(make_engine(url)) for name, url in urls.items()}
        runs = {name: store_design._new_run(engine) for name, engine in storing.items()}
        spent = store_design._store_rounds(storing, runs, args.partitions, np.random.default_rng(8))
        result["store_per_row_us"] = {
            name: {key: round(value[key] / value["rows"] * 1e6, 2) for key in ("cpu_s", "sys_s", "wall_s")}
            | {"rows": value["rows"]}
            for name, value in spent.items()
        }
        loads.append(load_average())

        engines = {name: make_engine(url) for name, url in urls.items()}
        result["plans"] = {name: _plans(engine) for name, engine in engines.items()}
        picked = _owners_with_lists(engines["as_migrated"], args.erasures, np.random.default_rng(9))
        result["cascade"] = _cascades(engines, picked)
        for engine in engines.values():
            engine.dispose()
        loads.append(load_average())
        result |= {"load_average": loads, **provenance()}
        write_json(args.out, result)
        print(json.dumps(result, indent=2), flush=True)  # noqa: T201

        if args.finish:
            result["finish_deleting_the_night_before"] = {}
            for name, engine in storing.items():
                finish = store_design._timed(
                    lambda engine=engine, name=name: store_design.shared_finish(engine, runs[name])
                )
                result["finish_deleting_the_night_before"][name] = finish
                loads.append(load_average())
                write_json(args.out, result)
                print("finished", name, finish, flush=True)  # noqa: T201
        for engine in storing.values():
            engine.dispose()


if __name__ == "__main__":
    main()
