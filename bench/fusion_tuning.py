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
   Added in session 27, written down and committed before any fusion was run on ``nl_vaktermen`` (the
   first set written to be one where BM25 is the stronger part) and before the evaluation of that set
   under the fusion in use was read: fusions in which each part's say comes from **its own confidence
   on this query**, not from a weight that suits one set. A part's confidence is the lead of its first
   candidate over its second in its own z-units, ``gap = (s1 - s2) / std(s)`` (:func:`_gap`); the
   lexical share is ``q = gap_lexical / (gap_lexical + gap_dense)`` (0 when both are 0). Families, each
   at lexical/dense :data:`S27_RATIOS`: ``z(dense) + r · q · z(lexical)`` (confidence share alone),
   ``z(dense) + r · max(agreement, q) · z(lexical)`` (agreement in top 10, or confidence where they
   disagree), and rank fusion weighted by the same share, ``(1 - q) / (k + rank_dense) + q / (k +
   rank_lexical)`` at k in :data:`S27_RRF_KS`. And one **learned** fusion (:class:`Learned`): a
   linear score over per-candidate features (z(dense), z(lexical), agreement · z(lexical), q ·
   z(lexical), gap_dense · z(dense), gap_lexical · z(lexical)), fitted by a softmax (listwise)
   loss with every set weighing the same and L2 :data:`LEARNED_L2`. Its margins on the tuning halves
   are **leave-one-set-out**: for each tuning half it is fitted on the other tuning halves and
   scored on that one, so it is not judged on pairs it was fitted on; ``--half heldout`` scores the
   fit on all tuning halves.
2. Pick the candidate with the largest **worst margin** over all tuning halves.
3. Candidates whose worst margin is within :data:`TIE` of that largest one count as tied; among them
   the largest **mean margin** over the tuning halves wins (the current fusion on an exact tie).

    nice -n 10 .venv/bin/python bench/fusion_tuning.py > bench/results/fusion-rule-s27.json
    nice -n 10 .venv/bin/python bench/fusion_tuning.py --half heldout > bench/results/fusion-heldout-s27.json
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
COMMAND = "nice -n 10 .venv/bin/python bench/fusion_tuning.py --half {half} > bench/results/fusion-{file}-s27.json"
GRID_RATIOS = (0.05, 0.1, 0.2, 0.375)  # lexical/dense after z-scores
GRID_TOPS = (10, 20)  # the agreement gate's top
TIE = 0.001  # worst margins this close count as tied
S26_RATIOS = (0.1, 0.2, 0.375)  # the session-26 families' lexical/dense
S26_DENSE_TOPS = (10, 20)  # lexical only within dense's top k
RBO_P = 0.9  # rank-biased overlap's persistence
S27_RATIOS = (0.1, 0.2, 0.375, 1.0)  # the session-27 families' lexical/dense
S27_RRF_KS = (10, 60)  # confidence-weighted rank fusion
LEARNED_L2 = 0.01  # the learned fusion's L2 penalty (per weight, on a mean loss)
LEARNED = "s27: learned linear fusion (listwise, leave-one-set-out on the tuning halves)"
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


def _gap(values: np.ndarray) -> float:
    """How far the first candidate leads the second, in the query's own z-units (0 for fewer than two)."""
    spread = float(values.std())
    if len(values) < 2 or spread <= 0:
        return 0.0
    second, first = np.partition(values, len(values) - 2)[-2:]
    return float(first - second) / spread


def lexical_share(dense: np.ndarray, lexical: np.ndarray) -> float:
    """``gap_lexical / (gap_lexical + gap_dense)``: BM25's share of the two parts' confidence on this query."""
    gap_dense, gap_lexical = _gap(dense), _gap(lexical)
    total = gap_dense + gap_lexical
    return gap_lexical / total if total > 0 else 0.0


