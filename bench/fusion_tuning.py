"""How the fusion of dense and lexical is chosen: candidates on the *tuning* halves of data/eval only.

For every ``*_tuning.tsv`` in data/eval the raw cosine and BM25 matrices are computed once (default
model); each candidate fusion then ranks the documents, and its *margin* on a set is hybrid MRR minus
the better of dense and lexical there. Weights are search's (``RetrievalSettings``: lexical/dense =
0.375) unless a candidate says otherwise. The held-out halves are not read for the choice; after it,
``--half heldout`` reports the same candidates on them.

The rule, written down before the run that applies it (issue 19, item 3: the hybrid at or above its
best part on *every* set, so the worst set decides):

1. Candidates: the current fusion (:func:`matching.scoring.fuse`), every earlier candidate below, and
   the grid :data:`GRID_RATIOS` × :data:`GRID_TOPS` (``z(dense) + r · agreement in top t · z(lexical)``).
   Added in session 26, written down here before the run on the seven tuning halves that include
   ``nl_titels`` (the first set hard for dense): three families that keep dense in charge in other
   ways, each at lexical/dense :data:`S26_RATIOS`: the gate squared (``agreement²``, so a chance
   overlap counts for less), the gate read by rank (rank-biased overlap, p = 0.9, of the two top 10s,
   so agreement on the first places counts more), and lexical added only within dense's top
   :data:`S26_DENSE_TOPS` (BM25 reorders what the embedding found and lifts nothing from below it).
2. Pick the candidate with the largest **worst margin** over all tuning halves.
3. Candidates whose worst margin is within :data:`TIE` of that largest one count as tied; among them
   the largest **mean margin** over the tuning halves wins (the current fusion on an exact tie).

    nice -n 10 .venv/bin/python bench/fusion_tuning.py > bench/results/fusion-rule-s26.json
    nice -n 10 .venv/bin/python bench/fusion_tuning.py --half heldout > bench/results/fusion-heldout-s26.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from matching import scoring
from matching.embedding import load_embedder
from matching.settings import EmbeddingSettings, RetrievalSettings
from training.embedding_eval import _metrics, is_pairs_file, read_pairs, score_matrices

EVAL = Path(__file__).resolve().parents[1] / "data" / "eval"
COMMAND = "nice -n 10 .venv/bin/python bench/fusion_tuning.py --half {half} > bench/results/fusion-{file}-s26.json"
GRID_RATIOS = (0.05, 0.1, 0.2, 0.375)  # lexical/dense after z-scores
GRID_TOPS = (10, 20)  # the agreement gate's top
TIE = 0.001  # worst margins this close count as tied
S26_RATIOS = (0.1, 0.2, 0.375)  # the session-26 families' lexical/dense
S26_DENSE_TOPS = (10, 20)  # lexical only within dense's top k
RBO_P = 0.9  # rank-biased overlap's persistence
Fusion = Callable[[np.ndarray, np.ndarray], np.ndarray]  # one query: raw cosine, raw BM25 -> scores


def _z(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def _minmax(values: np.ndarray) -> np.ndarray:
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _rrf(k: int) -> Fusion:
    def fused(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        rank_dense = np.argsort(np.argsort(-dense, kind="stable"), kind="stable") + 1
        rank_lexical = np.argsort(np.argsort(-lexical, kind="stable"), kind="stable") + 1
        return 1 / (k + rank_dense) + np.where(lexical > 0, 1 / (k + rank_lexical), 0)

    return fused


def _z_sum(ratio: float, top: int | None) -> Fusion:
    def fused(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        gate = 1.0 if top is None else scoring.agreement(dense, lexical, top)
        return _z(dense) + ratio * gate * _z(lexical)

    return fused


def _z_sum_beyond_chance(ratio: float, top: int) -> Fusion:
    """Agreement corrected for chance: two random top-``top`` lists of n candidates share top/n of them
    (a quarter of an 81-pair file at top 20), so only the overlap beyond that counts (as Cohen's kappa)."""

    def fused(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        chance = min(top, len(dense)) / len(dense)
        beyond = (scoring.agreement(dense, lexical, top) - chance) / (1 - chance) if chance < 1 else 0.0
        return _z(dense) + ratio * max(beyond, 0.0) * _z(lexical)

    return fused


def _rbo(dense: np.ndarray, lexical: np.ndarray, top: int = 10, p: float = RBO_P) -> float:
    """Rank-biased overlap of dense's and BM25's top ``top`` (BM25 > 0 only), 1 for identical lists."""
    top = min(top, len(dense))
    best_dense = np.argsort(-dense, kind="stable")[:top]
    best_lexical = [i for i in np.argsort(-lexical, kind="stable")[:top] if lexical[i] > 0]
    weights = p ** np.arange(top)
    shares = [len(set(best_dense[: d + 1]) & set(best_lexical[: d + 1])) / (d + 1) for d in range(top)]
    return float(np.dot(weights, shares) / weights.sum()) if top else 0.0


def _z_sum_gate(ratio: float, gate: Callable[[np.ndarray, np.ndarray], float]) -> Fusion:
    def fused(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        return _z(dense) + ratio * gate(dense, lexical) * _z(lexical)

    return fused


def _z_sum_within_dense_top(ratio: float, k: int) -> Fusion:
    """Lexical (× agreement in top 10) added only to dense's top ``k``; the rest keep z(dense) alone."""

    def fused(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        within = np.zeros(len(dense), bool)
        within[np.argsort(-dense, kind="stable")[:k]] = True
        return _z(dense) + within * (ratio * scoring.agreement(dense, lexical, 10) * _z(lexical))

    return fused


def session26_candidates() -> dict[str, Fusion]:
    """The three families added in session 26 (module docstring, rule item 1)."""
    return {
        **{
            f"s26: z-scores, lexical × {r} × agreement² in top 10": _z_sum_gate(
                r, lambda d, b: scoring.agreement(d, b, 10) ** 2
            )
            for r in S26_RATIOS
        },
        **{
            f"s26: z-scores, lexical × {r} × rank-biased overlap of the top 10": _z_sum_gate(r, _rbo)
            for r in S26_RATIOS
        },
        **{
            f"s26: z-scores, lexical × {r} × agreement in top 10, only within dense's top {k}": _z_sum_within_dense_top(
                r, k
            )
            for r in S26_RATIOS
            for k in S26_DENSE_TOPS
        },
    }


def candidates(weights: RetrievalSettings) -> dict[str, Fusion]:
    ratio = weights.weight_lexical / weights.weight_dense
    current = f"current: matching.scoring.fuse (z-scores, × agreement in top {scoring.AGREEMENT_TOP})"
    return {
        current: lambda d, b: scoring.fuse(d, b, weights),
        "min-max, lexical ÷ best, weighted 0.40/0.15 (before issue 19)": lambda d, b: (
            weights.weight_dense * _minmax(d) + weights.weight_lexical * b / max(b.max(), 1e-9)
        ),
        "min-max, equal weights": lambda d, b: _minmax(d) + b / max(b.max(), 1e-9),
        **{f"RRF k={k}, equal weights": _rrf(k) for k in (10, 30, 60)},
        "z-scores, equal weights": _z_sum(1.0, None),
        **{f"z-scores, lexical × {r:.3f}": _z_sum(r, None) for r in (0.1, 0.2, ratio)},
        **{f"z-scores, lexical × {ratio:.3f} × agreement in top 30": _z_sum(ratio, 30)},
        "z-scores, lexical × 0.6 × agreement in top 20": _z_sum(0.6, 20),
        **{
            f"z-scores, lexical × {ratio:.3f} × agreement beyond chance in top {top}": _z_sum_beyond_chance(ratio, top)
            for top in (10, 20, 30)
        },
        **{
            f"grid: z-scores, lexical × {r} × agreement in top {top}": _z_sum(r, top)
            for r in GRID_RATIOS
            for top in GRID_TOPS
        },
        **session26_candidates(),
    }


def pick(rows: dict[str, dict]) -> str:
    """The rule of the module docstring: largest worst margin, ties within :data:`TIE` by mean margin."""
    best_worst = max(row["worstMargin"] for row in rows.values())
    tied = [name for name, row in rows.items() if row["worstMargin"] >= best_worst - TIE]
    return max(tied, key=lambda name: rows[name]["meanMargin"])  # the first (current) on an exact tie


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tuning", "heldout"), default="tuning")
    half = parser.parse_args().half
    weights = RetrievalSettings()
    embedder = load_embedder(EmbeddingSettings())
    sets = {}
    for path in [path for path in sorted(EVAL.glob(f"*_{half}.tsv")) if is_pairs_file(path)]:
        dense, lexical, answer, _ = score_matrices(embedder, *read_pairs(path))
        sets[path.name] = (dense, lexical, answer)
    rows = {}
    for name, fusion in candidates(weights).items():
        per_set = {}
        for file, (dense, lexical, answer) in sets.items():
            hybrid = np.stack([fusion(dense[i], lexical[i]) for i in range(len(dense))])
            best = max(_metrics(dense, answer)["mrr"], _metrics(lexical, answer)["mrr"])
            per_set[file] = {
                **_metrics(hybrid, answer),
                "marginOverBestPart": round(_metrics(hybrid, answer)["mrr"] - best, 4),
            }
        margins = [one["marginOverBestPart"] for one in per_set.values()]
        rows[name] = {
            "sets": per_set,
            "worstMargin": min(margins),
            "meanMargin": round(float(np.mean(margins)), 4),
        }
    parts = {
        file: {"dense": _metrics(dense, answer), "lexical": _metrics(lexical, answer)}
        for file, (dense, lexical, answer) in sets.items()
    }
    result = {
        "command": COMMAND.format(half=half, file="rule" if half == "tuning" else half),
        "sets": sorted(sets),
        "model": embedder.model_id,
        "rule": __doc__.split("The rule,")[1].split("    nice")[0].strip(),
        "picked": pick(rows) if half == "tuning" else None,
        "parts": parts,
        "candidates": rows,
    }
    json.dump(result, sys.stdout, indent=2)


if __name__ == "__main__":
    main()
