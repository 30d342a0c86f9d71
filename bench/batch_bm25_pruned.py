"""The nightly batch's BM25 at national size: the full scatter against the pruned reading, alternating in one process.

Run, first (loads a batch worker on a migrated copy of the national world, ≈ 4 minutes of CPU, ≈ 3 GB; writes
the two sides' BM25 weights, and sampled owners' query terms and eligible rows, to ``--data``):
    WERKMATCH_DATA_DIR=<copy> flock /tmp/bigmem.lock nice -n 10 .venv/bin/python bench/batch_bm25_pruned.py
        --dump --owners 400 --data /tmp/national-bm25.npz
then (no world needed):
    nice -n 10 .venv/bin/python bench/batch_bm25_pruned.py --data /tmp/national-bm25.npz [--rounds 3]
        [--out bench/results/national-batch-bm25-pruned.json]
Per side, :class:`matching.lexical.Bm25Buffer` on the real index: ``_every`` (every record's BM25, the
batch's way before: each asked column added in full) and ``scores`` (the rows in reach read by record, the best
over every record by MaxScore), both answers asserted the same bits for every owner, then process CPU ms per
list, the two alternating ``--rounds`` times, with the load average. The owners are split: the first
``--tuning`` per side chose the pruning's settings (``bm25_maxscore.SPLIT``), the rest are held out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy import sparse

from matching import batch_steps
from matching import bm25_maxscore as maxscore
from matching.lexical import N_FEATURES, Bm25Buffer, LexicalIndex

ROOT = Path(__file__).resolve().parents[1]
SIDES = (("candidates", "clients", "vacancies"), ("vacancies", "vacancies", "clients"))  # list, searched, asking


def _dump(path: Path, owners: int) -> None:
    from matching.settings import Settings
    from training.batch_match import ListWorker

    worker = ListWorker(Settings())
    index = worker.matcher.index
    clients, vacancies = index.arrays()
    found: dict[str, np.ndarray] = {}
    rng = np.random.default_rng(3)
    rows = {
        "candidates": np.sort(rng.choice(np.flatnonzero(vacancies.open), owners, replace=False)),
        "vacancies": np.sort(rng.choice(len(clients.ids), owners, replace=False)),
    }
    for name, searched, asking in SIDES:
        lexical = index.sides[searched].lexical
        if lexical._weights is None:
            lexical._build()
        weights = lexical._weights
        assert weights is not None and lexical._idf is not None
        found |= {f"{searched}_indptr": weights.indptr, f"{searched}_indices": weights.indices}
        found |= {f"{searched}_data": weights.data, f"{searched}_idf": lexical._idf, f"{searched}_ids": lexical._ids}
        found[f"{searched}_arrays_ids"] = (clients if searched == "clients" else vacancies).ids
        owned = (vacancies if asking == "vacancies" else clients).ids[rows[name]].tolist()
        terms, eligible = [], []
        for asked, row in zip(index.sides[asking].lexical.terms_of(owned), rows[name].tolist(), strict=True):
            assert asked is not None
            if name == "candidates":
                reach = batch_steps.candidate_eligible(clients, vacancies, row)
            else:
                reach = batch_steps.vacancy_eligible(clients, row, vacancies)
            terms.append(asked)
            eligible.append(reach.eligible)
        found[f"{name}_terms_ptr"] = np.cumsum([0] + [len(part) for part in terms])
        found[f"{name}_terms"] = np.concatenate(terms)
        found[f"{name}_rows_ptr"] = np.cumsum([0] + [len(part) for part in eligible])
        found[f"{name}_rows"] = np.concatenate(eligible)
    np.savez(path, **found)


def _side(data: dict[str, np.ndarray], name: str, searched: str, rounds: int, tuning: int) -> dict[str, object]:
    lexical = LexicalIndex()
    count = len(data[f"{searched}_ids"])
    parts = (data[f"{searched}_data"], data[f"{searched}_indices"], data[f"{searched}_indptr"])
    lexical._weights = sparse.csc_matrix(parts, shape=(count, N_FEATURES))
    lexical._idf, lexical._ids = data[f"{searched}_idf"], data[f"{searched}_ids"]
    started = time.process_time()
    buffer = Bm25Buffer(lexical, data[f"{searched}_arrays_ids"])
    made = time.process_time() - started
    terms_ptr, terms, rows_ptr, rows = (data[f"{name}_{part}"] for part in ("terms_ptr", "terms", "rows_ptr", "rows"))
    queries = [
        (terms[terms_ptr[at] : terms_ptr[at + 1]], rows[rows_ptr[at] : rows_ptr[at + 1]])
        for at in range(len(terms_ptr) - 1)
    ]
    for asked, near in queries:  # the same bits, every owner
        (old, old_best), (new, new_best) = buffer._every(asked, near), buffer.scores(asked, near)
        assert old.dtype == new.dtype and np.array_equal(old.view(np.uint32), new.view(np.uint32))
        assert old_best == new_best
    result: dict[str, object] = {"lists": len(queries), "identical": True, "prepare_cpu_s": round(made, 2)}
    for half, chosen in (("tuning", queries[:tuning]), ("held_out", queries[tuning:])):
        spent: dict[str, list[float]] = {"full_scatter": [], "pruned": []}
        loads = []
        for _ in range(rounds):
            for label, way in (("full_scatter", buffer._every), ("pruned", buffer.scores)):
                started = time.process_time()
                for asked, near in chosen:
                    way(asked, near)
                spent[label].append(round((time.process_time() - started) / len(chosen) * 1000, 4))
            loads.append(os.getloadavg()[0])
        mean = {label: round(float(np.mean(values)), 4) for label, values in spent.items()}
        result[half] = {
            "lists": len(chosen),
            "cpu_ms_per_list": spent,
            "cpu_ms_per_list_mean": mean,
            "less_cpu": round(1 - mean["pruned"] / mean["full_scatter"], 3),
            "load_average_per_round": loads,
        }
    result["mean_terms"] = round(float(np.mean([len(asked) for asked, _ in queries])), 1)
    result["mean_eligible_rows"] = round(float(np.mean([len(near) for _, near in queries])), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--dump", action="store_true", help="write --data from the world in WERKMATCH_DATA_DIR")
    parser.add_argument("--owners", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tuning", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-bm25-pruned.json")
    args = parser.parse_args()
    if args.dump:
        _dump(args.data, args.owners)
        return
    with np.load(args.data) as stored:
        data = dict(stored)
    result: dict[str, object] = {"command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv])}
    result["settings"] = {"SPLIT": maxscore.SPLIT, "PROBES": maxscore.PROBES, "BLOCK": maxscore.BLOCK}
    for name, searched, _ in SIDES:
        result[name] = _side(data, name, searched, args.rounds, args.tuning)
        print(name, json.dumps(result[name]), flush=True)  # noqa: T201
    git = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    result |= {"git": git, "date": datetime.now(UTC).isoformat(timespec="seconds")}
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
