"""Memory of a serving process after searches at national size (issue 16, item 3: ≤ 6 GB held).

The memory half of ``werkmatch bench search --scale-clients 400000 --scale-vacancies 300000`` without
its latency half: opens a :class:`matching.matcher.Matcher` as a reader (``may_write=False``: no index
file written; a search still writes its exposure ledger, so run it on a copy) on a synced data
directory, runs ``--queries`` candidate searches (top 50, within reach), as many for a whole bestand
and as many vacancy searches for clients, drawn with a seed, and prints as one JSON object this
process's ``VmRSS`` and ``VmHWM`` (``/proc/self/status``) after loading and after the searches, and
what holds the memory (``memoryHoldersMb``, as the bench reports it). Without the bench's own index
rebuild (which copies every client vector to time a rebuild), so its peak is the serving process's::

    cp -a /tmp/wm-h10/bench-400000 /tmp/wm-x/national
    PYTHONPATH=. .venv/bin/python bench/national_search_memory.py /tmp/wm-x/national --queries 100
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from bench.national_load_memory import status_mb
from matching.domain import Client, Vacancy
from matching.hard_filters import CandidateFilters
from matching.matcher import Matcher
from matching.settings import Settings
from training.benchmark import _memory_holders


def main(data_dir: Path, queries: int, seed: int) -> dict[str, object]:
    start = time.perf_counter()
    matcher = Matcher(Settings(data_dir=data_dir), may_write=False)
    matcher.sync()
    matcher.index.arrays()
    loaded, load_seconds = status_mb(), time.perf_counter() - start
    rng = np.random.default_rng(seed)
    with Session(matcher.engine) as session:
        vacancies = list(session.exec(select(Vacancy.vacature_nummer).where(Vacancy.status == "open")))
        clients = list(session.exec(select(Client.client_nummer)))
    vacancy_sample = [str(ref) for ref in rng.choice(vacancies, size=queries)]
    client_sample = [str(ref) for ref in rng.choice(clients, size=queries)]
    del vacancies, clients
    whole = CandidateFilters(whole_bestand=True)
    start = time.perf_counter()
    for ref in vacancy_sample:
        matcher.search_candidates(ref, 50)
        matcher.search_candidates(ref, 50, filters=whole)
    for ref in client_sample:
        matcher.search_vacancies(ref, 50)
    searched = status_mb()
    return {
        "dataDir": str(data_dir),
        "queries": queries,
        "seed": seed,
        "loadedMb": loaded,
        "loadSeconds": round(load_seconds, 1),
        "searchSeconds": round(time.perf_counter() - start, 1),
        "rssMb": searched["VmRSS"],
        "peakRssMb": searched["VmHWM"],
        "memoryHoldersMb": _memory_holders(matcher),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(main(args.data_dir, args.queries, args.seed)))
