"""Probe: BM25's best over every record by block maxima against today's MaxScore and the full scatter.

Run, first (loads a batch worker on a migrated copy of the national world, ≈ 4 minutes of CPU, ≈ 4 GB; records the
real nightly queries of ``--partitions`` partitions per side, drawn seeded from the driver's plan as
``bench/batch_match_place.py`` draws them, with the start the batch gives MaxScore, and writes them with both sides'
BM25 weights to ``--data``):
    WERKMATCH_DATA_DIR=<copy> flock /tmp/bigmem.lock nice -n 12 .venv/bin/python bench/batch_bm25_blockmax.py
        --dump --data /tmp/national-blockmax.npz [--partitions 10] [--seed 39]
then (no world needed, ≈ 1.5 GB):
    nice -n 12 .venv/bin/python bench/batch_bm25_blockmax.py --data /tmp/national-blockmax.npz [--rounds 3]
        [--ways full,maxscore,blockmax_8,bmm_8] [--out bench/results/national-batch-bm25-blockmax-probe.json]

Every recorded query (``matching.bm25_maxscore.PrunedBm25._best``'s arguments as the batch called it: the owner's
asked terms some record holds, its eligible rows' exact scores, the rows in reach of its place and their exact
scores) is answered three ways, its best over every record: ``full`` (every asked column added over every record,
``Bm25Buffer._every``), ``maxscore`` (today's ``PrunedBm25._best`` with the batch's start; where it gives up, the full
scatter after it, as the batch does) and ``blockmax_B`` for each block size B: per term the largest weight in each
block of B consecutive records holding it (:class:`BlockMaxima`), a block's bound the sum over the asked terms of
idf × that; from the same start as MaxScore (``PrunedBm25._known``), the records of the blocks whose bound (with
MaxScore's float margin) can beat the best known are scored exactly (``PrunedBm25.exact``), blocks in descending bound
order, until no bound left can; ``bmm_B`` is block-max MaxScore: the same from the block maxima of MaxScore's essential
terms alone, the other terms' bounds added to every block. All ways' bests are asserted the same float. Reported per
side and way (``--ways``: only those): postings (columns added, rows scored) and block entries read, records scored
exactly, process CPU ms per query (the ways alternating, ``--rounds`` rounds, the load average per round), the block
tables' bytes, and MaxScore's split: its essential and other terms' postings against their block entries per B. The
partitions are split: the first half per side is the tuning half (the way and B are chosen on it), the rest held out.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from bench._result import load_average, provenance, write_json
from matching import bm25_maxscore as maxscore
from matching.batch_bm25 import term_tops
from matching.bm25_maxscore import MARGIN, PrunedBm25
from matching.lexical import N_FEATURES, Bm25Buffer, LexicalIndex

ROOT = Path(__file__).resolve().parents[1]
# the list, the side it searches, the batch's name of the list's side (:data:`matching.batch_lists.SIDES`)
SIDES = (("candidates", "clients", "vacatures"), ("vacancies", "vacancies", "klanten"))
SIZES = (8, 16, 32, 64, 128)
FIRST = 4  # blocks scored in the first step (descending bound); each next step doubles


class BlockMaxima:
    """Per term, the largest weight in each block of ``size`` consecutive records (rows ascending) that holds it:
    a CSC-like table (``ptr`` per column, then the blocks ascending and their largest weights)."""

    def __init__(self, weights: sparse.csc_matrix, size: int) -> None:
        self.size, self.count = size, -(-weights.shape[0] // size)
        blocks = (weights.indices // size).astype(np.int32)
        change = np.ones(len(blocks), bool)
        change[1:] = blocks[1:] != blocks[:-1]
        starts = weights.indptr[:-1][np.diff(weights.indptr) > 0]
        change[starts] = True  # a column's first block, even where the last column ended in the same block
        first = np.flatnonzero(change)
        self.blocks = blocks[first]
        self.largest = np.maximum.reduceat(weights.data, first) if len(first) else weights.data[:0]
        self.ptr = np.searchsorted(first, weights.indptr).astype(np.int64)

    @property
    def nbytes(self) -> int:
        return self.blocks.nbytes + self.largest.nbytes + self.ptr.nbytes

    def bounds(self, terms: np.ndarray, idf: np.ndarray) -> tuple[np.ndarray, int]:
        """(Per block, the sum over ``terms`` of idf × the term's largest weight in it, float64; entries read)."""
        starts, ends = self.ptr[terms], self.ptr[terms + 1]
        sizes = ends - starts
        total = int(sizes.sum())
        at = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + np.arange(total)
        weights = self.largest[at].astype(np.float64) * np.repeat(idf[terms].astype(np.float64), sizes)
        return np.bincount(self.blocks[at], weights=weights, minlength=self.count), total


def blockmax_best(
    pruned: PrunedBm25,
    table: BlockMaxima,
    terms: np.ndarray,
    seen: tuple,
    near: np.ndarray,
    records: int,
    count: dict,
    split: bool = False,
) -> float:
    """The best over every record from MaxScore's start, by the block bounds (see the module). ``split``: block-max
    MaxScore, the block maxima of MaxScore's essential terms only, the other terms' bounds added to every block."""
    margin = 1 + MARGIN * (len(terms) + 2)
    known, reach = pruned._known(terms, seen, near)
    rest = 0.0
    if split:
        bound = pruned.highest[terms].astype(np.float64) * pruned.idf[terms].astype(np.float64)
        order = np.argsort(bound, kind="stable")
        below = int(np.searchsorted(np.cumsum(bound[order]) * margin, min(maxscore.SPLIT, 1.0) * known, "right"))
        terms, rest = terms[order[below:]], float(bound[order[:below]].sum())
    bound, entries = table.bounds(terms, pruned.idf)
    count["entries"] += entries
    bound += rest
    bound *= margin
    hot = np.flatnonzero(bound > known)
    if not len(hot):
        return known
    hot = hot[np.argsort(-bound[hot], kind="stable")]
    pruned.asked[reach] = True
    try:
        step, at, size = FIRST, 0, table.size
        while at < len(hot) and bound[hot[at]] > known:
            chosen = hot[at : at + step]
            chosen = chosen[bound[chosen] > known]
            rows = (chosen[:, None] * size + np.arange(size)).ravel()
            rows = rows[rows < records]
            rows = rows[~pruned.asked[rows]]
            if len(rows):
                known = max(known, float(pruned.exact(rows).max()))
            at, step = at + step, step * 2
    finally:
        pruned.asked[reach] = False
    return known


def _dump(path: Path, partitions: int, seed: int) -> None:
    from matching.batch_lists import KIND_MATCH, BatchRun
    from matching.settings import Settings
    from matching.store import make_engine
    from training.batch_match import PARTITION_IDS, ListWorker, run_partitions

    worker = ListWorker(Settings())
    engine = make_engine(Settings().resolved_database_url)
    planned, _ = run_partitions(engine, BatchRun(kind=KIND_MATCH, partition_ids=PARTITION_IDS))
    engine.dispose()
    rng = random.Random(seed)
    index = worker.matcher.index
    lexicals = {id(index.sides[searched].lexical): name for name, searched, _ in SIDES}
    recorded: dict[str, list[tuple[np.ndarray, ...]]] = {name: [] for name, _, _ in SIDES}
    original = PrunedBm25._best

    def recording(self: PrunedBm25, lexical: LexicalIndex, terms: np.ndarray, rows: Any, near: np.ndarray, scores: Any):
        reach, column = (rows[0], rows[1]) if isinstance(rows, tuple) else (rows, near)
        recorded[lexicals[id(lexical)]].append((terms.copy(), near.copy(), reach.copy(), column.copy()))
        return original(self, lexical, terms, rows, near, scores)

    found: dict[str, np.ndarray] = {}
    PrunedBm25._best = recording  # type: ignore[method-assign]
    try:
        for name, _, side in SIDES:
            drawn = rng.sample([part for part in planned if part.side == side], partitions)
            for number, part in enumerate(drawn):
                before = len(recorded[name])
                worker.owner_lists(side, list(part.owners))
                found[f"{name}_half_{number}"] = np.array([before, len(recorded[name])])
    finally:
        PrunedBm25._best = original  # type: ignore[method-assign]
    for name, searched, _ in SIDES:
        lexical = index.sides[searched].lexical
        weights = lexical._weights
        assert weights is not None and lexical._idf is not None
        found |= {f"{searched}_indptr": weights.indptr, f"{searched}_indices": weights.indices}
        found |= {f"{searched}_data": weights.data, f"{searched}_idf": lexical._idf, f"{searched}_ids": lexical._ids}
        for part, at in zip(("terms", "near", "reach", "column"), range(4), strict=True):
            pieces = [query[at] for query in recorded[name]]
            found[f"{name}_{part}_ptr"] = np.cumsum([0] + [len(piece) for piece in pieces])
            found[f"{name}_{part}"] = np.concatenate(pieces)
    np.savez(path, **found)


def _queries(data: dict[str, np.ndarray], name: str) -> list[tuple[np.ndarray, ...]]:
    parts = [(data[f"{name}_{part}_ptr"], data[f"{name}_{part}"]) for part in ("terms", "near", "reach", "column")]
    count = len(parts[0][0]) - 1
    return [tuple(values[ptr[at] : ptr[at + 1]] for ptr, values in parts) for at in range(count)]


def _essential(
    pruned: PrunedBm25, tables: dict[int, BlockMaxima], queries: list[tuple[np.ndarray, ...]], tops: np.ndarray
) -> dict[str, Any]:
    """Per query, MaxScore's split (as ``PrunedBm25._best`` makes it from the batch's start): the postings of its
    essential terms (the columns it adds over every record) and of the others, against their block entries per block
    size: what block maxima could save on the terms each way reads."""
    postings = {"essential": 0, "other": 0}
    entries = {size: {"essential": 0, "other": 0} for size in tables}
    for terms, near, reach, column in queries:
        at = np.searchsorted(pruned.held, terms)
        pruned.query[at] = pruned.idf[terms]
        try:
            known, _ = pruned._known(terms, (reach, column, tops), near)
        finally:
            pruned.query[at] = 0
        bound = pruned.highest[terms].astype(np.float64) * pruned.idf[terms].astype(np.float64)
        order = np.argsort(bound, kind="stable")
        margin = 1 + MARGIN * (len(terms) + 2)
        below = int(np.searchsorted(np.cumsum(bound[order]) * margin, min(maxscore.SPLIT, 1.0) * known, "right"))
        for part, chosen in (("essential", terms[order[below:]]), ("other", terms[order[:below]])):
            postings[part] += int(pruned.lengths[chosen].sum())
            for size, table in tables.items():
                entries[size][part] += int((table.ptr[chosen + 1] - table.ptr[chosen]).sum())
    count = max(len(queries), 1)
    return {
        "postings_per_query": {part: round(value / count) for part, value in postings.items()},
        "block_entries_per_query": {
            size: {part: round(value / count) for part, value in found.items()} for size, found in entries.items()
        },
    }


Way = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], float]  # a query's parts -> its best


