"""Load: 32 users with their own accounts searching candidates at once, and a probe on /health.

Run: .venv/bin/python bench/load_search.py [--users 32] [--seconds 60] [--data-dir /tmp/wm-load]
     [--code-dir /tmp/wm-before --name load-search-before]   # the same load on another copy of the code
     [--workers 2] [--no-retry-after]

A real `werkmatch serve` on ``--data-dir`` (made on the first run: the README's demo, 9,000 clients
and 3,000 vacancies, fully embedded before measuring; later runs reuse it). ``--users``
werkconsulent accounts ``last01``… are added to its database. Each user is one thread with its own
connection that runs candidate searches (``POST /api/v1/matches/kandidaten``, top 20, a random open
vacancy) back to back, waiting as a 429's ``Retry-After`` asks (``--no-retry-after``: at once);
one more thread asks ``GET /api/v1/health`` every 100 ms. After a 5 s
warm-up, ``--seconds`` are measured. Reports p50/p95/p99 of searches and of /health, searches per
second, and the answers by status (429 is the documented per-user rate limit; anything else but
200 is an error). The load generator runs on the same machine and takes CPU from the server: the
numbers are an upper bound on latency for this hardware. Writes bench/results/<name>.json.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
from service_harness import add_accounts, login, percentile, start_server, stop, wait_until_up, write_result

WARM_UP_S = 5.0
PROBE_EVERY_S = 0.1


class Recorder:
    """Latencies and statuses of one kind of request, from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.measuring = False

    def add(self, seconds: float, status: str) -> None:
        if not self.measuring:
            return
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == "200":
                self.latencies.append(seconds)

    def summary(self, seconds: float) -> dict[str, Any]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 1)

        return {
            "answered200": len(self.latencies),
            "perSecond": round(len(self.latencies) / seconds, 2),
            "p50Ms": ms(percentile(self.latencies, 0.50)),
            "p95Ms": ms(percentile(self.latencies, 0.95)),
            "p99Ms": ms(percentile(self.latencies, 0.99)),
            "maxMs": ms(max(self.latencies, default=None)),
            "byStatus": dict(sorted(self.statuses.items())),
            "errors": sum(count for status, count in self.statuses.items() if status not in ("200", "429")),
        }


def timed(http: httpx.Client, recorder: Recorder, method: str, path: str, **kwargs: Any) -> float:
    """One request, recorded; returns how long the answer asks to wait (``Retry-After`` of a 429), else 0."""
    started = time.perf_counter()
    wait = 0.0
    try:
        response = http.request(method, path, **kwargs)
        status = str(response.status_code)
        if response.status_code == 429:
            wait = float(response.headers.get("Retry-After", "1"))
    except httpx.HTTPError as error:
        status = type(error).__name__
    recorder.add(time.perf_counter() - started, status)
    return wait


def open_vacancies(data_dir: Path) -> list[str]:
    with closing(sqlite3.connect(data_dir / "werkmatch.db")) as connection:
        rows = connection.execute("SELECT vacature_nummer FROM vacancy WHERE status = 'open' ORDER BY id LIMIT 500")
        return [row[0] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=8773)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/wm-load"))
    parser.add_argument("--code-dir", type=Path, default=None)
    parser.add_argument("--name", default="load-search")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="werkmatch serve --workers (WERKMATCH_WORKERS)")
    parser.add_argument(
        "--no-retry-after",
        dest="retry_after",
        action="store_false",
        help="retry a 429 at once (a client that ignores Retry-After) instead of waiting as it asks",
    )
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    log = args.data_dir.with_name(args.data_dir.name + "-serve.log")

    if not (args.data_dir / "werkmatch.db").exists():  # first run: the README's demo, fully embedded
        server = start_server(args.data_dir, args.port, log)
        wait_until_up(args.port, server, embedded=True)
        stop(server)
    accounts = add_accounts(args.data_dir, "last", args.users, "werkconsulent")
    vacancies = open_vacancies(args.data_dir)
    server = start_server(args.data_dir, args.port, log, code_dir=args.code_dir, WERKMATCH_WORKERS=str(args.workers))
    try:
        health = wait_until_up(args.port, server, embedded=True)
        searches, probes = Recorder(), Recorder()
        stopping = threading.Event()
        headers = [login(base, *account) for account in accounts]

        def user(index: int) -> None:
            pick = random.Random(args.seed * 1000 + index)
            with httpx.Client(base_url=base, timeout=120, headers=headers[index]) as http:
                while not stopping.is_set():
                    body = {"vacatureId": pick.choice(vacancies), "top": 20}
                    wait = timed(http, searches, "POST", "/api/v1/matches/kandidaten", json=body)
                    if args.retry_after and wait:  # a client that honours Retry-After, as the web UI's users do
                        stopping.wait(wait)

        def probe() -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                while not stopping.is_set():
                    timed(http, probes, "GET", "/api/v1/health")
                    time.sleep(PROBE_EVERY_S)

        threads = [threading.Thread(target=user, args=(index,), daemon=True) for index in range(args.users)]
        threads.append(threading.Thread(target=probe, daemon=True))
        for thread in threads:
            thread.start()
        time.sleep(WARM_UP_S)
        searches.measuring = probes.measuring = True
        started = time.monotonic()
        time.sleep(args.seconds)
        searches.measuring = probes.measuring = False
        measured = time.monotonic() - started
        stopping.set()
        for thread in threads:
            thread.join()
    finally:
        stop(server)
    write_result(
        args.name,
        {
            "command": "werkmatch serve; POST /api/v1/matches/kandidaten (top 20) per user back to back; "
            "GET /api/v1/health every 100 ms",
            "code": str(args.code_dir) if args.code_dir else "this checkout",
            "workers": args.workers,
            "retryAfterHonoured": args.retry_after,
            "users": args.users,
            "distinctAccounts": len({username for username, _ in accounts}),
            "measuredSeconds": round(measured, 1),
            "clients": health["index"]["klanten"]["database"],
            "vacancies": health["index"]["vacatures"]["database"],
            "search": searches.summary(measured),
            "health": probes.summary(measured),
        },
    )


if __name__ == "__main__":
    main()
