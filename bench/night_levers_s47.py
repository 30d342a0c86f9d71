"""Session 47's two exact levers of the national night, on one loaded national worker, alternating in one process
(issue 16 item 4, the night's 30 minutes after the gate): per-list CPU of the night's client and candidate lists,
the lists compared.

Run: WERKMATCH_DATA_DIR=<a copy of the national world, its embedding cache filled by bench/batch_match_borrow_cache.py>
    flock /tmp/bigmem.lock nice -n 5 .venv/bin/python bench/night_levers_s47.py [--partitions 10] [--rounds 3]
    [--out bench/results/night-levers-s47.json]

* ``before``: the code before this session (9948f2c): the gate's negation-free and identifier-token BM25 read through
  ``Bm25Buffer.scores`` (which also finds the best over every record, by MaxScore or the full scatter, and drops
  it), and ``NotesColumn.values`` by a dictionary lookup per pool row;
* ``at``: the gate's BM25 by ``Bm25Buffer.at`` (the rows' scores alone, the same bits), the notes as before;
* ``notes``: the notes column's values by ``searchsorted`` over its known clients as arrays, the gate's as before;
* ``after``: both, as served now.

One :class:`training.batch_match.ListWorker` (the batch's worker: its start is timed apart) computes the first
``--partitions`` partitions of each side per pass, the versions alternating for ``--rounds`` rounds after one warm
pass; the versions are swapped in by patching the two methods. Nothing is stored.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._result import provenance, write_json
from bench.identifier_gate_national_s46 import alternate
from matching.lexical import Bm25Buffer
from matching.notes_readiness import NotesColumn
from matching.settings import Settings
from training.batch_match import PARTITION_IDS, ListWorker

ROOT = Path(__file__).resolve().parents[1]


def _scores_at(self: Bm25Buffer, terms: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """9948f2c's reading of the gate's BM25: ``scores`` and its best over every record dropped."""
    return self.scores(terms, rows)[0]


def _dict_values(self: NotesColumn, client_ids: Any, updated_at: Any = None, texts: Any = None) -> np.ndarray:
    """9948f2c's ``NotesColumn.values`` for the batch's call (``updated_at`` given, no texts): a lookup per row."""
    ids = np.asarray(client_ids, np.int64)
    known = self._known
    moments = dict(zip(ids.tolist(), np.asarray(updated_at, np.float64).tolist(), strict=True))
    stale = [cid for cid, at in moments.items() if known.get(cid, (None,))[0] != at]
    if self._clients_max is not None and len(stale) > (limit := 0 if self._filling else self._clients_max):
        stale, self.lacking = stale[:limit], True
    if stale and self._refresh(stale):
        self.lacking = True
    value = {cid: known[cid][1] for cid in ids.tolist() if cid in known}
    return np.array([value.get(cid, 0.0) for cid in ids.tolist()], np.float32)


def _versions() -> dict[str, dict[tuple[Any, str], Any]]:
    served = {(Bm25Buffer, "at"): Bm25Buffer.at, (NotesColumn, "values"): NotesColumn.values}
    return {
        "before": {(Bm25Buffer, "at"): _scores_at, (NotesColumn, "values"): _dict_values},
        "at": served | {(NotesColumn, "values"): _dict_values},
        "notes": served | {(Bm25Buffer, "at"): _scores_at},
        "after": served,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partitions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "night-levers-s47.json")
    args = parser.parse_args()
    versions = _versions()
    started, wall = time.process_time(), time.time()
    worker = ListWorker(Settings())
    start = {"cpu_s": round(time.process_time() - started, 1), "wall_s": round(time.time() - wall, 1)}
    firsts = range(0, args.partitions * PARTITION_IDS, PARTITION_IDS)
    parts = [(side, first) for side in ("klanten", "vacatures") for first in firsts]
    runs, lists = alternate(worker, parts, versions, args.rounds)
    result = {
        "command": " ".join(sys.argv),
        "workerStart": start,
        "partitionsPerSide": args.partitions,
        "msPerList": runs,
        "meanMsPerList": {
            name: {side: round(float(np.mean([r[side] for r in rows])), 3) for side in ("klanten", "vacatures")}
            for name, rows in runs.items()
        },
        "listsEqualBefore": {name: lists[name] == lists["before"] for name in versions},
        **provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