class _Side:
    """One searched side's weights as the batch reads them (its ``Bm25Buffer``, MaxScore's reading made in full, the
    terms' tops), its block tables per size, and the ways (``WAYS``) each answering a recorded query."""

    def __init__(self, data: dict[str, np.ndarray], searched: str) -> None:
        lexical = self.lexical = LexicalIndex()
        self.records = len(data[f"{searched}_ids"])
        parts = (data[f"{searched}_data"], data[f"{searched}_indices"], data[f"{searched}_indptr"])
        weights = sparse.csc_matrix(parts, shape=(self.records, N_FEATURES))
        weights.has_canonical_format = True
        lexical._weights, lexical._idf, lexical._ids = weights, data[f"{searched}_idf"], data[f"{searched}_ids"]
        self.buffer = Bm25Buffer(lexical, lexical._ids)
        pruned = self.buffer._pruned
        assert pruned is not None and self.buffer._blocks is not None
        self.pruned, self.scores = pruned, self.buffer._blocks
        pruned.rows.make()  # as the batch's (SharedBm25.gathered)
        self.tops = term_tops(pruned, weights)
        self.tables: dict[int, BlockMaxima] = {}
        self.made: dict[int, dict[str, float]] = {}
        for size in SIZES:
            started = time.process_time()
            self.tables[size] = BlockMaxima(weights, size)
            spent = round(time.process_time() - started, 2)
            self.made[size] = {"cpu_s": spent, "mb": round(self.tables[size].nbytes / 2**20, 1)}
        self.count: dict[str, int] = {"entries": 0, "scored": 0, "postings": 0}

    def full(self, terms: np.ndarray, near: np.ndarray, reach: np.ndarray, column: np.ndarray) -> float:
        self.scores.fill(0)
        self.lexical.add_term_columns(terms, self.scores, self.buffer._column)
        return float(np.float32(self.scores.max()))

    def maxscore(self, terms: np.ndarray, near: np.ndarray, reach: np.ndarray, column: np.ndarray) -> float:
        best = self.pruned._best(self.lexical, terms, (reach, column, self.tops), near, self.scores)
        return self.full(terms, near, reach, column) if best is None else float(np.float32(best))

    def blockmax(self, size: int, split: bool = False) -> Way:
        table = self.tables[size]

        def way(terms: np.ndarray, near: np.ndarray, reach: np.ndarray, column: np.ndarray) -> float:
            seen = (reach, column, self.tops)
            return float(
                np.float32(blockmax_best(self.pruned, table, terms, seen, near, self.records, self.count, split))
            )

        return way

    def ways(self, only: list[str]) -> dict[str, Way]:
        ways: dict[str, Way] = {"full": self.full, "maxscore": self.maxscore}
        ways |= {f"blockmax_{size}": self.blockmax(size) for size in SIZES}
        ways |= {f"bmm_{size}": self.blockmax(size, split=True) for size in SIZES}
        return {label: way for label, way in ways.items() if not only or label in only}

    def answer(self, way: Way, query: tuple[np.ndarray, ...]) -> float:
        """``way``'s best for ``query``, the query vector set for its asked terms meanwhile."""
        pruned, terms = self.pruned, query[0]
        at = np.searchsorted(pruned.held, terms)
        pruned.query[at] = pruned.idf[terms]
        try:
            return way(*query)
        finally:
            pruned.query[at] = 0

    def read(self, ways: dict[str, Way], queries: list[tuple[np.ndarray, ...]]) -> tuple[dict, dict[str, list]]:
        """(Per way, the postings, block entries and records it reads per query; per way, every query's best): one
        pass, the columns added and the rows scored counted by wrapping the two readers."""
        lexical, pruned, count, lengths = self.lexical, self.pruned, self.count, self.pruned.lengths
        add, exact = lexical.add_term_columns, pruned.exact

        def counted_add(terms: np.ndarray, into: np.ndarray, column: np.ndarray) -> None:
            count["postings"] += int(lengths[terms].sum())
            add(terms, into, column)

        def counted_exact(rows: np.ndarray) -> np.ndarray:
            count["scored"] += len(rows)
            count["postings"] += int((pruned.rows.ptr[rows + 1] - pruned.rows.ptr[rows]).sum())
            return exact(rows)

        read: dict[str, dict[str, int]] = {}
        bests: dict[str, list[float]] = {}
        lexical.add_term_columns = counted_add  # type: ignore[method-assign]
        pruned.exact = counted_exact  # type: ignore[method-assign]
        try:
            for label, way in ways.items():
                count.update(entries=0, scored=0, postings=0)
                bests[label] = [self.answer(way, query) for query in queries]
                read[label] = {key: round(value / len(queries)) for key, value in count.items()}
        finally:
            del lexical.add_term_columns, pruned.exact
        return read, bests

    def timed(self, ways: dict[str, Way], chosen: list[tuple[np.ndarray, ...]], rounds: int) -> dict[str, Any]:
        """Process CPU ms per query of every way, the ways alternating ``rounds`` times, and the load average."""
        spent: dict[str, list[float]] = {label: [] for label in ways}
        loads = []
        for _ in range(rounds):
            loads.append(load_average()[0])
            for label, way in ways.items():
                started = time.process_time()
                for query in chosen:
                    self.answer(way, query)
                spent[label].append(round((time.process_time() - started) / len(chosen) * 1000, 4))
        loads.append(load_average()[0])
        mean = {label: round(float(np.mean(values)), 4) for label, values in spent.items()}
        return {
            "queries": len(chosen),
            "cpu_ms_per_query": spent,
            "cpu_ms_per_query_mean": mean,
            "vs_maxscore": {label: round(value / mean["maxscore"], 3) for label, value in mean.items()},
            "load_average_per_round": loads,
        }


