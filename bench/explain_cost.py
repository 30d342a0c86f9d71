"""What explaining the shown results costs, before and after, each query both ways in turn in one process.

Run: ``WERKMATCH_DATA_DIR=<copy of /tmp/wm-demo> PYTHONPATH=. nice -n 10 .venv/bin/python bench/explain_cost.py
[--queries 50]``

Before: ``matching/matcher.py``, ``matching/annotate.py`` and ``matching/quality.py`` as at :data:`BEFORE`
(read from git, the rest of the package shared); after: the current code. Two matchers on the same
data directory (readers: ``may_write=False``; nothing is served, so no exposure ledger is written).
Per query, both searches run, the order alternating, and their API JSON (``to_json()``, serialised as
the API does) must be byte-identical: candidate lists for everyone, for a werkconsulent's caseload (the
disclosure rules: beperkingen and kansen for the own clients only, distance bands for the others) and
for the whole bestand, and a client's vacancy options. A difference stops the run. The JSON printed
holds per kind the number of lists compared, the wall-clock latencies (p50 / p95, ms) and the CPU
time of the process per search (``cpuBefore``, ``cpuAfter``: every thread, so work moved to another
core still counts; on a machine whose cores are all busy, wall time follows CPU time) and that of the
searching thread alone (``cpuMainThreadBefore``, ``cpuMainThreadAfter``: with a second core free, the
search takes about this long, plus any wait for the other thread).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
from sqlmodel import Session, select

from bench.national_search_components import from_git, p
from matching.disclosure import EVERYONE, Viewer
from matching.domain import Client, Vacancy
from matching.hard_filters import CandidateFilters
from matching.matcher import Matcher
from matching.settings import Settings

BEFORE = "0c13d8e"  # main before the explanation step was made cheaper


def before_matcher_class() -> type:
    """``Matcher`` as at :data:`BEFORE`, with its annotate and quality modules of then."""
    quality = from_git(BEFORE, "matching/quality.py", "quality_before")
    annotate = from_git(BEFORE, "matching/annotate.py", "annotate_before")
    imports = "from matching import annotate, disclosure, display_score, exposure, oversight_state, pipeline, quality"
    module = from_git(
        BEFORE,
        "matching/matcher.py",
        "matcher_before",
        {imports: "from matching import disclosure, display_score, exposure, oversight_state, pipeline"},
    )
    module.annotate, module.quality = annotate, quality
    return module.Matcher


def as_api(found: Any) -> bytes:
    """A list as the API sends it (FastAPI's JSON of ``to_json()``)."""
    return json.dumps(found.to_json(), ensure_ascii=False, separators=(",", ":")).encode()


def main(queries: int, seed: int) -> dict[str, Any]:
    settings = Settings()
    after = Matcher(settings, may_write=False)
    before = before_matcher_class()(settings, embedder=after.embedder, may_write=False)
    for matcher in (after, before):
        matcher.sync()
        matcher.index.arrays()
    rng = np.random.default_rng(seed)
    with Session(after.engine) as session:
        vacancies = [str(ref) for ref in session.exec(select(Vacancy.vacature_nummer).where(Vacancy.status == "open"))]
        clients = list(session.exec(select(Client.client_nummer, Client.consulent)))
    vacancy_refs = [str(ref) for ref in rng.choice(vacancies, size=queries)]
    client_refs = [str(clients[i][0]) for i in rng.integers(0, len(clients), queries)]
    caseloads = [str(clients[i][1]) for i in rng.integers(0, len(clients), queries)]
    whole = CandidateFilters(whole_bestand=True)
    kinds = {
        "candidates": [(lambda m, ref=ref: m.search_candidates(ref, 50)) for ref in vacancy_refs],
        "candidatesForCaseload": [
            (lambda m, ref=ref, own=own: m.search_candidates(ref, 50, viewer=Viewer(caseload=own)))
            for ref, own in zip(vacancy_refs, caseloads, strict=True)
        ],
        "candidatesHeleBestand": [
            (lambda m, ref=ref: m.search_candidates(ref, 50, filters=whole)) for ref in vacancy_refs
        ],
        "vacancies": [(lambda m, ref=ref: m.search_vacancies(ref, 50, viewer=EVERYONE)) for ref in client_refs],
    }
    for calls in kinds.values():  # warm-up: both code paths hot
        for call in calls[:3]:
            call(before)
            call(after)
    load = [round(value, 2) for value in np.loadtxt("/proc/loadavg", usecols=(0, 1, 2))]
    out: dict[str, Any] = {}
    for kind, calls in kinds.items():
        wall: dict[str, list[float]] = {"before": [], "after": []}
        cpu: dict[str, list[float]] = {"before": [], "after": []}
        main_cpu: dict[str, list[float]] = {"before": [], "after": []}
        for i, call in enumerate(calls):
            answers = {}
            for name, matcher in (("before", before), ("after", after))[:: 1 if i % 2 else -1]:
                start, start_cpu, start_main = time.perf_counter(), time.process_time(), time.thread_time()
                found = call(matcher)
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
                main_cpu[name].append(time.thread_time() - start_main)
                answers[name] = as_api(found)
            assert answers["before"] == answers["after"], f"{kind} {i}: the API JSON differs"
        out[kind] = {
            "listsIdentical": len(calls),
            "before": p(wall["before"]),
            "after": p(wall["after"]),
            "cpuBefore": p(cpu["before"]),
            "cpuAfter": p(cpu["after"]),
            "cpuMainThreadBefore": p(main_cpu["before"]),
            "cpuMainThreadAfter": p(main_cpu["after"]),
        }
    out["load"] = {"before": load, "after": [round(v, 2) for v in np.loadtxt("/proc/loadavg", usecols=(0, 1, 2))]}
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = main(args.queries, args.seed)
    result["before"] = BEFORE
    result["command"] = (
        "WERKMATCH_DATA_DIR=<copy of /tmp/wm-demo> PYTHONPATH=. nice -n 10 .venv/bin/python "
        f"bench/explain_cost.py --queries {args.queries}"
    )
    result["machine"] = "2 shared cores (other helpers' work running); each query before and after in turn"
    print(json.dumps(result, indent=2))
