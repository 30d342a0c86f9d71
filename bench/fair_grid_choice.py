"""Would a grid choice that also reads served exposure on validation pools pick rankers that serve fairly held out?

Run: nice -n 10 .venv/bin/python -m bench.fair_grid_choice --train-dir <world with a history, e.g. the seed-7
    world of models/README.md> --eval-dir <copy of the demo world with a 3-year history>
    [--validation-vacancies 150] [--out bench/results/fair-grid-choice.json]
Both directories are only read (their ``ranking/`` feature stores may be written, as ``werkmatch train`` does).

``werkmatch train`` chooses LightGBM's hyper-parameters by validation NDCG@10 on the voorstellen alone
(:func:`training.rankers.tune_lgbm`). Session 38 retrained the shipped ranker for a changed lexical feature and the
grid then chose a model that ranked better but served suitable people far from work less attention held out, where
no setting of the merit floor could repair it (README, "National scale"). This bench asks whether a choice that also
reads the served lists would have caught that, before any such rule is built into ``werkmatch train``:

1. ``--train-dir``: the training pairs and ``werkmatch train``'s split (:func:`training.train.holdout_from`), its
   tuning split (:func:`training.rankers.tuning_split`) and every grid candidate grown on it
   (:func:`training.rankers.grid_candidates`). Each candidate is also judged on whole candidate pools of a seeded
   sample of the **validation** vacancies (the newest of the training part, with their hidden truth; synthetic data
   only): pool NDCG@10 and, as served with the shipped settings (exposure strength, merit floor and its share),
   exposure ÷ merit per group of ≥ 30 clients, the lowest group and the NDCG@10 cost
   (:func:`training.exposure_eval.screen_served`). Then each candidate is fitted on the whole training part at its
   best round, as ``werkmatch train`` fits the chosen one.
2. ``--eval-dir``: the same screens for every fitted candidate, and for the shipped baseline, on the 200 held-out
   pools ``werkmatch evaluate`` samples (its seed and size): **held out**, read only.
3. Two rules, both fixed here before any run: ``ndcg`` (today's: the highest validation NDCG@10 on the voorstellen)
   and ``served`` (among the candidates whose served validation lists meet both goals, every group of ≥ 30 clients at
   ≥ 0.8 of merit and NDCG@10 cost ≤ 5 %, the highest validation NDCG@10 on the voorstellen; without one, today's
   pick). Reported: each rule's pick and its held-out screen, and how well the validation screen predicts the
   held-out one over the 18 candidates (Spearman of the lowest group's ratio and of the cost).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from bench._result import provenance, write_json
from matching.exposure import MERIT_SHARE
from matching.matcher import Matcher
from matching.settings import Settings
from training.dataset import RankingData, build_dataset
from training.exposure_eval import screen_served
from training.fairness import group_labels, suitable_in_pool
from training.metrics import per_group
from training.pool_eval import pool_holdout
from training.rankers import fit_lgbm, grid_candidates, tuning_split
from training.registry import serve_champion
from training.train import holdout_from

ROOT = Path(__file__).resolve().parents[1]
EVALUATED_VACANCIES = 200  # werkmatch evaluate's pool sample (training.pool_eval via training.evaluate)


class Screen:
    """Whole pools with their truth, groups and merit, and the served setting to screen rankers with."""

    def __init__(self, matcher: Matcher, vacancies: np.ndarray, moments: dict[int, float]) -> None:
        built = pool_holdout(matcher, vacancies, moments)
        if built is None:
            raise SystemExit("geen verborgen waarheid in deze gegevens: de meting werkt alleen op synthetische data")
        self.pool, truth = built
        self.groups = group_labels(matcher.engine, self.pool)
        self.merit = suitable_in_pool(truth, self.pool.vacancy_ids)
        ranker = matcher.settings.ranker
        self.strength, self.floor = ranker.exposure_strength, ranker.exposure_floor

    def __call__(self, scores: np.ndarray) -> dict[str, Any]:
        pool = self.pool
        ndcg = float(np.nanmean(per_group(pool.labels, scores, pool.vacancy_ids)["ndcg@10"]))
        point = screen_served(
            pool, scores, self.groups, self.merit, [(MERIT_SHARE, self.floor)], strength=self.strength
        )[f"{MERIT_SHARE}/{self.floor}"]
        return {
            "poolNdcg@10": round(ndcg, 4),
            "lowest": point["lowest"],
            "groupsBelow": point["groupsBelow"],
            "ndcg@10Cost": point["ndcg@10Cost"],
            "met": point["met"],
            "exposureVsMerit": point["exposureVsMerit"],
        }

    def describe(self) -> dict[str, Any]:
        return {
            "vacancies": int(len(np.unique(self.pool.vacancy_ids))),
            "poolRows": len(self.pool),
            "strength": self.strength,
            "floor": self.floor,
            "meritShare": MERIT_SHARE,
        }


def _moments(data: RankingData) -> dict[int, float]:
    return dict(zip(data.vacancy_ids.tolist(), data.moments.tolist(), strict=True))


def candidates_on_training_world(train_dir: Path, vacancies: int, seed: int) -> tuple[dict[str, Any], list[Any]]:
    """Every grid candidate with its validation figures, and each fitted on the whole training part."""
    matcher = Matcher(Settings(data_dir=train_dir))
    data = build_dataset(matcher)
    train_part, _, start = holdout_from(data)
    split = tuning_split(train_part, seed)
    ids = np.unique(split.validation.vacancy_ids)
    sample = np.random.default_rng(seed).choice(ids, size=min(vacancies, len(ids)), replace=False)
    screen = Screen(matcher, sample, _moments(data))
    rows, models = [], []
    for number, candidate in enumerate(grid_candidates(split, seed), start=1):
        validation = screen(candidate.model.predict(screen.pool.features))
        rows.append(
            {
                "params": candidate.params,
                "validationNdcg@10": round(candidate.validation_ndcg, 4),
                "validationPools": validation,
            }
        )
        models.append(fit_lgbm(train_part, seed, candidate.params))
        print(
            f"{number:2d} {candidate.params}: NDCG@10 voorstellen {candidate.validation_ndcg:.4f}, pools "
            f"{validation['poolNdcg@10']:.4f}, laagste {validation['lowest']}, kosten {validation['ndcg@10Cost']}",
            flush=True,
        )
    world = {
        "dataDir": str(train_dir),
        "holdoutFrom": start,
        "tuningPairs": len(split.sampled),
        "validationVacancies": split.validation_vacancies,
        "validationPools": screen.describe(),
    }
    return world, list(zip(rows, models, strict=True))


def choose(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Both rules' picks (indices into ``rows``); of equals the first in grid order, as ``tune_lgbm``."""
    by_ndcg = max(range(len(rows)), key=lambda at: (rows[at]["validationNdcg@10"], -at))
    met = [at for at, row in enumerate(rows) if row["validationPools"]["met"]]
    served = max(met, key=lambda at: (rows[at]["validationNdcg@10"], -at)) if met else by_ndcg
    return {"ndcg": by_ndcg, "served": served}


