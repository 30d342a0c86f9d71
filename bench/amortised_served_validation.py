"""The served amortised floor's setting chosen on validation pools replayed exactly as served (issue 19 item 1).

Run from the repository root on a copy of the demo world after ``werkmatch db upgrade`` and ``werkmatch simulate
outcomes --years 3`` (no ``werkmatch train`` needed; nothing is written to the world):

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m \
        bench.amortised_served_validation --data-dir <copy> --out bench/results/amortised-served-s33-validation.json

Session 30 chose :data:`matching.exposure_amortised.SERVED` on 150 validation pools with a research model and a
replay that did not decay; since session 32 the served state decays (62-day half life) and the gate replays it so.
This validation is the gate one period earlier, by the library's own paths:

* the pairs as ``werkmatch train`` builds them (:func:`training.dataset.build_dataset` with
  :func:`api.services.voorstellen.training_labels`) and its training part
  (:func:`training.train.holdout_from`: every vacancy but the latest 20 %);
* the model as ``werkmatch train`` fits it (:func:`training.train.fit_on` on that training part: its tuning, its fit
  on all but the part's latest 20 %, and its Platt parameters on the latest 20 % of what it fitted on);
* the validation pools as the gate samples its held-out pools (:func:`training.promotion.holdout_pools` from the
  model's own holdout moment): 200 pools of the training part's latest 20 %, never a held-out vacancy;
* the audited groups as the gate audits them (:func:`training.fairness.group_labels`) and the serving groups as the
  gate labels them (:func:`training.served_floor.serving_labels`);
* every setting of :data:`GRID` replayed as served (:func:`training.exposure_eval.screen_amortised`: the exposure
  penalty at the served strength, then the amortised floor, its state decaying between the pools by the served
  half life), judged on point estimates; :data:`RULE` chooses; the chosen setting, the previous :data:`SERVED` and
  the merit floor are then audited with intervals by :func:`training.exposure_eval.served_fairness` (the gate's
  function, as :func:`training.served_floor.served_as_served` calls it), which must give the screen's point
  numbers (``sameAsScreen``).

The hidden truth (the pool's top fifth by true suitability) only judges.

Result (session 33, ``bench/results/amortised-served-s33-validation.json``, 296 s, load 1.1-8.1): 200 validation
pools from 2025-10-11 over 173 days (Platt a 1.22, b -1.20 on 2,038 rows). **No setting passes**, in either tier:
``geslacht=x`` (49 clients, 16 of the 2,000 places by merit) stays at 0.44-0.56 under all 108 tier-1 settings and
0.38-0.63 under the 216 of tier 2, where relevance-only lists give it 0.50 (8 places; 0.8 needs 13). The floor may not
act on a protected attribute and none of its groups carries this one, so no setting of it reaches the goal here.
32 tier-1 settings fail only ``geslacht=x``; the cheapest of them is target 0.8 / slack 1 / 2 swaps / trede +
ever proposed at 2.89 % [0.68, 5.12] (trede 0 0.91, trede 1 1.03, meedoen 0.85). The setting served since session 31
(0.8 / 1 / 3 swaps / + route) costs 3.86 % [1.55, 6.17] here, decaying, with trede 0 0.91 [0, 2.11] and
``geslacht=x`` 0.50 [0.19, 0.90] (its screen point and the gate's audit agree: 113 swaps, the same cost and ratios);
the merit floor 7.20 % [4.55, 9.80], failing ``geslacht=x`` 0.69, trede 0 0.23, trede 1 0.69 and meedoen 0.63.
:data:`RULE`'s closest (fewest failing groups, then the highest lowest ratio) is 1.0 / 0.5 / 3 swaps / trede at
4.72 % with ``geslacht=x`` 0.56, one shown place more. Trede 0 moves in steps of 0.23 (one place of about 4.4 earned
in 200 lists). A target above 1 stops the floor (0-8 swaps at 1.2): every group is then owed more than its share, so
no shown candidate's groups can spare a place. Swaps only from the top 20 or 30 (tier 2) leave trede 0 short as well
(3 of its 49 merited rows lie within the top 50). By the rule, :data:`SERVED` stays as it is and nothing is held out.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from api.services.voorstellen import training_labels
from bench._result import load_average
from matching.exposure_amortised import SERVED, SERVING_GROUPS
from matching.floor_state import HALF_LIFE_DAYS
from matching.matcher import Matcher
from matching.settings import Settings
from training.dataset import build_dataset
from training.exposure_eval import MAX_SERVED_COST, screen_amortised, served_fairness, served_method
from training.fairness import group_labels, suitable_in_pool
from training.promotion import holdout_pools
from training.served_floor import serving_labels
from training.train import fit_on, holdout_from

GROUPINGS = {
    "trede+geschiedenis+route": list(SERVING_GROUPS),
    "trede+geschiedenis": ["trede", "geschiedenis"],
    "trede": ["trede"],
}
TIER_1 = [
    {"target": t, "slack": sl, "maxSwaps": m, "groups": g}
    for t in (0.8, 0.9, 1.0, 1.2)
    for sl in (0.0, 0.5, 1.0)
    for m in (1, 2, 3)
    for g in GROUPINGS.values()
]
TIER_2 = [{**setting, "topK": k} for k in (20, 30) for setting in TIER_1]
GRID = {"1": TIER_1, "2": TIER_2}
RULE = (
    "Written and committed before any held-out run (session 33, helper S6). On the validation pools of this bench "
    "(200 pools of the training part's latest 20 %, the model fitted by training.train.fit_on on the rest, Platt "
    "included), every setting of the grid is replayed exactly as served (training.exposure_eval.screen_amortised: "
    "the exposure penalty at the served strength, then the amortised floor, its state decaying between the pools "
    "with the 62-day half life). A setting passes when every audited group of >= 30 clients "
    "(training.fairness.group_labels: trede, route, beperking, geslacht, leeftijd, migratieachtergrond) has "
    "exposureVsMerit >= 0.8 and the NDCG@10 cost against relevance-only lists of the same pools is <= 5 %, on the "
    "point estimates. Tier 1 (target 0.8/0.9/1.0/1.2 x slack 0/0.5/1 x at most 1/2/3 swaps x groups "
    "trede+geschiedenis+route / trede+geschiedenis / trede, swaps from the relevance top 50 as served) first; tier 2 "
    "(the same with swaps only from the relevance top 20 or 30) only if no tier-1 setting passes. The chosen setting "
    "is the cheapest passing one of the first tier with a passing setting (ties: fewer swaps, then the lower target, "
    "the higher slack, fewer swaps a list). It becomes matching.exposure_amortised.SERVED and is held out once: "
    "bench.amortised_served_live --part pools on a fresh demo copy (db upgrade, simulate outcomes --years 3, train "
    "--json with the new SERVED), the gate's 200 held-out pools, both halves reported with intervals. If nothing "
    "passes, SERVED stays as it is; the grid and the closest setting (fewest failing groups, counting a cost over 5 % "
    "as one, then the highest lowest ratio, then the lowest cost) are reported."
)


def passing(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in points if p["met"]]


def chosen_of(points: list[dict[str, Any]]) -> dict[str, Any]:
    """:data:`RULE`'s choice among one tier's points: the cheapest passing, else the closest (``passes`` says which)."""
    met = passing(points)
    if met:
        best = min(met, key=lambda p: (p["ndcg@10Cost"], p["swaps"], p["target"], -p["slack"], p["maxSwaps"]))
        return best | {"passes": True}
    closest = min(
        points,
        key=lambda p: (
            len(p["groupsBelow"]) + (p["ndcg@10Cost"] is None or p["ndcg@10Cost"] > MAX_SERVED_COST),
            -(p["lowest"]["value"] if p["lowest"] else 0.0),
            p["ndcg@10Cost"] if p["ndcg@10Cost"] is not None else 1.0,
        ),
    )
    return closest | {"passes": False}


def _brief(served: dict[str, Any]) -> dict[str, Any]:
    """A served audit's cost and every reported group's exposureVsMerit with its interval."""
    return {
        "ndcg@10Cost": served.get("ndcg@10Cost"),
        "ndcg@10CostCI": served.get("ndcg@10CostCI"),
        "goal": served.get("goal"),
        "exposureVsMerit": {
            f"{attribute}={group}": [row["exposureVsMerit"], row["exposureVsMeritCI"]]
            for attribute, section in served["attributes"].items()
            for group, row in section["groups"].items()
            if not row["tooSmall"]
        },
        "swaps": served["method"].get("swaps"),
        "listsChanged": served["method"].get("listsChanged"),
    }


def same_as_screen(audit: dict[str, Any], point: dict[str, Any]) -> bool:
    """Whether the gate's audit of a setting gives the screen's point numbers (cost, every screened group)."""
    ratios = audit["exposureVsMerit"]
    same = all(abs(ratios[key][0] - value) < 1e-3 for key, value in point["exposureVsMerit"].items() if key in ratios)
    return same and abs(audit["ndcg@10Cost"] - point["ndcg@10Cost"]) < 1e-3


def prepare(data_dir: Path) -> dict[str, Any]:
    """The model fitted as ``werkmatch train`` fits it on the training part, and its validation pools."""
    settings = Settings(data_dir=data_dir)
    matcher = Matcher(settings)
    data = build_dataset(matcher, labels=training_labels)  # werkmatch train's labels (with the inbox's declines)
    train_part, _, held_out_from = holdout_from(data)
    fitted = fit_on(settings, train_part)
    assert fitted.floor is not None, "the model carries no Platt parameters: nothing to choose"
    built = holdout_pools(matcher, train_part, fitted.start)
    assert built is not None, "synthetic data needed (the hidden truth judges)"
    pool, truth = built
    assert pool.moments.max() < datetime.fromisoformat(held_out_from).timestamp(), (
        "a validation pool lies in the held-out period"
    )
    groups = group_labels(matcher.engine, pool)
    return {
        "method": served_method(settings.ranker),
        "pool": pool,
        "scores": fitted.model.predict(pool.features),
        "groups": groups,
        "merit": suitable_in_pool(truth, pool.vacancy_ids),
        "serving": serving_labels(groups, list(SERVING_GROUPS)),
        "platt": fitted.floor["platt"],
        "facts": {
            "validationFrom": fitted.start,
            "heldOutFrom": held_out_from,
            "trainPairs": fitted.train_pairs,
            "params": fitted.params,
            "platt": fitted.floor["platt"],
            "pools": int(len(np.unique(pool.vacancy_ids))),
            "poolsSpanDays": round(float((pool.moments.max() - pool.moments.min()) / 86400.0), 1),
        },
    }


def audited(prepared: dict[str, Any], setting: dict[str, Any] | None) -> dict[str, Any]:
    """The gate's served audit with intervals: the amortised floor of ``setting``, or the merit floor (None)."""
    amortised = None if setting is None else {**setting, "platt": prepared["platt"]}
    served = served_fairness(
        prepared["pool"],
        prepared["scores"],
        prepared["groups"],
        prepared["merit"],
        **prepared["method"],
        amortised=amortised,
        serving=prepared["serving"] if amortised else None,
    )
    return _brief(served)


