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

from matching.matcher import Matcher
from tests.factories import copied_world
from tests.postgres import PostgresServer
from training import registry
from training.promotion import promote
from training.train import train

# the small world's model breaches the fairness tripwire (trede 0-2): promoting it needs this on record
SMALL = "Testopzet: een klein synthetisch model, nooit in gebruik; overschrijdingen zijn bekend."

WERKMATCH = Path(sys.executable).parent / "werkmatch"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(tmp_path: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    """`werkmatch serve --workers 2` on a small demo in ``tmp_path/var``, in its own process group."""
    environment = {
        **os.environ,
        "WERKMATCH_DATA_DIR": str(tmp_path / "var"),
        "WERKMATCH_DEMO_CLIENTS": "60",
        "WERKMATCH_DEMO_VACANCIES": "20",
        "WERKMATCH_RANKER__POLL_SECONDS": "0",
        **env,
    }
    with (tmp_path / "serve.log").open("ab") as log:
        return subprocess.Popen(
            [str(WERKMATCH), "serve", "--port", str(port), "--workers", "2"],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for_health(base: str, server: subprocess.Popen[bytes], log: Path) -> dict:
    for _ in range(600):  # until the workers answer (the model loads in each); no limit asserted
        assert server.poll() is None, log.read_text()
        try:
            return httpx.get(f"{base}/api/v1/health", timeout=5).json()
        except httpx.HTTPError:
            time.sleep(0.5)
    raise AssertionError(log.read_text())


def bearer(base: str, username: str) -> dict[str, str]:
    answer = httpx.post(f"{base}/api/v1/token", data={"username": username, "password": f"{username}-demo-wachtwoord"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.mark.slow
def test_two_worker_processes_serve_the_same_index_and_users(tmp_path: Path) -> None:
    port = free_port()
    server = serve(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_for_health(base, server, tmp_path / "serve.log")
        assert health["index"]["embedding"] != "bezig"  # embedded before the workers
        headers = bearer(base, "consulent1")
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


@pytest.mark.slow
def test_two_processes_on_postgresql_share_profiles_the_kill_switch_and_one_index_writer(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """Issue 14: several service processes on one PostgreSQL database (new connections reach either process)."""
    with postgres.service_database() as (_owner_url, service_url):  # migrated by the owner, served as the service role
        _two_processes(tmp_path, service_url)


def _health_until_both_answered(base: str, tries: int = 240) -> list[dict]:
    """Health answers until both roles answered (the second worker may still be loading) or ``tries`` ran out."""
    seen: list[dict] = []
    for _ in range(tries):
        seen.append(httpx.get(f"{base}/api/v1/health", timeout=10).json()["index"])
        if {status["rol"] for status in seen} == {"schrijver", "lezer"}:
            break
        time.sleep(0.5)
    return seen


def _two_processes(tmp_path: Path, url: str) -> None:
    port = free_port()
    server = serve(tmp_path, port, WERKMATCH_DATABASE_URL=url)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for_health(base, server, tmp_path / "serve.log")["index"]["embedding"] != "bezig"
        consulent, beheerder = bearer(base, "consulent1"), bearer(base, "beheerder")
        listed = httpx.get(f"{base}/api/v1/vacatures", params={"status": "open"}, headers=consulent)
        first = listed.json()["resultaten"][0]["vacatureNummer"]

        # exactly one process writes the index files; both answer
        seen = _health_until_both_answered(base)
        assert {status["rol"] for status in seen} == {"schrijver", "lezer"}
        assert len({status["schrijver"] for status in seen}) == 1

        # a profile saved through one process is found through any: every search catches up first
        new = {"klantNummer": "K-TWEE-PROCESSEN", "trede": 4, "route": "werk", "postcode": "6811AB"}
        created = httpx.post(f"{base}/api/v1/klanten", json=new, headers=consulent)
        assert created.status_code == 201, created.text
        for _ in range(8):  # its options at intake: the answering process must hold the new profile's row
            with httpx.Client(base_url=base, headers=consulent, timeout=60) as http:
                answer = http.post("/api/v1/matches/vacatures", json={"klantId": "K-TWEE-PROCESSEN", "top": 5})
                assert answer.status_code == 200, answer.text
                assert answer.json()["klantId"] == "K-TWEE-PROCESSEN"

        # the kill switch reaches every process from its next search, without a restart
        switched = httpx.put(
            f"{base}/api/v1/instellingen/rangschikking",
            json={"modus": "transparant", "reden": "toets met twee processen"},
            headers=beheerder,
        )
        assert switched.status_code == 200, switched.text
        for _ in range(8):
            with httpx.Client(base_url=base, headers=consulent, timeout=60) as http:
                answer = http.post("/api/v1/matches/kandidaten", json={"vacatureId": first, "top": 5})
                assert answer.json()["rangschikking"]["modus"] == "transparant"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


@pytest.mark.slow
def test_a_promoted_champion_reaches_every_process(tmp_path: Path, simulated_template: Path, embedder: object) -> None:
    """Issue 14: promoted while two processes serve, the champion is what both rank with from their next check."""
    settings, world = copied_world(simulated_template, tmp_path / "var", embedder)  # serve() serves tmp_path/var
    world.close()  # the service's first process becomes the index writer
    port = free_port()
    server = serve(tmp_path, port, WERKMATCH_RANKER__POLL_SECONDS="1")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, server, tmp_path / "serve.log")
        before = {status["rangschikker"]["naam"] for status in _health_until_both_answered(base)}
        assert settings.ranker.registered_model not in before, before  # no champion yet: the shipped baseline

        trainer = Matcher(settings, embedder=embedder, may_write=False)  # the data scientist's own process
        train(settings, trainer, user="ds-test")
        promote(settings, trainer, force=True, reason="toets: twee processen", user="ds-test", justification=SMALL)
        champion = registry.by_alias(settings, registry.CHAMPION)
        assert champion is not None
        serving: dict[str, str | None] = {}
        for _ in range(600):  # each process's watcher checks every second; no limit asserted
            status = httpx.get(f"{base}/api/v1/health", timeout=10).json()["index"]
            serving[status["rol"]] = status["rangschikker"].get("versie")
            if serving == {"schrijver": champion.version, "lezer": champion.version}:
                break
            time.sleep(0.25)
        assert serving == {"schrijver": champion.version, "lezer": champion.version}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