def _spearman(rows: list[dict[str, Any]], read: Any) -> float | None:
    pairs = [(read(row["validationPools"]), read(row["heldOut"])) for row in rows]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
    if len(pairs) < 3:
        return None
    value = spearmanr([a for a, _ in pairs], [b for _, b in pairs]).statistic
    return None if np.isnan(value) else round(float(value), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-dir", type=Path, required=True)
    parser.add_argument("--eval-dir", type=Path, required=True)
    parser.add_argument("--validation-vacancies", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fair-grid-choice.json")
    args = parser.parse_args()
    began = time.perf_counter()
    world, fitted = candidates_on_training_world(args.train_dir, args.validation_vacancies, args.seed)
    matcher = Matcher(Settings(data_dir=args.eval_dir))
    shipped = serve_champion(matcher.settings, matcher)
    data = build_dataset(matcher)
    _, test = data.time_split(0.2)
    held_out = np.unique(test.vacancy_ids)  # the sample werkmatch evaluate and bench/exposure.py take
    evaluated = np.random.default_rng(0).choice(held_out, size=min(EVALUATED_VACANCIES, len(held_out)), replace=False)
    screen = Screen(matcher, evaluated, _moments(data))
    rows = []
    for row, model in fitted:
        row["heldOut"] = screen(model.predict(screen.pool.features))
        rows.append(row)
    assert matcher.ranker is not None
    baseline = screen(matcher.ranker.score(screen.pool.features))
    picks = choose(rows)
    result = {
        "command": " ".join(sys.argv),
        "provenance": provenance(),
        "trainingWorld": world,
        "heldOutPools": {"dataDir": str(args.eval_dir), **screen.describe()},
        "shippedBaseline": {"rankedBy": shipped, "heldOut": baseline},
        "candidates": rows,
        "picks": {rule: {"candidate": at, **rows[at]} for rule, at in picks.items()},
        "validationPredictsHeldOut": {
            "lowestSpearman": _spearman(rows, lambda point: (point["lowest"] or {}).get("value")),
            "costSpearman": _spearman(rows, lambda point: point["ndcg@10Cost"]),
            "poolNdcgSpearman": _spearman(rows, lambda point: point["poolNdcg@10"]),
        },
        "seconds": round(time.perf_counter() - began, 1),
    }
    write_json(args.out, result)
    for rule, at in picks.items():
        held = rows[at]["heldOut"]
        print(
            f"{rule}: {rows[at]['params']} held out: pools {held['poolNdcg@10']}, laagste {held['lowest']}, "
            f"kosten {held['ndcg@10Cost']}, onder 0,8 {held['groupsBelow']}"
        )
    print(json.dumps(result["validationPredictsHeldOut"]))


if __name__ == "__main__":
    main()
