"""Served exposure against merit on the national world, where geslacht x can be read (issue 19, item 1).

Run from the repository root on a copy of the national world (400,000 clients, 300,000 vacancies, hidden truth in
``synthetic_latent``, audit table ``audit_kenmerken``; no voorstellen), loaded once (about 10 minutes, 2.5 GB)::

    mkdir /tmp/n1-n && cp -a /tmp/wm-base/bench-400000/. /tmp/n1-n/
    flock /tmp/quiet.gate true && flock /tmp/bigmem.lock flock -s /tmp/quiet.lock nice -n 12 \\
        .venv/bin/python -m bench.exposure_national --data-dir /tmp/n1-n --vacancies 600 --also 200 \\
        --out bench/results/exposure-national-s39.json

On the demo world (9,000 clients) every audited group meets the issue's goal held out (exposure ÷ merit ≥ 0.8 as
served, NDCG@10 cost ≤ 5 %) except ``geslacht=x``: 52 clients whose merit rests on about five effective clients, so
one list place moves its ratio by about 1/17 (README, "Exposure across the bestand"). The national world holds about
2,000 x clients. This bench reads the lists *as served* there, exactly as ``werkmatch evaluate`` audits them
(``api.cli.models._pool_audits``: :func:`training.served_floor.served_as_served` with the floor the model is served
with), for the shipped baseline ranker (``models/baseline-ranker``: what the service serves without a champion; it
was trained on another synthetic world, seed 7, so every national pool is held out for it) and the shipped settings
(:func:`training.exposure_eval.served_method` of ``Settings().ranker``, merit share
:data:`matching.exposure.MERIT_SHARE`):

* a seeded random sample of ``--vacancies`` of all national vacancies (any status: the pool is built as for a
  closed vacancy in ``werkmatch evaluate``), :func:`sample_with_moments`;
* the world has no voorstellen, so no vacancy has a moment: the sample is spread evenly over one year (2026) in its
  seeded order, the first drawn first. The moments order the replay through the exposure ledger and date the
  simulated employers' bias and the age bands; the first ``--also`` vacancies are then the earliest, so their
  served lists are the same in the whole replay and in their own (the ledger only reads earlier pools), and they are
  audited again on their own (a sample of the size ``werkmatch evaluate`` takes on the demo);
* whole candidate pools with hidden truth (:func:`training.pool_eval.pool_holdout`, one call for the whole sample,
  its first five pools timed alone first), groups (:func:`training.fairness.group_labels`), merit
  (:func:`training.fairness.suitable_in_pool`), then the served audit with intervals (vacancy bootstrap) and the
  relevance-only numbers beside it; per group :func:`group_table` adds the merit rows, and geslacht x gets a
  client bootstrap interval beside the audit's vacancy bootstrap (:func:`x_client_bootstrap`).

Nothing is written to the world but what loading it writes (its index catch-up); pools can be kept in ``--pools``
(an ``.npz``) so a second audit does not load the world again.

Result (session 39, ``bench/results/exposure-national-s39*.json``, from a worktree at 1f48df9, load 2-12 on 2 cores;
loading 5-11 min, 0.2-0.4 s a pool, at most 3.6 GB): no group of >= 30 clients is under 0.8 as served in any of the
samples, geslacht x included: 600 pools (786 x clients, Kish-effective 129 merit clients) x 1.10 [0.75, 1.44], client
bootstrap [0.77, 1.46], relevance-only 1.16; a second sample of 1,200 pools (1,023 x clients, 147 effective) x 1.21
[0.94, 1.47], relevance-only 1.29; lowest groups leeftijd tot 27 0.88 [0.81, 0.96] and trede 3 0.91 [0.89, 0.93].
NDCG@10 cost 2.3 % [0.9, 3.7] on the 600, 4.8 % [3.8, 5.8] on the 1,200 (its first 600 alone 4.9 %: the sample, not
a denser ledger).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session, select

from bench._result import load_average, provenance, write_json
from bench.geslacht_x_analysis import _ratio, _ratio_boot, per_client
from bench.national_load_memory import status_mb
from matching.domain import Vacancy
from matching.exposure import MERIT_SHARE
from matching.matcher import Matcher
from matching.settings import Settings
from training.dataset import RankingData
from training.exposure_eval import _groups_in_time_order, replay, served_method
from training.fairness import MIN_GROUP, group_labels, suitable_in_pool, top_k_mask
from training.pool_eval import pool_holdout
from training.served_floor import amortised_of, served_as_served

ROOT = Path(__file__).resolve().parents[1]
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
YEAR_SECONDS = 365 * 86_400.0
TRIAL = 5  # pools timed alone before the whole sample: seconds and memory per pool at national size
POOL_FIELDS = ("features", "labels", "vacancy_ids", "client_ids", "moments", "bron", "trede")
DRAWS = 2000  # client bootstrap draws of geslacht x


def sample_with_moments(
    vacancy_ids: np.ndarray, size: int, seed: int = 0, start: float = YEAR_START, span: float = YEAR_SECONDS
) -> tuple[np.ndarray, dict[int, float]]:
    """A seeded sample of ``size`` vacancies (in the order drawn) and a moment for each: spread evenly over
    ``span`` seconds from ``start`` in the order drawn, so every prefix of the sample is its earliest part."""
    ids = np.asarray(vacancy_ids, np.int64)
    sample = np.random.default_rng(seed).choice(ids, size=min(size, len(ids)), replace=False)
    step = span / max(len(sample), 1)
    return sample, {int(vacancy_id): start + at * step for at, vacancy_id in enumerate(sample.tolist())}


def group_table(
    served: dict[str, Any], groups: dict[str, np.ndarray], merit: np.ndarray, min_group: int = MIN_GROUP
) -> list[dict[str, Any]]:
    """Per audited group of the served audit (:func:`training.exposure_eval.served_fairness`): its clients, merit
    rows, merit clients and Kish-effective merit clients, exposure ÷ merit with its interval as served and in
    relevance-only lists, and whether it is under the goal (a group of ≥ ``min_group`` clients under 0.8 served),
    lowest served ratio first."""
    goal = served.get("goal", {}).get("exposureVsMeritAtLeast", 0.8)
    rows = []
    for attribute, section in served["attributes"].items():
        for group, row in section["groups"].items():
            before = served["relevanceOnly"][attribute][group]
            value = row["exposureVsMerit"]
            rows.append(
                {
                    "group": f"{attribute}={group}",
                    "clients": row["clients"],
                    "meritRows": int(np.sum(merit & (groups[attribute] == group))),
                    "meritClients": row["meritClients"],
                    "effectiveMeritClients": row["effectiveMeritClients"],
                    "served": value,
                    "servedCI": row["exposureVsMeritCI"],
                    "relevanceOnly": before["exposureVsMerit"],
                    "relevanceOnlyCI": before["exposureVsMeritCI"],
                    "read": row["clients"] >= min_group,
                    "under": bool(row["clients"] >= min_group and value is not None and value < goal),
                }
            )
    return sorted(rows, key=lambda row: (row["served"] is None, row["served"] or 0.0))


def x_client_bootstrap(
    pool: RankingData,
    scores: np.ndarray,
    groups: dict[str, np.ndarray],
    merit: np.ndarray,
    method: dict[str, Any],
    draws: int = DRAWS,
    seed: int = 0,
) -> dict[str, Any]:
    """geslacht x's exposure ÷ merit with a **client** bootstrap interval, as served (the merit floor of ``method``,
    :func:`training.exposure_eval.served_fairness`'s ``method``) and relevance-only: the audit's interval resamples
    vacancies and holds the clients fixed, so it misses that x's merit rests on few people (session 33's
    :func:`bench.geslacht_x_analysis.noise`, its x clients resampled with every other client as it is)."""
    assert method.get("amortisedFloor") is None, "the client bootstrap replays the merit floor only"
    scores = np.asarray(scores, np.float64)  # as served_fairness replays them
    in_time = _groups_in_time_order(pool)
    served_as, _ = replay(
        pool, scores, method["strength"], in_time, floor=method["floor"], merit_share=method["meritShare"]
    )
    relevance_as, _ = replay(pool, scores, 0.0, in_time)
    top = {
        "relevanceOnly": top_k_mask(relevance_as, pool.vacancy_ids),
        "served": top_k_mask(served_as, pool.vacancy_ids),
    }
    c = per_client({"pool": pool, "merit": merit, "groups": groups}, top)
    x = np.flatnonzero(c["x"])
    rng = np.random.default_rng(seed)
    boot = [rng.choice(x, size=len(x), replace=True) for _ in range(draws)]
    return {
        "clients": len(x),
        "draws": draws,
        **{
            name: {
                "exposureVsMerit": round(_ratio(c, x, name), 4),
                "clientBootstrapCI": [
                    round(float(q), 4)
                    for q in np.nanpercentile([_ratio_boot(c, g, x, name) for g in boot], (2.5, 97.5))
                ],
            }
            for name in top
        },
    }


def audit(matcher: Matcher, pool: RankingData, truth: np.ndarray) -> dict[str, Any]:
    """The served lists' audit of the shipped baseline on ``pool`` as ``werkmatch evaluate`` makes it, with the
    per-group table and geslacht x's client bootstrap."""
    ranker = matcher.baseline
    assert ranker is not None, "the shipped baseline ranker did not load"
    started = time.perf_counter()
    groups, merit = group_labels(matcher.engine, pool), suitable_in_pool(truth, pool.vacancy_ids)
    scores = ranker.score(pool.features)
    served = served_as_served(matcher, pool, scores, groups, merit, amortised_of(ranker))
    x = x_client_bootstrap(pool, scores, groups, merit, served["method"])
    return {
        "vacancies": served["vacancies"],
        "poolRows": len(pool),
        "clients": int(len(np.unique(pool.client_ids))),
        "meritRows": int(merit.sum()),
        "method": served["method"],
        "ndcg@10": served.get("ndcg@10"),
        "ndcg@10RelevanceOnly": served.get("ndcg@10RelevanceOnly"),
        "ndcg@10Cost": served.get("ndcg@10Cost"),
        "ndcg@10CostCI": served.get("ndcg@10CostCI"),
        "goal": served.get("goal"),
        "groups": group_table(served, groups, merit),
        "geslachtX": x,
        "audit": served,
        "auditSeconds": round(time.perf_counter() - started, 1),
    }


