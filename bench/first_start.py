"""Time the README's first start: `werkmatch serve` on an empty data directory, until fully embedded.

Run: .venv/bin/python bench/first_start.py [--data-dir /tmp/wm-first] [--port 8765]
Prints JSON: seconds until the API answers (search works: lexical + structured) and until every
record is embedded (dense search complete), with the record counts it saw.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/wm-first-start"))
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    shutil.rmtree(args.data_dir, ignore_errors=True)
    env = {**os.environ, "WERKMATCH_DATA_DIR": str(args.data_dir)}
    werkmatch = Path(sys.executable).parent / "werkmatch"
    start = time.monotonic()
    server = subprocess.Popen(
        [str(werkmatch), "serve", "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    up = None
    try:
        while True:
            status = health(args.port)
            now = time.monotonic() - start
            if status is not None and up is None:
                up = now
            if status is not None and status["index"]["embedding"] != "bezig":
                break
            if server.poll() is not None:
                raise SystemExit(f"serve stopped with exit code {server.returncode}")
            time.sleep(1)
        index = status["index"]
        print(
            json.dumps(
                {
                    "apiAnswersSeconds": round(up, 1),
                    "fullyEmbeddedSeconds": round(now, 1),
                    "embedding": index["embedding"],
                    "clients": index["klanten"]["geindexeerd"],
                    "vacancies": index["vacatures"]["geindexeerd"],
                    "modelId": index["modelId"],
                }
            )
        )
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