def _z_sum_confidence(ratio: float, with_agreement: bool) -> Fusion:
    def fused(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        share = lexical_share(dense, lexical)
        gate = max(scoring.agreement(dense, lexical, 10), share) if with_agreement else share
        return _z(dense) + ratio * gate * _z(lexical)

    return fused


def _rrf_confidence(k: int) -> Fusion:
    def fused(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        share = lexical_share(dense, lexical)
        rank_dense = np.argsort(np.argsort(-dense, kind="stable"), kind="stable") + 1
        rank_lexical = np.argsort(np.argsort(-lexical, kind="stable"), kind="stable") + 1
        return (1 - share) / (k + rank_dense) + np.where(lexical > 0, share / (k + rank_lexical), 0)

    return fused


def features(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """The learned fusion's features per candidate of one query (candidates × 6)."""
    z_dense, z_lexical = _z(dense), _z(lexical)
    agree, share = scoring.agreement(dense, lexical, 10), lexical_share(dense, lexical)
    return np.stack(
        [z_dense, z_lexical, agree * z_lexical, share * z_lexical, _gap(dense) * z_dense, _gap(lexical) * z_lexical],
        axis=1,
    )


class Learned:
    """A linear score over :func:`features`, fitted by a listwise softmax loss; every set weighs the same."""

    def __init__(self, sets: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        from scipy.optimize import minimize

        blocks = []  # (features of a query's candidates, its answer, the query's weight)
        for dense, lexical, answer in sets:
            for row in range(len(dense)):
                blocks.append((features(dense[row], lexical[row]), answer[row], 1.0 / (len(dense) * len(sets))))

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            total, grad = LEARNED_L2 * float(w @ w), 2 * LEARNED_L2 * w
            for x, right, weight in blocks:
                s = x @ w
                s = s - s.max()
                p = np.exp(s) / np.exp(s).sum()
                total += weight * (np.log(np.exp(s).sum()) - s[right])
                grad = grad + weight * (x.T @ p - x[right])
            return total, grad

        start = np.array([1.0, 0, 0.1, 0, 0, 0])  # the fusion in use
        self.weights = minimize(loss, start, jac=True, method="L-BFGS-B").x

    def __call__(self, dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        return features(dense, lexical) @ self.weights


def session27_candidates() -> dict[str, Fusion]:
    """The families added in session 27 (module docstring, rule item 1); :class:`Learned` apart."""
    return {
        **{f"s27: z-scores, lexical × {r} × confidence share": _z_sum_confidence(r, False) for r in S27_RATIOS},
        **{
            f"s27: z-scores, lexical × {r} × max(agreement in top 10, confidence share)": _z_sum_confidence(r, True)
            for r in S27_RATIOS
        },
        **{f"s27: RRF k={k} weighted by confidence share": _rrf_confidence(k) for k in S27_RRF_KS},
    }


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
        **session27_candidates(),
    }


def pick(rows: dict[str, dict]) -> str:
    """The rule of the module docstring: largest worst margin, ties within :data:`TIE` by mean margin."""
    best_worst = max(row["worstMargin"] for row in rows.values())
    tied = [name for name, row in rows.items() if row["worstMargin"] >= best_worst - TIE]
    return max(tied, key=lambda name: rows[name]["meanMargin"])  # the first (current) on an exact tie


def _load(embedder, half: str) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    sets = {}
    for path in [path for path in sorted(EVAL.glob(f"*_{half}.tsv")) if is_pairs_file(path)]:
        dense, lexical, answer, _ = score_matrices(embedder, *read_pairs(path))
        sets[path.name] = (dense, lexical, answer)
    return sets


def _row(fusions: dict[str, Fusion], sets: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict:
    """One candidate's metrics per set; ``fusions`` names the fusion per set (the same one, or a fit per set)."""
    per_set = {}
    for file, (dense, lexical, answer) in sets.items():
        hybrid = np.stack([fusions[file](dense[i], lexical[i]) for i in range(len(dense))])
        best = max(_metrics(dense, answer)["mrr"], _metrics(lexical, answer)["mrr"])
        per_set[file] = {
            **_metrics(hybrid, answer),
            "marginOverBestPart": round(_metrics(hybrid, answer)["mrr"] - best, 4),
        }
    margins = [one["marginOverBestPart"] for one in per_set.values()]
    return {"sets": per_set, "worstMargin": min(margins), "meanMargin": round(float(np.mean(margins)), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tuning", "heldout"), default="tuning")
    half = parser.parse_args().half
    weights = RetrievalSettings()
    embedder = load_embedder(EmbeddingSettings())
    tuning = _load(embedder, "tuning")
    sets = tuning if half == "tuning" else _load(embedder, half)
    rows = {name: _row(dict.fromkeys(sets, fusion), sets) for name, fusion in candidates(weights).items()}
    if half == "tuning":  # leave one set out: each tuning half is scored by a fit on the others
        fits = {file: Learned([one for other, one in tuning.items() if other != file]) for file in sets}
    else:
        fits = dict.fromkeys(sets, Learned(list(tuning.values())))
    rows[LEARNED] = {
        **_row(fits, sets),
        "weights": {file: [round(float(w), 4) for w in fit.weights] for file, fit in fits.items()},
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
