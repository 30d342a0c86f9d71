"""The live searches at national size with step 1 spread over every record and read back (before) and with
step 1 read from the reach alone (after, :class:`matching.hard_filters.Listing`), alternating in one process.

Run: ``WERKMATCH_DATA_DIR=<copy of the demo world, its bench-400000 a copy of the national one>
PYTHONPATH=. nice -n 10 .venv/bin/python bench/live_listing.py [--queries 40] > result.json``

Before: :func:`matching.hard_filters.candidate_eligibility` (``vacancy_eligibility``) spreads step 1 over
every record (about 20 arrays of 400,000), and the list reads its eligible rows, distances and counts back
(``Listing.of``, what :func:`matching.pipeline.build_pool` and the matcher read before), and the ranker's
features of the pool compute the competence and occupation fields again (``pair_matrix`` without ``fit``).
After: :func:`~matching.hard_filters.candidate_listing` (``vacancy_listing``) reads them from the reach and
``pair_matrix`` takes step 1's fit fields of the pool's rows. Per query
each variant runs once, the first of the two alternating; every list (candidates within reach, heleBestand,
a client's vacancies) is asserted the same JSON both ways. Per-search milliseconds, their percentiles and
the load average are written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime

import numpy as np
from sqlmodel import Session, select

from api.cli.common import matcher, settings
from matching import hard_filters
from matching import matcher as matcher_module
from matching.domain import Client, Vacancy
from matching.hard_filters import CandidateFilters, Listing
from training.benchmark import prepare_scale_data

NEW = (hard_filters.candidate_listing, hard_filters.vacancy_listing, matcher_module.pair_matrix)
PAIR_MATRIX = matcher_module.pair_matrix


def _old_pair_matrix(clients, c_rows, vacancies, v_rows, dense, lexical, now, fit=None):
    """The ranker's features computing the fit fields again (as before), not reading step 1's."""
    return PAIR_MATRIX(clients, c_rows, vacancies, v_rows, dense, lexical, now)


def _old_candidate_listing(clients, vacancies, v_row, filters, full_view, prefilter=True) -> Listing:
    return Listing.of(
        hard_filters.candidate_eligibility(clients, vacancies, v_row, filters, full_view, None, prefilter)
    )


def _old_vacancy_listing(clients, c_row, vacancies, prefilter=True) -> Listing:
    return Listing.of(hard_filters.vacancy_eligibility(clients, c_row, vacancies, prefilter))


def _variant(new: bool) -> None:
    chosen = NEW if new else (_old_candidate_listing, _old_vacancy_listing, _old_pair_matrix)
    hard_filters.candidate_listing, hard_filters.vacancy_listing, matcher_module.pair_matrix = chosen  # type: ignore[assignment]


def _percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values)
    return {"p50": round(float(np.percentile(array, 50)), 2), "p95": round(float(np.percentile(array, 95)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    config = settings()
    found = matcher(config)
    found.sync()
    scale = config.model_copy(update={"data_dir": config.data_dir / "bench-400000"})
    live = prepare_scale_data(found, scale, 400000, 300000, config.demo_seed)
    live.sync()
    rng = np.random.default_rng(1)
    with Session(live.engine) as session:
        open_vacancies = [v.vacature_nummer for v in session.exec(select(Vacancy).where(Vacancy.status == "open"))]
        clients = list(session.exec(select(Client.client_nummer)))
    vacancy_sample = list(rng.choice(open_vacancies, size=args.queries + 5))
    client_sample = list(rng.choice(clients, size=args.queries + 5))
    whole = CandidateFilters(whole_bestand=True)
    kinds = {
        "candidateSearch": (vacancy_sample, lambda ref: live.search_candidates(ref, 50)),
        "candidateSearchHeleBestand": (vacancy_sample, lambda ref: live.search_candidates(ref, 50, filters=whole)),
        "vacancySearch": (client_sample, lambda ref: live.search_vacancies(ref, 50)),
    }
    for new in (False, True):  # warm-up: arrays, the weights by record, query vectors
        _variant(new)
        for refs, search in kinds.values():
            for ref in refs[:5]:
                search(ref)
    times: dict[str, dict[str, list[float]]] = {kind: {"before": [], "after": []} for kind in kinds}
    faster = dict.fromkeys(kinds, 0)
    load_before = os.getloadavg()
    for at in range(5, args.queries + 5):
        for kind, (refs, search) in kinds.items():
            search(refs[at])  # untimed: the query's vector embedded and cached for both
            answers, took = {}, {}
            for new in (at % 2 == 0, at % 2 != 0):
                _variant(new)
                start = time.perf_counter()
                answers[new] = search(refs[at]).to_json()
                took[new] = (time.perf_counter() - start) * 1e3
                times[kind]["after" if new else "before"].append(took[new])
            assert answers[True] == answers[False], (kind, refs[at])
            faster[kind] += took[True] < took[False]
    _variant(True)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "queries": args.queries,
        "clients": len(clients),
        "openVacancies": len(open_vacancies),
        "ranker": live.ranker_status(),
        "load": {"beforeTimings": load_before, "afterTimings": os.getloadavg()},
        "identicalLists": True,
        "afterFasterIn": faster,
        **{kind: {side: _percentiles(values) for side, values in both.items()} for kind, both in times.items()},
        "perSearchMs": times,
    }
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
