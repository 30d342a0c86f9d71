"""The amortised floor as served (issue 19 item 1, session 31): the gate's pools and live served searches.

Run from the repository root on a copy of the demo world after ``werkmatch db upgrade``, ``werkmatch simulate
outcomes --years 3`` and ``werkmatch train --json`` (version 1, carrying Platt parameters):

    nice -n 15 .venv/bin/python -m bench.amortised_served_live --data-dir <copy> --part pools|live --out FILE

* ``pools``: on the 200 pools of held-out vacancies ``werkmatch promote`` judges, the trained model's served lists
  with today's default (the merit floor) and with its amortised floor (what serves it now), and the shipped
  baseline's default; exposureVsMerit per group and the NDCG@10 cost with intervals (the hidden truth judges only).
  The setting is :data:`matching.exposure_amortised.SERVED`, fixed before: nothing is tuned on these pools.
* ``live``: served candidate searches (top 20) of the first 160 open vacancies, alternating the trained model with
  and without its Platt parameters (amortised floor / merit floor): time per search, how many shown places the floor
  swapped in, and the floor state afterwards. Writes into the copy (the exposure ledger and the floor state).

Result (session 31, ``bench/results/amortised-served-s31-{pools,live}.json``): see the README, "The amortised floor,
served".
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session, select

from matching import floor_state
from matching.domain import Vacancy
from matching.exposure_amortised import SPEC_KEY
from matching.matcher import Matcher
from matching.ranker import LearnedRanker
from matching.settings import Settings
from training import registry
from training.dataset import build_dataset
from training.exposure_eval import served_fairness, served_method
from training.fairness import group_labels, suitable_in_pool
from training.promotion import holdout_pools
from training.served_floor import amortised_of, served_as_served

LIVE_VACANCIES = 160


def _brief(served: dict[str, Any]) -> dict[str, Any]:
    rows = {
        f"{attribute}={group}": row["exposureVsMerit"]
        for attribute, section in served["attributes"].items()
        for group, row in section["groups"].items()
        if not row["tooSmall"]
    }
    return {
        "ndcg@10Cost": served.get("ndcg@10Cost"),
        "ndcg@10CostCI": served.get("ndcg@10CostCI"),
        "goal": served.get("goal"),
        "exposureVsMerit": rows,
        "trede0CI": served["attributes"]["trede"]["groups"]["0"]["exposureVsMeritCI"],
        "method": served["method"],
    }


def pools(matcher: Matcher, ranker: LearnedRanker) -> dict[str, Any]:
    settings = matcher.settings
    data = build_dataset(matcher)
    built = holdout_pools(matcher, data, ranker.spec["holdoutFrom"])
    assert built is not None and matcher.baseline is not None, "synthetic data with the shipped baseline needed"
    pool, truth = built
    groups, merit = group_labels(matcher.engine, pool), suitable_in_pool(truth, pool.vacancy_ids)
    scores = ranker.score(pool.features)
    method = served_method(settings.ranker)
    shipped = matcher.baseline.score(pool.features)
    return {
        "vacancies": int(len(np.unique(pool.vacancy_ids))),
        "rankers": {
            "trained, default (merit floor)": _brief(served_fairness(pool, scores, groups, merit, **method)),
            "trained, amortised (served)": _brief(
                served_as_served(matcher, pool, scores, groups, merit, amortised_of(ranker))
            ),
            "shipped baseline, default": _brief(served_fairness(pool, shipped, groups, merit, **method)),
        },
    }


def live(matcher: Matcher, ranker: LearnedRanker) -> dict[str, Any]:
    plain = LearnedRanker(
        ranker.booster,
        {k: v for k, v in ranker.spec.items() if k != SPEC_KEY},
        ranker.name,
        ranker.version,
        ranker.source,
        dict(ranker.extra),
    )
    with Session(matcher.engine) as session:
        wanted = select(Vacancy).where(Vacancy.status == "open").order_by(Vacancy.id)  # type: ignore[arg-type]
        numbers = [v.vacature_nummer for v in session.exec(wanted).all()][:LIVE_VACANCIES]
    times: dict[str, list[float]] = {"amortised": [], "merit floor": []}
    lifted = 0
    for i, number in enumerate(numbers):
        name, used = ("amortised", ranker) if i % 2 == 0 else ("merit floor", plain)
        matcher.use_ranker(used)
        began = time.perf_counter()
        found = matcher.search_candidates(number, top=20, served=True).to_json()
        times[name].append(1000 * (time.perf_counter() - began))
        if name == "amortised":
            lifted += sum(floor_state.FAIR_ATTENTION in item["redenen"] for item in found["resultaten"][:10])
    with Session(matcher.engine) as session:
        rows = session.exec(select(floor_state.AmortisedFloorState)).all()
        state = {f"{r.attribute}={r.grp}": [round(r.places, 1), round(r.merit, 1)] for r in rows}
    return {
        "ms": {
            k: {"n": len(v), "p50": round(float(np.percentile(v, 50)), 1), "p95": round(float(np.percentile(v, 95)), 1)}
            for k, v in times.items()
        },
        "fairAttentionShown": int(lifted),
        "placesShown": 10 * len(times["amortised"]),
        "stateAfter": state,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--part", choices=("pools", "live"), required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    began, load = time.time(), [list(os.getloadavg())]
    settings = Settings(data_dir=args.data_dir)
    matcher = Matcher(settings)
    [info] = [v for v in registry.versions(settings) if v.version == "1"]
    ranker = registry.load_version(settings, info)
    result = pools(matcher, ranker) if args.part == "pools" else live(matcher, ranker)
    load.append(list(os.getloadavg()))
    command = f"nice -n 15 .venv/bin/python -m bench.amortised_served_live --data-dir <copy> --part {args.part}"
    out = {"command": command, "loadavg": load, "seconds": round(time.time() - began), **result}
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
