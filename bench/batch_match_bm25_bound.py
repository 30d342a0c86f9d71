"""Could the nightly batch score BM25 only within reach? How little a per-term bound prunes the best over every record.

Run: WERKMATCH_DATA_DIR=<a copy of the demo world> nice -n 10 .venv/bin/python bench/batch_match_bm25_bound.py
    [--vacancies 200] [--out bench/results/national-batch-match-bm25-bound.json]
The ranker's lexical feature is BM25 divided by the query's best BM25 over *every* record, so a list
scored only within reach still needs that maximum exactly. A record scores at most the sum, over the
query's terms it has, of the term's highest weight × idf (MaxScore); the terms whose bounds, smallest
first, sum to less than a known score cannot make a record the best alone, so only the records
holding one of the other (*essential*) terms need scoring. Here the known score is the true best
(the most favourable case): per vacancy, how many terms stay essential, how many clients hold one,
and what gathering those clients' rows would read against the query's postings (the plain product).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from bench._result import provenance, write_json
from matching.matcher import Matcher
from matching.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vacancies", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-match-bm25-bound.json")
    args = parser.parse_args()
    matcher = Matcher(Settings(), may_write=False)
    matcher.index.catch_up()
    clients, vacancies = matcher.index.arrays()
    lexical = matcher.index.sides["clients"].lexical
    owners = [int(v) for v in vacancies.ids[vacancies.open][: args.vacancies]]
    texts = matcher.index.sides["vacancies"].source.many(owners)
    lexical.scores_for("", clients.ids)  # builds the weights
    weights, idf = lexical._weights, lexical._idf  # noqa: SLF001 (a measurement of the index's own arrays)
    assert weights is not None and idf is not None
    held = np.flatnonzero(np.diff(weights.indptr))
    highest = np.zeros(weights.shape[1], np.float32)
    highest[held] = np.maximum.reduceat(weights.data, weights.indptr[held])
    per_row = weights.nnz / weights.shape[0]
    rows = []
    for terms in lexical.asked([texts[owner][1] for owner in owners]):
        if not len(terms):
            continue
        best = float(lexical.scores_for_terms(terms, clients.ids).max())
        bound = (highest[terms] * idf[terms]).astype(np.float64)
        order = np.argsort(bound, kind="stable")
        below = int(np.searchsorted(np.cumsum(bound[order]) * (1 + len(terms) * 2.0**-23), best, side="left"))
        essential = terms[order[below:]]
        postings = int((weights.indptr[terms + 1] - weights.indptr[terms]).sum())
        holding = np.unique(
            np.concatenate([weights.indices[weights.indptr[t] : weights.indptr[t + 1]] for t in essential])
        )
        rows.append((len(terms), len(essential), len(holding) / weights.shape[0], len(holding) * per_row / postings))
    table = np.array(rows)
    result = {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "data_dir": os.environ.get("WERKMATCH_DATA_DIR"),
        "clients": len(clients.ids),
        "vacancies_asked": len(rows),
        "median": {
            "query_terms": float(np.median(table[:, 0])),
            "essential_terms": float(np.median(table[:, 1])),
            "share_of_clients_to_score": round(float(np.median(table[:, 2])), 3),
            "row_entries_read_per_posting_of_the_plain_product": round(float(np.median(table[:, 3])), 2),
        },
        "pruned_cheaper_than_plain": int((table[:, 3] < 1).sum()),
        "load_average": os.getloadavg(),
        **provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
