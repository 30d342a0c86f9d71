"""What the shown score (matching.display_score, 0–100) says about outcomes, and that it is one number per pair.

Run: nice -n 10 .venv/bin/python bench/display_score.py --data-dir /tmp/wm-copy [--pairs 60]
(on a copy of a world with a simulated history: `werkmatch demo-data`, `werkmatch simulate outcomes`).

* **Outcomes by score band**, on the decided voorstellen of the history split in time
  (:meth:`training.dataset.RankingData.time_split` with half the vacancies each): the **tuning** half
  (older vacancies; the text ramp's cosine anchors were read off it) and the **held-out** half
  (newer; read, never chosen on). Per band of 10 points: pairs, share placed (label ≥ 3: geplaatst or
  duurzaam) and share with any hire (label ≥ 2); per half the AUC of the score for "placed", its
  Spearman correlation with the label, and the calibration error (ECE, 10 bands) if score/100 were
  read as the chance of a placement — which it is not meant to be.
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
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score
from sqlmodel import Session, select

from matching import display_score
from matching.domain import Vacancy
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.settings import Settings
from training.dataset import RankingData, build_dataset

BANDS = np.arange(0, 101, 10)


def outcomes(data: RankingData, weights: Any, ranker: Any) -> dict[str, Any]:
    """Per band of the shown score: pairs, share placed, share hired; AUC, Spearman, ECE; the ranker's AUC."""
    shown = display_score.scores(data.features, weights)
    placed = data.labels >= 3
    band = np.minimum(shown // 10, 9)
    per_band = []
    ece = 0.0
    for low in range(10):
        rows = band == low
        if not rows.any():
            continue
        rate = float(placed[rows].mean())
        ece += rows.mean() * abs(rate - float(shown[rows].mean()) / 100.0)
        per_band.append(
            {
                "band": f"{low * 10}-{low * 10 + 9 if low < 9 else 100}",
                "paren": int(rows.sum()),
                "gemiddeldeScore": round(float(shown[rows].mean()), 1),
                "aandeelGeplaatst": round(rate, 3),
                "aandeelAangenomen": round(float((data.labels[rows] >= 2).mean()), 3),
            }
        )
    return {
        "paren": len(data),
        "vacatures": int(len(np.unique(data.vacancy_ids))),
        "aandeelGeplaatst": round(float(placed.mean()), 3),
        "scoreMediaan": float(np.median(shown)),
        "aucGeplaatst": round(float(roc_auc_score(placed, shown)), 3) if 0 < placed.sum() < len(placed) else None,
        "spearmanLabel": round(float(spearmanr(shown, data.labels).statistic), 3),
        # For comparison: the serving ranker's own score on the same pairs (it orders, it is not shown).
        "rangschikkerAucGeplaatst": (
            round(float(roc_auc_score(placed, ranker.score(data.features))), 3)
            if ranker is not None and 0 < placed.sum() < len(placed)
            else None
        ),
        "eceAlsKans": round(float(ece), 3),
        "perBand": per_band,
    }


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
            compared.append((item.display.score, found[0].display.score, item.rank, found[0].rank))
    same = sum(1 for a, b, *_ in compared if a == b)
    return {
        "paren": len(compared),
        "nietInTop500BijKlant": missing,
        "gelijk": same,
        "grootsteVerschil": max((abs(a - b) for a, b, *_ in compared), default=0),
        "voorbeelden": [
            {"kandidatenlijst": a, "intake": b, "rangKandidaten": ra, "rangIntake": rb}
            for a, b, ra, rb in compared[:10]
        ],
        "seconden": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench/results/display-score.json"))
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir)
    matcher = Matcher(settings, may_write=False)
    matcher.sync()
    start = time.perf_counter()
    data = build_dataset(matcher)
    tuning, held_out = data.time_split(test_share=0.5)
    cosine = tuning.features[:, FEATURE_NAMES.index("dense_similarity")]
    result = {
        "command": "nice -n 10 .venv/bin/python " + shlex.join(sys.argv),
        "textRamp": [display_score.TEXT_COSINE_FLOOR, display_score.TEXT_COSINE_CEILING],
        "ranker": matcher.ranker.describe() if matcher.ranker is not None else None,
        "cosineTuningPercentiles": {
            str(p): round(float(np.percentile(cosine, p)), 3) for p in (1, 5, 25, 50, 75, 95, 99)
        },
        "tuning": outcomes(tuning, settings.retrieval, matcher.ranker),
        "heldOut": outcomes(held_out, settings.retrieval, matcher.ranker),
        "datasetSeconds": round(time.perf_counter() - start, 1),
        "bothDirections": both_directions(matcher, args.pairs, args.seed),
    }
    matcher.close()
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    summary = {key: result[key] for key in ("cosineTuningPercentiles",)}
    summary.update({half: {k: v for k, v in result[half].items() if k != "perBand"} for half in ("tuning", "heldOut")})
    summary["bothDirections"] = {k: v for k, v in result["bothDirections"].items() if k != "voorbeelden"}
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
