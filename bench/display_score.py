"""Fit the shown score (matching.display_score: the chance of a hire, 0–100 %) and measure it.

Run: nice -n 10 .venv/bin/python bench/display_score.py --data-dir /tmp/wm-copy --fit [--pairs 60]
(on a copy of a world with a simulated history: `werkmatch demo-data`, `werkmatch simulate outcomes`).

* The decided voorstellen of the history are split in time (:meth:`training.dataset.RankingData.time_split`
  with half the vacancies each): the **tuning** half (older vacancies) and the **held-out** half (newer).
  ``--fit`` fits the model on the tuning half only and writes it to ``models/display-score.json``
  (:data:`matching.display_score.MODEL_PATH`, which serving reads); without it that file is measured.
* **Calibration per half**: per band of 10 points, the pairs, their mean shown chance and the share
  actually hired (label ≥ 2) and placed (label ≥ 3); the calibration error (ECE over those bands), the
  AUC of the score for a hire and for a placement, and the serving ranker's AUC on the same pairs.
* **Order against score**: the ranker orders the lists; how often a lower shown score stands above a
  higher one, (a) among each held-out vacancy's decided pairs in the ranker's order (top 20), and
  (b) in the top 20 of the candidate lists of ``--lists`` seeded open vacancies.
* **Both directions**: for ``--pairs`` pairs (the top 3 candidates of seeded open vacancies) the
  score on the vacancy's candidate list and on the client's options at intake (top 500).

Writes ``bench/results/display-score.json`` (``--out``) with the command inside, prints a summary.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sqlmodel import Session, select

from matching import display_score
from matching.domain import Vacancy
from matching.matcher import Matcher
from matching.settings import Settings
from training.dataset import RankingData, build_dataset

HIRED, PLACED = display_score.HIRED_LABEL, 3


def _auc(outcome: np.ndarray, score: np.ndarray) -> float | None:
    return round(float(roc_auc_score(outcome, score)), 3) if 0 < outcome.sum() < len(outcome) else None


def calibration(shown: np.ndarray, labels: np.ndarray) -> tuple[float, list[dict[str, Any]]]:
    """ECE of score/100 as the chance of a hire over bands of 10 points, and the reliability table."""
    hired, band = labels >= HIRED, np.minimum(shown // 10, 9)
    ece, table = 0.0, []
    for low in range(10):
        rows = band == low
        if not rows.any():
            continue
        rate, mean = float(hired[rows].mean()), float(shown[rows].mean())
        ece += rows.mean() * abs(rate - mean / 100.0)
        table.append(
            {
                "band": f"{low * 10}-{low * 10 + 9 if low < 9 else 100}",
                "paren": int(rows.sum()),
                "gemiddeldeScore": round(mean, 1),
                "aandeelAangenomen": round(rate, 3),
                "aandeelGeplaatst": round(float((labels[rows] >= PLACED).mean()), 3),
            }
        )
    return ece, table


def outcomes(data: RankingData, fitted: display_score.Model, ranker: Any) -> dict[str, Any]:
    """Calibration and separation of the shown score on one half; the ranker's AUC for comparison."""
    shown = display_score.scores(data.features, fitted)
    ece, table = calibration(shown, data.labels)
    ranked = ranker.score(data.features, data.client_ids, texts=data.texts) if ranker is not None else None
    return {
        "paren": len(data),
        "vacatures": int(len(np.unique(data.vacancy_ids))),
        "aandeelAangenomen": round(float((data.labels >= HIRED).mean()), 3),
        "gemiddeldeScore": round(float(shown.mean()), 2),
        "scorePercentielen": {str(p): float(np.percentile(shown, p)) for p in (1, 10, 50, 90, 99)},
        "ece": round(float(ece), 3),
        "aucAangenomen": _auc(data.labels >= HIRED, shown),
        "aucGeplaatst": _auc(data.labels >= PLACED, shown),
        # The serving ranker's own score on the same pairs (it orders, it is not shown).
        "rangschikkerAucAangenomen": _auc(data.labels >= HIRED, ranked) if ranked is not None else None,
        "perBand": table,
    }


def discordant(lists: list[list[int]]) -> dict[str, Any]:
    """Over the pairs of positions i < j of each list (in list order): how often score_i < score_j."""
    pairs = lower = neighbours = lower_neighbours = 0
    for scores in lists:
        s = np.asarray(scores)
        above = s[:, None] < s[None, :]
        pairs += len(s) * (len(s) - 1) // 2
        lower += int(np.triu(above, 1).sum())
        neighbours += max(len(s) - 1, 0)
        lower_neighbours += int((s[:-1] < s[1:]).sum())
    return {
        "lijsten": len(lists),
        "paren": pairs,
        "lagerBovenHoger": lower,
        "aandeel": round(lower / pairs, 3) if pairs else None,
        "burenAandeel": round(lower_neighbours / neighbours, 3) if neighbours else None,
    }


