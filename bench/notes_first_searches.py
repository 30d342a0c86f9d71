"""What a ranker that reads the notes column costs a live candidate search: the first searches on a bestand whose
fragments are not embedded yet, then the same searches again, against the shipped baseline of the 25 pair features.

Run: ``WERKMATCH_DATA_DIR=<fresh copy of the demo world> PYTHONPATH=. nice -n 10 .venv/bin/python
bench/notes_first_searches.py --ranker <ranker directory with notes_readiness> [--searches 20] > result.json``

Per search: wall milliseconds and how many fragments the embedding cache held before and after (each search embeds
the pool clients' fragments it has not seen). The vacancies are a seeded sample of open ones; the baseline searches
run first on the same vacancies (their pools' profiles are embedded already; its column-free searches embed nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from sqlmodel import Session, func, select

from matching.domain import EmbeddingCache, Vacancy
from matching.matcher import Matcher
from matching.ranker import load_ranker
from matching.settings import Settings


def _cached(matcher: Matcher) -> int:
    with Session(matcher.engine) as session:
        return int(session.exec(select(func.count()).select_from(EmbeddingCache)).one())


def _timed(matcher: Matcher, numbers: list[str]) -> list[dict[str, float]]:
    out = []
    for number in numbers:
        before, start = _cached(matcher), time.perf_counter()
        matcher.search_candidates(number, top=10)
        out.append({"ms": round(1000 * (time.perf_counter() - start), 1), "embedded": _cached(matcher) - before})
    return out


def _summary(rows: list[dict[str, float]]) -> dict[str, float]:
    wall = np.array([row["ms"] for row in rows])
    return {
        "p50": round(float(np.percentile(wall, 50)), 1),
        "max": round(float(wall.max()), 1),
        "totalS": round(float(wall.sum()) / 1000, 1),
        "embedded": int(sum(row["embedded"] for row in rows)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranker", type=Path, required=True)
    parser.add_argument("--searches", type=int, default=20)
    args = parser.parse_args()
    matcher = Matcher(Settings())
    matcher.sync()
    with Session(matcher.engine) as session:
        open_ = sorted(session.exec(select(Vacancy.vacature_nummer).where(Vacancy.status == "open")))
    numbers = [str(n) for n in np.random.default_rng(0).choice(open_, size=args.searches, replace=False)]
    load = os.getloadavg()[0]
    baseline = _timed(matcher, numbers)
    ranker = load_ranker(args.ranker, "notities")
    started = time.perf_counter()
    matcher.use_ranker(ranker)
    bound_s = time.perf_counter() - started
    cold, warm = _timed(matcher, numbers), _timed(matcher, numbers)
    result = {
        "command": "bench/notes_first_searches.py " + " ".join(f"{k}={v}" for k, v in vars(args).items()),
        "load1Before": round(load, 2),
        "load1After": round(os.getloadavg()[0], 2),
        "bindS": round(bound_s, 2),
        "baseline": _summary(baseline),
        "notesFirst": _summary(cold),
        "notesAgain": _summary(warm),
        "perSearch": {"baseline": baseline, "notesFirst": cold, "notesAgain": warm},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
