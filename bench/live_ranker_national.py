"""The live searches at national size ranked by two rankers, alternating per query in one process: the shipped
baseline (since session 42 it reads the notes column, each pool client's value from the file the index writer or a
night's driver saved beside the index) against another ranker directory (the 25-feature baseline before it).

Run: ``WERKMATCH_DATA_DIR=<copy of the national world, its notes values saved by a night's driver>
PYTHONPATH=. nice -n 10 .venv/bin/python bench/live_ranker_national.py --other <ranker dir> [--queries 40]
> result.json``

A read-only matcher (it writes no index file and fills no column: a client whose value the file lacks reads 0, as a
live search past its limit does) serves the shipped baseline; per query each ranker runs once, the first of the two
alternating, after one untimed search that embeds and caches the query. Three kinds, as ``bench/live_alternating.py``
times them: candidates within reach (top 50), heleBestand (top 50) and a client's vacancies (top 50). The lists differ
(two rankers): only the time is compared, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from matching.domain import Client, Vacancy
from matching.hard_filters import CandidateFilters
from matching.matcher import Matcher
from matching.ranker import load_ranker
from matching.settings import Settings

WARM_UP = 5  # queries per kind and ranker before the timings


def _percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values)
    return {"p50": round(float(np.percentile(array, 50)), 2), "p95": round(float(np.percentile(array, 95)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", type=Path, required=True, help="the ranker directory to compare with")
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    started = time.perf_counter()
    live = Matcher(Settings(), may_write=False)
    live.index.prepare()
    loaded_s = time.perf_counter() - started
    shipped, other = live.ranker, load_ranker(args.other, "ander")
    assert shipped is not None and shipped.notes is not None, "the shipped baseline reads the notes column"
    rng = np.random.default_rng(1)
    with Session(live.engine) as session:
        open_vacancies = list(session.exec(select(Vacancy.vacature_nummer).where(Vacancy.status == "open")))
        clients = list(session.exec(select(Client.client_nummer)))
    vacancy_sample = [str(v) for v in rng.choice(open_vacancies, size=args.queries + WARM_UP)]
    client_sample = [str(c) for c in rng.choice(clients, size=args.queries + WARM_UP)]
    whole = CandidateFilters(whole_bestand=True)
    kinds = {
        "candidateSearch": (vacancy_sample, lambda ref: live.search_candidates(ref, 50)),
        "candidateSearchHeleBestand": (vacancy_sample, lambda ref: live.search_candidates(ref, 50, filters=whole)),
        "vacancySearch": (client_sample, lambda ref: live.search_vacancies(ref, 50)),
    }
    rankers = {"shipped": shipped, "other": other}
    for ranker in rankers.values():
        live.use_ranker(ranker)
        for refs, search in kinds.values():
            for ref in refs[:WARM_UP]:
                search(ref)
    times: dict[str, dict[str, list[float]]] = {kind: {name: [] for name in rankers} for kind in kinds}
    load_before = os.getloadavg()
    for at in range(WARM_UP, args.queries + WARM_UP):
        order = ("shipped", "other") if at % 2 == 0 else ("other", "shipped")
        for kind, (refs, search) in kinds.items():
            search(refs[at])  # untimed: the query's vector embedded and cached for both
            for name in order:
                live.use_ranker(rankers[name])
                start = time.perf_counter()
                search(refs[at]).to_json()
                times[kind][name].append((time.perf_counter() - start) * 1e3)
    live.use_ranker(shipped)
    notes = shipped.notes
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "bench/live_ranker_national.py " + " ".join(f"--{k}={v}" for k, v in vars(args).items()),
        "queries": args.queries,
        "clients": len(clients),
        "openVacancies": len(open_vacancies),
        "loadSeconds": round(loaded_s, 1),
        "rankers": {name: ranker.describe() for name, ranker in rankers.items()},
        "notesLacking": bool(notes.lacking),  # a search read 0 for a client the file did not hold
        "load": {"beforeTimings": load_before, "afterTimings": os.getloadavg()},
        **{kind: {name: _percentiles(values) for name, values in both.items()} for kind, both in times.items()},
        "perSearchMs": times,
    }
    live.close()
    print(json.dumps(result, default=str))  # noqa: T201


if __name__ == "__main__":
    main()