def sweep(prepared: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Every tier of :data:`GRID` in turn until one has a passing setting: its points and :data:`RULE`'s choice."""
    tiers: dict[str, Any] = {}
    platt = {"platt": prepared["platt"]}
    for tier, settings in GRID.items():
        points = screen_amortised(
            prepared["pool"],
            prepared["scores"],
            prepared["groups"],
            prepared["merit"],
            prepared["serving"],
            [setting | platt for setting in settings],
            strength=prepared["method"]["strength"],
        )
        points = [{k: v for k, v in p.items() if k != "platt"} for p in points]
        chosen = chosen_of(points)
        tiers[tier] = {"points": points, "passing": len(passing(points)), "chosen": chosen, "loadavg": load_average()}
        shown = ("target", "slack", "maxSwaps", "groups", "topK", "ndcg@10Cost", "lowest", "groupsBelow", "passes")
        print(tier, len(passing(points)), "passing;", {k: chosen.get(k) for k in shown}, flush=True)
        if chosen["passes"]:
            return tiers, chosen
    return tiers, None


def cached(data_dir: Path, cache: Path | None) -> dict[str, Any]:
    """:func:`prepare`'s result, kept in ``cache`` (a pickle) when given: the fit is the slow part."""
    if cache is not None and cache.exists():
        with cache.open("rb") as handle:
            return pickle.load(handle)
    prepared = prepare(data_dir)
    if cache is not None:
        with cache.open("wb") as handle:
            pickle.dump(prepared, handle)
    return prepared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache", type=Path, help="keep the fitted model's pools and scores here (a pickle)")
    args = parser.parse_args()
    began, loads = time.time(), [load_average()]
    prepared = cached(args.data_dir, args.cache)
    loads.append(load_average())
    out: dict[str, Any] = {
        "command": "flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m "
        "bench.amortised_served_validation --data-dir <copy: db upgrade, simulate outcomes --years 3> --out FILE",
        "rule": RULE,
        "method": prepared["method"],
        "halfLifeDays": HALF_LIFE_DAYS,
        **prepared["facts"],
    }
    tiers, chosen = sweep(prepared)
    keys = ("target", "slack", "maxSwaps", "groups", "topK")
    out["chosen"] = None if chosen is None else {k: chosen[k] for k in keys if k in chosen}
    out["tiers"] = tiers
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    audits = {"previous SERVED": audited(prepared, dict(SERVED)), "merit floor": audited(prepared, None)}
    if chosen is not None:
        audits["chosen"] = audited(prepared, out["chosen"])
        audits["chosen"]["sameAsScreen"] = same_as_screen(audits["chosen"], chosen)
    loads.append(load_average())
    out |= {"audits": audits, "loadavg": loads, "seconds": round(time.time() - began)}
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