def save_pools(path: Path, pool: RankingData, truth: np.ndarray, sample: np.ndarray) -> None:
    np.savez(path, truth=truth, sample=sample, **{name: getattr(pool, name) for name in POOL_FIELDS})


def load_pools(path: Path) -> tuple[RankingData, np.ndarray, np.ndarray]:
    kept = np.load(path, allow_pickle=False)
    pool = RankingData(**{name: kept[name] for name in POOL_FIELDS})
    return pool, kept["truth"], kept["sample"]


def build(matcher: Matcher, vacancies: int, seed: int) -> tuple[RankingData, np.ndarray, np.ndarray, dict]:
    """Load the world, draw the sample and build its pools (the first :data:`TRIAL` timed alone first)."""
    started = time.perf_counter()
    matcher.sync()
    matcher.index.arrays()
    loaded = {"seconds": round(time.perf_counter() - started, 1), "memoryMb": status_mb(), "load": load_average()}
    print(f"geladen in {loaded['seconds']} s, {loaded['memoryMb']}", flush=True)
    with Session(matcher.engine) as session:
        every = np.array(session.exec(select(Vacancy.id).order_by(Vacancy.id)).all(), np.int64)
    sample, moments = sample_with_moments(every, vacancies, seed)
    started = time.perf_counter()
    trial = pool_holdout(matcher, sample[:TRIAL], moments)
    if trial is None:
        raise SystemExit("geen verborgen waarheid in deze gegevens: de meting werkt alleen op synthetische data")
    trial_seconds = time.perf_counter() - started
    print(f"{TRIAL} pools: {trial_seconds:.1f} s, {len(trial[0])} rijen, {status_mb()}", flush=True)
    started = time.perf_counter()
    built = pool_holdout(matcher, sample, moments)
    if built is None:
        raise SystemExit("een pool zonder verborgen waarheid: de meting werkt alleen op synthetische data")
    pool, truth = built
    timing = {
        "loaded": loaded,
        "trial": {"vacancies": TRIAL, "rows": len(trial[0]), "seconds": round(trial_seconds, 1)},
        "poolSeconds": round(time.perf_counter() - started, 1),
        "memoryMbAfterPools": status_mb(),
        "vacanciesInWorld": len(every),
    }
    print(f"{len(sample)} pools: {timing['poolSeconds']} s, {len(pool)} rijen, {status_mb()}", flush=True)
    return pool, truth, sample, timing