def _side(data: dict[str, np.ndarray], name: str, searched: str, rounds: int, only: list[str]) -> dict[str, Any]:
    side = _Side(data, searched)
    queries = _queries(data, name)
    halves = sorted(int(key.rsplit("_", 1)[1]) for key in data if key.startswith(f"{name}_half_"))
    spans = [data[f"{name}_half_{number}"] for number in halves]
    tuning_end = int(spans[len(spans) // 2][0]) if len(spans) > 1 else len(queries)
    ways = side.ways(only)
    read, bests = side.read(ways, queries)
    first = next(iter(bests.values()))
    differing = {label: int(np.sum(np.array(found) != np.array(first))) for label, found in bests.items()}
    assert not any(differing.values()), differing
    result: dict[str, Any] = {
        "queries": len(queries),
        "tuning_queries": tuning_end,
        "records": side.records,
        "postings": int(side.pruned.lengths.sum()),
        "mean_terms": round(float(np.mean([len(query[0]) for query in queries])), 1),
        "mean_reach_rows": round(float(np.mean([len(query[2]) for query in queries])), 1),
        "mean_eligible_rows": round(float(np.mean([len(query[1]) for query in queries])), 1),
        "best_differs_from_full": differing,
        "block_tables": side.made,
        "read_per_query": read,
        "best_is_zero": int(np.sum(np.array(bests["full"]) == 0)) if "full" in bests else None,
        "maxscore_split": _essential(side.pruned, side.tables, queries, side.tops),
    }
    for half, chosen in (("tuning", queries[:tuning_end]), ("held_out", queries[tuning_end:])):
        if chosen and rounds:
            result[half] = side.timed(ways, chosen, rounds)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--dump", action="store_true", help="write --data from the world in WERKMATCH_DATA_DIR")
    parser.add_argument("--partitions", type=int, default=10, help="partitions per side, drawn from the plan")
    parser.add_argument("--seed", type=int, default=39)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of every way (0: only what they read)")
    parser.add_argument("--ways", default="", help="comma-separated ways to run (full, maxscore, blockmax_B); all")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-bm25-blockmax-probe.json"
    )
    args = parser.parse_args()
    if args.dump:
        _dump(args.data, args.partitions, args.seed)
        return
    with np.load(args.data) as stored:
        data = dict(stored)
    result: dict[str, Any] = {
        "command": " ".join(["nice -n 12 .venv/bin/python", *sys.argv]),
        "what": "BM25's best over every record of real nightly queries (recorded with the batch's MaxScore start): "
        "the full scatter, today's MaxScore and block maxima per block size, the same float asserted, CPU alternating",
        "settings": {"SPLIT": maxscore.SPLIT, "PROBES": maxscore.PROBES, "FIRST": FIRST, "sizes": SIZES},
    }
    for name, searched, _ in SIDES:
        result[name] = _side(data, name, searched, args.rounds, [way for way in args.ways.split(",") if way])
        print(name, json.dumps(result[name]), file=sys.stderr, flush=True)  # noqa: T201
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result |= provenance()
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
