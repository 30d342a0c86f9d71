"""The first candidate search after a client change at national size: the change spliced in (after) against
the client arrays' lookups and BM25 rebuilt for the whole side (before), alternating in one process.

Run: ``WERKMATCH_DATA_DIR=<copy of the demo world, its bench-400000 a copy of the national one>
PYTHONPATH=. nice -n 10 .venv/bin/python bench/live_after_change.py [--rounds 20] > result.json``

Each round saves one client as ``werkmatch bench search`` does for "a candidate search right after a client
change" (its notes get a sentence, ``updated_at`` moves) and times the next candidate search (top 50, ranker,
within reach), which catches up with the change first: the record embedded, the arrays merged, BM25 folded.
Rounds alternate between the two ways of following the change:

* after: :meth:`matching.structured.RecordArrays.merged` splices the changed row into every field and every
  lookup built (buckets, ``full_ernst``, the competence and occupation lookups) and BM25 splices its counts
  and computes its weights again in one pass (:class:`matching.sparse_splice.TermCounts`);
* before: the same code with the splices switched off, so the merge makes new arrays whose lookups the
  search builds from every record, BM25 converts and counts every record again and the pruned reading
  converts the weights by record (what every search after a save paid before).

``--ways before,after,eager`` adds a third way, eager: spliced, but the pruned reading makes every record's
BM25 weights and numbered terms at once when it is made (session 32's C4 splice), where ``after`` weighs only the
rows a search gathers until it weighed as many postings as the index holds (:class:`matching.bm25_maxscore.PrunedBm25`).

Then the same search is timed again with nothing changed (an ordinary search, for reference). In the first
``--checks`` rounds of each way, the list is also compared with the list after every lookup and BM25's counts
are dropped and built again from the arrays' fields (a build from scratch of what the change touched): the same
JSON. Milliseconds per search, percentiles and the load average are printed as JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from datetime import UTC, datetime

import numpy as np
from sqlmodel import Session, select

from api.cli.common import settings
from matching.bm25_maxscore import PrunedBm25
from matching.domain import Client, Vacancy, utcnow
from matching.embedding import load_embedder
from matching.lexical import LexicalIndex
from matching.matcher import Matcher
from matching.structured import ClientArrays, RecordArrays

SPLICED = (RecordArrays._spliced, LexicalIndex._spliced, LexicalIndex.record_counts)
PRUNED_OF = PrunedBm25.of
LOOKUPS = ("buckets", "full_ernst", "has_competences", "experience_by_occupation", "wished_by_occupation")


def _eager_of(lexical: LexicalIndex) -> PrunedBm25 | None:
    """:meth:`PrunedBm25.of` making every record's weights and numbered terms at once (session 32's C4 splice)."""
    made = PRUNED_OF(lexical)
    if made is not None:
        made.rows.make()
    return made


def _splicing(on: bool, eager: bool = False) -> None:
    """Switch the splices on (after; ``eager``: with the pruned reading's every weight made at once, as C4's) or
    off (before: the merge and BM25 rebuild from every record)."""
    PrunedBm25.of = _eager_of if eager else PRUNED_OF  # type: ignore[method-assign]
    if on:
        RecordArrays._spliced, LexicalIndex._spliced, LexicalIndex.record_counts = SPLICED  # type: ignore[method-assign]
        return
    RecordArrays._spliced = lambda self, changed, rows, order: self._merged_anew(changed)  # type: ignore[method-assign]
    LexicalIndex._spliced = lambda self: False  # type: ignore[method-assign]
    LexicalIndex.record_counts = lambda self: None  # type: ignore[method-assign]  # the weights converted by record


def _save(live: Matcher, ref: str) -> None:
    with Session(live.engine) as session:
        row = session.exec(select(Client).where(Client.client_nummer == ref)).one()
        row.notities = (row.notities or "") + f" Update benchmark {time.time_ns()}."
        row.updated_at = utcnow()
        session.add(row)
        session.commit()


def _rebuilt(live: Matcher) -> None:
    """Drop every client lookup and BM25's counts and weights: the next search builds them from the fields."""
    clients = live.index._clients
    assert isinstance(clients, ClientArrays)
    for name in LOOKUPS:
        clients.__dict__.pop(name, None)
    lexical = live.index.sides["clients"].lexical
    lexical._forget_counts()
    lexical._weights = None


