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
``--since`` (``all``: no cut) in a child process and records its progress lines (stderr) with the
moment and resident memory of each, the memory every 5 s (``/proc/<pid>/status``), the high-water
mark and wall and CPU time, so each size is measured in the same way on the same history. A
*decided pair* is a (client, vacancy) row the ranker learns from: the latest judgement of a pair, not
open (``trainPairs`` + ``holdout.pairs``).

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
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session, func, select

from matching.domain import Vacancy
from matching.features import FEATURE_NAMES
from matching.outcomes import Voorstel, relevance_labels
from matching.settings import Settings
from matching.store import make_engine
from training.dataset import RankingData
from training.outcome_sim import SimulatedProposal, SimulationSettings, simulate, write_history
from training.ranking_store import OPEN_LABEL
from training.train import fit_on

REPO = Path(__file__).resolve().parents[1]


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _resume_point(session: Session) -> int:
    """The index (by vacancy id) after the last vacancy with a stored voorstel: where a stopped or shorter
    history goes on (the simulator commits whole vacancies)."""
    last = session.exec(select(func.max(Voorstel.vacancy_id))).one()
    if last is None:
        return 0
    return int(session.exec(select(func.count()).select_from(Vacancy).where(Vacancy.id <= last)).one())


def _until(proposals: Iterator[SimulatedProposal], stop_at: float | None) -> Iterator[SimulatedProposal]:
    """``proposals`` until the first vacancy that begins after ``stop_at`` (epoch seconds): a history cut
    there holds whole vacancies only."""
    previous = None
    for proposal in proposals:
        if stop_at is not None and proposal.vacancy_id != previous and time.time() >= stop_at:
            return
        previous = proposal.vacancy_id
        yield proposal


def history(
    data_dir: Path,
    max_vacancies: int,
    proposals_per_place: float,
    seed: int,
    extend: bool = False,
    stop_at: float | None = None,
) -> dict[str, Any]:
    """Simulate and store the history (``extend``: the vacancies after the stored history's last one,
    for ``seed``; ``stop_at``: no vacancy begun after that moment); its size, time and this process's
    peak memory."""
    engine = make_engine(Settings(data_dir=data_dir).resolved_database_url)
    with Session(engine) as session:
        first = _resume_point(session)
    if first and not extend:
        raise SystemExit(f"{data_dir} heeft al voorstellen; begin met een verse kopie of gebruik --extend")
    load, wall, cpu = _load(), time.perf_counter(), time.process_time()
    settings = SimulationSettings(
        max_vacancies=max_vacancies, proposals_per_place=proposals_per_place, first_vacancy=first
    )
    summary = write_history(engine, _until(simulate(engine, settings, seed), stop_at), progress=True)
    with Session(engine) as session:
        decided = sum(1 for label in relevance_labels(session) if label.label != OPEN_LABEL)
        reached = _resume_point(session)
    return {
        "firstVacancy": first,
        "maxVacancies": max_vacancies,
        "vacanciesReached": reached,
        "proposalsPerPlace": proposals_per_place,
        "seed": seed,
        "voorstellen": summary["voorstellen"],
        "eindstand": summary["eindstand"],
        "pairs": int(decided),  # in the whole stored history
        "wallS": round(time.perf_counter() - wall, 1),
        "cpuS": round(time.process_time() - cpu, 1),
        "peakRssMb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "loadBefore": load,
        "loadAfter": _load(),
    }


