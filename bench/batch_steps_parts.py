"""The parts :mod:`matching.batch_steps` reorganised, old way and new way alternating, at national size on made-up data.

Run: nice -n 10 .venv/bin/python bench/batch_steps_parts.py [--records 400000] [--queries 200] [--rounds 3]
    [--out bench/results/batch-steps-parts.json]
No world needed: ``--records`` records spread over the real PC4 centroids (a bucket each, travel reach 5 to
40 km) and a BM25 index over made-up term frequencies (about 40 terms a record from a Zipf-shaped
vocabulary of 60,000), filled the way the index is filled. Per query (a random place, a random record's
terms): step 1's reach part (``Buckets.rows_within`` + ``distances`` + the own-reach comparison, against
:func:`matching.batch_steps._kept_in_reach`) and BM25 (``LexicalIndex.scores_by_term`` with its max and
the eligible rows' gather, against :class:`matching.lexical.Bm25Buffer`); both answers asserted
equal; process CPU ms per query, old and new alternating ``--rounds`` times, and the load average.
The real lists at national size: ``bench/batch_match_slice.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy import sparse

from matching.batch_steps import _kept_in_reach
from matching.geo import Buckets, load_pc4
from matching.lexical import Bm25Buffer, LexicalIndex

ROOT = Path(__file__).resolve().parents[1]
VOCABULARY = 60_000
TERMS_PER_RECORD = 40


def _world(records: int, rng: np.random.Generator) -> tuple[Buckets, np.ndarray, LexicalIndex, np.ndarray]:
    places = load_pc4().coords
    at = places[rng.integers(0, len(places), records)]
    reach = rng.uniform(5, 40, records)
    buckets = Buckets.build(at[:, 0], at[:, 1], reach)
    terms = np.minimum(rng.zipf(1.3, (records, TERMS_PER_RECORD)), VOCABULARY) - 1
    rows = np.repeat(np.arange(records), TERMS_PER_RECORD)
    tf = sparse.csr_matrix((np.ones(rows.size, np.float32), (rows, terms.ravel())), shape=(records, 2**20))
    tf.sum_duplicates()
    lexical = LexicalIndex()
    ids = np.arange(1, records + 1, dtype=np.int64)
    lexical.fill(ids, [tf])
    return buckets, reach, lexical, ids


def _reach_old(buckets: Buckets, reach: np.ndarray, lat: float, lon: float) -> tuple[np.ndarray, np.ndarray]:
    near = buckets.rows_within(lat, lon)
    distance = buckets.distances(lat, lon, rows=near)
    inside = distance <= reach[near]
    return near[inside], distance[inside]


def _reach_new(buckets: Buckets, reach: np.ndarray, lat: float, lon: float) -> tuple[np.ndarray, np.ndarray]:
    return _kept_in_reach(buckets, buckets._km(lat, lon, False), buckets.reach, None, reach)


def _bm25_old(lexical: LexicalIndex, ids: np.ndarray, terms: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, float]:
    every = lexical.scores_by_term(terms, ids)
    return every[rows], float(every.max())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=400_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "batch-steps-parts.json")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    buckets, reach, lexical, ids = _world(args.records, rng)
    places = [(float(buckets.lat[b]), float(buckets.lon[b])) for b in rng.integers(0, len(buckets.lat), args.queries)]
    asked = lexical.terms_of(rng.choice(ids, args.queries, replace=False).tolist())
    buffer = Bm25Buffer(lexical, ids)
    eligible = []
    for lat, lon in places:  # the old answers, and each query's eligible rows (those within reach)
        eligible.append(_reach_old(buckets, reach, lat, lon)[0])
    spent: dict[str, list[float]] = {"reach_old": [], "reach_new": [], "bm25_old": [], "bm25_new": []}
    loads = []
    for _ in range(args.rounds):
        for name in spent:
            start = time.process_time()
            for (lat, lon), terms, rows in zip(places, asked, eligible, strict=True):
                if name == "reach_old":
                    _reach_old(buckets, reach, lat, lon)
                elif name == "reach_new":
                    _reach_new(buckets, reach, lat, lon)
                elif name == "bm25_old":
                    _bm25_old(lexical, ids, terms, rows)
                else:
                    buffer.scores(terms, rows)
            spent[name].append(round((time.process_time() - start) / args.queries * 1000, 4))
        loads.append(os.getloadavg()[0])
    for (lat, lon), terms, rows in zip(places, asked, eligible, strict=True):  # the same answers
        for old, new in zip(_reach_old(buckets, reach, lat, lon), _reach_new(buckets, reach, lat, lon), strict=True):
            assert np.array_equal(old, new)
        (old, best), (new, found) = _bm25_old(lexical, ids, terms, rows), buffer.scores(terms, rows)
        assert old.dtype == new.dtype and np.array_equal(old, new) and best == found
    result = {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "records": args.records,
        "buckets": len(buckets.lat),
        "mean_near_kept": round(float(np.mean([len(rows) for rows in eligible])), 1),
        "mean_terms_asked": round(float(np.mean([len(terms) for terms in asked])), 1),  # type: ignore[arg-type]
        "cpu_ms_per_query": spent,
        "cpu_ms_per_query_mean": {name: round(float(np.mean(values)), 4) for name, values in spent.items()},
        "load_average_per_round": loads,
        "identical": True,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
