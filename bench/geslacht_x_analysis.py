"""Why the ranker under-exposes ``geslacht=x`` on the validation pools: noise, or something that carries it? (issue 19)

Run from the repository root on a copy of the demo world after ``werkmatch db upgrade`` and ``werkmatch simulate
outcomes --years 3`` (nothing is written to the world; validation pools only, never a held-out vacancy):

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m \
        bench.geslacht_x_analysis --data-dir <copy> --out bench/results/geslacht-x-s33.json

The pools, scores, groups and merit are exactly those of ``bench.amortised_served_validation`` (its
:func:`~bench.amortised_served_validation.prepare`: ``werkmatch train``'s own fit on the training part and the
gate's 200 pools of that part's latest 20 %); the fitted model is kept beside them for its SHAP values. Then:

1. **Noise.** ``geslacht=x``'s exposureVsMerit (top-10 share over its share of the truly suitable) in relevance-only
   and in served lists (the served amortised floor, :data:`matching.exposure_amortised.SERVED`, replayed as
   served) against two null distributions of random client groups of the same size: (a) any clients of the pools,
   (b) *merit-matched*: every x client replaced by a non-x client with the same number of merit rows (the same merit
   distribution, so the same concentration). Plus a client bootstrap of x and the leave-one-client-out ratios.
2. **What the ranker reads.** LightGBM's ``pred_contrib`` (SHAP) per feature, mean over the merit rows of x against
   the other merit rows of the pools that hold an x merit row, with the raw feature values; per feature a z score of
   x's per-client mean against random groups of as many merit clients.
3. **The simulator.** Per geslacht: the labels of the merit rows (the simulated employers' verdicts), the hidden
   factors of the merit clients, and the generator's fields over the whole world
   (:func:`bench.geslacht_x_probe.generator_fields`).

Result (session 33, ``bench/results/geslacht-x-s33.json`` at b880e9c, 179 s from the cached fit, load 6-13 on 2
cores): x has 49 clients, 24 with merit rows, 179 merit rows, Kish-effective 4.9 merit clients (the others 1,089);
its top 3 carry 61 % (one client 74 rows). exposureVsMerit 0.50 in relevance-only and in served lists (8 shown of
16.0 earned places). Random groups of 49 clients read <= 0.50 in 6.4 % (served 3.5 %) of 2,000 draws; merit-matched
groups in 14.2 % (served 10.3 %), median 0.69: **not a significant group effect once the merit distribution is
matched**. The mechanism is concentration: over all clients exposureVsMerit falls with the pools a client merits
(1 pool 1.97, 2-3 1.68, 4-7 1.12, 8-15 0.86, 16-31 0.67, >= 32 0.48; served 2.24 ... 0.40), and at its bins' rates x
would get 12.9 places (0.80), not 8; the rest (4.9 places) lies within the client bootstrap [0.22, 1.00]. Leaving out
any one of the top 3 carriers leaves 0.53-0.56. SHAP: x's merit rows score as high as the other merit rows of their
128 pools (-1.91 vs -1.95); no feature separates them (largest gap lexical_similarity -0.05; every per-client
|z| <= 1.7). Simulator: geslacht reaches only the first name (``training/population/people.py``), the employers' bias
has no geslacht term (``training/outcome_sim.protected_bias``), the generator's fields do not differ (|z| <= 1.67);
x's merit clients have higher hidden motivation (0.60 vs 0.43) and reliability (0.48 vs 0.29-0.33), and their merit
rows earn more positive labels (36 % vs 23 %): merit through hidden factors the profile shows only partly.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import time
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import bench.amortised_served_validation as validation
from bench._result import load_average
from bench.geslacht_x_probe import generator_fields
from matching.exposure_amortised import SERVED
from training.exposure_eval import _amortised_replay, _groups_in_time_order, replay
from training.fairness import top_k_mask
from training.train import fit_on

GROUP = "x"
DRAWS = 2000


def prepare_with_model(data_dir: Path, cache: Path | None) -> dict[str, Any]:
    """S6's :func:`~bench.amortised_served_validation.prepare` with the model its ``fit_on`` fitted (kept in
    ``cache``, a pickle, when given: the fit is the slow part)."""
    if cache is not None and cache.exists():
        with cache.open("rb") as handle:
            return pickle.load(handle)
    kept: dict[str, Any] = {}

    def keeping(*args: Any, **kwargs: Any) -> Any:
        kept["fitted"] = fitted = fit_on(*args, **kwargs)
        return fitted

    with mock.patch.object(validation, "fit_on", keeping):
        prepared = validation.prepare(data_dir)
    prepared["model"] = kept["fitted"].model
    if cache is not None:
        with cache.open("wb") as handle:
            pickle.dump(prepared, handle)
    return prepared


def tops(prepared: dict[str, Any]) -> dict[str, np.ndarray]:
    """The top-10 rows of the relevance-only lists and of the lists as served (SERVED, decaying), as the gate."""
    pool, scores = prepared["pool"], np.asarray(prepared["scores"], np.float64)
    in_time = _groups_in_time_order(pool)
    relevance_as, _ = replay(pool, scores, 0.0, in_time)
    replayed = _amortised_replay(scores, {**SERVED, "platt": prepared["platt"]}, prepared["serving"])
    served_as, _ = replay(pool, scores, prepared["method"]["strength"], in_time, amortised=replayed)
    return {
        "relevanceOnly": top_k_mask(relevance_as, pool.vacancy_ids),
        "served": top_k_mask(served_as, pool.vacancy_ids),
    }


def per_client(prepared: dict[str, Any], top: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per client of the pools: its merit rows, its top-10 rows per ordering, and whether it is x."""
    pool, merit = prepared["pool"], prepared["merit"]
    ids, inverse = np.unique(pool.client_ids, return_inverse=True)
    x_rows = prepared["groups"]["geslacht"] == GROUP
    count = lambda mask: np.bincount(inverse, weights=mask.astype(np.float64), minlength=len(ids))  # noqa: E731
    return {
        "ids": ids,
        "merit": count(merit),
        "x": count(x_rows) > 0,
        **{name: count(mask) for name, mask in top.items()},
    }