def report(name: str, result: dict[str, Any]) -> None:
    print(
        f"{name}: {result['vacancies']} vacatures, {result['poolRows']} rijen, NDCG@10 {result['ndcg@10']} "
        f"(relevantie {result['ndcg@10RelevanceOnly']}), kosten {result['ndcg@10Cost']} {result['ndcg@10CostCI']}, "
        f"onder 0,8: {result['goal']['groupsBelow'] if result['goal'] else None}"
    )
    x = result["geslachtX"]
    print(f"  geslacht=x, clientbootstrap: {x['served']} (getoond), {x['relevanceOnly']} (relevantie)")
    for row in result["groups"]:
        print(
            f"  {row['group']:<32} {row['clients']:>6} cl. {row['meritRows']:>6} verd. "
            f"eff. {row['effectiveMeritClients']:>7}  getoond {row['served']} {row['servedCI']}  "
            f"relevantie {row['relevanceOnly']} {row['relevanceOnlyCI']}{'  ONDER' if row['under'] else ''}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--vacancies", type=int, default=200)
    parser.add_argument("--also", type=int, default=None, help="also audit the first (earliest) this many alone")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pools", type=Path, default=None, help="an .npz: read the pools from it, else keep them")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "exposure-national.json")
    args = parser.parse_args()
    began = time.perf_counter()
    result: dict[str, Any] = {"command": " ".join(sys.argv), "provenance": provenance(), "loadBefore": load_average()}
    settings = Settings(data_dir=args.data_dir)
    matcher = Matcher(settings, may_write=False)
    if args.pools is not None and args.pools.exists():
        pool, truth, sample = load_pools(args.pools)
        result["pools"] = {"readFrom": str(args.pools)}
    else:
        pool, truth, sample, result["pools"] = build(matcher, args.vacancies, args.seed)
        if args.pools is not None:
            save_pools(args.pools, pool, truth, sample)
    assert matcher.baseline is not None
    result.update(
        {
            "dataDir": str(args.data_dir),
            "rankedBy": matcher.baseline.describe(),
            "servedSettings": {**served_method(settings.ranker), "meritShare": MERIT_SHARE},
            "sample": {
                "seed": args.seed,
                "vacancies": len(sample),
                "from": "every vacancy of the world (any status), numpy default_rng(seed).choice without replacement",
                "moments": "spread evenly over 2026 in the order drawn (the world has no voorstellen)",
            },
        }
    )
    parts = {f"first{args.also}": sample[: args.also]} if args.also and args.also < len(sample) else {}
    parts[f"all{len(sample)}"] = sample
    for name, ids in parts.items():
        rows = np.isin(pool.vacancy_ids, ids)
        result[name] = audit(matcher, pool.take(rows), truth[rows])
        report(name, result[name])
    result["loadAfter"] = load_average()
    result["seconds"] = round(time.perf_counter() - began, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(f"{result['seconds']} s; geschreven: {args.out}", flush=True)


if __name__ == "__main__":
    main()
