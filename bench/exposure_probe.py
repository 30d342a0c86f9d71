"""Why one group falls short of its merit in the top 10: a probe on the TUNING vacancies only.

Run: PYTHONPATH=. .venv/bin/python bench/exposure_probe.py [--data-dir /tmp/wm-demo] [--attribute geslacht] [--group x]

The tuning vacancies are those of ``bench/exposure.py --served`` (the held-out period's vacancies that
``werkmatch evaluate`` does not sample); the held-out 200 are never read here. Relevance-only top 10s
of the serving ranker. Reports, among the truly suitable rows (the pool's true top fifth), how often
the group's rows reach the top 10 against everyone else's, the mean score and truth percentiles, the
trede mix, the features that differ most (standardised mean difference), and how the group's merit
is spread over its clients — with and without its largest client. Writes
``bench/results/exposure-probe-<attribute>-<group>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench.exposure import scored_pools
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.settings import Settings
from training.dataset import build_dataset
from training.fairness import group_labels, suitable_in_pool, top_k_mask
from training.registry import serve_champion


def percentiles(values: np.ndarray, vacancy_ids: np.ndarray) -> np.ndarray:
    """Each row's percentile (0–1) within its own pool."""
    out = np.zeros(len(values))
    for vacancy in np.unique(vacancy_ids):
        rows = np.flatnonzero(vacancy_ids == vacancy)
        out[rows] = values[rows].argsort().argsort() / max(len(rows) - 1, 1)
    return out


def probe(pool: Any, truth: np.ndarray, scores: np.ndarray, member: np.ndarray, merit: np.ndarray) -> dict[str, Any]:
    top = top_k_mask(scores, pool.vacancy_ids, 10)
    score_pct, truth_pct = percentiles(scores, pool.vacancy_ids), percentiles(truth, pool.vacancy_ids)
    spread = pool.features[merit].std(0) + 1e-9
    difference = (pool.features[merit & member].mean(0) - pool.features[merit & ~member].mean(0)) / spread
    clients = np.unique(pool.client_ids[member])
    per_client = {
        int(c): [int((merit & (pool.client_ids == c)).sum()), int((top & (pool.client_ids == c)).sum())]
        for c in clients
    }
    largest = max(per_client, key=lambda c: per_client[c][0])
    rest = member & (pool.client_ids != largest)
    own = member & (pool.client_ids == largest)

    def reach(rows: np.ndarray) -> float:
        return round(float((top & merit & rows).sum() / max((merit & rows).sum(), 1)), 4)

    return {
        "rows": int(member.sum()),
        "suitableRows": int((merit & member).sum()),
        "top10GivenSuitable": {
            "group": reach(member),
            "others": reach(~member),
            "groupWithoutLargestClient": reach(rest),
        },
        "meanScorePercentileAmongSuitable": {
            "group": round(float(score_pct[merit & member].mean()), 3),
            "others": round(float(score_pct[merit & ~member].mean()), 3),
        },
        "meanTruthPercentileAmongSuitable": {
            "group": round(float(truth_pct[merit & member].mean()), 3),
            "others": round(float(truth_pct[merit & ~member].mean()), 3),
        },
        "tredeOfSuitableRows": {
            "group": np.bincount(pool.trede[merit & member], minlength=6).tolist(),
            "others": np.bincount(pool.trede[merit & ~member], minlength=6).tolist(),
        },
        "featuresThatDiffer": {
            FEATURE_NAMES[i]: round(float(difference[i]), 2) for i in np.argsort(-np.abs(difference))[:8]
        },
        "clients": len(clients),
        "suitableRowsAndTop10PerClient": sorted(per_client.values(), reverse=True),
        "largestClient": {
            "suitableRows": per_client[largest][0],
            "top10": per_client[largest][1],
            "scorePercentile": round(float(score_pct[own & merit].mean()), 3),
            "truthPercentile": round(float(truth_pct[own & merit].mean()), 3),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/wm-demo"))
    parser.add_argument("--attribute", default="geslacht")
    parser.add_argument("--group", default="x")
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir)
    matcher = Matcher(settings)
    serve_champion(settings, matcher)
    data = build_dataset(matcher)
    moments = dict(zip(data.vacancy_ids.tolist(), data.moments.tolist(), strict=True))
    held_out = np.unique(data.time_split(0.2)[1].vacancy_ids)
    evaluated = np.random.default_rng(0).choice(held_out, size=min(200, len(held_out)), replace=False)
    pool, truth, scores = scored_pools(matcher, np.setdiff1d(held_out, evaluated), moments)
    member = group_labels(matcher.engine, pool)[args.attribute] == args.group
    result = {
        "command": " ".join(sys.argv),
        "dataDir": str(args.data_dir),
        "half": "tuning",
        **probe(pool, truth, scores, member, suitable_in_pool(truth, pool.vacancy_ids)),
    }
    out = Path(__file__).parent / "results" / f"exposure-probe-{args.attribute}-{args.group}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
