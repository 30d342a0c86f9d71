"""kill -9 during imports: every run is all-or-nothing and the database stays intact.

Run: .venv/bin/python bench/kill_import.py [--rows 20000] [--loops 15] [--work-dir /tmp/wm-kill-import]

Makes a CSV of ``--rows`` clients (the sample rows of data/samples/clients.csv under new numbers),
times one undisturbed `werkmatch import clients` until its rows are committed, then ``--loops``
times: a fresh database, the same import in a subprocess, SIGKILL at a random moment between 0.25 and
1.1 × the commit time (the first seconds are Python starting up). After each kill it counts the
imported clients (0 or all of them, nothing between) and runs ``PRAGMA integrity_check``.
Writes bench/results/kill-import.json.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

from service_harness import ROOT, WERKMATCH, environment, write_result

PREFIX = "K7"  # the numbers this script gives its rows: K7000001…


def make_csv(path: Path, rows: int) -> None:
    with (ROOT / "data" / "samples" / "clients.csv").open(encoding="utf-8") as sample:
        reader = csv.DictReader(sample)
        template, fields = list(reader), reader.fieldnames
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for number in range(rows):
            writer.writerow({**template[number % len(template)], "klantNummer": f"{PREFIX}{number:06d}"})


def empty_database(data_dir: Path) -> Path:
    """A data directory with an empty, initialised database (tables made, no rows)."""
    shutil.rmtree(data_dir, ignore_errors=True)
    code = "from matching.settings import Settings; from matching.store import init_db, make_engine; "
    code += "init_db(make_engine(Settings().resolved_database_url))"
    subprocess.run([str(WERKMATCH.parent / "python"), "-c", code], env=environment(data_dir), check=True, cwd=ROOT)
    return data_dir / "werkmatch.db"


def stored(database: Path) -> int:
    """How many of this script's clients are committed."""
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        query = "SELECT count(*) FROM client WHERE client_nummer LIKE ?"
        return connection.execute(query, (f"{PREFIX}%",)).fetchone()[0]


def integrity(database: Path) -> str:
    """``PRAGMA integrity_check``: 'ok' for an intact file."""
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--loops", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/wm-kill-import"))
    args = parser.parse_args()
    random.seed(args.seed)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    source = args.work_dir / "clients.csv"
    make_csv(source, args.rows)
    data_dir = args.work_dir / "var"
    command = [str(WERKMATCH), "import", "clients", str(source)]

    database = empty_database(data_dir)  # calibration: when does an undisturbed import commit?
    started = time.monotonic()
    process = subprocess.Popen(command, env=environment(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while stored(database) < args.rows:
        if process.poll() is not None and stored(database) < args.rows:
            raise SystemExit(f"the undisturbed import stopped with exit code {process.returncode} before committing")
        time.sleep(0.05)
    commit_s = time.monotonic() - started
    process.kill()
    process.wait()

    loops = []
    for loop in range(args.loops):
        database = empty_database(data_dir)
        delay = random.uniform(0.25 * commit_s, 1.1 * commit_s)  # mostly inside the write
        process = subprocess.Popen(
            command, env=environment(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)
        exited_before = process.poll() is not None
        process.kill()  # SIGKILL
        process.wait()
        count, check = stored(database), integrity(database)
        loops.append(
            {
                "loop": loop,
                "killedAfterS": round(delay, 2),
                "exitedBefore": exited_before,
                "clientsStored": count,
                "allOrNothing": count in (0, args.rows),
                "integrityCheck": check,
            }
        )
    write_result(
        "kill-import",
        {
            "command": "werkmatch import clients <csv> (SIGKILL at a random moment)",
            "rows": args.rows,
            "undisturbedCommitS": round(commit_s, 1),
            "loops": len(loops),
            "killedMidImport": sum(1 for item in loops if item["clientsStored"] == 0),
            "killedAfterCommit": sum(1 for item in loops if item["clientsStored"] == args.rows),
            "halfImports": sum(1 for item in loops if not item["allOrNothing"]),
            "integrityNotOk": sum(1 for item in loops if item["integrityCheck"] != "ok"),
            "runs": loops,
        },
    )


if __name__ == "__main__":
    main()