def profile(live: Matcher, vacancies: list[str], clients: list[str]) -> None:
    """cProfile of the first search after a change (spliced), each one on stderr, the functions by own time."""
    for vacancy, client in zip(vacancies, clients, strict=True):
        _save(live, client)
        profiler = cProfile.Profile()
        profiler.enable()
        live.search_candidates(vacancy, 50)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)


def _percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values)
    return {"p50": round(float(np.percentile(array, 50)), 1), "p95": round(float(np.percentile(array, 95)), 1)}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--checks", type=int, default=2)
    parser.add_argument("--profile", type=int, default=0, help="then this many changes profiled (stderr)")
    parser.add_argument(
        "--world", default="bench-400000", help="the world's folder in the data directory ('.': itself)"
    )
    parser.add_argument(
        "--ways",
        default="before,after",
        help="alternated per round: before (rebuilt), after (spliced), eager (spliced, every pruned weight made)",
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    config = settings()
    scale = config.model_copy(update={"data_dir": config.data_dir / args.world})
    started = time.perf_counter()
    live = Matcher(scale, embedder=load_embedder(config.embedding))
    live.sync()
    load_seconds = time.perf_counter() - started
    rng = np.random.default_rng(1)
    with Session(live.engine) as session:
        open_vacancies = [v.vacature_nummer for v in session.exec(select(Vacancy).where(Vacancy.status == "open"))]
        clients = list(session.exec(select(Client.client_nummer)))
    vacancies = list(rng.choice(open_vacancies, size=args.rounds + 3))
    changed = list(rng.choice(clients, size=args.rounds + 3, replace=False))
    embedding: list[float] = []  # seconds the model took per round (the changed record's text, both ways alike)
    embed = live.index.vectors_for

    def timed_embed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        start = time.perf_counter()
        try:
            return embed(*args, **kwargs)
        finally:
            embedding.append(time.perf_counter() - start)

    live.index.vectors_for = timed_embed  # type: ignore[method-assign]
    for ref in vacancies[:3]:  # warm: lookups, weights by record, query vectors
        live.search_candidates(ref, 50)
    kinds = ("afterChange", "embedding", "afterChangeLessEmbedding", "ordinary")
    ways = args.ways.split(",")
    times: dict[str, dict[str, list[float]]] = {way: {kind: [] for kind in kinds} for way in ways}
    checked = dict.fromkeys(ways, 0)
    load_before = os.getloadavg()
    for at in range(3, args.rounds + 3):
        way = ways[at % len(ways)]
        _splicing(way != "before", eager=way == "eager")
        live.search_candidates(vacancies[at], 50)  # the query's vector embedded once, for both timings
        _save(live, changed[at])
        embedding.clear()
        start = time.perf_counter()
        answer = live.search_candidates(vacancies[at], 50).to_json()
        took, embedded = (time.perf_counter() - start) * 1e3, sum(embedding) * 1e3
        times[way]["afterChange"].append(took)
        times[way]["embedding"].append(embedded)
        times[way]["afterChangeLessEmbedding"].append(took - embedded)
        start = time.perf_counter()
        again = live.search_candidates(vacancies[at], 50).to_json()
        times[way]["ordinary"].append((time.perf_counter() - start) * 1e3)
        assert again == answer, vacancies[at]
        if checked[way] < args.checks:
            _rebuilt(live)
            assert live.search_candidates(vacancies[at], 50).to_json() == answer, (way, vacancies[at])
            checked[way] += 1
    _splicing(True)
    profile(live, vacancies[3 : 3 + args.profile], changed[3 : 3 + args.profile])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "command": "WERKMATCH_DATA_DIR=<demo copy with bench-400000> PYTHONPATH=. nice -n 10 .venv/bin/python "
        f"bench/live_after_change.py --rounds {args.rounds} --checks {args.checks} --world {args.world} "
        f"--profile {args.profile} --ways {args.ways}",
        "rounds": args.rounds,
        "clients": len(clients),
        "loadSeconds": round(load_seconds, 1),
        "load": {"beforeTimings": load_before, "afterTimings": os.getloadavg()},
        "sameListAsRebuiltLookups": checked,
        **{way: {kind: _percentiles(values) for kind, values in both.items()} for way, both in times.items()},
        "perSearchMs": times,
    }
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
