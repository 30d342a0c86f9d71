"""The first read of who was ever proposed at national size: its time and memory, and a search's after it.

:class:`matching.floor_state._Proposals` reads every voorstel a scope sees once per process (then per search only
the newer ones). Nobody had measured that read with a national history. This fills a COPY of the national world with
voorstellen shaped as :func:`training.outcome_sim.write_history` writes them (clients skewed: a few proposed often,
many never; final states, three years of dates; no ``voorstel_event`` rows, which the read does not touch), then
times, each variant in a fresh process (its memory its own), rounds interleaved:

* ``session 34``: the read as committed before session 35 (every row's id, client and vacancy through the ORM,
  a dict and a set per client), reimplemented here for the comparison;
* ``whole read``: session 35's :meth:`~matching.floor_state._Proposals.read_all` (one ``GROUP BY client_id``
  statement with the count, the table scanned: ``NOT INDEXED``), run in the foreground to time it; ``, by the index``:
  the same as SQLite's planner would run it, following the client index (the first run's ``whole read``);
* ``first search``: session 35's :func:`~matching.floor_state.ever_proposed` as a search calls it on a fresh process
  (its pool read while the whole read starts beside it), the wait for that read, and the search after it.

A pool is 900 clients drawn at random (a served pool is the union of three top-300s). Run on a copy::

    cp /tmp/wm-base/bench-400000/werkmatch.db /tmp/wm-r1-nat/werkmatch.db
    flock /tmp/quiet.gate flock -x /tmp/quiet.lock .venv/bin/python -m bench.proposals_first_read \\
        --database /tmp/wm-r1-nat/werkmatch.db --voorstellen 4000000 --out bench/results/proposals-first-read-s35.json

``--part postgres`` (session 36) needs no world: on the tests' throw-away PostgreSQL it builds the national one by SQL
(400,000 clients, 300,000 vacancies, 4 M voorstellen), explains (``EXPLAIN (ANALYZE, BUFFERS)``) the whole read, the
pool read, the per-search count statement and a bulk insert as the service role in the regional scope (and as the
superuser, whom no policy binds: what row-level security costs), times a fresh process's first search, whole read and
searches after it before and after session 36 (without / with :data:`matching.floor_state._WHOLE_READ_SETTINGS`),
rounds interleaved, and measures the counting trigger's cost (migration 0012) on bulk inserts of voorstellen, with
and without it alternating, on PostgreSQL and on a fresh SQLite file (``--scratch``, an empty directory)::

    flock /tmp/quiet.gate flock -x /tmp/quiet.lock .venv/bin/python -m bench.proposals_first_read --part postgres \\
        --scratch /tmp/wm-r2-trigger --out bench/results/proposals-postgres-s36.json
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.services import schema
from matching import floor_state, tenancy
from matching.outcomes import Voorstel
from matching.store import install_change_tracking, make_engine, track_changes

POOL = 900
FINAL = ("afgewezen", "afgewezen", "afgewezen", "uitgevallen", "duurzaam")  # mostly rejected, as the simulation ends
VARIANTS = ("session 34", "whole read, by the index", "whole read", "first search")
BATCH = 50_000


def _p50_max(samples: list[float]) -> dict[str, float]:
    return {"p50": float(np.median(samples)), "max": float(np.max(samples))}


def _following(session: Session, pool: np.ndarray, vacancy: int) -> tuple[dict[str, float], np.ndarray]:
    """20 searches' reads of who was ever proposed once the process has its copy: their times and the last flags."""
    times = []
    for _ in range(20):
        at = time.perf_counter()
        flags = floor_state.ever_proposed(session, pool, vacancy)
        times.append(1000 * (time.perf_counter() - at))
    return _p50_max(times), flags


