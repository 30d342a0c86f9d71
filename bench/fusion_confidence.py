"""Fusions that raise lexical's say for one query only when BM25 is confident (issue 19, item 3), chosen
on the *tuning* halves of data/eval only.

Session 28. The fusion then in use, ``z(dense) + 0.1 · agreement(top 10) · z(lexical)``, held hybrid
≥ best part on 15 of 18 halves in session 27; it lost on ``nl_sjablonen`` (both halves, BM25 perfect
there) and ``nl_werkzoekende`` held out (−0.001). The candidates here keep it (agreement in top 10)
and add, per query, an extra lexical weight ``R`` when a **confidence gate** says BM25's top document
is right (``z(dense) + (0.1 · agreement + R · gate) · z(lexical)``), plus the classic
per-query-normalised combinations. Every candidate of ``bench/fusion_tuning.py`` (sessions 26–27, the
learned one apart) is scored too, so the rule compares against all of them. Its first, "current", is
:func:`matching.scoring.fuse` as it stands: in the committed results (run before the change) that is
the session-26 fusion; after them it is this round's pick, ``z(dense) + 0.375 · agreement(top 20) ·
z(lexical)`` (the same as the grid candidate of that name).

Per query (scores over that query's documents only; nothing per set):

* ``lead``: BM25's first document's lead over its second in BM25's own z-units;
* ``dense rank``: the place dense gives BM25's first document (1 = dense agrees);
* ``coverage``: the idf-weighted share of the query's terms that BM25's first document holds, over
  all the query's terms (``all``) or over those some document holds (``known``; a word no document
  has says nothing about which one is right). It needs the query's terms and the index, so unlike the
  others it is not a function of the two score vectors alone.

Families (written down and committed before the first run on the tuning halves):

1. coverage gate: ``gate = coverage ≥ θ``, θ in :data:`COVERAGE_THETAS`, both coverages;
2. lead gate: ``gate = lead ≥ m``, m in :data:`LEADS`;
3. mutual gate: ``gate = lead ≥ m and dense rank ≤ k``, m in (1, 2), k in :data:`DENSE_RANKS` (BM25
   sure of its first, and dense does not put it far down), and the same with dense's distance instead of
   its place: ``lead ≥ m and z(dense) of BM25's first ≥ z(dense) of dense's first − δ``, δ in
   :data:`DENSE_BEHIND` (scale-free, the pool's size does not move it);
4. coverage and lead: ``gate = coverage(known) ≥ θ and lead ≥ m``, θ in (0.8, 1.0), m in (1, 2);
   each gated family at ``R`` in :data:`EXTRA`;
5. CombSUM and CombMNZ of min–max scaled scores (equal, and lexical × 0.375), rank-free.

The rule (written before the run; issue 19 item 3 asks hybrid ≥ best part on *every* set, so the
count of sets held comes first):

1. most tuning halves with margin ≥ 0 (hybrid MRR minus the better part's, rounded to 4 digits);
2. among those, the largest worst margin over the tuning halves;
3. candidates within :data:`TIE` of that worst margin count as tied; the largest mean margin wins
   (the fusion in use on an exact tie).

Then ``--half heldout`` is run once. The pick replaces the fusion in use only if it is not the fusion
in use, holds on at least as many held-out halves as the fusion in use (7 of 9), and is a function of
the two score vectors (families 2, 3, 5: search and the ranker's weighted baseline pass only those to
:func:`matching.scoring.text_signals`); a coverage pick is reported, not shipped, as it needs the
query's terms in search. Search's cost is then measured with ``werkmatch eval retrieval`` on a demo copy.

    nice -n 10 .venv/bin/python -m bench.fusion_confidence > bench/results/fusion-s28-tuning.json
    nice -n 10 .venv/bin/python -m bench.fusion_confidence --half heldout > bench/results/fusion-s28-heldout.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import fusion_tuning
from matching import scoring
from matching.embedding import load_embedder
from matching.lexical import LexicalIndex
from matching.settings import EmbeddingSettings, RetrievalSettings
from training.embedding_eval import _metrics, is_pairs_file, read_pairs, score_matrices

EVAL = Path(__file__).resolve().parents[1] / "data" / "eval"
COMMAND = "nice -n 10 .venv/bin/python -m bench.fusion_confidence --half {half} > bench/results/fusion-s28-{half}.json"
EXTRA = (0.2, 0.5, 1.0)  # R: lexical's extra weight (after z-scores) when the gate opens
COVERAGE_THETAS = (0.8, 1.0)
LEADS = (1.0, 2.0, 4.0)
DENSE_RANKS = (5, 10, 20)
DENSE_BEHIND = (0.25, 0.5, 1.0)  # δ: how far behind dense's first (dense z-units) BM25's first may be
TIE = 0.001


@dataclass
class Query:
    """One query's raw scores over its documents, and BM25's first document's coverage of its terms."""

    dense: np.ndarray
    lexical: np.ndarray
    coverage_all: np.ndarray  # per document
    coverage_known: np.ndarray


