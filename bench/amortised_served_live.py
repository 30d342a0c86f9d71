"""The amortised floor as served (issue 19 item 1, session 31): the gate's pools and live served searches.

Run from the repository root on a copy of the demo world after ``werkmatch db upgrade``, ``werkmatch simulate
outcomes --years 3`` and ``werkmatch train --json`` (version 1, carrying Platt parameters):

    nice -n 15 .venv/bin/python -m bench.amortised_served_live --data-dir <copy> --part pools|live --out FILE

* ``pools``: on the 200 pools of held-out vacancies ``werkmatch promote`` judges, the trained model's served lists
  with today's default (the merit floor), with its amortised floor as served (the setting ``werkmatch train`` stored
  with it, :data:`matching.exposure_amortised.SERVED`, fixed before: nothing is tuned on these pools), with session
  30's setting (:data:`SESSION_30`, served in sessions 31-32) for comparison, both decaying as served, and the shipped
  baseline's default; exposureVsMerit per group and the NDCG@10 cost with intervals (the hidden truth judges only).
* ``live``: served candidate searches (top 20) of the first 240 open vacancies (after one unserved warm-up search),
  alternating per search three variants of the trained model: the amortised floor reading its state and who was ever
  proposed from the process's copies (session 32), the same reading them per search as session 31 did (every state
  row, an ever-proposed query over the pool), and the model without its Platt parameters (the merit floor): wall
  and CPU time per search, how many shown places the floor swapped in, whether the copies gave what the reads per
  search give before each search of the first (the state as loaded and ever proposed for every client), how often
  the process read the state's rows, and the state afterwards. Writes into the copy (the exposure ledger, the floor
  state); start each run from a fresh copy.

Results: session 31 ``bench/results/amortised-served-s31-{pools,live}.json``, session 32
``bench/results/amortised-served-s32-live.json``; see the README, "The amortised floor, served".
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
from matching.domain import Client, Vacancy, utcnow
from matching.exposure_amortised import SPEC_KEY, AmortisedFloor
from matching.lookup import in_chunks
from matching.matcher import Matcher
from matching.outcomes import Voorstel
from matching.ranker import LearnedRanker
from matching.settings import Settings
from training import registry
from training.dataset import build_dataset
from training.exposure_eval import served_fairness, served_method
from training.fairness import group_labels, suitable_in_pool
from training.promotion import holdout_pools
from training.served_floor import amortised_of, served_as_served

LIVE_VACANCIES = 240
SESSION_30 = {"target": 0.8, "slack": 1.0, "maxSwaps": 3, "groups": ["trede", "geschiedenis", "route"], "topK": 50}


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
    stored = amortised_of(ranker)
    assert stored is not None, "the trained model carries no Platt parameters"
    shipped = matcher.baseline.score(pool.features)
    days = (pool.moments.max() - pool.moments.min()) / 86400.0
    return {
        "vacancies": int(len(np.unique(pool.vacancy_ids))),
        "storedSetting": {key: value for key, value in stored.items() if key != "platt"},
        "poolsSpanDays": round(float(days), 1),
        "rankers": {
            "trained, default (merit floor)": _brief(served_fairness(pool, scores, groups, merit, **method)),
            "trained, amortised as served (the setting stored with the model), decaying": _brief(
                served_as_served(matcher, pool, scores, groups, merit, stored)
            ),
            "trained, amortised with session 30's setting (served in sessions 31-32), decaying": _brief(
                served_as_served(matcher, pool, scores, groups, merit, {**stored, **SESSION_30})
            ),
            "shipped baseline, default": _brief(served_fairness(pool, shipped, groups, merit, **method)),
        },
    }


def _as_session_31() -> tuple[Any, Any]:
    """Session 31's reads, for the comparison: every row of the model's state and an ever-proposed query per search."""

    def load(session: Session, ranker: str, floor: Any, at: Any = None) -> Any:
        now = 1.0 / floor_state.weight(at or utcnow())
        table = floor_state.AmortisedFloorState
        for row in session.exec(select(table).where(table.ranker == ranker)).all():
            if row.attribute == floor_state.TOTAL:
                floor.total_places_, floor.total_merit_ = row.places * now, row.merit * now
            else:
                floor.places_[(row.attribute, row.grp)] = row.places * now
                floor.merit_[(row.attribute, row.grp)] = row.merit * now
        return floor

    def ever_proposed(session: Session, client_ids: np.ndarray, vacancy_id: int) -> np.ndarray:
        wanted = [int(value) for value in client_ids]
        found: set[int] = set()
        for chunk in in_chunks(wanted):
            statement = select(Voorstel.client_id).where(Voorstel.client_id.in_(chunk))  # type: ignore[attr-defined]
            found.update(int(c) for c in session.exec(statement.where(Voorstel.vacancy_id != vacancy_id).distinct()))
        return np.array([client in found for client in wanted], bool)

    return load, ever_proposed


def _same_reads(matcher: Matcher, key: str, clients: np.ndarray, number: str, cached: tuple[Any, Any]) -> bool:
    """Whether the process's copies give what session 31's reads give now: the state, ever proposed per client."""
    fresh_load, fresh_ever = _as_session_31()
    at = utcnow()
    with Session(matcher.engine) as session:
        vacancy = session.exec(select(Vacancy.id).where(Vacancy.vacature_nummer == number)).one()
        a, b = cached[0](session, key, AmortisedFloor(), at), fresh_load(session, key, AmortisedFloor(), at)
        state = [(f.places_, f.merit_, f.total_places_, f.total_merit_) for f in (a, b)]
        ever = [read(session, clients, vacancy) for read in (cached[1], fresh_ever)]
        return state[0] == state[1] and bool(np.array_equal(*ever))


def live(matcher: Matcher, ranker: LearnedRanker) -> dict[str, Any]:
    """Three served variants alternating per search: the amortised floor reading the state from the process's copy
    (session 32), the same reading it per search as session 31 did, and the merit floor (the model without Platt
    parameters). Before each search of the first, its reads must give what session 31's give (the state as loaded,
    and ever proposed for every client)."""
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
        numbers = [v.vacature_nummer for v in session.exec(wanted).all()][: LIVE_VACANCIES + 1]
    matcher.search_candidates(numbers.pop(), top=20)  # warm (indexes, model): not served, nothing written
    cached = (floor_state.load, floor_state.ever_proposed)
    variants = {"amortised, in-process state": (ranker, cached), "amortised, read per search": (ranker, None)}
    variants["merit floor"] = (plain, cached)
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}  # this process's CPU: less hostage to the load
    lifted, same = 0, 0
    key = floor_state.ranker_key(ranker.describe())
    with Session(matcher.engine) as session:
        clients = np.array(session.exec(select(Client.id)).all())
    for i, number in enumerate(numbers):
        name = list(variants)[i % len(variants)]
        used, reads = variants[name]
        floor_state.load, floor_state.ever_proposed = reads or _as_session_31()
        matcher.use_ranker(used)
        if name == "amortised, in-process state":
            same += _same_reads(matcher, key, clients, number, cached)
        began, began_cpu = time.perf_counter(), time.process_time()
        found = matcher.search_candidates(number, top=20, served=True).to_json()
        times[name].append(1000 * (time.perf_counter() - began))
        cpu[name].append(1000 * (time.process_time() - began_cpu))
        if name == "amortised, in-process state":
            lifted += sum(floor_state.FAIR_ATTENTION in item["redenen"] for item in found["resultaten"][:10])
    floor_state.load, floor_state.ever_proposed = cached
    with Session(matcher.engine) as session:
        rows = session.exec(select(floor_state.AmortisedFloorState)).all()
        scale = floor_state.weight(utcnow())
        state = {f"{r.attribute}={r.grp}": [round(r.places / scale, 1), round(r.merit / scale, 1)] for r in rows}
    return {
        "ms": {
            k: {"n": len(v), "p50": round(float(np.percentile(v, 50)), 1), "p95": round(float(np.percentile(v, 95)), 1)}
            for k, v in times.items()
        },
        "cpuMs": {
            k: {"n": len(v), "p50": round(float(np.percentile(v, 50)), 1), "p95": round(float(np.percentile(v, 95)), 1)}
            for k, v in cpu.items()
        },
        "fairAttentionShown": int(lifted),
        "placesShown": 10 * len(times["amortised, in-process state"]),
        "sameReadsAsPerSearch": f"{same} of {len(times['amortised, in-process state'])}",
        "stateReads": floor_state.state_cache(Session(matcher.engine)).reads,
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
