"""The fairness audit's counterfactual gender swap, before and after it read only the pools' clients (issue 16
item 5): the same pools and ranker through two versions of :mod:`training.counterfactual`, timed, and the
results compared (the result dict and the swapped feature matrix, bit for bit).

Run on a copy of the demo world (the module before the change written out of git)::

    git show c42a709:training/counterfactual.py > /tmp/counterfactual_before.py
    nice -n 10 .venv/bin/python bench/counterfactual_pools.py --data-dir /tmp/wm-c27demo \\
        --before /tmp/counterfactual_before.py --vacancies 200 --out bench/results/counterfactual-pools.json

The pools are whole candidate pools (``Matcher.pool_features``) of a seeded sample of ``--vacancies``
vacancies, the ranker the weighted baseline (the audit's ranker is the trained model: the counterfactual's
work does not depend on which). Each version runs ``--repeat`` times, alternating, in this process.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from matching.matcher import Matcher
from matching.settings import Settings
from training import counterfactual
from training.dataset import RankingData
from training.rankers import weighted_baseline


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("counterfactual_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pools(matcher: Matcher, vacancies: int, seed: int) -> RankingData:
    """Whole candidate pools of a seeded sample of ``vacancies`` vacancies."""
    ids = np.array(sorted(matcher.sides["vacancies"].texts), np.int64)
    chosen = np.sort(np.random.default_rng(seed).choice(ids, min(vacancies, len(ids)), replace=False))
    parts = [(int(v), *matcher.pool_features(int(v))) for v in chosen.tolist()]
    n = sum(len(clients) for _, clients, _ in parts)
    return RankingData(
        features=np.concatenate([features for _, _, features in parts]),
        labels=np.zeros(n, np.int64),
        vacancy_ids=np.concatenate([np.full(len(clients), v, np.int64) for v, clients, _ in parts]),
        client_ids=np.concatenate([clients for _, clients, _ in parts]).astype(np.int64),
        moments=np.zeros(n),
    )


def run(module: ModuleType, matcher: Matcher, data: RankingData) -> tuple[dict[str, Any], np.ndarray]:
    """One counterfactual test: its result, the swapped features the ranker scored, wall and CPU seconds."""
    seen: list[np.ndarray] = []

    def score(part: RankingData | np.ndarray) -> np.ndarray:  # pairs (now) or a feature matrix (before session 40)
        features = part.features if isinstance(part, RankingData) else part
        seen.append(np.array(features, copy=True))
        return weighted_baseline(replace(data, features=features), matcher.settings.retrieval)

    load, wall, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
    result = module.counterfactual_rankings(matcher, data, score)
    timing = {"wallS": round(time.perf_counter() - wall, 2), "cpuS": round(time.process_time() - cpu, 2)}
    return {**timing, "load1Before": round(load, 2), "load1After": round(os.getloadavg()[0], 2), "result": result}, (
        seen[-1]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--before", type=Path, required=True, help="the module file before the change")
    parser.add_argument("--vacancies", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench/results/counterfactual-pools.json"))
    args = parser.parse_args()
    matcher = Matcher(Settings(data_dir=args.data_dir))
    matcher.sync()
    data = pools(matcher, args.vacancies, args.seed)
    versions = {"before": _module(args.before), "after": counterfactual}
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    swapped: dict[str, np.ndarray] = {}
    for _ in range(args.repeat):
        for name, module in versions.items():
            measured, swapped[name] = run(module, matcher, data)
            runs[name].append(measured)
            print(name, json.dumps(measured), file=sys.stderr, flush=True)  # noqa: T201 - progress
    report = {
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "clients": len(matcher.sides["clients"].texts),
        "vacancies": len(np.unique(data.vacancy_ids)),
        "poolRows": len(data),
        "poolClients": len(np.unique(data.client_ids)),
        "runs": runs,
        "sameResult": all(run["result"] == runs["before"][0]["result"] for run in runs["before"] + runs["after"]),
        "sameSwappedFeatures": bool(np.array_equal(swapped["before"], swapped["after"])),
        "peakRssMb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({key: value for key, value in report.items() if key != "runs"}, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
