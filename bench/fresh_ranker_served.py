"""Why fresh rankers starve trede 0-1 and route meedoen when served, and a per-model merit floor (issue 19, 1-2).

Run from the repository root: nice -n 10 .venv/bin/python -m bench.fresh_ranker_served --data-dir <copy of the
demo world, ``werkmatch db upgrade``, ``werkmatch simulate outcomes --years 3``> [--out FILE] [--validation-only]

Session 28 (:mod:`bench.ranker_variants_own_history`) found every fresh challenger's served lists under the
shipped ranker's for trede 0, trede 1 and route meedoen. The validation stage here (models fitted on the older
80 % of the training period, the 150 validation pools; never the held-out ones) measures the candidate causes:

* ``labels``: how many training voorstellen each trede and route has and how often they succeeded (afromen);
* ``groups``: per trede and route the pool share, the true merit share (top fifth of the pool by hidden
  suitability), the ranker's own relevance-top-10 % share (what :func:`matching.exposure.merit_floor` reads as
  merit), the relevance-only and served top-10 shares, and the mean per-pool z of the group's merit rows;
* ``contributions``: LightGBM per-feature contributions of trede 0-1 merit rows against the top 10 of the same
  pools, and the readiness-gap / route-fit / readiness-surplus contribution curves (the monotone directions);
* ``readinessGap``: per readiness-gap bin the training success rate and the pools' true merit rate;
* ``calibration``: :func:`training.served_calibration.calibrate_floor` per model (strength 0.25; merit shares
  0.1-0.5 x floors 1-2).

**Rule, written into this file and committed before the held-out run** (:data:`RULE`, commit 0724cbc).

Result (``bench/results/fresh-ranker-served.json``, session 29, load 2-7). Validation: the served ratio of a
trede is the ranker's own top-10 % share over the true merit share (trede 0, true merit share 0.0023: shipped
top-10 % share 0.0064 -> served 2.87; challenger 0.0011 -> 0.57; notes + own history 0.0007 -> 0.29). Afromen
left trede 0 with 24 training voorstellen (0.23 % against 3.1 % of pool rows), trede 1 with 67, meedoen with
150; the fresh models learnt the readiness-gap cliff the truth has (merit rate 0.27 at gap 0, 0.036 at 2;
contribution at gap >= 2: fresh -1.2 to -1.35, shipped -0.44), so their suitable trede-0 rows sit at the pool's
mean (z -0.02/-0.04, shipped +0.35). Same monotone directions; route_fit contributes 0.000 in both fresh models;
the strength acts on per-pool z-scores (strength 1 leaves trede 0 where it was and costs 13 %). Calibrated: the
challenger passes at merit share 0.4 / floor 2.0 (3.8 %), notes + own history only at 0.5/1.5 for 5.65 %. Held
out once, the challenger at 0.4/2.0: every group >= min(shipped, 0.8) (trede 0 5.9, trede 1 1.86, meedoen 1.42,
never proposed 0.93) at 9.1 % [6.4, 11.9] NDCG@10 (7.7 % at the default), 0.674 of the oracle, 1.33x
[1.25, 1.41]; notes + own history at 0.5/1.5: every group passes too, 7.4 % [5.0, 9.7] (6.2 % default), 0.726
[0.689, 0.763], 1.43x [1.34, 1.54]. The shipped ranker's default costs 6.4 % on the same pools.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import bench.ranker_variants_history as hist
import bench.ranker_variants_notes as notes
import bench.ranker_variants_objective as objective
from bench._result import load_average
from bench.ranker_variants_own_history import histories_of
from matching.exposure import DEFAULT_FLOOR, DEFAULT_STRENGTH, MERIT_SHARE
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.settings import Settings
from training import client_history, rankers
from training.exposure_eval import _groups_in_time_order, replay, screen_served, served_fairness
from training.fairness import suitable_in_pool
from training.served_calibration import calibrate_floor, targets_from

CHALLENGER = "challenger (25 features)"
PICK = "+ notes + own history (acceptance, lasting), base-rate expectation (excess)"  # session 28's pick
MODELS = (CHALLENGER, PICK)
SHIPPED = "shipped ranker"
AUDITED = ("trede", "route", "beperking", "geslacht", "migratieachtergrond", "leeftijd", "geschiedenis")
RULE = (
    "Validation picks (150 validation pools, models fitted on the older 80 % of the training period). Per model "
    f"({', '.join(MODELS)}): training.served_calibration.calibrate_floor at strength {DEFAULT_STRENGTH}, merit "
    "shares 0.1/0.2/0.3/0.4/0.5 x floors 1.0/1.5/2.0; a setting passes when every group of >= 30 clients of "
    f"{', '.join(AUDITED)} has exposureVsMerit >= min(the shipped ranker's served value on the same pools at the "
    "served setting, 0.8) and the NDCG@10 cost is <= 5 %; the model's setting is its cheapest passing one. The "
    "held-out model is the one with a passing setting and the highest validation share of the oracle; if no model "
    "passes, the one whose closest setting has the fewest failing groups (then the higher share) is run and "
    "reported as failing. Held out once (200 pools, every model fitted on the whole training period): both "
    "models with the calibrated and the default served setting, the shipped ranker as reference; the goal is "
    "judged on the picked model with its calibrated setting. Written before the held-out run."
)


def _z(scores: np.ndarray, pools: list[np.ndarray]) -> np.ndarray:
    z = np.zeros(len(scores))
    for rows in pools:
        z[rows] = (scores[rows] - scores[rows].mean()) / (scores[rows].std() or 1.0)
    return z


def _top_share(scores: np.ndarray, pools: list[np.ndarray], share: float) -> np.ndarray:
    """Rows in each pool's relevance top ``share`` (at least 10), as the merit floor reads merit."""
    top = np.zeros(len(scores), bool)
    for rows in pools:
        top[rows[np.argsort(-scores[rows], kind="stable")[: max(10, int(np.ceil(share * len(rows))))]]] = True
    return top


