"""What the gemeente boundary costs per PostgreSQL transaction (issue 14).

Every transaction werkmatch begins on PostgreSQL first sets ``werkmatch.gemeente`` for that transaction
(:func:`matching.tenancy.install`: one ``SELECT set_config(…)`` round trip). This measures a small
read transaction of the service role (a client looked up by klantnummer, under row-level security)
with that hook, against the same read on a connection whose gemeente was set once for the session
(what a per-connection setting would cost: nothing per transaction, but a pooled connection would
carry one caller's gemeente into the next caller's request). Both run in one process, interleaved
in rounds, on a throw-away server started by :mod:`tests.postgres`.

    PYTHONPATH=. .venv/bin/python bench/tenancy_overhead.py --transactions 2000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlmodel import Session

from matching import tenancy
from matching.store import make_engine
from tests.factories import make_client
from tests.postgres import PostgresServer

LOOKUP = text("SELECT id FROM client WHERE client_nummer = :nummer")


def _fill(owner_url: str, clients: int) -> None:
    engine = make_engine(owner_url)
    with tenancy.scope(None), Session(engine) as session:
        for number in range(clients):
            make_client(session, client_nummer=f"K-BENCH-{number}", consulent="wc-a", gemeente="Duiven")
        session.commit()
    engine.dispose()


def _timed(engine, transactions: int) -> list[float]:
    spent = []
    for number in range(transactions):
        started = time.perf_counter()
        with engine.begin() as connection:
            found = connection.execute(LOOKUP, {"nummer": f"K-BENCH-{number % 100}"}).first()
        spent.append((time.perf_counter() - started) * 1000)
        assert found is not None
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("bench/results/tenancy-overhead.json"))
    options = parser.parse_args()
    server = PostgresServer.start()
    try:
        with server.service_database() as (owner_url, service_url):
            _fill(owner_url, 100)
            hooked = make_engine(service_url)  # what the service runs: set_config at every transaction
            session_wide = create_engine(service_url, pool_size=1)  # the gemeente set once per connection
            with session_wide.connect() as connection:
                connection.execute(text("SELECT set_config('werkmatch.gemeente', 'Duiven', false)"))
                connection.commit()
            times: dict[str, list[float]] = {"perTransactie": [], "perVerbinding": []}
            with tenancy.scope("Duiven"):
                _timed(hooked, 200), _timed(session_wide, 200)  # warm both pools and plans
                for _ in range(options.rounds):
                    times["perTransactie"] += _timed(hooked, options.transactions // options.rounds)
                    times["perVerbinding"] += _timed(session_wide, options.transactions // options.rounds)
            hooked.dispose(), session_wide.dispose()
    finally:
        server.stop()
    report = {
        "command": f"PYTHONPATH=. .venv/bin/python bench/tenancy_overhead.py --transactions {options.transactions}",
        "loadAverage": os.getloadavg(),
        **{
            name: {
                "transacties": len(values),
                "p50Ms": round(statistics.median(values), 3),
                "p95Ms": round(statistics.quantiles(values, n=20)[18], 3),
                "gemiddeldMs": round(statistics.fmean(values), 3),
            }
            for name, values in times.items()
        },
    }
    report["meerkostenP50Ms"] = round(report["perTransactie"]["p50Ms"] - report["perVerbinding"]["p50Ms"], 3)
    options.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
