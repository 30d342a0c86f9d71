"""Retraining at national size (issue 16 item 5): a simulated history on the national world, then
``werkmatch train`` on it, with peak memory, wall clock and CPU seconds.

Run (each phase under ``flock /tmp/bigmem.lock``; the world is a copy of the 400,000-client,
300,000-vacancy database with borrowed vectors that ``werkmatch bench search --scale-clients 400000``
leaves in ``<data dir>/bench-400000``)::

    cp -a /tmp/wm-h10/bench-400000 /tmp/wm-f/national
    .venv/bin/python bench/national_train.py history --data-dir /tmp/wm-f/national --max-vacancies 40000 \\
        --proposals-per-place 30
    .venv/bin/python bench/national_train.py train --data-dir /tmp/wm-f/national --since 2025-10-01 --since all

``history`` simulates (:mod:`training.outcome_sim`, seed 0) the first ``--max-vacancies`` vacancies of
the national world with ``--proposals-per-place`` proposals a place, and writes them streamed
(:func:`training.outcome_sim.write_history`). ``train`` runs ``werkmatch train --json`` once per
``--since`` (``all``: no cut) in a child process under ``/usr/bin/time -v``, so each size is measured
in the same way on the same history. A *decided pair* is a (client, vacancy) row the ranker learns
from: the latest judgement of a pair, not open (``trainPairs`` + ``holdout.pairs``).

Results go to ``--out`` (default ``bench/results/national-train.json``), one section per phase.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, func, select

from matching.outcomes import Voorstel, relevance_labels
from matching.settings import Settings
from matching.store import make_engine
from training.outcome_sim import SimulationSettings, simulate, write_history
from training.ranking_store import OPEN_LABEL

REPO = Path(__file__).resolve().parents[1]


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def history(data_dir: Path, max_vacancies: int, proposals_per_place: float, seed: int) -> dict[str, Any]:
    """Simulate and store the history; its size, time and this process's peak memory."""
    engine = make_engine(Settings(data_dir=data_dir).resolved_database_url)
    with Session(engine) as session:
        if session.exec(select(func.count()).select_from(Voorstel)).one():
            raise SystemExit(f"{data_dir} heeft al voorstellen; begin met een verse kopie van de nationale wereld")
    load, wall, cpu = _load(), time.perf_counter(), time.process_time()
    settings = SimulationSettings(max_vacancies=max_vacancies, proposals_per_place=proposals_per_place)
    summary = write_history(engine, simulate(engine, settings, seed), progress=True)
    with Session(engine) as session:
        decided = sum(1 for label in relevance_labels(session) if label.label != OPEN_LABEL)
    return {
        "maxVacancies": max_vacancies,
        "proposalsPerPlace": proposals_per_place,
        "seed": seed,
        "voorstellen": summary["voorstellen"],
        "eindstand": summary["eindstand"],
        "pairs": int(decided),
        "wallS": round(time.perf_counter() - wall, 1),
        "cpuS": round(time.process_time() - cpu, 1),
        "peakRssMb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "loadBefore": load,
        "loadAfter": _load(),
    }


def _time_v(stderr: str, label: str) -> str:
    found = re.search(rf"{re.escape(label)}: (.+)", stderr)
    return found.group(1).strip() if found else ""


def _seconds(clock: str) -> float:
    """``/usr/bin/time``'s elapsed ``h:mm:ss`` or ``m:ss.ss`` as seconds."""
    parts = [float(part) for part in clock.split(":")]
    return round(sum(part * 60**power for power, part in enumerate(reversed(parts))), 1)


def train_once(data_dir: Path, since: str) -> dict[str, Any]:
    """One ``werkmatch train --json`` in a child process, measured by ``/usr/bin/time -v``."""
    command = ["/usr/bin/time", "-v", str(REPO / ".venv/bin/werkmatch"), "train", "--json"]
    command += [] if since == "all" else ["--since", since]
    env = {**os.environ, "WERKMATCH_DATA_DIR": str(data_dir), "OMP_WAIT_POLICY": "passive"}
    load = _load()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        return {"since": since, "failed": done.returncode, "stderr": done.stderr[-3000:]}
    result = json.loads(done.stdout)
    cpu = float(_time_v(done.stderr, "User time (seconds)")) + float(_time_v(done.stderr, "System time (seconds)"))
    return {
        "since": since,
        "pairs": result["trainPairs"] + result["holdout"]["pairs"],
        "trainPairs": result["trainPairs"],
        "holdout": result["holdout"],
        "peakRssMb": round(int(_time_v(done.stderr, "Maximum resident set size (kbytes)")) / 1024),
        "wallS": _seconds(_time_v(done.stderr, "Elapsed (wall clock) time (h:mm:ss or m:ss)")),
        "cpuS": round(cpu, 1),
        "fitSeconds": result["fitSeconds"],
        "tuning": result["tuning"],
        "holdoutNdcg@10": result["metrics"].get("ndcg@10"),
        "weightedNdcg@10": result["baseline:weighted"].get("ndcg@10"),
        "fairnessAvailable": result["fairness"]["available"],
        "loadBefore": load,
        "loadAfter": _load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=["history", "train"])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--max-vacancies", type=int, default=40_000)
    parser.add_argument("--proposals-per-place", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--since", action="append", default=None, help="JJJJ-MM-DD or 'all'; repeatable")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/national-train.json")
    args = parser.parse_args()
    report = json.loads(args.out.read_text()) if args.out.exists() else {}
    report.setdefault("commands", {})[args.phase] = " ".join(["python", *sys.argv])
    report["machine"] = {"cpus": os.cpu_count(), "date": datetime.now(UTC).isoformat(timespec="seconds")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.phase == "history":
        report["history"] = history(args.data_dir, args.max_vacancies, args.proposals_per_place, args.seed)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        report["train"] = []
        for since in args.since or ["all"]:  # written after each run: a later one may not fit the time left
            report["train"].append(train_once(args.data_dir, since))
            args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report[args.phase], indent=2, ensure_ascii=False))  # noqa: T201


if __name__ == "__main__":
    main()