Fusion = Callable[[Query], np.ndarray]


def lead(lexical: np.ndarray) -> float:
    """BM25's first document's lead over its second, in the query's own z-units (0 without a match)."""
    return fusion_tuning._gap(lexical) if lexical.max(initial=0) > 0 else 0.0


def dense_rank_of_lexical_top(dense: np.ndarray, lexical: np.ndarray) -> int:
    """The place dense gives BM25's first document (1: dense puts it first too)."""
    top = int(np.argmax(lexical))
    return int((dense > dense[top]).sum()) + 1


def dense_behind(dense: np.ndarray, lexical: np.ndarray) -> float:
    """How far BM25's first document is behind dense's first, in dense's z-units (0: dense puts it first)."""
    spread = float(dense.std())
    return float(dense.max() - dense[int(np.argmax(lexical))]) / spread if spread > 0 else 0.0


def _gated(extra: float, gate: Callable[[Query], bool]) -> Fusion:
    def fused(query: Query) -> np.ndarray:
        weight = 0.1 * scoring.agreement(query.dense, query.lexical, 10) + (extra if gate(query) else 0.0)
        return fusion_tuning._z(query.dense) + weight * fusion_tuning._z(query.lexical)

    return fused


def _top_coverage(query: Query, which: str) -> float:
    if query.lexical.max(initial=0) <= 0:
        return 0.0
    values = query.coverage_all if which == "all" else query.coverage_known
    return float(values[int(np.argmax(query.lexical))])


def _comb(lexical_weight: float, mnz: bool) -> Fusion:
    def fused(query: Query) -> np.ndarray:
        total = fusion_tuning._minmax(query.dense) + lexical_weight * fusion_tuning._minmax(query.lexical)
        return total * (1 + (query.lexical > 0)) if mnz else total

    return fused


def confidence_candidates() -> dict[str, Fusion]:
    """Families 1–5 of the module docstring."""
    out: dict[str, Fusion] = {}
    for r in EXTRA:
        for which in ("all", "known"):
            for theta in COVERAGE_THETAS:
                out[f"coverage({which}) ≥ {theta}: + {r}"] = _gated(
                    r, lambda q, w=which, t=theta: _top_coverage(q, w) >= t
                )
        for m in LEADS:
            out[f"lead ≥ {m}: + {r}"] = _gated(r, lambda q, m=m: lead(q.lexical) >= m)
        for m in (1.0, 2.0):
            for k in DENSE_RANKS:
                out[f"lead ≥ {m} and dense rank ≤ {k}: + {r}"] = _gated(
                    r, lambda q, m=m, k=k: lead(q.lexical) >= m and dense_rank_of_lexical_top(q.dense, q.lexical) <= k
                )
            for delta in DENSE_BEHIND:
                out[f"lead ≥ {m} and dense behind ≤ {delta}: + {r}"] = _gated(
                    r, lambda q, m=m, d=delta: lead(q.lexical) >= m and dense_behind(q.dense, q.lexical) <= d
                )
            for theta in COVERAGE_THETAS:
                out[f"coverage(known) ≥ {theta} and lead ≥ {m}: + {r}"] = _gated(
                    r, lambda q, m=m, t=theta: _top_coverage(q, "known") >= t and lead(q.lexical) >= m
                )
    for weight in (1.0, 0.375):
        out[f"CombSUM min-max, lexical × {weight}"] = _comb(weight, False)
        out[f"CombMNZ min-max, lexical × {weight}"] = _comb(weight, True)
    return out


def candidates(weights: RetrievalSettings) -> dict[str, Fusion]:
    """The fusion in use first, then every earlier candidate (``bench/fusion_tuning.py``), then the new ones."""
    earlier = {
        name: (lambda q, f=fusion: f(q.dense, q.lexical)) for name, fusion in fusion_tuning.candidates(weights).items()
    }
    return {**earlier, **{f"s28: {name}": fusion for name, fusion in confidence_candidates().items()}}


