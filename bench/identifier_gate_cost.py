"""What the rare-identifier gate (:mod:`matching.identifier_query`) adds to the night's lists and to reading a side.

Run: ``WERKMATCH_DATA_DIR=<a copy of the demo world> PYTHONPATH=. nice -n 12 .venv/bin/python
bench/identifier_gate_cost.py [--owners 400] [--repeats 3] --out bench/results/identifier-gate-cost-s44.json``

On a read-only matcher over the world (the weighted score: no learned ranker), the nightly batch's lists
(:class:`matching.batch_rank.NightlyRanking`: candidate lists of the first ``--owners`` open vacancies, vacancy lists
of the first ``--owners`` clients, one partition each) are timed with the gate as served and with the fusion before
it (each owner's gate None and :func:`matching.scoring.text_signals` in place of
:func:`matching.identifier_query.text_signals`; ``bench/results/identifier-gate-cost-s44.json`` ran before
``scoring.batch_text_signals``, the same bits with fewer array passes, was removed, and used that), alternating, the
best of ``--repeats`` each; the difference per owner is the added cost, less the rendering of the owners' BM25 texts
(done in both: ``renderSeconds`` per record below), and its query-side parts timed alone on the same owners' texts
(the extractor, the negation-free text, the identifier-token and negation-free BM25 terms; the rest of the
difference is the pool side). Then per side the reading of every record's identifiers (held identifiers and
identifier-token term frequencies from the BM25 texts) against BM25's own term frequencies, and the memory of both
indexes. The machine is shared: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from api.cli.common import matcher, settings
from bench._result import provenance, write_json
from matching import batch_rank, identifier_query, scoring
from matching.batch_rank import NightlyRanking
from matching.domain import Client, Vacancy
from matching.identifier_side import IdentifierSide
from matching.identifiers import identifiers, negation_free
from matching.lexical import LexicalIndex


def _seconds(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _before(ranking: NightlyRanking) -> Callable[[], None]:
    """The fusion before the gate, patched in; returns what puts the gate back."""
    gates, signals = NightlyRanking._gates, identifier_query.text_signals
    NightlyRanking._gates = lambda self, side, owners, searched, ids, bm25, queries: [None] * len(queries)  # type: ignore[method-assign,assignment,return-value]
    batch_rank.identifier_query.text_signals = lambda gate, rows, dense, bm25, weights: scoring.text_signals(  # type: ignore[assignment]
        dense, bm25
    )

    def restore() -> None:
        NightlyRanking._gates = gates  # type: ignore[method-assign]
        batch_rank.identifier_query.text_signals = signals  # type: ignore[assignment]

    return restore


def _lists(ranking: NightlyRanking, vacancies: list[int], clients: list[int], repeats: int) -> dict[str, Any]:
    timed: dict[str, dict[str, list[float]]] = {"gate": {"candidates": [], "vacancies": []}}
    timed["before"] = {"candidates": [], "vacancies": []}
    for _ in range(repeats):
        for variant in ("before", "gate"):
            restore = _before(ranking) if variant == "before" else (lambda: None)
            try:
                timed[variant]["candidates"].append(_seconds(lambda: ranking.candidate_lists(vacancies, 20)))
                timed[variant]["vacancies"].append(_seconds(lambda: ranking.vacancy_lists(clients, 20)))
            finally:
                restore()
    out: dict[str, Any] = {}
    for side, owners in (("candidates", len(vacancies)), ("vacancies", len(clients))):
        best = {variant: min(timed[variant][side]) for variant in timed}
        out[side] = {
            "owners": owners,
            "msPerOwnerBefore": round(1e3 * best["before"] / owners, 3),
            "msPerOwnerGate": round(1e3 * best["gate"] / owners, 3),
            "msAddedPerOwner": round(1e3 * (best["gate"] - best["before"]) / owners, 3),
            "seconds": {variant: [round(value, 3) for value in timed[variant][side]] for variant in timed},
        }
    return out


def _query_parts(live: Any, vacancies: list[int], clients: list[int]) -> dict[str, Any]:
    """Per direction, ms per owner of each query-side part of :func:`matching.identifier_query.gate_query`."""
    out = {}
    for name, asking, owners, searched in (
        ("candidates", "vacancies", vacancies, "clients"),
        ("vacancies", "clients", clients, "vacancies"),
    ):
        texts = list(live.index.sides[asking].lexical_texts.many(owners).values())
        state = live.index.sides[searched]
        frees = [negation_free(text) for text in texts]
        changed = [free for free, text in zip(frees, texts, strict=True) if free != text]
        took = {
            "extractor": _seconds(lambda: [identifiers(text) for text in texts]),  # noqa: B023
            "negationFree": _seconds(lambda: [negation_free(text) for text in texts]),  # noqa: B023
            "identifierTerms": _seconds(lambda: [state.identifiers.bm25.asked([text]) for text in texts]),  # noqa: B023
            "freeTerms": _seconds(lambda: [state.lexical.asked([free]) for free in changed]),  # noqa: B023
        }
        out[name] = {key: round(1e3 * value / len(texts), 3) for key, value in took.items()}
        out[name] |= {
            "meanCharacters": round(sum(map(len, texts)) / len(texts)),
            "withIdentifiers": sum(1 for text in texts if identifiers(text)[0]),
            "negationChanged": len(changed),
        }
    return out


def _reading(live: Any) -> dict[str, Any]:
    """Per side: every record's BM25 text (rendered), then BM25's term frequencies and the identifiers' parts."""
    out = {}
    for side in ("clients", "vacancies"):
        state = live.index.sides[side]
        ids = sorted(state.digests)
        start = time.perf_counter()
        texts = list(state.lexical_texts.many(ids).values())
        render = time.perf_counter() - start
        lexical, read = LexicalIndex(), IdentifierSide()
        bm25 = _seconds(lambda: lexical.term_frequencies(texts))  # noqa: B023
        parts: list[Any] = []
        both = _seconds(lambda: parts.append(read.parts(texts)))  # noqa: B023
        held = _seconds(lambda: [identifiers(text) for text in texts])  # noqa: B023
        out[side] = {
            "records": len(ids),
            "renderSeconds": round(render, 2),
            "bm25TermFrequenciesSeconds": round(bm25, 2),
            "identifiersSeconds": round(both, 2),
            "extractorSeconds": round(held, 2),
            "lexicalMB": round(state.lexical.nbytes / 1e6, 1),
            "identifierBm25MB": round(state.identifiers.bm25.nbytes / 1e6, 1),
            "heldVocabulary": len(state.identifiers.held.names),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--owners", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    config = settings()
    live = matcher(config, may_write=False, champion=False)
    load_before = os.getloadavg()
    prepare = _seconds(live.index.catch_up)
    with Session(live.engine) as session:
        vacancies = [v.id for v in session.exec(select(Vacancy).order_by(Vacancy.id)) if v.is_open][: args.owners]
        clients = list(session.exec(select(Client.id).order_by(Client.id).limit(args.owners)))
    ranking = NightlyRanking(live)
    ranking.candidate_lists(vacancies[:20], 20)  # warm: query vectors cached, the pruned readings made
    ranking.vacancy_lists(clients[:20], 20)
    result = {
        "prepareSeconds": round(prepare, 2),
        "lists": _lists(ranking, vacancies, clients, args.repeats),
        "queryPartsMsPerOwner": _query_parts(live, vacancies, clients),
        "reading": _reading(live),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "provenance": provenance(),
    }
    live.close()
    write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
