"""Where a ranked candidate search within reach spends its time at national size: its parts timed alone, then
cProfile over whole searches.

Run: ``WERKMATCH_DATA_DIR=<copy of the demo world, its bench-400000 a copy of the national one>
PYTHONPATH=. nice -n 10 .venv/bin/python bench/live_profile.py [--queries 30] > result.json``

Per query (after a warm-up), each part of the search is timed on its own: step 1 read from the reach
(:func:`matching.hard_filters.candidate_listing`, and inside it :func:`~matching.hard_filters.candidate_reach`
and the fit features), the text query's dense top and BM25 among the eligible rows, the pool
(:func:`matching.pipeline.listed_pool`), and the whole search. Then cProfile over the same searches; its
heaviest functions by own and by cumulative time are printed with the per-part percentiles as JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlmodel import Session, select

from api.cli.common import matcher, settings
from matching import hard_filters, pipeline, scoring
from matching.domain import Vacancy
from matching.hard_filters import NO_FILTERS
from training.benchmark import prepare_scale_data

WARM_UP = 5


def _ms(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = call()
    return out, (time.perf_counter() - start) * 1e3


def _parts(live: Any, ref: str) -> dict[str, float]:
    """The parts of one candidate search within reach, each timed alone (ms)."""
    with Session(live.engine) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == ref)).one()
    clients, vacancies = live.index.arrays()
    v_row = vacancies.position[vacancy.id]
    everyone = np.ones(len(clients.ids), bool)
    took: dict[str, float] = {}
    reach, took["reach"] = _ms(lambda: hard_filters.candidate_reach(clients, vacancies, v_row, NO_FILTERS, everyone))
    _, took["fitFeatures"] = _ms(lambda: scoring.fit_features_for_vacancy(clients, reach.eligible, vacancies, v_row))
    listed, took["listing"] = _ms(
        lambda: hard_filters.candidate_listing(clients, vacancies, v_row, NO_FILTERS, everyone)
    )
    text, took["textQuery"] = _ms(
        lambda: live._text_query("vacancies", vacancy.id, "clients", clients.ids, listed.eligible)
    )
    pool_size = live.settings.retrieval.pool_size
    _, took["denseTop"] = _ms(lambda: text.dense_top(listed.eligible, pool_size))
    _, took["bm25Among"] = _ms(lambda: text.lexical_among(listed.eligible))
    _, took["pool"] = _ms(lambda: pipeline.listed_pool(listed, text, pool_size))
    _, took["search"] = _ms(lambda: live.search_candidates(ref, 50))
    took["eligible"] = float(len(listed.eligible))
    took["near"] = float(len(reach.near))
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=30)
    args = parser.parse_args()
    config = settings()
    found = matcher(config)
    found.sync()
    scale = config.model_copy(update={"data_dir": config.data_dir / "bench-400000"})
    live = prepare_scale_data(found, scale, 400000, 300000, config.demo_seed)
    rng = np.random.default_rng(1)
    with Session(live.engine) as session:
        open_vacancies = [v.vacature_nummer for v in session.exec(select(Vacancy).where(Vacancy.status == "open"))]
    sample = list(rng.choice(open_vacancies, size=args.queries + WARM_UP))
    for ref in sample[:WARM_UP]:
        live.search_candidates(ref, 50)
    load_before = os.getloadavg()
    parts: dict[str, list[float]] = {}
    for ref in sample[WARM_UP:]:
        for name, value in _parts(live, ref).items():
            parts.setdefault(name, []).append(value)
    profiler = cProfile.Profile()
    profiler.enable()
    for ref in sample[WARM_UP:]:
        live.search_candidates(ref, 50)
    profiler.disable()
    listed = {}
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(35)
        listed[key] = out.getvalue().splitlines()
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "queries": args.queries,
        "load": {"beforeTimings": load_before, "afterTimings": os.getloadavg()},
        "partsMs": {
            name: {f"p{q}": round(float(np.percentile(values, q)), 2) for q in (50, 95)}
            for name, values in parts.items()
        },
        "profile": listed,
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