def _memory() -> dict[str, float]:
    """This process's resident and peak resident memory (MB)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}


def fill(database: Path, wanted: int, seed: int = 35) -> dict[str, Any]:
    """Voorstellen until the copy holds ``wanted``, counted by the database (its triggers installed first)."""
    engine = make_engine(f"sqlite:///{database}")
    track_changes(engine)  # the voorstellen side (a world made before session 35 has only clients and vacancies)
    engine.dispose()
    connection = sqlite3.connect(database)
    held = connection.execute("SELECT count(*) FROM voorstel").fetchone()[0]
    clients = connection.execute("SELECT max(id) FROM client").fetchone()[0]
    vacancies = connection.execute("SELECT max(id) FROM vacancy").fetchone()[0]
    rng = np.random.default_rng(seed)
    weight = rng.pareto(1.2, clients) * (rng.random(clients) < 0.6)  # 40 % never proposed, the rest skewed
    weight /= weight.sum()
    start, began = datetime(2023, 12, 1, tzinfo=UTC), time.perf_counter()
    while held < wanted:
        n = min(BATCH, wanted - held)
        who = rng.choice(clients, n, p=weight) + 1
        what = np.sort(rng.integers(1, vacancies + 1, n))  # vacancy by vacancy, as the simulation writes them
        days = rng.integers(0, 3 * 365, n)
        rows = [
            (int(c), int(v), f"consulent-{int(c) % 400}", "consulent", FINAL[int(d) % len(FINAL)], when, when)
            for c, v, d in zip(who, what, days, strict=True)
            for when in [(start + timedelta(days=int(d))).isoformat(sep=" ")]
        ]
        with connection:
            connection.executemany(
                "INSERT INTO voorstel (client_id, vacancy_id, made_by, made_by_role, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        held += n
    proposed = connection.execute("SELECT count(DISTINCT client_id) FROM voorstel").fetchone()[0]
    connection.close()
    return {"voorstellen": held, "clientsProposed": proposed, "clients": clients, "fillS": time.perf_counter() - began}


def _session_34(session: Session) -> None:
    """The first read as committed before session 35 (``_Proposals.refresh`` with nothing read yet)."""
    first: dict[int, int] = {}
    several: set[int] = set()
    found = session.exec(select(Voorstel.id, Voorstel.client_id, Voorstel.vacancy_id).where(Voorstel.id > 0)).all()
    seen = set()
    for voorstel, client, vacancy in found:
        seen.add(voorstel)
        if first.setdefault(client, vacancy) != vacancy:
            several.add(client)
    top = max(seen, default=0)
    skipped = {i: time.monotonic() for i in range(max(1, top - 1000), top) if i not in seen}
    del skipped


def one(database: Path, variant: str, seed: int) -> dict[str, Any]:
    """One variant in this (fresh) process: milliseconds and memory."""
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as connection:  # the pool, and the page cache as warm as for every variant
        top = connection.exec_driver_sql("SELECT max(id) FROM client").scalar_one()
    pool = np.random.default_rng(seed).choice(top, POOL, replace=False) + 1
    vacancy = 1
    before, out = _memory(), {"variant": variant}
    began = time.perf_counter()
    with Session(engine) as session:
        if variant == "session 34":
            _session_34(session)
        elif variant.startswith("whole read"):
            if variant.endswith("by the index"):  # as SQLite's planner has it: the client index, a lookup per row
                floor_state._EVERY = floor_state._EVERY.replace("{}", "")
            floor_state.proposals(session).read_all(engine, tenancy.current())
        else:
            floor_state.ever_proposed(session, pool, vacancy)
            out["firstSearchMs"] = 1000 * (time.perf_counter() - began)
            floor_state.proposals(session).wait()
        out["readMs"] = 1000 * (time.perf_counter() - began)
        after = _memory()
        if variant != "session 34":
            copy = floor_state.proposals(session)
            assert copy.reads == 1 and copy.mark is not None, "the whole read did not finish"
            out["followingMs"], flags = _following(session, pool, vacancy)
            out["poolProposed"] = int(flags.sum())
    out["rssGrowthMb"] = after["VmRSS"] - before["VmRSS"]
    out["peakGrowthMb"] = after["VmHWM"] - before["VmRSS"]
    engine.dispose()
    return out


def _pool_read(database: Path, seed: int, rounds: int = 20) -> dict[str, float]:
    """The pool's own read (what a search does while the whole read runs), timed alone."""
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    with engine.connect() as connection:
        top = connection.exec_driver_sql("SELECT max(id) FROM client").scalar_one()
    engine.dispose()
    return _pool_reads(url, top, seed, rounds)


