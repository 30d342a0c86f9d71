"""``werkmatch evaluate``'s weighted row on its held-out pools: the fusion before the gate against the served gate
(issue 19, item 3, session 45).

Since session 44 search weighs its text signals by the rare-identifier gate (:mod:`matching.identifier_query`), but
``evaluate``'s ``baseline:weighted`` row (:func:`training.rankers.weighted_baseline`) still fused the pairs' raw
cosine and scaled BM25 the way search did before it. On the pools ``evaluate`` judges (the same sample: the newest
``--test-share`` of vacancies by time, ``--pool-vacancies`` of them drawn with seed 0,
:func:`training.pool_eval.pool_holdout`), this scores every pool row both ways:

* ``beforeTheGate``: :func:`training.rankers.weighted_baseline` from the features (the row as it was);
* ``servedGate``: :func:`training.served_weighted.served_weighted`: the gate's signals read from the index's sides;

and reports NDCG@10, recall@20 and MRR with their 95 % intervals as ``evaluate`` does
(:func:`training.metrics.summarise`, seed 0), the paired NDCG@10 gain (:func:`training.metrics.paired`) and how many
pools the gate opened in. It first checks that the served score is the search's own: on ``--check`` pools the
search's pool (:meth:`matching.matcher.Matcher.pool_features`' steps) and its weighted score
(:func:`matching.pipeline.weighted_score`) against :func:`served_weighted` on the same rows.

Run it on a copy of a world (it catches the index up, as ``evaluate`` does):

    mkdir -p /tmp/s45/W && cp -a /tmp/wm-base/index /tmp/wm-base/werkmatch.db /tmp/s45/W/
    WERKMATCH_DATA_DIR=/tmp/s45/W flock /tmp/quiet.gate true && WERKMATCH_DATA_DIR=/tmp/s45/W \\
        flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.weighted_gate_pools \\
        > bench/results/weighted-gate-pools-s45-W.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from matching import hard_filters, pipeline
from matching.hard_filters import NO_FILTERS
from matching.matcher import Matcher
from matching.settings import load_settings
from training.dataset import build_dataset
from training.metrics import paired, summarise
from training.pool_eval import pool_holdout
from training.rankers import weighted_baseline
from training.served_weighted import pool_text_signals, served_weighted

COMMAND = "WERKMATCH_DATA_DIR=<copy of the demo world> nice -n 12 .venv/bin/python -m bench.weighted_gate_pools"


def search_scores(matcher: Matcher, vacancy_id: int) -> tuple[np.ndarray, np.ndarray]:
    """The client ids of the search's pool for ``vacancy_id`` and their weighted score, as the search computes them
    (the steps of :meth:`matching.matcher.Matcher.pool_features`, keeping the pool's signals)."""
    with matcher.index.lock:
        clients, vacancies = matcher.index.arrays()
        v_row = vacancies.position[vacancy_id]
        everyone = np.ones(len(clients.ids), bool)
        listed = hard_filters.candidate_listing(clients, vacancies, v_row, NO_FILTERS, everyone, matcher.prefilter)
        text = matcher._text_query("vacancies", vacancy_id, "clients", clients.ids, listed.eligible)
        pool = pipeline.listed_pool(listed, text, matcher.settings.retrieval.pool_size, matcher.settings.retrieval)
        return clients.ids[pool.rows], pipeline.weighted_score(pool, matcher.settings.retrieval)


def differing_pools(matcher: Matcher, data, weights) -> dict[str, int]:
    """In how many pools the served text signals differ from the fusion before the gate (the gate open, or its
    closed fusion over the negation-free BM25 ordering otherwise), per signal."""
    from training.rankers import _feature_text_signals

    served, before = pool_text_signals(matcher, data, weights), _feature_text_signals(data)
    return {
        name: int(len(np.unique(data.vacancy_ids[~np.isclose(served[at], before[at], atol=1e-6)])))
        for at, name in enumerate(("dense", "lexical"))
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-share", type=float, default=0.2)
    parser.add_argument("--pool-vacancies", type=int, default=200)
    parser.add_argument("--check", type=int, default=20, help="pools whose score is checked against the search's")
    arguments = parser.parse_args()
    config = load_settings()
    weights = config.retrieval
    matcher = Matcher(config)
    start = time.perf_counter()
    data = build_dataset(matcher)
    _, test = data.time_split(arguments.test_share)
    moments = dict(zip(test.vacancy_ids.tolist(), test.moments.tolist(), strict=True))
    held_out = np.unique(test.vacancy_ids)
    size = min(arguments.pool_vacancies, len(held_out))
    sample = np.random.default_rng(0).choice(held_out, size=size, replace=False)
    found = pool_holdout(matcher, sample, moments)
    assert found is not None, "no hidden truth: run on a synthetic world"
    pool, truth = found
    prepared = time.perf_counter() - start

    start = time.perf_counter()
    before = weighted_baseline(pool, weights)
    before_seconds = time.perf_counter() - start
    start = time.perf_counter()
    served = served_weighted(matcher, weights)(pool)
    served_seconds = time.perf_counter() - start

    checked, worst, same_rows = 0, 0.0, 0
    for vacancy_id in np.unique(pool.vacancy_ids)[: arguments.check].tolist():
        ids, search = search_scores(matcher, int(vacancy_id))
        rows = np.flatnonzero(pool.vacancy_ids == vacancy_id)
        same_rows += bool(np.array_equal(np.sort(ids), np.sort(pool.client_ids[rows])))
        ours = dict(zip(pool.client_ids[rows].tolist(), served[rows].tolist(), strict=True))
        worst = max(worst, float(np.max(np.abs(np.array([ours[int(c)] for c in ids]) - search))))
        checked += 1

    first = summarise(pool.labels, before, pool.vacancy_ids, seed=0)
    second = summarise(pool.labels, served, pool.vacancy_ids, seed=0)
    oracle = summarise(pool.labels, truth, pool.vacancy_ids, seed=0)
    result = {
        "command": COMMAND,
        "dataDir": str(config.data_dir),
        "loadAverage": [round(value, 2) for value in os.getloadavg()],
        "pools": {
            "vacancies": int(len(np.unique(pool.vacancy_ids))),
            "pairs": len(pool),
            "meanPoolSize": round(len(pool) / max(len(np.unique(pool.vacancy_ids)), 1), 1),
            "textSignalsDifferIn": differing_pools(matcher, pool, weights),
            "preparedSeconds": round(prepared, 1),
        },
        "searchCheck": {"pools": checked, "sameRows": same_rows, "maxAbsDifference": worst},
        "models": {"beforeTheGate": first, "servedGate": second, "oracle": oracle},
        "oracleFraction": {
            name: round(metrics["ndcg@10"] / oracle["ndcg@10"], 4)
            for name, metrics in (("beforeTheGate", first), ("servedGate", second))
        },
        "servedGateVsBeforeTheGate": paired(pool.labels, served, before, pool.vacancy_ids, seed=0),
        "truthCorrelation": {
            "beforeTheGate": round(float(np.corrcoef(before, truth)[0, 1]), 4),
            "servedGate": round(float(np.corrcoef(served, truth)[0, 1]), 4),
        },
        "seconds": {"beforeTheGate": round(before_seconds, 2), "servedGate": round(served_seconds, 2)},
    }
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False, default=str)


if __name__ == "__main__":
    main()
