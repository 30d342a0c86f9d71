"""What session 39's pick would add to a search, per query: the rare-identifier gate against the served fusion.

Session 40 (issue 19, item 3; not served). Session 39's rule picked the rare gate (``bench/fusion_taxonomy3.py``:
lexical × 2.0 over identifier-token BM25 when BM25's first candidate holds every identifier of the query, none of its
negated ones, and one of them is held by at most 10 % of the candidates; identifiers are the taxonomy's, hyphenated
codes and welding numbers; the served fusion otherwise). Before it could serve, the cost in search had to be known.
This bench times, on the demo world, what the gate adds to :func:`matching.scoring.text_signals` per query, in one
process, the two arms alternating per query (which goes first alternates too), each repeated :data:`REPEATS` times:

* **served**: ``fuse(dense, lexical)`` over the query's pool (:func:`matching.scoring.text_signals`, weighted);
* **gated**: the query's identifiers (:func:`bench.fusion_taxonomy3.identifiers`, with negation), identifier-token
  BM25 of the query over the bestand (:class:`bench.fusion_identifiers.IdentifierAnalyzer` in a second
  :class:`matching.lexical.LexicalIndex`, read for the pool), the gate (:func:`bench.fusion_taxonomy3.
  rare_gate_opens`, the counts of only the query's identifiers among the pool: the same decision), then
  ``z(dense) + 2.0 · z(identifier BM25)`` when it opens and the served ``fuse`` when it does not.

Besides: the served BM25 of the query over the bestand (:meth:`LexicalIndex.scores`, what search computes once per
query before the pool exists), for scale; and what the gate needs once per bestand (the second index, every record's
identifiers), with the index's memory. Queries are vacancy texts as search renders them (``render_vacancy(…,
lexical=True)``), the bestand the 9,000 client texts. The pool is the query's top :data:`POOL` by BM25 and
:data:`POOL` other rows drawn at random (standing in for dense's and the structured fit's tops: no model is loaded;
the dense values are uniform in the e5 band, 0.75–0.90, which changes no timing). Timings are wall clock
(``time.perf_counter``) on a shared machine: read the medians, and the ratio of the two arms measured side by side.

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.fusion_gate_cost \\
        --db /tmp/wm-base/werkmatch.db > bench/results/fusion-gate-cost-s40.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine
from sqlmodel import Session, select

from bench import fusion_taxonomy3, fusion_tuning
from bench.fusion_identifiers import IdentifierAnalyzer
from matching import scoring
from matching.domain import Client, Vacancy
from matching.lexical import LexicalIndex
from matching.settings import RetrievalSettings
from matching.taxonomy import load_taxonomy
from matching.text import render_client, render_vacancy

COMMAND = "nice -n 12 .venv/bin/python -m bench.fusion_gate_cost --db {db}"
POOL = 300  # settings.retrieval.pool_size: candidates taken from each signal
QUERIES = 300  # vacancies sampled (of 3,000)
REPEATS = 5  # per query and arm, the median kept
WEIGHT = 2.0  # the pick's lexical weight when the gate opens
RARITY = 0.1  # the pick's share: an identifier at most 10 % of the candidates hold
KIND = fusion_taxonomy3.WELDING_KIND  # the pick's identifiers: taxonomy + codes + welding numbers
SEED = 0


def texts(database: Path) -> tuple[list[str], list[str]]:
    """(client texts, vacancy texts) as search's lexical side renders them, read from ``database`` read-only."""
    engine = create_engine(f"sqlite:///file:{database}?mode=ro&uri=true")
    taxonomy = load_taxonomy()
    with Session(engine) as session:
        clients = [render_client(row, taxonomy, True) for row in session.exec(select(Client).order_by(Client.id))]
        vacancies = [render_vacancy(row, taxonomy, True) for row in session.exec(select(Vacancy).order_by(Vacancy.id))]
    return clients, vacancies


def timed(function, *arguments) -> tuple[float, object]:
    start = time.perf_counter()
    value = function(*arguments)
    return time.perf_counter() - start, value


