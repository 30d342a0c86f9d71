"""What the reliability and load scripts share: a real `werkmatch serve` on a data directory, accounts, results.

Not a test helper: the scripts in bench/ measure a running service from outside, as an operator
or an auditor would, and write what they saw to bench/results/.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WERKMATCH = Path(sys.executable).parent / "werkmatch"
PASSWORD = "bench-wachtwoord-{}-lang-genoeg"


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a werkmatch process on ``data_dir`` (development mode, small demo unless told)."""
    return {**os.environ, "WERKMATCH_DATA_DIR": str(data_dir), **extra}


def start_server(
    data_dir: Path, port: int, log: Path, code_dir: Path | None = None, **env: str
) -> subprocess.Popen[bytes]:
    """`werkmatch serve` in its own process group (SIGKILL reaches it and nothing else).

    Args:
        code_dir: Another copy of the code to serve (``git archive <commit> | tar -x``), to measure
            before and after a change with the same virtualenv; default: this checkout.
    """
    command = [str(WERKMATCH), "serve", "--port", str(port)]
    if code_dir is not None:
        command = [sys.executable, "-c", "from api.cli import app; app()", "serve", "--port", str(port)]
        env = {"PYTHONPATH": str(code_dir), **env}
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            env=environment(data_dir, **env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=code_dir or ROOT,
        )


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL, as the OOM killer or a pulled plug would: no shutdown code runs."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def stop(process: subprocess.Popen[bytes]) -> None:
    """A normal stop (SIGTERM), waiting for the lifespan to end."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            kill(process)


def wait_until_up(port: int, process: subprocess.Popen[bytes], embedded: bool = False) -> dict[str, Any]:
    """Poll ``/api/v1/health`` until it answers (and, with ``embedded``, until embedding is done)."""
    while True:
        if process.poll() is not None:
            raise SystemExit(f"werkmatch serve stopped with exit code {process.returncode}")
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).json()
            if not embedded or (health["index"] and health["index"]["embedding"] != "bezig"):
                return health
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)


def add_accounts(data_dir: Path, prefix: str, count: int, rol: str) -> list[tuple[str, str]]:
    """``count`` accounts ``<prefix>01``… in the service's database, werkconsulenten on the busiest caseloads.

    Made directly in the database (as ``werkmatch gebruikers`` would), before the service starts.
    """
    from sqlalchemy import func
    from sqlmodel import Session, select

    from api.services import schema
    from api.services.users import create_user, get_user
    from matching.domain import Client
    from matching.settings import Settings
    from matching.store import make_engine

    engine = make_engine(Settings(data_dir=data_dir).resolved_database_url)
    schema.create_all(engine)
    accounts = []
    with Session(engine) as session:
        codes = list(
            session.exec(
                select(Client.consulent).group_by(Client.consulent).order_by(func.count().desc()).limit(count)
            ).all()
        )
        for number in range(1, count + 1):
            username, password = f"{prefix}{number:02d}", PASSWORD.format(number)
            if get_user(session, username) is None:
                code = codes[(number - 1) % len(codes)] if rol == "werkconsulent" and codes else None
                create_user(session, username, password, rol, consulent=code)
            accounts.append((username, password))
    engine.dispose()
    return accounts


def login(base: str, username: str, password: str) -> dict[str, str]:
    """The bearer header of one account."""
    response = httpx.post(f"{base}/api/v1/token", data={"username": username, "password": password}, timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in 0–1) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Print the result as JSON and write it to bench/results/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    text = json.dumps(result, indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    return path