def _status_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in kB (empty once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {key: int(value.split()[0]) for key, value in re.findall(r"^(VmRSS|VmHWM):\s+(.+)$", text, re.M)}


def _measured(command: list[str], env: dict[str, str], every_s: float = 5.0) -> tuple[dict[str, Any], str | None]:
    """Run ``command`` as a child: its progress lines (stderr) with the moment and the resident memory when
    each came, the memory sampled every ``every_s`` s (VmRSS, VmHWM from /proc), and wall and CPU time
    (``getrusage`` of the reaped child); with its stdout, or None when it failed."""
    load, began, before = _load(), time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    samples: list[list[float]] = []
    steps: list[dict[str, Any]] = []
    tail: list[str] = []

    def read_stderr() -> None:
        assert child.stderr is not None
        for line in child.stderr:
            tail.append(line)
            del tail[:-60]
            memory = _status_kb(child.pid)
            steps.append(
                {
                    "atS": round(time.perf_counter() - began, 1),
                    "rssMb": round(memory.get("VmRSS", 0) / 1024),
                    "hwmMb": round(memory.get("VmHWM", 0) / 1024),
                    "line": line.rstrip(),
                }
            )
            print(json.dumps(steps[-1], ensure_ascii=False), file=sys.stderr, flush=True)  # noqa: T201 - live progress

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    stdout_parts: list[str] = []
    collector = threading.Thread(target=lambda: stdout_parts.append(child.stdout.read()), daemon=True)  # type: ignore[union-attr]
    collector.start()
    peak = 0
    while child.poll() is None:
        memory = _status_kb(child.pid)
        if memory:
            peak = max(peak, memory.get("VmHWM", 0))
            samples.append([round(time.perf_counter() - began, 1), round(memory.get("VmRSS", 0) / 1024)])
        time.sleep(every_s)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child is reaped: its times are in here
    reader.join(5)
    collector.join(5)
    wall = round(time.perf_counter() - began, 1)
    measured = {
        "wallS": wall,
        "peakRssMb": round(peak / 1024),  # VmHWM, last sample before the end
        "maxRssMb": round(after.ru_maxrss / 1024),  # getrusage: the largest reaped child so far
        "cpuS": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        "steps": steps,
        "rssSamples": samples,
        "loadBefore": load,
        "loadAfter": _load(),
    }
    if child.returncode:
        return {**measured, "failed": child.returncode, "stderr": "".join(tail)[-3000:]}, None
    return measured, stdout_parts[0]


AUDIT_BEGINS, AUDIT_ENDS = "fairness-audit", "vastleggen in MLflow"  # the trainer's progress lines around the audit


def phases(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """From the progress lines: the learning (start to the audit), the fairness audit (its line to the next one)
    and their memory (VmHWM at the line that ends each); None where a line never came."""
    begins, ends = (next((s for s in steps if s["line"].startswith(key)), None) for key in (AUDIT_BEGINS, AUDIT_ENDS))
    return {
        "learningS": begins["atS"] if begins else None,
        "learningHwmMb": begins["hwmMb"] if begins else None,
        "auditS": round(ends["atS"] - begins["atS"], 1) if begins and ends else None,
        "auditEndHwmMb": ends["hwmMb"] if ends else None,
    }


def train_once(data_dir: Path, since: str) -> dict[str, Any]:
    """One ``werkmatch train --json`` on the national world, measured (:func:`_measured`)."""
    command = [str(REPO / ".venv/bin/werkmatch"), "train", "--json"]
    command += [] if since == "all" else ["--since", since]
    env = {**os.environ, "WERKMATCH_DATA_DIR": str(data_dir), "OMP_WAIT_POLICY": "passive"}
    measured, stdout = _measured(command, env)
    measured = {**phases(measured["steps"]), **measured}
    if stdout is None:
        return {"since": since, **measured}
    result = json.loads(stdout)
    return {
        "since": since,
        **measured,
        "pairs": result["trainPairs"] + result["holdout"]["pairs"],
        "trainPairs": result["trainPairs"],
        "holdout": result["holdout"],
        "fitSeconds": result["fitSeconds"],
        "tuning": result["tuning"],
        "holdoutNdcg@10": result["metrics"].get("ndcg@10"),
        "weightedNdcg@10": result["baseline:weighted"].get("ndcg@10"),
        "fairnessAvailable": result["fairness"]["available"],
    }


def synthetic_pairs(pairs: int, seed: int, per_vacancy: int = 17) -> RankingData:
    """``pairs`` rows shaped like the national history (about 17 decided pairs a vacancy, rows in time
    order, 97 % rejections) with random float32 features: the training data without the feature build."""
    rng = np.random.default_rng(seed)
    vacancy_ids = np.sort(rng.integers(0, max(pairs // per_vacancy, 1), pairs)).astype(np.int64)
    features = rng.random((pairs, len(FEATURE_NAMES)), dtype=np.float32)
    score = features[:, 0] + features[:, 2] + rng.normal(0, 0.3, pairs).astype(np.float32)
    cuts = np.quantile(score, [0.97, 0.98, 0.99])
    labels = np.select([score >= cuts[2], score >= cuts[1], score >= cuts[0]], [4, 3, 2], 0).astype(np.int64)
    return RankingData(
        features=features,
        labels=labels,
        vacancy_ids=vacancy_ids,
        client_ids=rng.integers(0, 400_000, pairs).astype(np.int64),
        moments=1.7e9 + vacancy_ids * 600.0,
        bron=np.where(vacancy_ids % 2 == 0, "WSP", "Scalabor"),
        trede=rng.integers(0, 6, pairs).astype(np.int64),
        censored=np.zeros(pairs, bool),
    )


def fit_child(pairs: int, seed: int) -> None:
    """In the measured child: :func:`training.train.fit_on` (split, tuning, fit, holdout, fingerprint) on
    :func:`synthetic_pairs`; its summary as JSON on stdout."""

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)  # noqa: T201

    say("synthetische paren maken")
    fitted = fit_on(Settings(data_dir=Path(tempfile.mkdtemp())), synthetic_pairs(pairs, seed), seed, say)
    say("klaar")
    summary = {"trainPairs": fitted.train_pairs, "holdoutPairs": fitted.holdout_pairs, "tuning": fitted.tuning}
    print(json.dumps({**summary, "fitSeconds": fitted.fit_seconds, "params": fitted.params}))  # noqa: T201


def fit_once(pairs: int, seed: int) -> dict[str, Any]:
    """:func:`fit_child` in a child process, measured (:func:`_measured`)."""
    command = [sys.executable, str(Path(__file__).resolve()), "fit-child", "--pairs", str(pairs), "--seed", str(seed)]
    env = {**os.environ, "OMP_WAIT_POLICY": "passive", "PYTHONPATH": str(REPO)}
    measured, stdout = _measured(command, env)
    return {"pairs": pairs, **measured, **(json.loads(stdout) if stdout is not None else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=["history", "train", "fit", "fit-child"])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--pairs", type=int, action="append", help="fit: synthetic pairs; repeatable")
    parser.add_argument("--max-vacancies", type=int, default=40_000)
    parser.add_argument("--proposals-per-place", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extend", action="store_true", help="history: go on after the stored history's last vacancy")
    parser.add_argument("--stop-at", type=datetime.fromisoformat, help="history: begin no vacancy after this moment")
    parser.add_argument("--since", action="append", default=None, help="JJJJ-MM-DD or 'all'; repeatable")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/national-train.json")
    args = parser.parse_args()
    if args.phase == "fit-child":
        fit_child(args.pairs[0], args.seed)
        return
    report = json.loads(args.out.read_text()) if args.out.exists() else {}
    phase = "historyExtend" if args.phase == "history" and args.extend else args.phase
    report.setdefault("commands", {})[phase] = " ".join(["python", *sys.argv])
    report["machine"] = {"cpus": os.cpu_count(), "date": datetime.now(UTC).isoformat(timespec="seconds")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.phase == "history":
        stop_at = args.stop_at.timestamp() if args.stop_at else None
        run = history(args.data_dir, args.max_vacancies, args.proposals_per_place, args.seed, args.extend, stop_at)
        if args.extend:  # the first history stays; each extension is recorded with its own command
            report.setdefault("historyExtensions", []).append({"command": report["commands"][phase], **run})
        else:
            report["history"] = run
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    elif args.phase == "fit":
        report["fit"] = []
        for pairs in args.pairs:
            report["fit"].append(fit_once(pairs, args.seed))
            args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        report["train"] = []
        for since in args.since or ["all"]:  # written after each run: a later one may not fit the time left
            report["train"].append(train_once(args.data_dir, since))
            args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    shown = report["historyExtensions"][-1] if phase == "historyExtend" else report[args.phase]
    print(json.dumps(shown, indent=2, ensure_ascii=False))  # noqa: T201


if __name__ == "__main__":
    main()