def group_table(data: Any, scores: np.ndarray, merit: np.ndarray, groups: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per trede and route: pool share, merit share, the ranker's top-10 % share, top-10 shares (relevance-only,
    served at the default setting), their ratios to merit, and the mean per-pool z of the group's merit rows."""
    pools = _groups_in_time_order(data)
    relevance, _ = replay(data, scores, 0.0, pools)
    shown, _ = replay(data, scores, DEFAULT_STRENGTH, pools, floor=DEFAULT_FLOOR)
    tops = {"relevanceTop10": relevance > -10, "servedTop10": shown > -10}
    tops["rankerTop10Percent"] = _top_share(scores, pools, MERIT_SHARE)
    z = _z(scores, pools)
    members = {f"trede {t}": data.trede == t for t in range(6)}
    members |= {f"route {r}": groups["route"] == r for r in sorted(set(groups["route"].tolist()))}
    out: dict[str, Any] = {}
    for name, rows in members.items():
        merit_share = float((merit & rows).sum() / merit.sum())
        entry: dict[str, Any] = {"poolShare": round(float(rows.mean()), 4), "meritShare": round(merit_share, 4)}
        for key, top in tops.items():
            share = float((top & rows).sum() / top.sum())
            entry[key] = round(share, 4)
            entry[f"{key}VsMerit"] = round(share / merit_share, 3) if merit_share else None
        entry["meritRowsMeanZ"] = round(float(z[rows & merit].mean()), 3) if (rows & merit).any() else None
        entry["pzOfThe10th"] = round(float(np.mean([np.sort(z[r])[::-1][9] for r in pools])), 3)
        out[name] = entry
    return out


