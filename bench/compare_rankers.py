"""Two ranker directories on the same whole candidate pools: NDCG@10 of each and the paired difference.

Run: .venv/bin/python bench/compare_rankers.py NEW_DIR OLD_DIR [--data-dir /tmp/wm-demo] [--out FILE]

For deciding whether a retrained shipped baseline (``models/baseline-ranker``) replaces the one
before it: both score the 200 held-out pools ``werkmatch evaluate`` samples (its seed and size, the
newest 20 % of vacancies), labelled with the counterfactual outcomes of :mod:`training.pool_eval`
(synthetic data only). The gain interval is a paired bootstrap over vacancies
(:func:`training.metrics.paired`), so it shows how much the two differ per vacancy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from matching.matcher import Matcher
from matching.ranker import load_ranker
from matching.settings import Settings
from training.dataset import build_dataset
from training.metrics import paired, summarise
from training.pool_eval import evaluated_pools

POOL_VACANCIES = 200  # as werkmatch evaluate samples its pool holdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("new", type=Path)
    parser.add_argument("old", type=Path)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("WERKMATCH_DATA_DIR", "/tmp/wm-demo")))
    parser.add_argument("--test-share", type=float, default=0.2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "compare-rankers.json")
    args = parser.parse_args()
    start = time.perf_counter()
    matcher = Matcher(Settings(data_dir=args.data_dir))
    data = build_dataset(matcher)
    built = evaluated_pools(matcher, data, args.test_share, POOL_VACANCIES)
    if built is None:
        raise SystemExit("geen verborgen waarheid in deze gegevens: de vergelijking werkt alleen op synthetische data")
    pool, _ = built
    scores = {
        name: load_ranker(path, name).score(pool.features) for name, path in (("new", args.new), ("old", args.old))
    }
    result = {
        "command": " ".join(sys.argv),
        "dataDir": str(args.data_dir),
        "vacancies": int(len(np.unique(pool.vacancy_ids))),
        **{name: summarise(pool.labels, value, pool.vacancy_ids)["ndcg@10"] for name, value in scores.items()},
        "newVsOld": paired(pool.labels, scores["new"], scores["old"], pool.vacancy_ids),
        "seconds": round(time.perf_counter() - start, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
