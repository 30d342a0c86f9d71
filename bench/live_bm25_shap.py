"""The live searches at national size before and after issue 16 item 3's two levers, alternating in one process.

Run: ``WERKMATCH_DATA_DIR=<copy of the demo world, its bench-400000 a copy of the national one>
PYTHONPATH=. nice -n 10 .venv/bin/python bench/live_bm25_shap.py [--queries 60] > result.json``

Before: BM25 of the query over every record (``LexicalIndex.scores_for``, the previous
``Matcher._text_query``) and the shown rows' SHAP values on one thread. After: BM25 as the nightly batch
reads it (:class:`matching.lexical.Bm25Buffer`) and SHAP on two threads from
``2 × ranker.CONTRIB_ROWS_PER_THREAD`` rows. Per query each variant runs once, the first of the two
alternating; every list (candidates within reach, heleBestand, a client's vacancies) is asserted the same
JSON both ways. Per-search milliseconds, their percentiles and the load average are written as JSON.
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
from matching import pipeline, ranker
from matching.domain import Client, Vacancy
from matching.hard_filters import CandidateFilters
from matching.matcher import Matcher
from training.benchmark import prepare_scale_data

NEW_TEXT_QUERY = Matcher._text_query


def _old_text_query(self: Matcher, query_side, query_id: int, searched, ids: np.ndarray) -> pipeline.TextQuery:
    """``Matcher._text_query`` before: BM25 over every record of ``searched``."""
    asking, state = self.index.sides[query_side], self.index.sides[searched]
    vector = self.index.query_vector(asking.texts[query_id])
    vectors = state.vectors
    assert vectors is not None
    return pipeline.TextQuery(
        dense_top=lambda rows, k: vectors.nearest(vector, k, ids, rows),
        dense_raw=lambda rows: vectors.cosines(vector, ids, rows),
        lexical=state.lexical.scores_for(asking.lexical_texts[query_id], ids),
    )


def _variant(new: bool) -> None:
    Matcher._text_query = NEW_TEXT_QUERY if new else _old_text_query  # type: ignore[method-assign]
    ranker.CONTRIB_ROWS_PER_THREAD = 8 if new else 10**9


def _percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values)
    return {"p50": round(float(np.percentile(array, 50)), 2), "p95": round(float(np.percentile(array, 95)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=60)
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
    load_before = os.getloadavg()
    for at in range(5, args.queries + 5):
        for kind, (refs, search) in kinds.items():
            search(refs[at])  # untimed: the query's vector embedded and cached for both
            answers = {}
            for new in (at % 2 == 0, at % 2 != 0):
                _variant(new)
                start = time.perf_counter()
                answers[new] = search(refs[at]).to_json()
                times[kind]["after" if new else "before"].append((time.perf_counter() - start) * 1e3)
            assert answers[True] == answers[False], (kind, refs[at])
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "queries": args.queries,
        "clients": len(clients),
        "openVacancies": len(open_vacancies),
        "ranker": live.ranker_status(),
        "load": {"beforeTimings": load_before, "afterTimings": os.getloadavg()},
        "identicalLists": True,
        **{kind: {side: _percentiles(values) for side, values in both.items()} for kind, both in times.items()},
        "perSearchMs": times,
    }
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