def contributions(model: Any, features: np.ndarray, data: Any, merit: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Mean per-feature contributions of trede 0-1 merit rows minus those of the (other) top 10 of the same
    pools, the eight largest deficits, and the contribution curves of the readiness and route features."""
    booster = model.booster_ if hasattr(model, "booster_") else model
    parts = booster.predict(features, pred_contrib=True)
    total = parts.sum(axis=1)
    low = data.trede <= 1
    pools = np.unique(data.vacancy_ids[low & merit])
    top = np.zeros(len(total), bool)
    for vacancy in pools:
        rows = np.flatnonzero(data.vacancy_ids == vacancy)
        top[rows[np.argsort(-total[rows])[:10]]] = True
    mine, theirs = parts[low & merit].mean(axis=0), parts[top & ~low].mean(axis=0)
    deficit = mine - theirs
    curves = {}
    for feature, step in (("readiness_gap", 0.5), ("readiness_surplus", 1.0), ("route_fit", 1 / 3)):
        j = FEATURE_NAMES.index(feature)
        binned = np.round(features[:, j] / step) * step
        curves[feature] = {
            f"{value:g}": round(float(parts[binned == value, j].mean()), 3) for value in np.unique(binned)[:10]
        }
    return {
        "lowTredeMeritRows": int((low & merit).sum()),
        "theirScore": round(float(mine.sum()), 3),
        "top10Score": round(float(theirs.sum()), 3),
        "largestDeficits": {names[j]: round(float(deficit[j]), 3) for j in np.argsort(deficit)[:8]},
        "curves": curves,
    }


def label_table(fit: Any, trede_of: dict[int, int], route_of: dict[int, str]) -> dict[str, Any]:
    trede = np.array([trede_of[int(c)] for c in fit.client_ids])
    route = np.array([route_of[int(c)] for c in fit.client_ids])
    members = {f"trede {t}": trede == t for t in range(6)} | {f"route {r}": route == r for r in sorted(set(route))}
    return {
        name: {
            "pairs": int(rows.sum()),
            "share": round(float(rows.mean()), 4),
            "positive": round(float((fit.labels[rows] > 0).mean()), 3) if rows.any() else None,
        }
        for name, rows in members.items()
    }


def gap_table(fit: Any, data: Any, merit: np.ndarray) -> dict[str, Any]:
    j = FEATURE_NAMES.index("readiness_gap")
    train_bin, pool_bin = np.round(fit.features[:, j] * 2) / 2, np.round(data.features[:, j] * 2) / 2
    return {
        f"{gap:g}": {
            "trainPairs": int((train_bin == gap).sum()),
            "trainPositive": round(float((fit.labels[train_bin == gap] > 0).mean()), 3)
            if (train_bin == gap).any()
            else None,
            "poolRows": int((pool_bin == gap).sum()),
            "poolMeritRate": round(float(merit[pool_bin == gap].mean()), 3) if (pool_bin == gap).any() else None,
        }
        for gap in np.arange(0.0, 3.5, 0.5)
    }


def served_audit(
    pool: tuple[Any, np.ndarray], scores: np.ndarray, groups: dict[str, np.ndarray], share: float, floor: float
) -> dict[str, Any]:
    """The served lists' full audit (with intervals) at (strength 0.25, ``share``, ``floor``)."""
    data, truth = pool
    audit = served_fairness(
        data,
        scores,
        groups,
        suitable_in_pool(truth, data.vacancy_ids),
        strength=DEFAULT_STRENGTH,
        floor=floor,
        merit_share=share,
    )
    return {
        "meritShare": share,
        "floor": floor,
        "ndcg@10Cost": audit.get("ndcg@10Cost"),
        "ndcg@10CostCI": audit.get("ndcg@10CostCI"),
        "served": {
            f"{attribute}={group}": {k: row.get(k) for k in ("clients", "exposureVsMerit", "exposureVsMeritCI")}
            for attribute, section in audit["attributes"].items()
            if attribute in AUDITED
            for group, row in section["groups"].items()
            if not row.get("tooSmall")
        },
    }


def shipped_targets(data: Any, scores: np.ndarray, groups: dict[str, np.ndarray], merit: np.ndarray) -> dict[str, Any]:
    point = screen_served(data, scores, groups, merit, [(MERIT_SHARE, DEFAULT_FLOOR)])
    return next(iter(point.values()))


def fit_models(world: notes.World, text: Any, histories: dict[str, Any], fit: Any, data: Any) -> dict[str, Any]:
    cols = {key: hist.Columns(h, f, float(data.moments.min())) for key, (h, f) in histories.items()}
    per_client = objective.notes_column(world, text, fit)
    out = {}
    for name in MODELS:
        spec = hist.SPECS[name]
        monotone = list(rankers.MONOTONE) + [1] * int(spec["notes"])
        monotone += [client_history.MONOTONE[c] for c in spec["columns"]]
        train = hist.with_columns(world, fit, spec, per_client, cols)
        model, params = objective.tune_fit(objective.Fit(train), train, {}, monotone)
        features = hist.with_columns(world, data, spec, per_client, cols).features
        out[name] = {
            "model": model,
            "params": params,
            "features": features,
            "scores": model.predict(features),
            "train": train,
        }
        print(name, params, flush=True)
    return out


def validation(
    matcher: Matcher, world: notes.World, text: Any, histories: dict[str, Any], inner: Any, settings: Settings
) -> dict[str, Any]:
    data, truth = world.val_pool
    merit = suitable_in_pool(truth, data.vacancy_ids)
    groups = {k: v for k, v in hist.groups_of(matcher, data, histories["all"][0]).items() if k in AUDITED}
    assert matcher.baseline is not None
    shipped = matcher.baseline.score(data.features)
    models = fit_models(world, text, histories, inner, data)
    with matcher.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, trede, route FROM client").all()
    trede_of, route_of = {int(r[0]): int(r[1]) for r in rows}, {int(r[0]): str(r[2]) for r in rows}
    reference = shipped_targets(data, shipped, groups, merit)
    targets = targets_from(reference["exposureVsMerit"])
    out: dict[str, Any] = {
        "pools": int(len(np.unique(data.vacancy_ids))),
        "labels": label_table(inner, trede_of, route_of),
        "readinessGap": gap_table(inner, data, merit),
        "targets": targets,
        "shipped": {
            **hist.judged(world.val_pool, shipped, {}),
            "groups": group_table(data, shipped, merit, groups),
            "contributions": contributions(matcher.baseline.booster, data.features, data, merit, list(FEATURE_NAMES)),
            "servedDefault": reference,
        },
        "models": {},
    }
    names = [*FEATURE_NAMES, "notes", "own_history"]
    for name, fitted in models.items():
        scores = fitted["scores"]
        calibration = calibrate_floor(data, scores, groups, merit, targets)
        out["models"][name] = {
            **hist.judged(world.val_pool, scores, {"shipped ranker": shipped}),
            "params": fitted["params"],
            "groups": group_table(data, scores, merit, groups),
            "contributions": contributions(fitted["model"], fitted["features"], data, merit, names),
            "calibration": calibration,
        }
        chosen = calibration["chosen"]
        print(
            name,
            "oracle",
            out["models"][name]["oracleShare"],
            "chosen",
            None if chosen is None else (chosen["meritShare"], chosen["floor"], chosen["ndcg@10Cost"]),
            "closest failing",
            calibration["closest"]["failing"],
            flush=True,
        )
    return out


def choose(stage: dict[str, Any]) -> tuple[str, dict[str, Any], bool]:
    """:data:`RULE`: the held-out model, its setting, and whether it passed on validation."""
    models = stage["models"]
    passing = [n for n in models if models[n]["calibration"]["chosen"] is not None]
    if passing:
        name = max(passing, key=lambda n: models[n]["oracleShare"])
        return name, models[name]["calibration"]["chosen"], True
    name = min(models, key=lambda n: (len(models[n]["calibration"]["closest"]["failing"]), -models[n]["oracleShare"]))
    return name, models[name]["calibration"]["closest"], False


def held_out(
    matcher: Matcher,
    world: notes.World,
    text: Any,
    histories: dict[str, Any],
    train: Any,
    settings: Settings,
    calibrated: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """Every model fitted on the whole training period, judged once on the held-out pools, served at its
    validation-calibrated setting and at the default; the shipped ranker at the default."""
    data, truth = pool = world.test_pool
    groups = {k: v for k, v in hist.groups_of(matcher, data, histories["all"][0]).items() if k in AUDITED}
    assert matcher.baseline is not None
    shipped = matcher.baseline.score(data.features)
    weighted = rankers.weighted_baseline(data, settings.retrieval)
    out: dict[str, Any] = {
        "pools": int(len(np.unique(data.vacancy_ids))),
        "weightedBaseline": hist.judged(pool, weighted, {}),
        SHIPPED: {
            **hist.judged(pool, shipped, {"weighted baseline": weighted}),
            "servedDefault": served_audit(pool, shipped, groups, MERIT_SHARE, DEFAULT_FLOOR),
        },
        "models": {},
    }
    for name, fitted in fit_models(world, text, histories, train, data).items():
        setting = calibrated[name]
        entry = {
            **hist.judged(pool, fitted["scores"], {"weighted baseline": weighted, "shipped ranker": shipped}),
            "params": fitted["params"],
            "servedDefault": served_audit(pool, fitted["scores"], groups, MERIT_SHARE, DEFAULT_FLOOR),
            "servedCalibrated": served_audit(pool, fitted["scores"], groups, setting["meritShare"], setting["floor"]),
        }
        reference = out[SHIPPED]["servedDefault"]["served"]
        floor = {
            g: min(row["exposureVsMerit"], 0.8) for g, row in reference.items() if row["exposureVsMerit"] is not None
        }
        entry["failingCalibrated"] = sorted(
            g
            for g, row in entry["servedCalibrated"]["served"].items()
            if row["exposureVsMerit"] is not None and row["exposureVsMerit"] < floor.get(g, 0.8)
        )
        out["models"][name] = entry
        print(
            name, json.dumps({k: entry[k] for k in ("oracleShare", "oracleShareCI", "failingCalibrated")}), flush=True
        )
    return out


def goal(entry: dict[str, Any]) -> dict[str, Any]:
    vs = entry["vs weighted baseline"]
    cost = entry["servedCalibrated"]["ndcg@10Cost"]
    return {
        "oracleShare>=0.75": entry["oracleShare"] >= 0.75,
        "ratio>=1.25 and its low end >=1.25": vs["ratio"] >= 1.25 and vs["ratioCI"][0] >= 1.25,
        "servedEveryGroup>=min(shipped,0.8)": not entry["failingCalibrated"],
        "servedCost<=0.05": cost is not None and cost <= 0.05,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("bench/results/fresh-ranker-served.json"))
    parser.add_argument("--validation-only", action="store_true", help="no held-out stage")
    args = parser.parse_args()
    start = time.perf_counter()
    settings = Settings(data_dir=args.data_dir)
    matcher = Matcher(settings)
    world = notes.load_world(matcher)
    text = notes.text_vectors(matcher, world)
    histories = histories_of(matcher)
    result: dict[str, Any] = {
        "command": "nice -n 10 .venv/bin/python -m bench.fresh_ranker_served " + " ".join(sys.argv[1:]),
        "rule": RULE,
        "loadavgAtStart": load_average(),
    }

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")

    train, _ = world.data.time_split(0.2)
    inner, _ = train.time_split(0.2)
    result["validation"] = validation(matcher, world, text, histories, inner, settings)
    chosen, setting, passed = choose(result["validation"])
    calibrated = {
        name: entry["calibration"]["chosen"] or entry["calibration"]["closest"]
        for name, entry in result["validation"]["models"].items()
    }
    result["validation"] |= {
        "chosen": chosen,
        "setting": {k: setting[k] for k in ("meritShare", "floor")},
        "passed": passed,
        "seconds": round(time.perf_counter() - start),
    }
    result["loadavgAfterValidation"] = load_average()
    save()
    print("chosen:", chosen, setting["meritShare"], setting["floor"], "passed:", passed, flush=True)
    if args.validation_only:
        return
    result["heldOut"] = held_out(matcher, world, text, histories, train, settings, calibrated)
    result["heldOut"] |= {
        "chosen": chosen,
        "goal": goal(result["heldOut"]["models"][chosen]),
        "seconds": round(time.perf_counter() - start),
    }
    result["loadavgAfterHeldOut"] = load_average()
    save()


if __name__ == "__main__":
    main()