_PG_CLIENTS = """INSERT INTO client (client_nummer, consulent, trede, route, postcode, competenties, werkervaring,
    certificaten, rijbewijs, vervoermiddel, uren_min, uren_max, wensen, beperkingen, zelfbeschrijving, notities,
    updated_at, gemeente)
    SELECT 'K-' || g, 'wc-' || (g % 400), g % 6, 'werk', '6811', '[]', '[]', '[]', '[]', '[]', 0, 40, '{}', '[]', '',
        '', now(), (ARRAY['Arnhem', 'Duiven', 'Renkum'])[1 + g % 3] FROM generate_series(1, :n) g"""
_PG_VACANCIES = """INSERT INTO vacancy (vacature_nummer, bron, werkgever, titel, omschrijving, postcode, uren_min,
    uren_max, werktijden, belasting, competenties_vereist, competenties_gewenst, certificaten, rijbewijs,
    plaatsingsvorm, jobcoach, jobcarving, aantal_plaatsen, status, updated_at)
    SELECT 'V-' || g, 'wsp', 'werkgever', 'Orderpicker', '', '6811', 0, 40, '[]', '[]', '[]', '[]', '[]', '[]',
        'regulier', false, false, 1, 'open', now() FROM generate_series(1, :n) g"""
_PG_VOORSTELLEN = """INSERT INTO voorstel (client_id, vacancy_id, made_by, made_by_role, status, created_at, updated_at)
    SELECT 1 + floor(:clients * power(random(), 3))::int, 1 + floor(:vacancies * random())::int, 'consulent-a',
        'consulent', 'afgewezen', now(), now() FROM generate_series(1, :n)"""


PG_VARIANTS = ("session 35", "session 36")  # the whole read without / with _WHOLE_READ_SETTINGS
BULK_BATCH = 2_000  # voorstellen a transaction, as training.outcome_sim writes a history (TRANSACTION_PROPOSALS)
COUNTED = "voorstel_insert_counted"  # the counting trigger on inserts (migration 0012)


def _fill_postgres(owner_url: str, voorstellen: int, clients: int, vacancies: int) -> float:
    """The national world by SQL, as the owner (the counting trigger on), then ``VACUUM ANALYZE``; seconds."""
    owner = make_engine(owner_url)
    began = time.perf_counter()
    with owner.begin() as connection:
        connection.execute(text(_PG_CLIENTS), {"n": clients})
        connection.execute(text(_PG_VACANCIES), {"n": vacancies})
        connection.execute(text(_PG_VOORSTELLEN), {"n": voorstellen, "clients": clients, "vacancies": vacancies})
    with owner.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    owner.dispose()
    return time.perf_counter() - began


