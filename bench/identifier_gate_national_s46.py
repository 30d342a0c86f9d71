"""Session 46's gate changes on one loaded national worker, alternating in one process (issue 16's night after the
gate, issue 19 item 3's (L)+(N)): per-list CPU of the night's client and candidate lists under three versions of the
gate's code, the lists compared.

Run: WERKMATCH_DATA_DIR=<a copy of the national world, its embedding cache filled by bench/batch_match_borrow_cache.py>
    flock /tmp/bigmem.lock nice -n 5 .venv/bin/python bench/identifier_gate_national_s46.py --old-identifiers
    <caea95d's matching/identifiers.py> [--partitions 3] [--rounds 3]
    [--out bench/results/identifier-gate-national-s46.json]

* ``s45``: the code before this session (caea95d): :func:`negation_free` of ``--old-identifiers`` (a ``Token`` per
  word, the clause loop on every text), ``HeldIdentifiers.among`` by a Python list of CSR slices, each owner's
  negation-free text read by BM25's vectoriser alone, and the served fusion (w) (a language level may open the gate,
  no (N));
* ``s46 speed``: this session's exact shortcuts (the negation-free fast path, one ``asked`` per partition, one numpy
  gather) with (w) still served: its lists must equal ``s45``'s;
* ``s46``: what is served now, the shortcuts and (L)+(N).

One :class:`training.batch_match.ListWorker` (the batch's worker: its start is timed apart) computes the first
``--partitions`` partitions of each side per pass, the versions alternating for ``--rounds`` rounds after one warm
pass; the versions are swapped in by patching the functions they differ in. Nothing is stored.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._result import provenance, write_json
from matching import batch_rank, identifier_gate, identifier_query
from matching.identifier_side import HeldIdentifiers, HeldRows
from matching.settings import Settings
from training.batch_match import PARTITION_IDS, ListWorker

ROOT = Path(__file__).resolve().parents[1]


def _old_among(self: HeldIdentifiers, ids: np.ndarray) -> HeldRows:
    """caea95d's ``HeldIdentifiers.among``: a Python list of the rows' CSR slices, concatenated."""
    self._merge()
    at = np.searchsorted(self._ids, np.asarray(ids, np.int64))
    starts, ends = self._indptr[at], self._indptr[at + 1]
    indptr = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
    pieces = [self._indices[start:end] for start, end in zip(starts.tolist(), ends.tolist(), strict=True)]
    indices = np.concatenate(pieces) if pieces else np.zeros(0, np.int32)
    return HeldRows(indptr, indices, self.names)


def _old_gates(
    self: batch_rank.NightlyRanking,
    side: Any,
    owners: list[int],
    searched: Any,
    ids: np.ndarray,
    bm25: Any,
    queries: list,
) -> list[identifier_query.GateQuery]:
    """caea95d's ``_gates``: each owner's negation-free text read by the vectoriser on its own."""
    state = self.matcher.index.sides[searched]
    buffer = batch_rank.Bm25Buffer(state.identifiers.bm25, ids)
    known = self.matcher.index.sides[side].identifiers.known(owners)
    gates = []
    for (_, terms, text), own in zip(queries, known, strict=True):
        free_terms = identifier_query.free_terms_of([text], [terms], state.lexical)[0]
        gates.append(identifier_query.gate_query(text, terms, free_terms, state.identifiers, ids, bm25, buffer, own))
    return gates


def _w_text_signals(gate, rows, dense_raw, bm25, weights):  # noqa: ANN001, ANN202 (the served signature)
    """caea95d's ``identifier_query.text_signals``: the fusion (w), a language level may open the gate, no (N)."""
    dense_raw = np.asarray(dense_raw, np.float32)
    if not len(rows):
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    free, identifier, opened = np.asarray(bm25, np.float32), np.zeros(len(rows), np.float32), False
    if gate is not None:
        free = free if gate.free_bm25 is None else gate.free_bm25(rows)
        held = gate.held_by(rows) if gate.held else None
        if held is not None and identifier_gate.could_open(gate.held, held.holding, len(rows), True):
            identifier = gate.identifier_bm25(rows)
            opened = identifier_gate.rare_gate_opens(gate.held, gate.negated, held, identifier, held.holding, True)
    return identifier_gate.text_signals(dense_raw, identifier, free, opened, weights)


