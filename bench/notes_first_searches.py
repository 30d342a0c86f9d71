"""What a ranker that reads the notes column costs a live candidate search, and what computing every client's value
costs the index writer: the searches before the writer has filled the column, the fill itself (the fragments the
cache lacks embedded), the same searches after it, and a second start's fill with every fragment cached.

Run: ``WERKMATCH_DATA_DIR=<fresh copy of the demo world> PYTHONPATH=. nice -n 10 .venv/bin/python
bench/notes_first_searches.py --ranker <ranker directory with notes_readiness> [--searches 20] > result.json``
Since the shipped baseline reads the column itself (session 42), the baseline searches need a ranker of the 25 pair
features alone: ``WERKMATCH_RANKER__BASELINE_DIR=<git archive 52bf592~1 models/baseline-ranker>`` (the
``--ranker models/baseline-ranker`` run then measures what a first start of the shipped service costs).

Per search: wall milliseconds and how many fragments the embedding cache held before and after (a live search embeds
at most :data:`matching.notes_readiness.SEARCH_EMBED_MAX` fragments and computes at most
:data:`~matching.notes_readiness.SEARCH_CLIENTS_MAX` clients itself). The vacancies are a seeded sample of open ones;
the baseline searches run first on the same vacancies (the shipped ranker of the 25 pair features, which reads no
fragment). Then the notes ranker is taken into use as a promotion does: the writer fills the column in a thread of
its own while the same searches run, and the fill's wall time is from the switch to its end; the searches again after
it. Then two restarts over the same files: one with the writer's file of values removed (every fragment cached: per
client, what a process without the file pays once: split, fold, cache reads, the artefact), and one that reads it.

Session 40 measured the searches of the code before the fill existed (every pool client's fragments embedded in the
search): first search 18.7 s, p50 2.1 s over 20 (``README``, "How good it is").
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


def _fill(matcher: Matcher) -> dict[str, float | None]:
    before, wall, cpu = _cached(matcher), time.perf_counter(), time.process_time()
    clients = matcher.notes_fill.now()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per_client = round(1e6 * cpu / clients, 1) if clients else None
    return {"clients": clients, "wallS": round(wall, 2), "cpuS": round(cpu, 2), "cpuUsPerClient": per_client,
            "embedded": _cached(matcher) - before}  # fmt: skip


def _restart(ranker: Path) -> dict[str, float | None]:
    restarted = Matcher(Settings())
    restarted.index.prepare()
    started = time.perf_counter()
    restarted.use_ranker(load_ranker(ranker, "notities"))  # reads the file of values, if there is one
    bind_s = time.perf_counter() - started
    fill = _fill(restarted)
    restarted.close()
    return {**fill, "bindS": round(bind_s, 3)}


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
    cached, started, cpu = _cached(matcher), time.perf_counter(), time.process_time()
    matcher.use_ranker(load_ranker(args.ranker, "notities"))  # the writer starts filling in a thread of its own
    during_fill = _timed(matcher, numbers)
    matcher.notes_fill.wait()
    fill = {
        "wallS": round(time.perf_counter() - started, 2),
        "processCpuS": round(time.process_time() - cpu, 2),  # the fill and the searches during it
        "embedded": _cached(matcher) - cached,
    }
    after_fill = _timed(matcher, numbers)
    saved = matcher.ranker.notes.values_path(matcher.settings.index_dir)  # type: ignore[union-attr]
    matcher.close()
    saved.unlink()  # a restart without the writer's file: every value computed from cached fragments
    computed, read = _restart(args.ranker), _restart(args.ranker)  # then one that reads the file
    result = {
        "command": "bench/notes_first_searches.py " + " ".join(f"{k}={v}" for k, v in vars(args).items()),
        "load1Before": round(load, 2),
        "load1After": round(os.getloadavg()[0], 2),
        "baseline": _summary(baseline),
        "notesDuringFill": _summary(during_fill),
        "fill": fill,
        "notesAfterFill": _summary(after_fill),
        "restartWithoutFile": computed,
        "restartWithFile": read,
        "perSearch": {"baseline": baseline, "notesDuringFill": during_fill, "notesAfterFill": after_fill},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
