"""Exposure concentration with and without exposure-aware re-ranking, on the simulated history.

Run: .venv/bin/python bench/exposure.py [--data-dir /tmp/wm-demo] [--vacancies 300] [--no-history] [--served]
(after `werkmatch demo-data`, `werkmatch simulate outcomes` and, for the champion, `werkmatch train`
and `werkmatch promote`). Reads the data directory only: nothing is trained, promoted or written there.

Two replays of candidate lists in time order, each judged by :func:`training.exposure_eval.evaluate_exposure`
with the serving ranker (the champion, else the shipped baseline):

* ``heldOut``: a seeded sample of the time-split holdout (the newest 20 % of vacancies), exactly as
  ``werkmatch evaluate`` samples its pool holdout — the number for decisions;
* ``history``: every vacancy with a voorstel, three years of lists through one exposure ledger, as
  serving would see them. The champion was trained on the older 80 % of these vacancies (on their
  voorstellen, not on these counterfactual outcomes), so read its NDCG@10 losses, not its levels.

``--served`` measures the lists *as served* instead (:func:`training.exposure_eval.served_fairness`:
the exposure re-ordering and the merit floor, exposure ÷ merit per group, NDCG@10 cost): a sweep of
``--floors`` × ``--merit-shares`` (the relevance top share the floor reads as "fits") on a **tuning**
set — the held-out vacancies that ``werkmatch evaluate`` does *not* sample — and the same sweep
reported on the 200 it does sample (**held out**: read, never chosen on). ``chosenOnTuning`` names
the tuning half's choice (:func:`choose`). Writes ``bench/results/exposure-served-3y.json`` by default.

Writes the JSON to ``--out`` (default ``bench/results/exposure-3y.json``) and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from matching.exposure import DEFAULT_STRENGTH
from matching.matcher import Matcher
from matching.settings import Settings
from training.dataset import RankingData, build_dataset
from training.exposure_eval import evaluate_exposure, screen_served, served_fairness
from training.fairness import group_labels, suitable_in_pool
from training.pool_eval import pool_holdout
from training.rankers import scorer_of
from training.registry import serve_champion


def scored_pools(matcher: Matcher, vacancies: np.ndarray, moments: dict[int, float]) -> tuple[Any, Any, np.ndarray]:
    """The whole candidate pools of ``vacancies``, their hidden truth and the serving ranker's scores."""
    built = pool_holdout(matcher, vacancies, moments)
    if built is None:
        raise SystemExit("geen verborgen waarheid in deze gegevens: de meting werkt alleen op synthetische data")
    pool, truth = built
    assert matcher.ranker is not None
    return pool, truth, scorer_of(matcher.ranker)(pool)  # a ranker reading the notes column reads each pair's client


def measure(matcher: Matcher, vacancies: np.ndarray, moments: dict[int, float]) -> dict[str, Any]:
    start = time.perf_counter()
    pool, truth, scores = scored_pools(matcher, vacancies, moments)
    pool_seconds = round(time.perf_counter() - start, 2)
    result = evaluate_exposure(pool, scores, truth)
    return {"poolRows": len(pool), "poolSeconds": pool_seconds, **result}


def report(name: str, result: dict[str, Any]) -> None:
    print(
        f"{name}: {result['vacancies']} vacatures, {result['clientsEligible']} kandidaten, "
        f"Gini-ondergrens {result['giniFloor']}, orakel-Gini {result.get('oracle', {}).get('gini')}"
    )
    for point in result["sweep"]:
        print(
            f"  sterkte {point['strength']:<5} Gini {point['gini']:.3f}  NDCG@10 {point['ndcg@10']:.4f} "
            f"(-{100 * point['ndcg@10Loss']:.1f} %)  trede 0-2 geschikt in top 10 {point['lowTredeShareTop10']:.3f}  "
            f"getoond {point['clientsShown']}"
        )
    print(f"  doel: {json.dumps(result['goal'], ensure_ascii=False)}")


def served_sweep(
    matcher: Matcher,
    vacancies: np.ndarray,
    moments: dict[int, float],
    settings: list[tuple[float, float]],
    strengths: list[float],
) -> tuple[dict[str, Any], tuple[Any, np.ndarray, dict[str, np.ndarray], np.ndarray]]:
    """:func:`screen_served` of the serving ranker's lists per (strength, merit share, floor) on
    ``vacancies``' pools (key ``"strength/share/floor"``), and the pools themselves for the full audit
    of the chosen setting."""
    pool, truth, scores = scored_pools(matcher, vacancies, moments)
    groups, merit = group_labels(matcher.engine, pool), suitable_in_pool(truth, pool.vacancy_ids)
    points = {
        f"{strength}/{key}": {"strength": strength, **point}
        for strength in strengths
        for key, point in screen_served(pool, scores, groups, merit, settings, strength=strength).items()
    }
    for key, point in points.items():
        print(
            f"  sterkte/fits/vloer {key}: kosten NDCG@10 {100 * point['ndcg@10Cost']:.1f} % {point['ndcg@10CostCI']}, "
            f"laagste {point['lowest']['group']} {point['lowest']['value']:.2f}, onder 0,8: {point['groupsBelow']}",
            flush=True,
        )
    summary = {"vacancies": int(len(np.unique(pool.vacancy_ids))), "poolRows": len(pool), "settings": points}
    return summary, (pool, scores, groups, merit)