def coverages(queries: list[str], documents: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(queries × documents) idf-weighted share of each query's terms each document holds: over all the
    query's terms, and over those some document holds (:class:`LexicalIndex`'s own terms and idf)."""
    index = LexicalIndex()
    index.upsert(np.arange(len(documents)), documents)
    index._build()  # the idf
    idf, present = index._idf, (index._tf > 0).astype(np.float32).tocsc()
    held_all = np.zeros((len(queries), len(documents)), np.float32)
    held_known = np.zeros_like(held_all)
    for row, terms in enumerate(index.asked(queries)):
        if not len(terms):
            continue
        hits = present[:, terms].toarray()  # documents × terms
        weights = idf[terms]
        known = hits.any(axis=0)
        held_all[row] = hits @ weights / weights.sum()
        held_known[row] = hits @ weights / max(float((weights * known).sum()), 1e-9)
    return held_all, held_known


def load(embedder, half: str) -> dict[str, tuple[list[Query], np.ndarray]]:
    sets = {}
    for path in [path for path in sorted(EVAL.glob(f"*_{half}.tsv")) if is_pairs_file(path)]:
        queries, documents = read_pairs(path)
        dense, lexical, answer, _ = score_matrices(embedder, queries, documents)
        unique = list(dict.fromkeys(documents))
        held_all, held_known = coverages(queries, unique)
        rows = [Query(dense[i], lexical[i], held_all[i], held_known[i]) for i in range(len(queries))]
        sets[path.name] = (rows, answer)
    return sets


def row(fusion: Fusion, sets: dict[str, tuple[list[Query], np.ndarray]]) -> dict:
    """One candidate's metrics and margin over the better part per set, its count held, worst and mean margin."""
    per_set = {}
    for file, (queries, answer) in sets.items():
        hybrid = np.stack([fusion(query) for query in queries])
        dense = np.stack([query.dense for query in queries])
        lexical = np.stack([query.lexical for query in queries])
        best = max(_metrics(dense, answer)["mrr"], _metrics(lexical, answer)["mrr"])
        metrics = _metrics(hybrid, answer)
        per_set[file] = {**metrics, "marginOverBestPart": round(metrics["mrr"] - best, 4)}
    margins = [one["marginOverBestPart"] for one in per_set.values()]
    return {
        "sets": per_set,
        "held": sum(margin >= 0 for margin in margins),
        "worstMargin": min(margins),
        "meanMargin": round(float(np.mean(margins)), 4),
    }


def pick(rows: dict[str, dict]) -> str:
    """The rule of the module docstring: most halves held, then largest worst margin, ties by mean margin."""
    most = max(one["held"] for one in rows.values())
    counted = {name: one for name, one in rows.items() if one["held"] == most}
    best_worst = max(one["worstMargin"] for one in counted.values())
    tied = [name for name, one in counted.items() if one["worstMargin"] >= best_worst - TIE]
    return max(tied, key=lambda name: rows[name]["meanMargin"])  # the first (in use) on an exact tie


def separability(sets: dict[str, tuple[list[Query], np.ndarray]]) -> dict[str, dict]:
    """Per set: how often BM25's first document is the answer, and each gate's signal where it is and where not
    (median and 10th/90th percentile): a usable gate is high where BM25 is right and low where it is wrong."""
    out = {}
    for file, (queries, answer) in sets.items():
        pairs = zip(queries, answer, strict=True)
        right = np.array([int(np.argmax(q.lexical)) == a and q.lexical.max() > 0 for q, a in pairs])
        signals = {
            "coverageAll": [_top_coverage(q, "all") for q in queries],
            "coverageKnown": [_top_coverage(q, "known") for q in queries],
            "lead": [lead(q.lexical) for q in queries],
            "denseRank": [dense_rank_of_lexical_top(q.dense, q.lexical) for q in queries],
        }
        summary = {"queries": len(queries), "bm25FirstRight": round(float(right.mean()), 3)}
        for name, values in signals.items():
            values = np.asarray(values, float)
            summary[name] = {
                side: [round(float(v), 2) for v in np.percentile(values[mask], (10, 50, 90))] if mask.any() else None
                for side, mask in (("right", right), ("wrong", ~right))
            }
        out[file] = summary
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tuning", "heldout"), default="tuning")
    parser.add_argument("--separability", action="store_true", help="only the gates' signals, right vs wrong")
    arguments = parser.parse_args()
    half = arguments.half
    embedder = load_embedder(EmbeddingSettings())
    sets = load(embedder, half)
    if arguments.separability:
        loads = [round(value, 2) for value in os.getloadavg()]
        command = f"nice -n 10 .venv/bin/python -m bench.fusion_confidence --half {half} --separability"
        json.dump({"command": command, "loadAverage": loads, "sets": separability(sets)}, sys.stdout, indent=2)
        return
    rows = {name: row(fusion, sets) for name, fusion in candidates(RetrievalSettings()).items()}
    parts = {}
    for file, (queries, answer) in sets.items():
        dense = np.stack([query.dense for query in queries])
        lexical = np.stack([query.lexical for query in queries])
        parts[file] = {"dense": _metrics(dense, answer), "lexical": _metrics(lexical, answer)}
    result = {
        "command": COMMAND.format(half=half),
        "half": half,
        "sets": sorted(sets),
        "model": embedder.model_id,
        "loadAverage": [round(value, 2) for value in os.getloadavg()],
        "rule": __doc__.split("The rule (")[1].split("    nice")[0].strip(),
        "picked": pick(rows) if half == "tuning" else None,
        "parts": parts,
        "candidates": rows,
    }
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
