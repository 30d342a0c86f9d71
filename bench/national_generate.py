"""Peak memory and time of ``werkmatch demo-data`` at national size (issue 16 item 1), on SQLite or PostgreSQL.

Run: PYTHONPATH=. .venv/bin/python bench/national_generate.py --backend postgresql [--clients 400000 --vacancies 300000]
Writes bench/results/national-generate-<backend>.json (or --out). The command runs under
``/usr/bin/time -v`` (peak RSS of the werkmatch process); PostgreSQL is a throw-away server started
by :mod:`tests.postgres` (the test suite's), its own memory not counted. Timings depend on what else
runs on the machine: the output records the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench._result import provenance, write_json
from tests.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[1]


def _generate(clients: int, vacancies: int, data_dir: Path, database_url: str) -> dict[str, object]:
    werkmatch = str(Path(sys.executable).parent / "werkmatch")
    command = ["/usr/bin/time", "-v", werkmatch, "demo-data", "--clients", str(clients), "--vacancies"]
    command += [str(vacancies), "--no-index"]
    env = {**os.environ, "WERKMATCH_DATA_DIR": str(data_dir), "WERKMATCH_DATABASE_URL": database_url}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))  # type: ignore[union-attr]
    cpu_s = sum(float(seconds) for seconds in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr))
    url = database_url or f"sqlite:///{data_dir / 'werkmatch.db'}"
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in ("client", "vacancy")
        }
    engine.dispose()
    return {
        "peak_rss_mb": round(peak_kb / 1024),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu_s, 1),
        "rows": counts,
        "output": done.stdout,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--clients", type=int, default=400_000)
    parser.add_argument("--vacancies", type=int, default=300_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or ROOT / "bench" / "results" / f"national-generate-{args.backend}.json"
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="wm-national-") as tmp:
        if args.backend == "sqlite":
            result = _generate(args.clients, args.vacancies, Path(tmp), "")
        else:
            server = PostgresServer.start()
            try:
                with server.fresh_database() as url:
                    result = _generate(args.clients, args.vacancies, Path(tmp), url)
            finally:
                server.stop()
    report = {
        "command": " ".join(["PYTHONPATH=. .venv/bin/python", *sys.argv]),
        "niceness": os.nice(0),
        "backend": args.backend,
        "clients": args.clients,
        "vacancies": args.vacancies,
        **result,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        **provenance(),
    }
    write_json(out, report)
    print(json.dumps(report, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