def pool_scores(index: LexicalIndex, query: str, pool: np.ndarray, records: int) -> np.ndarray:
    """BM25 of ``query`` over the bestand (as search computes it), read for the ``pool`` rows."""
    found, scores = index.scores(query)
    full = np.zeros(records, np.float32)
    full[found] = scores
    return full[pool]


def served(dense: np.ndarray, lexical: np.ndarray, weights: RetrievalSettings) -> np.ndarray:
    return scoring.fuse(dense, lexical, weights)


def decision(
    query: str, pool: np.ndarray, identifier_index: LexicalIndex, documents_held: list[set[str]]
) -> tuple[bool, float]:
    """The gate's decision alone, its identifier BM25 given: what :func:`gated` adds besides the two parts timed
    apart (the counts over the pool's identifier sets, in Python), and its seconds."""
    held, negated = fusion_taxonomy3.identifiers(query, KIND)
    identifier_bm25 = pool_scores(identifier_index, query, pool, len(documents_held))
    start = time.perf_counter()
    pool_held = [documents_held[row] for row in pool]
    holding = Counter({found: sum(found in one for one in pool_held) for found in held})
    opens = fusion_taxonomy3.rare_gate_opens(
        frozenset(held), frozenset(negated), pool_held, holding, identifier_bm25, RARITY
    )
    return opens, time.perf_counter() - start


def gated(
    query: str,
    dense: np.ndarray,
    lexical: np.ndarray,
    pool: np.ndarray,
    identifier_index: LexicalIndex,
    documents_held: list[set[str]],
    weights: RetrievalSettings,
) -> tuple[bool, np.ndarray]:
    """The pick's text part for one query (what :func:`bench.fusion_taxonomy3._rare_gate` computes)."""
    held, negated = fusion_taxonomy3.identifiers(query, KIND)
    identifier_bm25 = pool_scores(identifier_index, query, pool, len(documents_held))
    pool_held = [documents_held[row] for row in pool]
    holding = Counter({found: sum(found in one for one in pool_held) for found in held})
    if fusion_taxonomy3.rare_gate_opens(
        frozenset(held), frozenset(negated), pool_held, holding, identifier_bm25, RARITY
    ):
        return True, fusion_tuning._z(dense) + WEIGHT * fusion_tuning._z(identifier_bm25)
    return False, scoring.fuse(dense, lexical, weights)  # closed: the served fusion


def _summary(seconds: list[float]) -> dict[str, float]:
    values = np.asarray(seconds) * 1000
    return {
        "medianMs": round(float(np.median(values)), 4),
        "meanMs": round(float(values.mean()), 4),
        "p90Ms": round(float(np.percentile(values, 90)), 4),
    }


def bestand(clients: list[str], probe: str) -> tuple[LexicalIndex, LexicalIndex, list[set[str]], dict[str, float]]:
    """What the gate needs once per bestand, timed: the served BM25 index (for scale), the identifier-token index
    and every record's held identifiers; ``probe`` computes both indexes' lazy BM25 weights before any query."""
    ids = np.arange(len(clients))
    lexical_index = LexicalIndex()
    build_lexical, _ = timed(lexical_index.upsert, ids, clients)
    identifier_index = LexicalIndex()
    identifier_index._vectorizer.set_params(analyzer=IdentifierAnalyzer())
    build_identifier, _ = timed(identifier_index.upsert, ids, clients)
    extract_seconds, documents_held = timed(lambda: [fusion_taxonomy3.identifiers(text, KIND)[0] for text in clients])
    lexical_index.scores(probe)  # BM25 weights are computed lazily on the first search: not per query
    identifier_index.scores(probe)
    costs = {
        "servedBm25IndexSeconds": round(build_lexical, 2),
        "identifierBm25IndexSeconds": round(build_identifier, 2),
        "recordIdentifiersSeconds": round(extract_seconds, 2),
        "servedBm25IndexMiB": round(lexical_index.nbytes / 2**20, 2),
        "identifierBm25IndexMiB": round(identifier_index.nbytes / 2**20, 2),
    }
    return lexical_index, identifier_index, documents_held, costs


