"""kill -9 of the server: no acknowledged write is lost.

Run: .venv/bin/python bench/kill_writes.py [--kills 10] [--writers 4] [--work-dir /tmp/wm-kill-writes]

A real `werkmatch serve` on its own data directory (a small demo: 300 clients, 100 vacancies),
``--writers`` threads, each logged in as its own werkconsulent, creating clients with
``POST /api/v1/klanten`` as fast as the service takes them and recording every 201. Every 2–6 s
(random, seeded) the server gets SIGKILL and is started again; writes sent meanwhile fail and are
not counted (the client does not know whether they landed: that is allowed either way). At the end
every acknowledged klantnummer must be in the database, which must pass ``PRAGMA integrity_check``.
Writes bench/results/kill-writes.json.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import httpx
from service_harness import add_accounts, kill, login, start_server, stop, wait_until_up, write_result

SMALL_DEMO = {"WERKMATCH_DEMO_CLIENTS": "300", "WERKMATCH_DEMO_VACANCIES": "100"}


def client_body(number: str) -> dict[str, object]:
    return {
        "klantNummer": number,
        "trede": 3,
        "route": "werk",
        "postcode": "6811AB",
        "competenties": [{"code": "orderpicken", "niveau": 2}],
        "urenMin": 16,
        "urenMax": 32,
        "wensen": {"maxReisafstandKm": 20},
        "zelfbeschrijving": "Ik werk graag in een magazijn.",
    }


class Writer(threading.Thread):
    """Creates clients K8<writer><serial> until stopped; keeps the numbers answered with 201."""

    def __init__(self, base: str, index: int, account: tuple[str, str], stopping: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base, self.index, self.account, self.stopping = base, index, account, stopping
        self.acknowledged: list[str] = []
        self.failed = 0
        self.refused: dict[int, int] = {}

    def run(self) -> None:
        headers: dict[str, str] | None = None
        serial = 0
        with httpx.Client(base_url=self.base, timeout=10) as http:
            while not self.stopping.is_set():
                try:
                    headers = headers or login(self.base, *self.account)
                    number = f"K8{self.index}{serial:05d}"
                    response = http.post("/api/v1/klanten", json=client_body(number), headers=headers)
                except httpx.HTTPError:  # the server is down or was killed mid-request: unknown, not counted
                    self.failed += 1
                    headers = None
                    time.sleep(0.2)
                    continue
                serial += 1
                if response.status_code == 201:
                    self.acknowledged.append(number)
                else:
                    self.refused[response.status_code] = self.refused.get(response.status_code, 0) + 1
                    if response.status_code == 401:
                        headers = None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/wm-kill-writes"))
    args = parser.parse_args()
    random.seed(args.seed)
    shutil.rmtree(args.work_dir, ignore_errors=True)
    args.work_dir.mkdir(parents=True)
    data_dir, log = args.work_dir / "var", args.work_dir / "serve.log"
    base = f"http://127.0.0.1:{args.port}"

    server = start_server(data_dir, args.port, log, **SMALL_DEMO)  # first start: demo data, tables
    wait_until_up(args.port, server, embedded=True)
    stop(server)
    accounts = add_accounts(data_dir, "schrijver", args.writers, "werkconsulent")
    server = start_server(data_dir, args.port, log, **SMALL_DEMO)
    wait_until_up(args.port, server)

    stopping = threading.Event()
    writers = [Writer(base, index, account, stopping) for index, account in enumerate(accounts)]
    for writer in writers:
        writer.start()
    restarts = []
    for _ in range(args.kills):
        time.sleep(random.uniform(2.0, 6.0))
        kill(server)
        killed = time.monotonic()
        server = start_server(data_dir, args.port, log, **SMALL_DEMO)
        wait_until_up(args.port, server)
        restarts.append(round(time.monotonic() - killed, 1))
    time.sleep(2.0)
    stopping.set()
    for writer in writers:
        writer.join()
    stop(server)

    acknowledged = [number for writer in writers for number in writer.acknowledged]
    with closing(sqlite3.connect(data_dir / "werkmatch.db")) as connection:
        present = {
            row[0] for row in connection.execute("SELECT client_nummer FROM client WHERE client_nummer LIKE 'K8%'")
        }
        check = connection.execute("PRAGMA integrity_check").fetchone()[0]
    lost = sorted(set(acknowledged) - present)
    refused: dict[str, int] = {}
    for writer in writers:
        for status, count in writer.refused.items():
            refused[str(status)] = refused.get(str(status), 0) + count
    write_result(
        "kill-writes",
        {
            "command": "werkmatch serve, POST /api/v1/klanten from writer threads, SIGKILL + restart",
            "kills": args.kills,
            "writers": args.writers,
            "acknowledgedWrites": len(acknowledged),
            "lostAcknowledgedWrites": len(lost),
            "lost": lost[:20],
            "storedButNotAcknowledged": len(present - set(acknowledged)),
            "requestsFailedWhileDown": sum(writer.failed for writer in writers),
            "refusedByStatus": refused,
            "integrityCheck": check,
            "restartUntilHealthS": restarts,
        },
    )


if __name__ == "__main__":
    main()