def _explain(url: str, statement: str, parameters: dict[str, Any] | None = None, settings: tuple[str, ...] = ()) -> Any:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of ``statement`` on a new engine of ``url`` (the regional scope, as the service
    searches), after ``settings`` in its transaction: the plan's lines and its execution time (ms)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        for setting in settings:
            connection.exec_driver_sql(setting)
        lines = list(connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {statement}"), parameters or {}).scalars())
    engine.dispose()
    executed = next(line for line in lines if line.startswith("Execution Time"))
    return {"executionMs": float(executed.split(":")[1].split()[0]), "plan": lines}


def _whole_read_sql() -> str:
    return floor_state._EVERY.format("")


def _pool_sql(service_url: str, pool: np.ndarray) -> str:
    engine = make_engine(service_url)
    statement = floor_state._pool_statement([int(value) for value in pool])
    compiled = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    engine.dispose()
    return compiled


def _insert_sql(pool: np.ndarray) -> str:
    """One page of insertmanyvalues (1000 rows) as a bulk writer sends it, for the pool's clients."""
    rows = ", ".join(
        f"({int(client)}, {1 + n}, 'consulent-a', 'consulent', 'afgewezen', now(), now())"
        for n, client in enumerate(np.resize(pool, 1000))
    )
    columns = "client_id, vacancy_id, made_by, made_by_role, status, created_at, updated_at"
    return f"INSERT INTO voorstel ({columns}) VALUES {rows} RETURNING id"


def _plans(urls: dict[str, str], pool: np.ndarray) -> dict[str, Any]:
    """The statements a search and the whole read run, explained: as the service role (regional scope; the whole read
    also in one gemeente's) and, for the price of row-level security, as the superuser (no policy applies)."""
    service, whole = urls["service"], _whole_read_sql()
    newer = str(floor_state._NEWER)
    engine = make_engine(service)
    with engine.connect() as connection:
        top = connection.exec_driver_sql("SELECT max(id) FROM voorstel").scalar_one()
    engine.dispose()
    final, roomier = floor_state._WHOLE_READ_SETTINGS, ("SET LOCAL work_mem = '128MB'", "SET LOCAL jit = off")
    plans = {
        "whole read, session 35 (server's settings)": _explain(service, whole),
        "whole read, session 36": _explain(service, whole, settings=final),
        "whole read, session 36, work_mem 128MB": _explain(service, whole, settings=final + roomier[:1]),
        "whole read, session 36, work_mem 128MB, jit off": _explain(service, whole, settings=final + roomier),
        "whole read, superuser (no row-level security)": _explain(urls["superuser"], whole),
        "whole read, superuser, session 36": _explain(
            urls["superuser"], whole, settings=floor_state._WHOLE_READ_SETTINGS
        ),
        "pool read (900 clients)": _explain(service, _pool_sql(service, pool)),
        "pool read, superuser": _explain(urls["superuser"], _pool_sql(service, pool)),
        "per-search count statement (nothing newer)": _explain(service, newer, {"upto": top}),
        "bulk insert of 1000 voorstellen, one statement (rolled back)": _explain(service, _insert_sql(pool)),
    }
    with tenancy.scope("Arnhem"):
        plans["whole read, session 36, gemeente Arnhem"] = _explain(
            service, whole, settings=floor_state._WHOLE_READ_SETTINGS
        )
    return plans


def _first_search(service_url: str, pool: np.ndarray, variant: str) -> tuple[dict[str, Any], np.ndarray]:
    """A fresh process's first search (its pool read, the whole read started beside it), the wait for that read, and
    20 searches after it; ``session 35`` reads without :data:`floor_state._WHOLE_READ_SETTINGS`."""
    settings, service = floor_state._WHOLE_READ_SETTINGS, make_engine(service_url)
    if variant == "session 35":
        floor_state._WHOLE_READ_SETTINGS = ()
    try:
        with Session(service) as session:
            began = time.perf_counter()
            floor_state.ever_proposed(session, pool, 1)
            first = 1000 * (time.perf_counter() - began)
            copy = floor_state.proposals(session)
            copy.wait()
            read = 1000 * (time.perf_counter() - began)
            following, flags = _following(session, pool, 1)
            assert copy.reads == 1, "the whole read did not finish"
            held = np.stack([copy.lo.copy(), copy.hi.copy()])
    finally:
        floor_state._WHOLE_READ_SETTINGS = settings
        service.dispose()
    out = {"variant": variant, "firstSearchMs": first, "readMs": read, "poolProposed": int(flags.sum())}
    return out | {"followingMs": following}, held


def _pool_reads(service_url: str, clients: int, seed: int, rounds: int = 5) -> dict[str, float]:
    engine, samples = make_engine(service_url), []
    for round_ in range(rounds):
        pool = np.random.default_rng(seed + round_).choice(clients, POOL, replace=False) + 1
        at = time.perf_counter()
        floor_state._pool(engine, pool)
        samples.append(1000 * (time.perf_counter() - at))
    engine.dispose()
    return _p50_max(samples)


def _bulk_rows(rng: np.random.Generator, n: int, clients: int, vacancies: int) -> list[dict[str, Any]]:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    who, what = rng.integers(1, clients + 1, n), np.sort(rng.integers(1, vacancies + 1, n))
    return [
        {"client_id": int(c), "vacancy_id": int(v), "made_by": "consulent-a", "made_by_role": "consulent"}
        | {"status": "afgewezen", "created_at": when, "updated_at": when}
        for c, v in zip(who, what, strict=True)
    ]


def _insert_rate(engine: Engine, rows: list[dict[str, Any]]) -> float:
    """Rows a second, written as ``training.outcome_sim`` writes a history: a transaction per :data:`BULK_BATCH`,
    one multi-row insert returning the ids (SQLAlchemy's insertmanyvalues)."""
    table = Voorstel.__table__  # type: ignore[attr-defined]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    began = time.perf_counter()
    for start in range(0, len(rows), BULK_BATCH):
        with engine.begin() as connection:
            connection.execute(statement, rows[start : start + BULK_BATCH]).all()
    return len(rows) / (time.perf_counter() - began)


def _counting(engine: Engine, on: bool) -> None:
    """The counting trigger on inserts on or off (PostgreSQL: as the owner; SQLite: dropped and made again)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ALTER TABLE voorstel {'ENABLE' if on else 'DISABLE'} TRIGGER {COUNTED}")
        elif on:
            install_change_tracking(connection)
        else:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {COUNTED}")


def trigger_cost(writer: Engine, owner: Engine, clients: int, vacancies: int, rows: int, rounds: int) -> dict[str, Any]:
    """Bulk inserts of voorstellen with and without the counting trigger, alternating, ``rounds`` times each."""
    rng, runs = np.random.default_rng(36), []
    for round_ in range(rounds):
        for on in (True, False) if round_ % 2 == 0 else (False, True):
            _counting(owner, on)
            rate = _insert_rate(writer, _bulk_rows(rng, rows, clients, vacancies))
            runs.append({"round": round_, "trigger": on, "rowsPerS": rate})
    _counting(owner, True)
    if writer.dialect.name == "postgresql":  # one statement of many rows: the trigger joins its whole transition table
        for round_ in range(2):
            for on in (True, False) if round_ % 2 == 0 else (False, True):
                _counting(owner, on)
                parameters = {"n": rows, "clients": clients, "vacancies": vacancies}
                began = time.perf_counter()
                with writer.begin() as connection:
                    connection.execute(text(_PG_VOORSTELLEN), parameters)
                rate = rows / (time.perf_counter() - began)
                runs.append({"round": round_, "trigger": on, "rowsPerS": rate, "shape": "one INSERT ... SELECT"})
        _counting(owner, True)
    return {"rows": rows, "batch": BULK_BATCH, "runs": runs}


_SQLITE_WORLD = [
    """WITH RECURSIVE g(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM g WHERE g < :clients)
    INSERT INTO client (client_nummer, consulent, trede, route, postcode, competenties, werkervaring, certificaten,
        rijbewijs, vervoermiddel, uren_min, uren_max, wensen, beperkingen, zelfbeschrijving, notities, updated_at,
        gemeente)
    SELECT 'K-' || g, 'wc-' || (g % 400), g % 6, 'werk', '6811', '[]', '[]', '[]', '[]', '[]', 0, 40, '{}', '[]', '',
        '', CURRENT_TIMESTAMP, 'Arnhem' FROM g""",
    """WITH RECURSIVE g(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM g WHERE g < :vacancies)
    INSERT INTO vacancy (vacature_nummer, bron, werkgever, titel, omschrijving, postcode, uren_min, uren_max,
        werktijden, belasting, competenties_vereist, competenties_gewenst, certificaten, rijbewijs, plaatsingsvorm,
        jobcoach, jobcarving, aantal_plaatsen, status, updated_at)
    SELECT 'V-' || g, 'wsp', 'werkgever', 'Orderpicker', '', '6811', 0, 40, '[]', '[]', '[]', '[]', '[]', '[]',
        'regulier', 0, 0, 1, 'open', CURRENT_TIMESTAMP FROM g""",
    """WITH RECURSIVE g(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM g WHERE g < :voorstellen)
    INSERT INTO voorstel (client_id, vacancy_id, made_by, made_by_role, status, created_at, updated_at)
    SELECT 1 + abs(random()) % :clients, 1 + abs(random()) % :vacancies, 'consulent-a', 'consulent', 'afgewezen',
        CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM g""",
]


def sqlite_trigger_cost(directory: Path, clients: int, voorstellen: int, rows: int, rounds: int) -> dict[str, Any]:
    """:func:`trigger_cost` on a fresh SQLite file of the service's schema (its pragmas: WAL, synchronous FULL),
    holding ``voorstellen`` first (written with the trigger off) so the indexes are not those of an empty table."""
    engine = make_engine(f"sqlite:///{directory / 'werkmatch.db'}")
    schema.create_all(engine)
    vacancies = clients * 3 // 4
    _counting(engine, False)
    with engine.begin() as connection:
        for statement in _SQLITE_WORLD:
            parameters = {"clients": clients, "vacancies": vacancies, "voorstellen": voorstellen}
            connection.execute(text(statement), parameters)
    _counting(engine, True)
    out = trigger_cost(engine, engine, clients, vacancies, rows, rounds) | {"prefilled": voorstellen}
    engine.dispose()
    return out


def _candidates(urls: dict[str, str], pool: np.ndarray, clients: int) -> dict[str, Any]:
    """Measured, not shipped: an index on (client_id, vacancy_id) for the pool read (an index-only scan instead of a
    heap page per voorstel)."""
    owner, out = make_engine(urls["owner"]), {}
    began = time.perf_counter()
    with owner.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.exec_driver_sql("CREATE INDEX ix_voorstel_client_vacancy ON voorstel (client_id, vacancy_id)")
        autocommit.exec_driver_sql("VACUUM ANALYZE voorstel")
    out["indexS"] = time.perf_counter() - began
    out["pool read, index (client_id, vacancy_id)"] = _explain(urls["service"], _pool_sql(urls["service"], pool))
    out["poolReadMs, index (client_id, vacancy_id)"] = _pool_reads(urls["service"], clients, 0)
    owner.dispose()
    return out


def postgres(
    voorstellen: int, clients: int = 400_000, vacancies: int = 300_000, rounds: int = 3, bulk: int = 100_000
) -> dict[str, Any]:
    """On a real PostgreSQL (the tests' throw-away server), set up as in production: the statements explained, the
    whole read before and after session 36 interleaved (each in a fresh engine: a process's first search), the pool
    read, and the counting trigger's cost on bulk inserts; clients and vacancies are minimal rows by SQL, the
    voorstellen's clients skewed towards low ids."""
    from tests.postgres import PostgresServer  # the test suite's throw-away server

    server = PostgresServer.start()
    out: dict[str, Any] = {"voorstellen": voorstellen, "clients": clients, "vacancies": vacancies}
    try:
        with server.service_database() as (owner_url, service_url):
            superuser = server.url(service_url.rsplit("/", 1)[1])
            urls = {"owner": owner_url, "service": service_url, "superuser": superuser}
            out["fillS"] = _fill_postgres(owner_url, voorstellen, clients, vacancies)
            admin = make_engine(superuser)
            with admin.connect() as connection:
                out["server"] = {
                    name: connection.exec_driver_sql(f"SHOW {name}").scalar_one()
                    for name in ("server_version", "work_mem", "hash_mem_multiplier", "shared_buffers")
                }
            admin.dispose()
            pool = np.random.default_rng(1).choice(clients, POOL, replace=False) + 1
            out["load"] = {"start": os.getloadavg()[0]}
            out["plans"] = _plans(urls, pool)
            runs, held = [], {}
            for round_ in range(rounds):
                for variant in PG_VARIANTS if round_ % 2 == 0 else PG_VARIANTS[::-1]:
                    run, held[variant] = _first_search(service_url, pool, variant)
                    runs.append({"round": round_, **run, "load": os.getloadavg()[0]})
                out[f"poolReadMs{round_}"] = _pool_reads(service_url, clients, 100 * round_)
            out["sameCopy"] = bool(np.array_equal(held["session 35"], held["session 36"]))
            out["runs"] = runs
            out["load"]["reads"] = os.getloadavg()[0]
            owner, service = make_engine(owner_url), make_engine(service_url)
            out["trigger"] = trigger_cost(service, owner, clients, vacancies, bulk, rounds)
            owner.dispose()
            service.dispose()
            out["candidates"] = _candidates(urls, pool, clients)
            out["load"]["end"] = os.getloadavg()[0]
    finally:
        server.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, help="a COPY of the national world's werkmatch.db (first-read)")
    parser.add_argument("--part", choices=("first-read", "postgres"), default="first-read")
    parser.add_argument("--scratch", type=Path, help="an empty directory for the SQLite trigger's cost (postgres)")
    parser.add_argument("--voorstellen", type=int, default=4_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--postgres", action="store_true", help="also on a real PostgreSQL (the tests' server)")
    parser.add_argument("--postgres-clients", type=int, default=400_000)
    parser.add_argument("--bulk-rows", type=int, default=100_000, help="voorstellen a bulk insert (postgres)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.database, args.one, args.seed)))  # noqa: T201 (read by the parent)
        return
    if args.part == "postgres":  # session 36: PostgreSQL's plans, before and after; the counting trigger's cost
        clients, bulk = args.postgres_clients, args.bulk_rows
        result = {"postgres": postgres(args.voorstellen, clients, clients * 3 // 4, args.rounds, bulk)}
        _write(result, args.out)  # PostgreSQL's part kept, whatever becomes of SQLite's
        prefill = args.voorstellen // 4  # a quarter of the national history: indexes not those of an empty table
        result["sqliteTrigger"] = sqlite_trigger_cost(args.scratch, clients, prefill, bulk, args.rounds)
        result["sqliteTrigger"]["load"] = os.getloadavg()[0]
        _write(result, args.out)
        return
    result = {"fill": fill(args.database, args.voorstellen), "load": [os.getloadavg()[0]]}
    result["databaseMb"] = args.database.stat().st_size / 2**20
    runs: list[dict[str, Any]] = []
    for round_ in range(args.rounds):
        order = VARIANTS if round_ % 2 == 0 else VARIANTS[::-1]
        for variant in order:
            done = subprocess.run(
                [sys.executable, "-m", "bench.proposals_first_read", "--database", str(args.database)]
                + ["--one", variant, "--seed", str(round_)],
                check=True,
                capture_output=True,
                text=True,
            )
            runs.append({"round": round_, **json.loads(done.stdout.strip().splitlines()[-1])})
    result["poolReadMs"] = _pool_read(args.database, 100)
    result["load"].append(os.getloadavg()[0])
    result["runs"] = runs
    result["pool"] = POOL
    if args.postgres:
        result["postgres"] = postgres(args.voorstellen, args.postgres_clients, args.postgres_clients * 3 // 4)
        result["load"].append(os.getloadavg()[0])
    _write(result, args.out)


def _write(result: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(result, indent=2)
    if out:
        out.write_text(text + "\n")
    print(text)  # noqa: T201


if __name__ == "__main__":
    main()
