"""The rare-identifier gate's cost per nightly list at national scale, and session 45's exact shortcut, measured once.

The record of what ran (session 45): from a clone of main at 0f9dd61 (the gate served, no shortcut), on a copy of the
national world whose indexes that code had prepared (a night had run on it):
    cd <clone> && WERKMATCH_DATA_DIR=<copy> PYTHONPATH=$PWD flock /tmp/bigmem.lock nice -n 8 python <this file>
One :class:`training.batch_match.ListWorker` (the night's worker, without Ray) loads once; the first three partitions of
each side run once to warm it, then three rounds of three variants of :func:`matching.identifier_query.text_signals`,
alternating on the same worker: "before" (0f9dd61's), "after" (the same with :func:`could_open` asked first: the
identifier BM25 read only where the counts leave the gate a chance, as served from the commit that adds this file) and
"nogate" (the gate skipped: ``gate`` None, no identifier work; its lists are not the served ones, only its time
counts). Process CPU milliseconds per list per side; "identicalLists": every before and after pass gave the same lists.
The shortcut is copied here (not imported) because the clone predates it; this code's prepared-index key covers
``identifier_gate.py``, so newer code would rebuild that world's indexes first. Output: stdout (JSON).
"""

import json
import os
import time

import numpy as np

from matching import identifier_gate, identifier_query
from matching.identifier_gate import LANGUAGE, OPEN_RARITY
from matching.settings import Settings
from training.batch_match import PARTITION_IDS, ListWorker


def could_open(held, holding, documents, language_opens=True):
    limit = OPEN_RARITY * documents
    return all(holding.get(f, 0) > 0 for f in held) and any(
        holding.get(f, 0) <= limit and (language_opens or not f.startswith(LANGUAGE)) for f in held
    )


def new_text_signals(gate, rows, dense_raw, bm25, weights):
    dense_raw = np.asarray(dense_raw, np.float32)
    if not len(rows):
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    free, identifier, opened = np.asarray(bm25, np.float32), np.zeros(len(rows), np.float32), False
    if gate is not None:
        free = free if gate.free_bm25 is None else gate.free_bm25(rows)
        held = gate.held_by(rows) if gate.held else None
        if held is not None and could_open(gate.held, held.holding, len(rows)):
            identifier = gate.identifier_bm25(rows)
            opened = identifier_gate.rare_gate_opens(gate.held, gate.negated, held, identifier, held.holding)
    return identifier_gate.text_signals(dense_raw, identifier, free, opened, weights)


def main() -> None:
    old = identifier_query.text_signals
    w = ListWorker(Settings())
    parts = [(side, f) for side in ("klanten", "vacatures") for f in range(0, 3 * PARTITION_IDS, PARTITION_IDS)]

    def run():
        spent, n, lists = {"klanten": 0.0, "vacatures": 0.0}, {"klanten": 0, "vacatures": 0}, []
        for side, first in parts:
            t = time.process_time()
            got = w.partition_lists(side, first, PARTITION_IDS)
            spent[side] += time.process_time() - t
            n[side] += len(got)
            lists.extend([side, *item.values()] for item in got)
        return {s: round(spent[s] / n[s] * 1000, 3) for s in spent}, lists, n

    run()  # warm
    out = {"before": [], "after": [], "nogate": []}
    ref = None
    same = True
    for r in range(3):
        for name, fn in (
            ("before", old),
            ("after", new_text_signals),
            ("nogate", lambda g, r, d, b, w: old(None, r, d, b, w)),
        ):
            identifier_query.text_signals = fn
            ms, lists, n = run()
            out[name].append(ms | {"load": os.getloadavg()[0]})
            ref = lists if ref is None else ref
            same = same if name == "nogate" else same and json.dumps(lists, default=str) == json.dumps(ref, default=str)
    out["lists"] = n
    out["identicalLists"] = same
    out["meanMs"] = {
        k: {s: round(sum(x[s] for x in v) / len(v), 3) for s in ("klanten", "vacatures")}
        for k, v in out.items()
        if k in ("before", "after", "nogate")
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
