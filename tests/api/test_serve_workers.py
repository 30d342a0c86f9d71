"""`werkmatch serve --workers 2`: a real service of two processes on a small demo, each answering searches.

Slow on purpose (two processes load the embedding model); it checks behaviour, never timings.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

WERKMATCH = Path(sys.executable).parent / "werkmatch"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_two_worker_processes_serve_the_same_index_and_users(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "WERKMATCH_DATA_DIR": str(tmp_path / "var"),
        "WERKMATCH_DEMO_CLIENTS": "60",
        "WERKMATCH_DEMO_VACANCIES": "20",
        "WERKMATCH_RANKER__POLL_SECONDS": "0",
    }
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(WERKMATCH), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = None
        for _ in range(600):  # until the workers answer (the model loads in each); no limit asserted
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                health = httpx.get(f"{base}/api/v1/health", timeout=5).json()
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert health is not None and health["index"]["embedding"] != "bezig"  # embedded before the workers
        token = httpx.post(
            f"{base}/api/v1/token", data={"username": "consulent1", "password": "consulent1-demo-wachtwoord"}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        listed = httpx.get(f"{base}/api/v1/vacatures", params={"status": "open"}, headers=headers)
        assert listed.status_code == 200, listed.text
        first = listed.json()["resultaten"][0]["vacatureNummer"]
        for _ in range(12):  # new connections: the kernel spreads them over both workers
            with httpx.Client(base_url=base, headers=headers) as http:
                answer = http.post("/api/v1/matches/kandidaten", json={"vacatureId": first, "top": 5})
                assert answer.status_code == 200, answer.text
                assert len(answer.json()["resultaten"]) == 5
        log_text = (tmp_path / "serve.log").read_text()
        started = [line for line in log_text.splitlines() if "Started server process [" in line]
        pids = {line.split("[")[-1].split("]")[0] for line in started}
        assert len(pids) == 2, log_text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