def one_query(
    number: int,
    query: str,
    pool: np.ndarray,
    dense: np.ndarray,
    lexical: np.ndarray,
    indexes: tuple[LexicalIndex, LexicalIndex],
    documents_held: list[set[str]],
    weights: RetrievalSettings,
) -> tuple[dict[str, list[float]], bool]:
    """Seconds per arm and part, :data:`REPEATS` times, the two arms alternating (who goes first too); and whether
    the gate opened."""
    lexical_index, identifier_index = indexes
    names = ("served", "gated", "bm25", "queryIdentifiers", "identifierBm25", "gateDecision")
    times: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(REPEATS):
        order = ("served", "gated") if (number + repeat) % 2 == 0 else ("gated", "served")
        for arm in order:
            if arm == "served":
                seconds, _ = timed(served, dense, lexical, weights)
            else:
                seconds, (is_open, _) = timed(
                    gated, query, dense, lexical, pool, identifier_index, documents_held, weights
                )
            times[arm].append(seconds)
        times["bm25"].append(timed(lexical_index.scores, query)[0])
        times["queryIdentifiers"].append(timed(fusion_taxonomy3.identifiers, query, KIND)[0])
        times["identifierBm25"].append(timed(pool_scores, identifier_index, query, pool, len(documents_held))[0])
        times["gateDecision"].append(decision(query, pool, identifier_index, documents_held)[1])
    return times, is_open


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/wm-base/werkmatch.db"))
    parser.add_argument("--queries", type=int, default=QUERIES)
    arguments = parser.parse_args()
    weights = RetrievalSettings()  # search's weights (dense 0.40, lexical 0.15), as the bench's fusions read them
    load_before = [round(value, 2) for value in os.getloadavg()]
    clients, vacancies = texts(arguments.db)
    lexical_index, identifier_index, documents_held, per_bestand = bestand(clients, vacancies[0])

    rng = np.random.default_rng(SEED)
    sample = rng.choice(len(vacancies), size=min(arguments.queries, len(vacancies)), replace=False)
    per_arm: dict[str, list[float]] = {"served": [], "gated": [], "bm25": []}
    parts: dict[str, list[float]] = {"queryIdentifiers": [], "identifierBm25": [], "gateDecision": []}
    opened = with_identifiers = 0
    pool_sizes = []
    for number, row in enumerate(sample):
        query = vacancies[int(row)]
        found, bm25 = lexical_index.scores(query)
        full = np.zeros(len(clients), np.float32)
        full[found] = bm25
        others = rng.choice(len(clients), size=POOL, replace=False)
        pool = np.unique(np.concatenate([np.argsort(-full, kind="stable")[:POOL], others]))
        pool_sizes.append(len(pool))
        dense = rng.uniform(0.75, 0.90, len(pool)).astype(np.float32)
        lexical = full[pool] / max(float(full.max()), 1e-9)
        times, is_open = one_query(
            number, query, pool, dense, lexical, (lexical_index, identifier_index), documents_held, weights
        )
        for arm, values in times.items():
            (per_arm if arm in per_arm else parts)[arm].append(float(np.median(values)))
        with_identifiers += int(bool(fusion_taxonomy3.identifiers(query, KIND)[0]))
        opened += int(is_open)

    extra = [g - s for g, s in zip(per_arm["gated"], per_arm["served"], strict=True)]
    result = {
        "command": COMMAND.format(db=arguments.db),
        "loadAverage": {"before": load_before, "after": [round(value, 2) for value in os.getloadavg()]},
        "clients": len(clients),
        "vacancies": len(vacancies),
        "queries": len(sample),
        "repeats": REPEATS,
        "poolSize": {"median": int(np.median(pool_sizes)), "max": int(max(pool_sizes))},
        "pick": {"weight": WEIGHT, "rarity": RARITY, "identifiers": KIND},
        "perQuery": {
            "servedTextSignals": _summary(per_arm["served"]),
            "gatedTextPart": _summary(per_arm["gated"]),
            "extraOfTheGate": _summary(extra),
            "gatedOverServedMedian": round(float(np.median(per_arm["gated"]) / np.median(per_arm["served"])), 1),
            "servedBm25OverTheBestand": _summary(per_arm["bm25"]),
            "ofTheGate": {name: _summary(values) for name, values in parts.items()},
        },
        "queriesWithIdentifiers": with_identifiers,
        "gateOpened": opened,
        "perBestand": per_bestand,
    }
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