def choose(points: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The tuning half's choice: among the settings that meet both goals there (no group of ≥ 30 clients
    under 0.8 of merit, NDCG@10 cost ≤ 5 %), the one whose lowest group is highest — the widest margin
    against the noise of small groups, whose ratio moves in steps of a few list places; between equal
    margins the cheapest. Without one: the fewest groups under 0.8, then the highest lowest group, then
    the cheapest (``meetsBoth`` says whether the pick met both goals on the tuning half)."""
    met = [key for key, point in points.items() if point["met"]]
    if met:
        pick = max(met, key=lambda key: (points[key]["lowest"]["value"], -points[key]["ndcg@10Cost"]))
    else:
        pick = min(
            points,
            key=lambda key: (
                len(points[key]["groupsBelow"]),
                -points[key]["lowest"]["value"],
                points[key]["ndcg@10Cost"],
            ),
        )
    return {
        "setting": pick,
        "strength": points[pick]["strength"],
        "meritShare": points[pick]["meritShare"],
        "floor": points[pick]["floor"],
        "allGroupsAtLeast0.8": not points[pick]["groupsBelow"],
        "meetsBoth": points[pick]["met"],
        "rule": "among tuning settings meeting both goals (every group of >= 30 clients at >= 0.8 of merit, "
        "cost <= 5 %) the highest lowest group, then the cheapest (else fewest groups under 0.8, "
        "then the highest lowest group, then the cheapest)",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("WERKMATCH_DATA_DIR", "/tmp/wm-demo")))
    parser.add_argument("--vacancies", type=int, default=300)
    parser.add_argument("--test-share", type=float, default=0.2)
    parser.add_argument("--no-history", action="store_true", help="only the held-out sample (≈ 30 s)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--served", action="store_true", help="the served lists: merit floor sweep, tuning/held out")
    parser.add_argument("--floors", default="0,0.5,0.6,0.7,0.8,0.9,1.0")
    parser.add_argument("--merit-shares", default="0.1,0.15,0.2", help="relevance top shares read as 'fits'")
    parser.add_argument("--strengths", default=str(DEFAULT_STRENGTH), help="exposure re-ordering strengths (--served)")
    args = parser.parse_args()
    name = "exposure-served-3y.json" if args.served else "exposure-3y.json"
    args.out = args.out or Path(__file__).parent / "results" / name
    start = time.perf_counter()
    settings = Settings(data_dir=args.data_dir)
    matcher = Matcher(settings)
    ranked_by = serve_champion(settings, matcher)
    data: RankingData = build_dataset(matcher)
    moments = dict(zip(data.vacancy_ids.tolist(), data.moments.tolist(), strict=True))
    _, test = data.time_split(args.test_share)
    held_out = np.unique(test.vacancy_ids)
    sample = np.random.default_rng(0).choice(held_out, size=min(args.vacancies, len(held_out)), replace=False)
    result: dict[str, Any] = {"command": " ".join(sys.argv), "dataDir": str(args.data_dir), "rankedBy": ranked_by}
    if args.served:  # held out: the sample `werkmatch evaluate` takes (its seed and size); tuning: the rest
        settings_swept = [
            (float(share), float(floor)) for share in args.merit_shares.split(",") for floor in args.floors.split(",")
        ]
        strengths = [float(strength) for strength in args.strengths.split(",")]
        evaluated = np.random.default_rng(0).choice(held_out, size=min(200, len(held_out)), replace=False)
        pools = {}
        for part, ids in (("tuning", np.setdiff1d(held_out, evaluated)), ("heldOut", evaluated)):
            print(f"{part}: {len(ids)} vacatures", flush=True)
            result[part], pools[part] = served_sweep(matcher, ids, moments, settings_swept, strengths)
        chosen = result["chosenOnTuning"] = choose(result["tuning"]["settings"])
        print(f"gekozen op de afstemhelft: {chosen}", flush=True)
        for part, (pool, scores, groups, merit) in pools.items():  # the full audit, intervals included
            result[part]["chosen"] = served_fairness(
                pool, scores, groups, merit, chosen["strength"], chosen["floor"], merit_share=chosen["meritShare"]
            )
        write(args.out, result, start)
        return
    result["heldOut"] = measure(matcher, sample, moments)
    report("toets", result["heldOut"])
    if not args.no_history:
        result["history"] = measure(matcher, np.unique(data.vacancy_ids), moments)
        report("geschiedenis", result["history"])
    write(args.out, result, start)


def write(out: Path, result: dict[str, Any], start: float) -> None:
    result["seconds"] = round(time.perf_counter() - start, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{result['seconds']} s; geschreven: {out}")


if __name__ == "__main__":
    main()
