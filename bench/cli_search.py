"""How fast ``werkmatch match candidates … --json`` answers with the demo service running (issue 17: ≤ 2 s).

Starts ``werkmatch serve`` on a demo data directory (9,000 clients and 3,000 vacancies unless told),
waits until every record is embedded, then runs the CLI as an operator would — a new process each
time: start-up, a token minted for ``--gebruiker``, one search through the service, the JSON printed —
and times it from outside. Then it stops the service and times the same command once more without
one (the in-process search, a reader of the saved indexes). Before issue 17 the command took 11.7 s
every time: it built the whole matcher in process.

    .venv/bin/python bench/cli_search.py [--runs 10] [--data-dir /tmp/wm-cli-bench] [--clients 9000]

Writes bench/results/cli-search.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import httpx
from service_harness import (
    WERKMATCH,
    environment,
    login,
    percentile,
    start_server,
    stop,
    wait_until_up,
    write_result,
)

BEFORE_S = 11.7  # the same command before issue 17, on the embedded demo (in process, every time)


def timed_cli(env: dict[str, str], vacancy: str) -> tuple[float, dict]:
    """Seconds from starting the CLI process to its exit, and the JSON it printed."""
    command = [str(WERKMATCH), "match", "candidates", vacancy, "--top", "3", "--json"]
    command += ["--gebruiker", "consulent1", "--doel", "bemiddeling"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"werkmatch match candidates failed: {done.stderr.strip()}")
    return seconds, json.loads(done.stdout)


def summary(seconds: list[float]) -> dict[str, object]:
    return {
        "runs": len(seconds),
        "p50S": round(percentile(seconds, 0.5) or 0, 3),
        "p95S": round(percentile(seconds, 0.95) or 0, 3),
        "maxS": round(max(seconds), 3),
        "allS": [round(value, 3) for value in seconds],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/wm-cli-bench"))
    parser.add_argument("--clients", type=int, default=9000)
    parser.add_argument("--vacancies", type=int, default=3000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    extra = {
        "WERKMATCH_DEMO_CLIENTS": str(args.clients),
        "WERKMATCH_DEMO_VACANCIES": str(args.vacancies),
        "WERKMATCH_RANKER__POLL_SECONDS": "0",
        "WERKMATCH_PORT": str(args.port),
    }
    env = environment(args.data_dir, **extra)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    server = start_server(args.data_dir, args.port, args.data_dir / "serve.log", **extra)
    try:
        started = time.perf_counter()
        wait_until_up(args.port, server, embedded=True)
        ready_s = time.perf_counter() - started
        base = f"http://127.0.0.1:{args.port}"
        headers = login(base, "consulent1", "consulent1-demo-wachtwoord")
        page = httpx.get(f"{base}/api/v1/vacatures", params={"status": "open"}, headers=headers, timeout=30)
        vacancy = page.json()["resultaten"][0]["vacatureNummer"]
        timed_cli(env, vacancy)  # warm: the service's first search loads the query model path once
        through_service = [timed_cli(env, vacancy)[0] for _ in range(args.runs)]
        shown = timed_cli(env, vacancy)[1]
    finally:
        stop(server)
    in_process = [timed_cli(env, vacancy)[0] for _ in range(2)]
    write_result(
        "cli-search",
        {
            "command": "werkmatch match candidates <vacature> --top 3 --json --gebruiker consulent1 --doel bemiddeling",
            "demo": {"clients": args.clients, "vacancies": args.vacancies},
            "serviceReadyS": round(ready_s, 1),
            "throughService": summary(through_service),
            "inProcessWithoutService": summary(in_process),
            "beforeIssue17S": BEFORE_S,
            "results": len(shown["resultaten"]),
            "machine": {"cpus": os.cpu_count(), "loadAverage1m": round(os.getloadavg()[0], 2)},
        },
    )


if __name__ == "__main__":
    main()
