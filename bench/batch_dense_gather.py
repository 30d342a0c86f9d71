"""The nightly batch's dense gather at national size: CPU of the cosines per list by chunk, layout and owner order.

Run: WERKMATCH_DATA_DIR=<a migrated copy of the national world> nice -n 10
    .venv/bin/python bench/batch_dense_gather.py [--partitions 3] [--rounds 5] [--out ...json]
A :class:`training.batch_match.ListWorker` loads the data directory's indexes; for the first
``--partitions`` partitions of each side the owners' query vectors and eligible rows are computed as
the batch computes them (:meth:`matching.batch_rank.NightlyRanking._texts`,
:func:`matching.batch_steps.candidate_eligible`, :func:`~matching.batch_steps.vacancy_eligible`). Then
only the step that :func:`matching.batch_rank._text_query` spends most of its time in (every eligible
row's cosine with the owner's query vector: a gather of the rows' vectors, an ``einsum``) runs in
variants, alternating, ``--rounds`` times each, process CPU per list:

* ``index C``: the vector index's own storage (in id order), ``C`` rows gathered at a time;
* ``place 512``: a copy of the vectors ordered by place (the searched side's buckets, PC4), so the
  rows within an owner's reach are a few runs: what a place-ordered layout would gain;
* ``owners by place 512``: the index's storage, the owners of each partition in place order (lat, lon).

Every variant's cosines are compared with the first's, bit for bit. Nothing is written to the data
directory but the embedding cache's query vectors (use a copy).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench._result import provenance, write_json
from matching import batch_steps
from matching.settings import Settings
from training.batch_match import PARTITION_IDS, ListWorker

ROOT = Path(__file__).resolve().parents[1]
CHUNKS = (256, 512, 1024, 2048)
List = tuple[np.ndarray, np.ndarray, int]  # eligible rows, query vector, the owner's partition


def cosines(stored: np.ndarray, at_all: np.ndarray, query: np.ndarray, eligible: np.ndarray, chunk: int) -> np.ndarray:
    """:func:`matching.batch_rank._text_query`'s cosines with ``chunk`` rows at a time."""
    at = at_all[eligible]
    embedded = np.flatnonzero(at >= 0)
    out = np.zeros(len(eligible), np.float32)
    for start in range(0, len(embedded), chunk):
        part = embedded[start : start + chunk]
        out[part] = np.einsum("ij,j->i", stored[at[part]], query)
    return out


def lists_of(worker: ListWorker, side: str, partitions: int) -> tuple[list[List], np.ndarray]:
    """Per list of ``side`` (``vacatures``: candidate lists), its eligible rows, query vector and partition, and
    per list a key that puts a partition's owners in place order."""
    index = worker.matcher.index
    clients, vacancies = index.arrays()
    owners_side, searched = ("vacancies", "clients") if side == "vacatures" else ("clients", "vacancies")
    own = vacancies if side == "vacatures" else clients
    found: list[List] = []
    places: list[tuple[int, float, float]] = []
    for first in range(0, partitions * PARTITION_IDS, PARTITION_IDS):
        rows = np.flatnonzero((own.ids >= first) & (own.ids < first + PARTITION_IDS))
        if side == "vacatures":
            rows = rows[vacancies.open[rows]]
        owners = own.ids[rows].tolist()
        queries = worker.ranking._texts(owners_side, owners, searched)
        for row, (vector, _terms, _text) in zip(rows.tolist(), queries, strict=True):
            if side == "vacatures":
                reach = batch_steps.candidate_eligible(clients, vacancies, row)
            else:
                reach = batch_steps.vacancy_eligible(clients, row, vacancies)
            found.append((reach.eligible, np.asarray(vector, np.float32), first))
            places.append((first, float(own.lat[row]), float(own.lon[row])))
    key = np.lexsort(tuple(np.array(column) for column in reversed(list(zip(*places, strict=True)))))
    return found, key


def variants(worker: ListWorker, side: str, key: np.ndarray) -> dict[str, tuple[Callable, list[int] | np.ndarray]]:
    """Each variant: (cosines of one list, the order the lists are computed in)."""
    searched = "clients" if side == "vacatures" else "vacancies"
    index = worker.matcher.index
    arrays = index.arrays()[0 if searched == "clients" else 1]
    vectors = index.sides[searched].vectors
    assert vectors is not None
    stored, at_all = vectors._stored(), vectors.positions(arrays.ids)
    by_place = arrays.buckets.members  # rows ordered by place
    held = at_all[by_place] >= 0
    placed = np.ascontiguousarray(stored[at_all[by_place][held]])  # the bench's copy; a worker would permute
    at_placed = np.full(len(arrays.ids), -1, np.int64)
    at_placed[by_place[held]] = np.arange(int(held.sum()))
    order = list(range(len(key)))
    chosen: dict[str, tuple[Callable, list[int] | np.ndarray]] = {
        f"index {chunk}": (lambda q, e, c=chunk: cosines(stored, at_all, q, e, c), order) for chunk in CHUNKS
    }
    chosen["place 512"] = (lambda q, e: cosines(placed, at_placed, q, e, 512), order)
    chosen["owners by place 512"] = (lambda q, e: cosines(stored, at_all, q, e, 512), key)
    return chosen


def measure(worker: ListWorker, side: str, partitions: int, rounds: int) -> dict[str, Any]:
    """Every variant ``rounds`` times, alternating; CPU ms per list (min, median) and whether the cosines agree."""
    found, key = lists_of(worker, side, partitions)
    chosen = variants(worker, side, key)
    spent: dict[str, list[float]] = {name: [] for name in chosen}
    reference: list[np.ndarray] | None = None
    identical = True
    for _ in range(rounds):
        for name, (compute, order) in chosen.items():
            out: list[np.ndarray | None] = [None] * len(found)
            start = time.process_time()
            for at in order:
                eligible, query, _first = found[at]
                out[at] = compute(query, eligible)
            spent[name].append(time.process_time() - start)
            if reference is None:
                reference = out  # type: ignore[assignment]
            else:
                identical = identical and all(np.array_equal(a, b) for a, b in zip(reference, out, strict=True))
    lists = len(found)
    return {
        "lists": lists,
        "eligible_rows_per_list": round(sum(len(item[0]) for item in found) / max(lists, 1), 1),
        "cpu_ms_per_list_min_median": {
            name: [round(1e3 * min(times) / lists, 3), round(1e3 * float(np.median(times)) / lists, 3)]
            for name, times in spent.items()
        },
        "identical_cosines": identical,
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-dense-gather.json")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    started, wall = time.process_time(), time.perf_counter()
    worker = ListWorker(Settings())
    load = {"cpu_s": round(time.process_time() - started, 1), "wall_s": round(time.perf_counter() - wall, 1)}
    load_before = os.getloadavg()
    sides = {side: measure(worker, side, args.partitions, args.rounds) for side in ("vacatures", "klanten")}
    result = {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "label": args.label,
        "worker_start": load | {"prepared_from": worker.prepared_from},
        "load_average_before_after": [load_before, os.getloadavg()],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "partitions_per_side": args.partitions,
        "rounds": args.rounds,
        "sides": sides,
        **provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
