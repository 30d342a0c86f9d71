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
from sqlalchemy import text
from sqlmodel import Session, select

from matching import floor_state, tenancy
from matching.outcomes import Voorstel
from matching.store import make_engine, track_changes

POOL = 900
FINAL = ("afgewezen", "afgewezen", "afgewezen", "uitgevallen", "duurzaam")  # mostly rejected, as the simulation ends
VARIANTS = ("session 34", "whole read, by the index", "whole read", "first search")
BATCH = 50_000


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
            following = []
            for _ in range(20):
                at = time.perf_counter()
                flags = floor_state.ever_proposed(session, pool, vacancy)
                following.append(1000 * (time.perf_counter() - at))
            out["followingMs"] = {"p50": float(np.median(following)), "max": float(np.max(following))}
            out["poolProposed"] = int(flags.sum())
    out["rssGrowthMb"] = after["VmRSS"] - before["VmRSS"]
    out["peakGrowthMb"] = after["VmHWM"] - before["VmRSS"]
    engine.dispose()
    return out


def _pool_read(database: Path, seed: int, rounds: int = 20) -> dict[str, float]:
    """The pool's own read (what a search does while the whole read runs), timed alone."""
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        top = connection.exec_driver_sql("SELECT max(id) FROM client").scalar_one()
    samples = []
    for round_ in range(rounds):
        pool = np.random.default_rng(seed + round_).choice(top, POOL, replace=False) + 1
        at = time.perf_counter()
        floor_state._pool(engine, pool)
        samples.append(1000 * (time.perf_counter() - at))
    engine.dispose()
    return {"p50": float(np.median(samples)), "max": float(np.max(samples))}


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


def postgres(voorstellen: int, clients: int = 400_000, vacancies: int = 300_000) -> dict[str, Any]:
    """The same on a real PostgreSQL, as the service role under row-level security (regional scope): a database
    set up as in production, filled by SQL (minimal profiles; clients skewed towards low ids), read twice."""
    from tests.postgres import PostgresServer  # the test suite's throw-away server

    server, out = PostgresServer.start(), {"voorstellen": voorstellen, "clients": clients, "runs": []}
    try:
        with server.service_database() as (owner_url, service_url):
            owner = make_engine(owner_url)
            began = time.perf_counter()
            with owner.begin() as connection:
                connection.execute(text(_PG_CLIENTS), {"n": clients})
                connection.execute(text(_PG_VACANCIES), {"n": vacancies})
                parameters = {"n": voorstellen, "clients": clients, "vacancies": vacancies}
                connection.execute(text(_PG_VOORSTELLEN), parameters)
            with owner.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
            out["fillS"] = time.perf_counter() - began
            owner.dispose()
            pool = np.random.default_rng(1).choice(clients, POOL, replace=False) + 1
            for _ in range(2):
                service = make_engine(service_url)  # a fresh process's copy: a new engine
                with Session(service) as session:
                    began = time.perf_counter()
                    floor_state.ever_proposed(session, pool, 1)
                    first = 1000 * (time.perf_counter() - began)
                    floor_state.proposals(session).wait()
                    read = 1000 * (time.perf_counter() - began)
                    following = []
                    for _ in range(20):
                        at = time.perf_counter()
                        flags = floor_state.ever_proposed(session, pool, 1)
                        following.append(1000 * (time.perf_counter() - at))
                    assert floor_state.proposals(session).reads == 1
                at = time.perf_counter()
                floor_state._pool(service, pool)
                alone = 1000 * (time.perf_counter() - at)
                out["runs"].append(
                    {"firstSearchMs": first, "readMs": read, "poolReadMs": alone}
                    | {"followingMs": {"p50": float(np.median(following)), "max": float(np.max(following))}}
                    | {"poolProposed": int(flags.sum())}
                )
                service.dispose()
    finally:
        server.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True, help="a COPY of the national world's werkmatch.db")
    parser.add_argument("--voorstellen", type=int, default=4_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--postgres", action="store_true", help="also on a real PostgreSQL (the tests' server)")
    parser.add_argument("--postgres-clients", type=int, default=400_000)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.database, args.one, args.seed)))  # noqa: T201 (read by the parent)
        return
    result: dict[str, Any] = {"fill": fill(args.database, args.voorstellen), "load": [os.getloadavg()[0]]}
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
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)  # noqa: T201


if __name__ == "__main__":
    main()