def _ratio(c: dict[str, np.ndarray], chosen: np.ndarray, name: str) -> float:
    merit_share = c["merit"][chosen].sum() / c["merit"].sum()
    return float(c[name][chosen].sum() / c[name].sum() / merit_share) if merit_share else float("nan")


def _merit_matched(c: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """One draw: per x client a distinct non-x client with the same number of merit rows (else the nearest)."""
    others = np.flatnonzero(~c["x"])
    free = np.ones(len(c["ids"]), bool)
    chosen = []
    for client in np.flatnonzero(c["x"]).tolist():
        candidates = others[free[others]]
        gaps = np.abs(c["merit"][candidates] - c["merit"][client])
        pick = rng.choice(candidates[gaps == gaps.min()])
        free[pick] = False
        chosen.append(pick)
    return np.array(chosen)


def _kish(weights: np.ndarray) -> float:
    """Kish's effective number of clients carrying ``weights`` merit rows: (sum)^2 / sum of squares."""
    return round(float(weights.sum() ** 2 / np.sum(weights**2)), 1)


def _null(values: list[float], own: float) -> dict[str, Any]:
    arr = np.array([v for v in values if np.isfinite(v)])
    return {
        "draws": len(arr),
        "shareAsLowOrLower": round(float(np.mean(arr <= own)), 4),
        "shareAtMost0.50": round(float(np.mean(arr <= 0.50)), 4),
        "shareBelow0.8": round(float(np.mean(arr < 0.8)), 4),
        "percentiles": {str(q): round(float(np.percentile(arr, q)), 4) for q in (2.5, 10, 50, 90, 97.5)},
    }


def noise(c: dict[str, np.ndarray], rng: np.random.Generator, draws: int) -> dict[str, Any]:
    """Question 1: x's ratios against random groups (any clients; merit-matched), the client bootstrap and the
    concentration of x's merit rows."""
    x = np.flatnonzero(c["x"])
    names = ("relevanceOnly", "served")
    own = {name: _ratio(c, x, name) for name in names}
    anyone = [rng.choice(len(c["ids"]), size=len(x), replace=False) for _ in range(draws)]
    matched = [_merit_matched(c, rng) for _ in range(draws)]
    boot = [rng.choice(x, size=len(x), replace=True) for _ in range(draws)]
    weights = c["merit"][x]
    carriers = np.sort(weights)[::-1]
    return {
        "xClients": len(x),
        "xMeritRows": int(weights.sum()),
        "xClientsWithMerit": int((weights > 0).sum()),
        "xEffectiveMeritClients": _kish(weights),
        "xTop3MeritShare": round(float(carriers[:3].sum() / weights.sum()), 4),
        "othersEffectiveMeritClients": round(
            float(c["merit"][~c["x"]].sum() ** 2 / np.sum(c["merit"][~c["x"]] ** 2)), 1
        ),
        **{
            name: {
                "exposureVsMerit": round(own[name], 4),
                "shownPlaces": int(c[name][x].sum()),
                "meritPlaces": round(float(c["merit"][x].sum() / c["merit"].sum() * c[name].sum()), 2),
                "randomGroups": _null([_ratio(c, g, name) for g in anyone], own[name]),
                "meritMatchedGroups": _null([_ratio(c, g, name) for g in matched], own[name]),
                "clientBootstrapCI": [
                    round(float(q), 4)
                    for q in np.nanpercentile([_ratio_boot(c, g, x, name) for g in boot], (2.5, 97.5))
                ],
                "leaveOneCarrierOut": [
                    round(_ratio(c, np.setdiff1d(x, [x[np.argsort(-weights)[k]]]), name), 4) for k in range(3)
                ],
            }
            for name in names
        },
    }


def by_merit_rows(c: dict[str, np.ndarray]) -> dict[str, Any]:
    """exposureVsMerit of all clients binned by how many merit rows (pools) they carry, and x's expected shown
    places were each of its merit rows shown at its bin's rate: how much of x's shortfall its concentration makes."""
    bins: dict[str, Any] = {}
    expected = {"relevanceOnly": 0.0, "served": 0.0}
    total_merit = c["merit"].sum()
    for low, high in ((1, 2), (2, 4), (4, 8), (8, 16), (16, 32), (32, 10**6)):
        sel = (c["merit"] >= low) & (c["merit"] < high)
        row: dict[str, Any] = {"clients": int(sel.sum()), "xClients": int((sel & c["x"]).sum())}
        row["xMeritRows"] = int(c["merit"][sel & c["x"]].sum())
        for name in expected:
            rate = c[name][sel].sum() / c[name].sum() / (c["merit"][sel].sum() / total_merit)
            row[name] = round(float(rate), 4)
            row[f"xShown{name[0].upper()}{name[1:]}"] = int(c[name][sel & c["x"]].sum())
            expected[name] += rate * c["merit"][sel & c["x"]].sum() / total_merit * c[name].sum()
        bins[f"{low}-{high - 1}" if high < 10**6 else f">={low}"] = row
    x_merit = c["merit"][c["x"]].sum() / total_merit
    return {
        "bins": bins,
        "xExpectedShown": {name: round(float(value), 2) for name, value in expected.items()},
        "xExpectedExposureVsMerit": {
            name: round(float(value / c[name].sum() / x_merit), 4) for name, value in expected.items()
        },
    }


def _ratio_boot(c: dict[str, np.ndarray], picked: np.ndarray, x: np.ndarray, name: str) -> float:
    """x's ratio with its clients resampled (``picked``, with repeats) and every other client as it is."""
    others = ~c["x"]
    merit_x, top_x = c["merit"][picked].sum(), c[name][picked].sum()
    merit_share = merit_x / (merit_x + c["merit"][others].sum())
    return float(top_x / (top_x + c[name][others].sum()) / merit_share) if merit_x else float("nan")


def ranks_of_merit(prepared: dict[str, Any], top: dict[str, np.ndarray]) -> dict[str, Any]:
    """Where the merit rows stand in the ranker's order (0 = first), x against the others."""
    pool, merit, scores = prepared["pool"], prepared["merit"], prepared["scores"]
    x_rows = prepared["groups"]["geslacht"] == GROUP
    position = np.zeros(len(scores), np.int64)
    size = np.zeros(len(scores), np.int64)
    for vacancy in np.unique(pool.vacancy_ids):
        rows = np.flatnonzero(pool.vacancy_ids == vacancy)
        position[rows[np.argsort(-scores[rows], kind="stable")]] = np.arange(len(rows))
        size[rows] = len(rows)

    def block(rows: np.ndarray) -> dict[str, Any]:
        return {
            "meritRows": int(rows.sum()),
            "medianRank": float(np.median(position[rows])),
            "medianPercentile": round(float(np.median(position[rows] / size[rows])), 4),
            "inTop10": round(float(top["relevanceOnly"][rows].mean()), 4),
            "inTop50": round(float((position[rows] < 50).mean()), 4),
        }

    return {"x": block(merit & x_rows), "others": block(merit & ~x_rows), "medianPoolSize": float(np.median(size))}


def _client_means(values: np.ndarray, client_ids: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per client with ``rows``, the mean of ``values`` (rows x columns) over its rows: (ids, means)."""
    ids, inverse = np.unique(client_ids[rows], return_inverse=True)
    sums = np.zeros((len(ids), values.shape[1]))
    np.add.at(sums, inverse, values[rows])
    return ids, sums / np.bincount(inverse)[:, None]


def shap(prepared: dict[str, Any], rng: np.random.Generator, draws: int) -> dict[str, Any]:
    """Question 2: SHAP (``pred_contrib``) and raw values per feature, x's merit rows against the other merit rows
    of the pools holding an x merit row; z of x's per-client mean against random groups of merit clients."""
    pool, merit = prepared["pool"], prepared["merit"]
    names = [*pool.feature_names, "(bias)"]
    contrib = np.asarray(prepared["model"].predict(pool.features, pred_contrib=True), np.float64)
    raw = np.asarray(pool.features, np.float64)
    x_rows = prepared["groups"]["geslacht"] == GROUP
    shared = np.isin(pool.vacancy_ids, np.unique(pool.vacancy_ids[merit & x_rows]))
    mine, theirs = merit & x_rows, merit & ~x_rows & shared
    ids, per_client = _client_means(contrib, pool.client_ids, merit)
    is_x = np.isin(ids, np.unique(pool.client_ids[x_rows]))
    own = per_client[is_x].mean(axis=0)
    null = np.array([per_client[rng.choice(len(ids), is_x.sum(), replace=False)].mean(axis=0) for _ in range(draws)])
    z = (own - null.mean(axis=0)) / np.maximum(null.std(axis=0), 1e-12)
    rows = []
    for k, name in enumerate(names):
        raw_k = raw[:, k] if k < raw.shape[1] else np.zeros(len(raw))
        rows.append(
            {
                "feature": name,
                "shapX": round(float(contrib[mine, k].mean()), 4),
                "shapOthers": round(float(contrib[theirs, k].mean()), 4),
                "shapGap": round(float(contrib[mine, k].mean() - contrib[theirs, k].mean()), 4),
                "rawX": round(float(raw_k[mine].mean()), 4),
                "rawOthers": round(float(raw_k[theirs].mean()), 4),
                "perClientZ": round(float(z[k]), 2),
            }
        )
    rows.sort(key=lambda r: -abs(r["shapGap"]))
    total = contrib.sum(axis=1)
    return {
        "xMeritRows": int(mine.sum()),
        "othersMeritRowsSamePools": int(theirs.sum()),
        "pools": int(len(np.unique(pool.vacancy_ids[mine]))),
        "scoreX": round(float(total[mine].mean()), 4),
        "scoreOthers": round(float(total[theirs].mean()), 4),
        "matchesPredict": bool(np.allclose(total, prepared["scores"], atol=1e-6)),
        "xMeritClients": int(is_x.sum()),
        "features": rows,
    }


def simulator(prepared: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """Question 3: the labels of the merit rows and the merit clients' hidden factors per geslacht, and the
    generator's fields over the whole world."""
    from matching.settings import Settings
    from matching.store import make_engine
    from matching.taxonomy import load_taxonomy
    from training import latent
    from training.truth_arrays import Codebook

    pool, merit, gender = prepared["pool"], prepared["merit"], prepared["groups"]["geslacht"]
    labels = {
        g: {
            "meritRows": int((merit & (gender == g)).sum()),
            "meanLabel": round(float(pool.labels[merit & (gender == g)].mean()), 4),
            "positive": round(float((pool.labels[merit & (gender == g)] > 0).mean()), 4),
        }
        for g in sorted(set(gender.tolist()))
    }
    engine = make_engine(Settings(data_dir=data_dir).resolved_database_url)
    wanted = np.unique(pool.client_ids[merit])
    arrays = latent.load_client_arrays(engine, Codebook.from_taxonomy(load_taxonomy()), wanted.tolist())
    of = dict(zip(pool.client_ids.tolist(), gender.tolist(), strict=True))
    client_gender = np.array([of.get(int(i), "") for i in arrays.ids])
    factors = {
        name: {g: round(float(np.mean(getattr(arrays, name)[client_gender == g])), 4) for g in sorted(set(of.values()))}
        for name in ("motivation", "reliability", "ability", "trede")
    }
    os.environ["WERKMATCH_DATA_DIR"] = str(data_dir)  # generator_fields reads the world from the environment
    return {"meritRowLabels": labels, "meritClientFactors": factors, "generatorFields": generator_fields()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache", type=Path, help="keep the fitted model, pools and scores here (a pickle)")
    parser.add_argument("--draws", type=int, default=DRAWS)
    args = parser.parse_args()
    began, loads = time.time(), [load_average()]
    prepared = prepare_with_model(args.data_dir, args.cache)
    loads.append(load_average())
    rng = np.random.default_rng(33)
    top = tops(prepared)
    clients = per_client(prepared, top)
    out: dict[str, Any] = {
        "command": "flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m "
        "bench.geslacht_x_analysis --data-dir <copy: db upgrade, simulate outcomes --years 3> --out FILE",
        "gitHash": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
        **prepared["facts"],
        "served": dict(SERVED),
        "noise": noise(clients, rng, args.draws),
        "byMeritRows": by_merit_rows(clients),
        "ranks": ranks_of_merit(prepared, top),
        "shap": shap(prepared, rng, args.draws),
        "simulator": simulator(prepared, args.data_dir),
    }
    loads.append(load_average())
    out |= {"loadavg": loads, "seconds": round(time.time() - began)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(json.dumps({k: out[k] for k in ("noise", "byMeritRows", "ranks")}, indent=1))


if __name__ == "__main__":
    main()