def _versions(old_identifiers: Path) -> dict[str, dict[tuple[Any, str], Any]]:
    spec = importlib.util.spec_from_file_location("identifiers_s45", old_identifiers)
    assert spec is not None and spec.loader is not None
    old = importlib.util.module_from_spec(spec)
    sys.modules["identifiers_s45"] = old
    spec.loader.exec_module(old)
    served = {
        (identifier_query, "negation_free"): identifier_query.negation_free,
        (HeldIdentifiers, "among"): HeldIdentifiers.among,
        (batch_rank.NightlyRanking, "_gates"): batch_rank.NightlyRanking._gates,
        (identifier_query, "text_signals"): identifier_query.text_signals,
    }
    speed = served | {(identifier_query, "text_signals"): _w_text_signals}
    before = {
        (identifier_query, "negation_free"): old.negation_free,
        (HeldIdentifiers, "among"): _old_among,
        (batch_rank.NightlyRanking, "_gates"): _old_gates,
        (identifier_query, "text_signals"): _w_text_signals,
    }
    return {"s45": before, "s46 speed": speed, "s46": served}


def _pass(worker: ListWorker, parts: list[tuple[str, int]]) -> tuple[dict[str, float], list]:
    spent, counted, lists = {"klanten": 0.0, "vacatures": 0.0}, {"klanten": 0, "vacatures": 0}, []
    for side, first in parts:
        start = time.process_time()
        got = worker.partition_lists(side, first, PARTITION_IDS)
        spent[side] += time.process_time() - start
        counted[side] += len(got)
        lists.extend([side, *item.values()] for item in got)
    return {side: round(spent[side] / counted[side] * 1000, 3) for side in spent if counted[side]}, lists


def alternate(
    worker: ListWorker, parts: list[tuple[str, int]], versions: dict[str, dict[tuple[Any, str], Any]], rounds: int
) -> tuple[dict[str, list[dict[str, float]]], dict[str, str]]:
    """Per version (its methods patched in), the per-list CPU of each of ``rounds`` passes over ``parts`` (the versions
    alternating after one warm pass) and its first pass's lists as JSON."""
    _pass(worker, parts)  # warm: the query vectors from the cache, the arrays built
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
    lists: dict[str, str] = {}
    for _ in range(rounds):
        for name, patches in versions.items():
            for (owner, attribute), value in patches.items():
                setattr(owner, attribute, value)
            ms, found = _pass(worker, parts)
            runs[name].append(ms | {"load": round(os.getloadavg()[0], 2)})
            lists.setdefault(name, json.dumps(found, default=str))
    return runs, lists


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old-identifiers", type=Path, required=True)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sides", default="klanten,vacatures", help="klanten: the client lists alone (the gate's)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "identifier-gate-national-s46.json")
    args = parser.parse_args()
    versions = _versions(args.old_identifiers)
    started, wall = time.process_time(), time.time()
    worker = ListWorker(Settings())
    start = {"cpu_s": round(time.process_time() - started, 1), "wall_s": round(time.time() - wall, 1)}
    firsts = range(0, args.partitions * PARTITION_IDS, PARTITION_IDS)
    parts = [(side, first) for side in args.sides.split(",") for first in firsts]
    runs, lists = alternate(worker, parts, versions, args.rounds)
    result = {
        "command": " ".join(sys.argv),
        "workerStart": start,
        "partitionsPerSide": args.partitions,
        "msPerList": runs,
        "meanMsPerList": {
            name: {side: round(float(np.mean([r[side] for r in rows])), 3) for side in args.sides.split(",")}
            for name, rows in runs.items()
        },
        "speedListsEqualS45": lists["s46 speed"] == lists["s45"],
        "servedListsEqualS45": lists["s46"] == lists["s45"],
        **provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