def order_against_score(matcher: Matcher, held_out: RankingData, lists: int, seed: int) -> dict[str, Any]:
    """Discordance of the shown score with the ranker's order: held-out decided pairs and open top-20 lists."""
    shown = display_score.scores(held_out.features)
    # the notes column reads each pair's client
    ranked = matcher.ranker.score(held_out.features, held_out.client_ids, texts=held_out.texts)
    decided = []
    for vacancy in np.unique(held_out.vacancy_ids):
        rows = np.flatnonzero(held_out.vacancy_ids == vacancy)
        decided.append(shown[rows[np.argsort(-ranked[rows], kind="stable")][:20]].tolist())
    with Session(matcher.engine) as session:
        open_ids = sorted(row.vacature_nummer for row in session.exec(select(Vacancy).where(Vacancy.status == "open")))
    chosen = np.random.default_rng(seed).permutation(open_ids)[:lists]
    listed = [[item.display.score for item in matcher.search_candidates(str(n), top=20).results] for n in chosen]
    return {"heldOutBesliste": discordant(decided), "openTop20": discordant(listed)}


def both_directions(matcher: Matcher, pairs: int, seed: int) -> dict[str, Any]:
    """The same pairs' scores on the candidate list and on the client's intake options."""
    with Session(matcher.engine) as session:
        open_ids = sorted(row.vacature_nummer for row in session.exec(select(Vacancy).where(Vacancy.status == "open")))
    rng = np.random.default_rng(seed)
    compared, missing = [], 0
    start = time.perf_counter()
    for number in rng.permutation(open_ids):
        if len(compared) + missing >= pairs:
            break
        listing = matcher.search_candidates(str(number), top=3)
        for item in listing.results:
            options = matcher.search_vacancies(item.client_id, top=500)
            found = [option for option in options.results if option.vacancy_id == listing.vacancy_id]
            if not found:
                missing += 1
                continue
            compared.append((item.display, found[0].display, item.rank, found[0].rank))
    return {
        "paren": len(compared),
        "nietInTop500BijKlant": missing,
        "gelijk": sum(1 for a, b, *_ in compared if a.score == b.score),
        "gelijkeOpbouw": sum(1 for a, b, *_ in compared if a.to_json() == b.to_json()),
        "grootsteVerschil": max((abs(a.score - b.score) for a, b, *_ in compared), default=0),
        "voorbeelden": [
            {"kandidatenlijst": a.score, "intake": b.score, "rangKandidaten": ra, "rangIntake": rb}
            for a, b, ra, rb in compared[:10]
        ],
        "seconden": round(time.perf_counter() - start, 1),
    }


def fitted_model(tuning: RankingData, path: Path, command: str) -> display_score.Model:
    """Fit on the tuning half and write the model file (with what it was fitted on and how)."""
    params = display_score.fit(tuning.features, tuning.labels)
    document = {
        "command": command,
        "gefitOp": {
            "helft": "tuning (oudste helft van de vacatures)",
            "paren": len(tuning),
            "vacatures": int(len(np.unique(tuning.vacancy_ids))),
            "aandeelAangenomen": round(float((tuning.labels >= HIRED).mean()), 4),
        },
        **params,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return display_score.Model.from_json(document)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--fit", action="store_true", help="fit on the tuning half and write --model first")
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--lists", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench/results/display-score.json"))
    args = parser.parse_args()
    command = "nice -n 10 .venv/bin/python " + shlex.join(sys.argv)
    matcher = Matcher(Settings(data_dir=args.data_dir), may_write=False)
    matcher.sync()
    start = time.perf_counter()
    tuning, held_out = build_dataset(matcher).time_split(test_share=0.5)
    if args.fit:
        fitted_model(tuning, display_score.MODEL_PATH, command)
        display_score.model.cache_clear()
    fitted = display_score.model()
    result = {
        "command": command,
        "model": "models/" + display_score.MODEL_PATH.name,
        "ranker": matcher.ranker.describe() if matcher.ranker is not None else None,
        "startpunt": display_score.startpunt(fitted),
        "tuning": outcomes(tuning, fitted, matcher.ranker),
        "heldOut": outcomes(held_out, fitted, matcher.ranker),
        "datasetSeconds": round(time.perf_counter() - start, 1),
        "ordeTegenScore": order_against_score(matcher, held_out, args.lists, args.seed),
        "bothDirections": both_directions(matcher, args.pairs, args.seed),
    }
    matcher.close()
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    summary = {half: {k: v for k, v in result[half].items() if k != "perBand"} for half in ("tuning", "heldOut")}
    summary["ordeTegenScore"] = result["ordeTegenScore"]
    summary["bothDirections"] = {k: v for k, v in result["bothDirections"].items() if k != "voorbeelden"}
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
