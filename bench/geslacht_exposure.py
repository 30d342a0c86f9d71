"""Why are clients with geslacht x served less than their merit, when geslacht is no feature? (issue 19 item 1)

A diagnosis on a *tuning* world (never the held-out seed-43 world): it rebuilds the pools ``werkmatch evaluate
--pool-vacancies N --json`` judges (same dataset, same seeded sample of held-out vacancies,
:func:`training.pool_eval.pool_holdout`), scores them with what serves (the registered champion, else the shipped
baseline), replays the lists relevance-only and *as served* (the amortised floor the model is served with,
:func:`training.served_floor.served_as_served`'s replay), and decomposes each geslacht group's exposure against merit:

* **shares**: per group its share of the merit rows (the true top fifth of a pool), of the relevance-only top-10
  places and of the served ones, and the ratios ``exposureVsMerit`` (as :func:`training.fairness.audit_ranking`);
* **hit and spill** (:func:`hit_and_spill`): a group's ratio is exactly ``(hit + spill) / (hit_all + spill_all)``,
  where *hit* is the share of its merit rows that reach a top 10 and *spill* its top-10 places on rows without merit
  per merit row: a gap is the ranker missing the group's suitable rows, or the group getting fewer "near miss" places;
* **standardised hit** (:func:`standardised_hits`): the hits x's merit rows would get at the hit rate of the other
  groups' merit rows in the same stratum (trede, route, leeftijd, the truth's rank decile in the pool, and how many
  pools the client merits): the part of the gap its mix explains, strata by strata;
* **noise** (:func:`client_bootstrap`, :func:`placebo`): the group's interval when its own clients are resampled,
  Kish's effective number of merit clients, and how often a random group of as many clients (gender ignored) reads as
  low; ``evaluate``'s own interval resamples vacancies (:func:`training.fairness.audit_ranking`);
* **the suitable x clients never in a served top 10** (:func:`separating_features`): every feature the ranker reads,
  standardised, against merit rows of other clients of the same trede and truth decile that *were* shown; the
  client's text signals (feminine job forms that :func:`matching.gendered.neutral_text` folds, text length) and their
  history in the simulated outcomes (voorstellen, invitations, hires per client, read from the database);
* **pool sampling**: each group's share of the world, of the pool rows and of the pools' distinct clients.

Usage (a copy of a tuning world with its simulated history; the pools are cached, so a second analysis is cheap)::

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 env WERKMATCH_DATA_DIR=/tmp/s46/X1/w44 \\
        .venv/bin/python -m bench.geslacht_exposure --pool-vacancies 800 --cache /tmp/s46/X1/w44-pools.npz \\
        --out bench/results/geslacht-exposure-s46-w44.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

GROUP = "x"
ATTRIBUTE = "geslacht"
TOP_K = 10
RESAMPLES = 2000
GROUP_SIZES = (30, 60, 140, 300, 600, 1000, 2000, 4000)
"""Sizes of the random groups of :func:`false_alarms_by_size`."""
STRATA = ("trede", "route", "leeftijd", "truthDecile", "meritPoolsBin")
"""The strata :func:`standardised_hits` adds one at a time (cumulatively), in this order."""
MERIT_POOL_BINS = (1, 2, 4, 8, 16, 32)
"""Lower edges of the bins of "pools a client merits" (session 33: exposure per merit row falls with it)."""


# ----------------------------------------------------------------------------------------------------------------
# pure functions (tests/bench/test_geslacht_exposure.py)


def top_mask(order_scores: np.ndarray, vacancy_ids: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """True for the rows in the first ``k`` of their vacancy by ``order_scores`` (higher first; ties: first row)."""
    mask = np.zeros(len(order_scores), bool)
    order = np.lexsort((-np.asarray(order_scores, np.float64), vacancy_ids))
    sorted_ids = vacancy_ids[order]
    starts = np.r_[0, np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1]
    position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    mask[order[position < k]] = True
    return mask


def shares(member: np.ndarray, merit: np.ndarray, top: np.ndarray) -> dict[str, float | None]:
    """A group's share of the merit rows and of the top places, and exposure against merit (None: no merit)."""
    merit_share = float(np.sum(member & merit) / max(np.sum(merit), 1))
    top_share = float(np.sum(member & top) / max(np.sum(top), 1))
    return {
        "meritShare": merit_share,
        "topShare": top_share,
        "exposureVsMerit": top_share / merit_share if merit_share > 0 else None,
    }


def hit_and_spill(member: np.ndarray, merit: np.ndarray, top: np.ndarray) -> dict[str, float | None]:
    """``exposureVsMerit = (hit + spill) / (hitAll + spillAll)``: *hit* is the share of the group's merit rows in a
    top 10, *spill* its top places on rows without merit per merit row; ``…All`` the same over every row."""

    def parts(rows: np.ndarray) -> tuple[float, float] | tuple[None, None]:
        n_merit = int(np.sum(rows & merit))
        if n_merit == 0:
            return None, None
        return float(np.sum(rows & merit & top) / n_merit), float(np.sum(rows & ~merit & top) / n_merit)

    hit, spill = parts(member)
    hit_all, spill_all = parts(np.ones(len(member), bool))
    ratio = (hit + spill) / (hit_all + spill_all) if hit is not None and hit_all is not None else None
    return {"hit": hit, "spill": spill, "hitAll": hit_all, "spillAll": spill_all, "exposureVsMerit": ratio}


def kish(weights: np.ndarray) -> float:
    """Kish's effective number of units carrying ``weights`` (rows per client): (sum w)² / sum w²."""
    weights = np.asarray(weights, np.float64)
    return float(weights.sum() ** 2 / np.sum(weights**2)) if np.any(weights) else 0.0


def merit_pools_bin(counts: np.ndarray) -> np.ndarray:
    """Per value of ``counts`` (pools a client merits), the index of its bin in :data:`MERIT_POOL_BINS`."""
    return np.searchsorted(np.asarray(MERIT_POOL_BINS), np.asarray(counts), side="right") - 1


def standardised_hits(
    member: np.ndarray, merit: np.ndarray, top: np.ndarray, strata: np.ndarray
) -> dict[str, float | None]:
    """The group's merit rows' hits against what the other groups' merit rows of the same stratum reach.

    ``strata``: one integer code per row. Returns ``observed`` (hits of the group's merit rows), ``expected`` (the
    sum over them of the others' hit rate in their stratum; rows whose stratum holds no other merit row count at the
    others' overall rate) and their ratio ``observedOverExpected``: 1 means the stratum mix explains the whole hit
    gap, below 1 that the group's rows are missed more than their peers'."""
    rows = member & merit
    others = ~member & merit
    overall = float(np.mean(top[others])) if others.any() else 0.0
    codes, inverse = np.unique(strata, return_inverse=True)
    n_others = np.bincount(inverse, weights=others.astype(np.float64), minlength=len(codes))
    hits_others = np.bincount(inverse, weights=(others & top).astype(np.float64), minlength=len(codes))
    rate = np.where(n_others > 0, hits_others / np.maximum(n_others, 1), overall)
    expected = float(rate[inverse[rows]].sum())
    observed = float(np.sum(rows & top))
    return {
        "meritRows": int(rows.sum()),
        "observed": observed,
        "expected": round(expected, 2),
        "observedOverExpected": round(observed / expected, 4) if expected > 0 else None,
    }


def client_bootstrap(
    member: np.ndarray,
    merit: np.ndarray,
    top: np.ndarray,
    client_ids: np.ndarray,
    rng: np.random.Generator,
    draws: int = RESAMPLES,
) -> list[float] | None:
    """95 % interval of the group's exposure against merit when its own clients are resampled (others fixed)."""
    ids, inverse = np.unique(client_ids[member], return_inverse=True)
    if not len(ids):
        return None
    per_merit = np.bincount(inverse, weights=merit[member].astype(np.float64), minlength=len(ids))
    per_top = np.bincount(inverse, weights=top[member].astype(np.float64), minlength=len(ids))
    others_merit, others_top = float(np.sum(merit & ~member)), float(np.sum(top & ~member))
    picks = rng.integers(0, len(ids), size=(draws, len(ids)))
    merit_g, top_g = per_merit[picks].sum(axis=1), per_top[picks].sum(axis=1)
    valid = merit_g > 0
    ratios = (top_g / (others_top + top_g))[valid] / (merit_g / (others_merit + merit_g))[valid]
    return [round(float(np.percentile(ratios, q)), 4) for q in (2.5, 97.5)] if len(ratios) else None


def placebo(
    size: int,
    merit: np.ndarray,
    top: np.ndarray,
    client_ids: np.ndarray,
    own: float,
    rng: np.random.Generator,
    draws: int = RESAMPLES,
) -> dict[str, Any]:
    """Random groups of ``size`` clients (from every client in the rows): how often their ratio is ``own`` or lower."""
    ids, inverse = np.unique(client_ids, return_inverse=True)
    per_merit = np.bincount(inverse, weights=merit.astype(np.float64), minlength=len(ids))
    per_top = np.bincount(inverse, weights=top.astype(np.float64), minlength=len(ids))
    total_merit, total_top = per_merit.sum(), per_top.sum()
    values = []
    for _ in range(draws):
        chosen = rng.choice(len(ids), size=size, replace=False)
        m = per_merit[chosen].sum()
        if m > 0:
            values.append((per_top[chosen].sum() / total_top) / (m / total_merit))
    arr = np.array(values)
    return {
        "draws": len(arr),
        "shareAsLowOrLower": round(float(np.mean(arr <= own)), 4),
        "shareBelow0.8": round(float(np.mean(arr < 0.8)), 4),
        "percentiles": {str(q): round(float(np.percentile(arr, q)), 4) for q in (2.5, 10, 50, 90, 97.5)},
    }


def false_alarms_by_size(
    sizes: tuple[int, ...],
    merit: np.ndarray,
    top: np.ndarray,
    client_ids: np.ndarray,
    rng: np.random.Generator,
    draws: int = 500,
    threshold: float = 0.8,
) -> list[dict[str, Any]]:
    """Random client groups (no effect by construction) of each size: how often their exposure against merit reads
    under ``threshold``, and their median effective number of merit clients (Kish). The size at which that share
    falls under 5 % is the smallest group a point estimate against 0.8 can judge."""
    ids, inverse = np.unique(client_ids, return_inverse=True)
    per_merit = np.bincount(inverse, weights=merit.astype(np.float64), minlength=len(ids))
    per_top = np.bincount(inverse, weights=top.astype(np.float64), minlength=len(ids))
    total_merit, total_top = per_merit.sum(), per_top.sum()
    out = []
    for size in sizes:
        ratios, effective = [], []
        for _ in range(draws):
            chosen = rng.choice(len(ids), size=size, replace=False)
            m = per_merit[chosen]
            if m.sum() > 0:
                ratios.append((per_top[chosen].sum() / total_top) / (m.sum() / total_merit))
                effective.append(kish(m))
        arr = np.array(ratios)
        out.append(
            {
                "clients": size,
                "medianEffectiveMeritClients": round(float(np.median(effective)), 1),
                "shareBelowThreshold": round(float(np.mean(arr < threshold)), 4),
                "percentile2.5": round(float(np.percentile(arr, 2.5)), 4),
            }
        )
    return out


def standardised_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per column, (mean a − mean b) / pooled sd (0 where both are constant)."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    sd = np.sqrt((a.var(axis=0) + b.var(axis=0)) / 2)
    return np.where(sd > 0, (a.mean(axis=0) - b.mean(axis=0)) / np.where(sd > 0, sd, 1), 0.0)


def rank_in_pool(values: np.ndarray, vacancy_ids: np.ndarray) -> np.ndarray:
    """Per row, its percentile (0 worst … 1 best) of ``values`` within its own pool."""
    order = np.lexsort((np.asarray(values, np.float64), vacancy_ids))
    sorted_ids = vacancy_ids[order]
    starts = np.r_[0, np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(order)])
    position = np.arange(len(order)) - np.repeat(starts, sizes)
    out = np.empty(len(order), np.float64)
    out[order] = position / np.maximum(np.repeat(sizes, sizes) - 1, 1)
    return out


def feminine_forms(text: str) -> int:
    """How many words of ``text`` the gendered-word folding changes (feminine job forms: "kassière" → "kassier")."""
    from matching.gendered import neutral_text

    return sum(1 for a, b in zip(text.split(), neutral_text(text).split(), strict=False) if a != b)


# ----------------------------------------------------------------------------------------------------------------
# the pools (heavy: the world's database and index)


def build(pool_vacancies: int, test_share: float) -> dict[str, Any]:
    """The pools as ``werkmatch evaluate`` builds them, the served and relevance-only orderings, and per client its
    text signals and simulated history."""
    from api.cli.common import matcher, settings
    from api.cli.models import _registered
    from training.dataset import build_dataset
    from training.exposure_eval import _amortised_replay, _groups_in_time_order, replay, served_method
    from training.fairness import group_labels
    from training.pool_eval import pool_holdout
    from training.rankers import scorer_of
    from training.served_floor import amortised_of, serving_labels

    config = settings()
    found = matcher(config)
    data = build_dataset(found)
    registered, note = _registered(config, found)
    champion = registered["champion"]
    _, test = data.time_split(test_share)
    moments = dict(zip(test.vacancy_ids.tolist(), test.moments.tolist(), strict=True))
    held_out = np.unique(test.vacancy_ids)
    sample = np.random.default_rng(0).choice(held_out, size=min(pool_vacancies, len(held_out)), replace=False)
    pool = pool_holdout(found, sample, moments)
    assert pool is not None, "no hidden truth: run on a synthetic world"
    pool_data, truth = pool
    scores = np.asarray(scorer_of(champion)(pool_data), np.float64)
    groups = group_labels(found.engine, pool_data)
    amortised = amortised_of(champion)
    method = served_method(config.ranker)
    in_time = _groups_in_time_order(pool_data)
    serving = serving_labels(groups, amortised["groups"]) if amortised else None
    replayed = _amortised_replay(scores, amortised, serving) if amortised and method["strength"] > 0 else None
    served_as, _ = replay(pool_data, scores, method["strength"], in_time, floor=method["floor"], amortised=replayed)
    relevance_as, _ = replay(pool_data, scores, 0.0, in_time)
    clients = np.unique(pool_data.client_ids)
    return {
        "features": pool_data.features,
        "feature_names": np.array(pool_data.feature_names),
        "vacancy_ids": pool_data.vacancy_ids,
        "client_ids": pool_data.client_ids,
        "trede": pool_data.trede,
        "truth": np.asarray(truth, np.float64),
        "scores": scores,
        "served_as": np.asarray(served_as, np.float64),
        "relevance_as": np.asarray(relevance_as, np.float64),
        **{f"group_{name}": np.asarray(values, dtype=str) for name, values in groups.items()},
        **_per_client(found.engine, clients),
        "champion": np.array(json.dumps(champion.describe(), default=str)),
        "note": np.array(note or ""),
        "served_method": np.array(json.dumps({**method, "amortised": amortised}, default=str)),
    }


def _per_client(engine: Any, clients: np.ndarray) -> dict[str, np.ndarray]:
    """Per client of the pools: feminine job forms and words in its own texts, and its simulated history."""
    from sqlalchemy import text as sql

    texts: dict[int, str] = {}
    with engine.connect() as connection:
        for row in connection.execute(sql("SELECT id, zelfbeschrijving, notities, werkervaring FROM client")):
            texts[int(row[0])] = " ".join([row[1] or "", row[2] or "", str(row[3] or "")])
        history = {
            int(r[0]): (int(r[1]), int(r[2] or 0), int(r[3] or 0))
            for r in connection.execute(
                sql(
                    "SELECT v.client_id, COUNT(*),"
                    " SUM(EXISTS(SELECT 1 FROM voorstel_event e WHERE e.voorstel_id = v.id"
                    "  AND e.to_status = 'uitgenodigd')),"
                    " SUM(EXISTS(SELECT 1 FROM voorstel_event e WHERE e.voorstel_id = v.id"
                    "  AND e.to_status = 'aangenomen'))"
                    " FROM voorstel v GROUP BY v.client_id"
                )
            )
        }
    ids = clients.tolist()
    return {
        "client_list": clients,
        "client_feminine": np.array([feminine_forms(texts.get(c, "")) for c in ids], np.int64),
        "client_words": np.array([len(texts.get(c, "").split()) for c in ids], np.int64),
        "client_proposals": np.array([history.get(c, (0, 0, 0))[0] for c in ids], np.int64),
        "client_invited": np.array([history.get(c, (0, 0, 0))[1] for c in ids], np.int64),
        "client_hired": np.array([history.get(c, (0, 0, 0))[2] for c in ids], np.int64),
    }


def world_history() -> dict[str, Any]:
    """Per geslacht over the whole world: clients, voorstellen per client, invitation and hire rates per voorstel,
    and the age and migration mix (the simulated employers' bias reads those two, never geslacht)."""
    from sqlalchemy import text as sql

    from api.cli.common import settings
    from matching.store import make_engine

    engine = make_engine(settings().resolved_database_url)
    query = (
        "SELECT a.geslacht, COUNT(DISTINCT a.client_id), COUNT(v.id),"
        " SUM(EXISTS(SELECT 1 FROM voorstel_event e WHERE e.voorstel_id = v.id AND e.to_status = 'uitgenodigd')),"
        " SUM(EXISTS(SELECT 1 FROM voorstel_event e WHERE e.voorstel_id = v.id AND e.to_status = 'aangenomen')),"
        " AVG(2026 - a.geboortejaar), AVG(a.migratieachtergrond = 'niet-westers')"
        " FROM audit_kenmerken a LEFT JOIN voorstel v ON v.client_id = a.client_id GROUP BY a.geslacht"
    )
    out: dict[str, Any] = {}
    with engine.connect() as connection:
        for g, n_clients, n_voorstel, invited, hired, age, non_western in connection.execute(sql(query)):
            out[str(g)] = {
                "clients": int(n_clients),
                "voorstellenPerClient": round(n_voorstel / n_clients, 3),
                "invitedPerVoorstel": round((invited or 0) / max(n_voorstel, 1), 4),
                "hiredPerVoorstel": round((hired or 0) / max(n_voorstel, 1), 4),
                "meanAge": round(float(age), 2),
                "nonWestern": round(float(non_western), 4),
            }
    return out


# ----------------------------------------------------------------------------------------------------------------
# the analysis of the cached pools


def _strata_codes(cache: dict[str, Any], merit: np.ndarray, truth_rank: np.ndarray) -> dict[str, np.ndarray]:
    client_ids = cache["client_ids"]
    ids, inverse = np.unique(client_ids, return_inverse=True)
    pools_merited = np.bincount(inverse, weights=merit.astype(np.float64), minlength=len(ids))[inverse]
    parts = {
        "trede": cache["trede"].astype(np.int64),
        "route": np.unique(cache["group_route"], return_inverse=True)[1],
        "leeftijd": np.unique(cache["group_leeftijd"], return_inverse=True)[1],
        "truthDecile": np.minimum((truth_rank * 10).astype(np.int64), 9),
        "meritPoolsBin": merit_pools_bin(pools_merited),
    }
    codes: dict[str, np.ndarray] = {}
    running = np.zeros(len(client_ids), np.int64)
    for name in STRATA:
        running = running * 100 + parts[name]
        codes[name] = running.copy()
    return codes


def _client_table(cache: dict[str, Any], member: np.ndarray, merit: np.ndarray, top: np.ndarray) -> dict[str, Any]:
    ids, inverse = np.unique(cache["client_ids"][member], return_inverse=True)
    m = np.bincount(inverse, weights=merit[member].astype(np.float64), minlength=len(ids))
    t = np.bincount(inverse, weights=(top & merit)[member].astype(np.float64), minlength=len(ids))
    return {"ids": ids, "meritRows": m, "meritTop": t}


def analyse(cache: dict[str, Any], seed: int = 0, attribute: str = ATTRIBUTE, group: str = GROUP) -> dict[str, Any]:
    from training.fairness import suitable_in_pool

    rng = np.random.default_rng(seed)
    vacancy_ids, client_ids = cache["vacancy_ids"], cache["client_ids"]
    merit = suitable_in_pool(cache["truth"], vacancy_ids)
    tops = {
        "relevanceOnly": top_mask(cache["relevance_as"], vacancy_ids),
        "served": top_mask(cache["served_as"], vacancy_ids),
    }
    labels = cache[f"group_{attribute}"]
    truth_rank = rank_in_pool(cache["truth"], vacancy_ids)
    score_rank = rank_in_pool(cache["scores"], vacancy_ids)
    strata = _strata_codes(cache, merit, truth_rank)
    out: dict[str, Any] = {"groups": {}}
    for g in sorted(set(labels.tolist())):
        member = labels == g
        n_clients = len(np.unique(client_ids[member]))
        table = _client_table(cache, member, merit, tops["served"])
        row: dict[str, Any] = {
            "clients": n_clients,
            "poolRowShare": round(float(member.mean()), 5),
            "meritClients": int(np.sum(table["meritRows"] > 0)),
            "effectiveMeritClients": round(kish(table["meritRows"]), 1),
            "meritShare": round(float(np.sum(member & merit) / np.sum(merit)), 5),
            "meanTruthRankOfMeritRows": round(float(truth_rank[member & merit].mean()), 4)
            if (member & merit).any()
            else None,
            "meanScoreRankOfMeritRows": round(float(score_rank[member & merit].mean()), 4)
            if (member & merit).any()
            else None,
        }
        for name, top in tops.items():
            s, hs = shares(member, merit, top), hit_and_spill(member, merit, top)
            row[name] = {
                "topShare": round(s["topShare"], 5),
                "exposureVsMerit": None if s["exposureVsMerit"] is None else round(s["exposureVsMerit"], 4),
                **{k: None if v is None else round(v, 4) for k, v in hs.items() if k != "exposureVsMerit"},
                "clientBootstrapCI": client_bootstrap(member, merit, top, client_ids, rng),
                "standardisedHits": {
                    f"+{name_s}": standardised_hits(member, merit, top, strata[name_s]) for name_s in STRATA
                },
            }
            if s["exposureVsMerit"] is not None and n_clients < 2000:
                row[name]["placebo"] = placebo(n_clients, merit, top, client_ids, s["exposureVsMerit"], rng, 1000)
        out["groups"][g] = row
    out["hitRateByPoolsMerited"] = _by_pools_merited(cache, merit, tops["served"], labels, group)
    out["servedShift"] = _served_shift(cache, labels, tops)
    out["randomGroupsBySize"] = {
        name: false_alarms_by_size(GROUP_SIZES, merit, top, client_ids, rng) for name, top in tops.items()
    }
    out["group"] = _group_detail(cache, labels == group, merit, tops, truth_rank, score_rank, strata)
    return out


def _served_shift(cache: dict[str, Any], labels: np.ndarray, tops: dict[str, np.ndarray]) -> dict[str, Any]:
    """What the served re-ordering does to each group against its serving cell: the served top places each group's
    rows would get if they moved as the other groups' rows of the same serving cell (trede, geschiedenis, route) and
    the same relevance-only top-10 status move (:func:`standardised_hits` over every row), and each group's share of
    rows of clients proposed before (the floor lifts the cells under their expected merit)."""
    cells = np.unique(
        np.char.add(np.char.add(cache["group_trede"], cache["group_geschiedenis"]), cache["group_route"]),
        return_inverse=True,
    )[1]
    strata = cells * 2 + tops["relevanceOnly"].astype(np.int64)
    everyone = np.ones(len(labels), bool)
    proposed = cache["group_geschiedenis"] == "eerder voorgesteld"
    out = {}
    for g in sorted(set(labels.tolist())):
        member = labels == g
        out[g] = {
            "relevanceTop": int(np.sum(member & tops["relevanceOnly"])),
            "servedTop": int(np.sum(member & tops["served"])),
            "lost": int(np.sum(member & tops["relevanceOnly"] & ~tops["served"])),
            "gained": int(np.sum(member & ~tops["relevanceOnly"] & tops["served"])),
            "servedAsCellPeers": standardised_hits(member, everyone, tops["served"], strata),
            "shareProposedBefore": round(float(proposed[member].mean()), 4),
            "shareProposedBeforeInRelevanceTop": round(float(proposed[member & tops["relevanceOnly"]].mean()), 4)
            if (member & tops["relevanceOnly"]).any()
            else None,
            "lostWhenProposedBefore": int(np.sum(member & proposed & tops["relevanceOnly"] & ~tops["served"])),
        }
    return out


def _by_pools_merited(
    cache: dict[str, Any], merit: np.ndarray, top: np.ndarray, labels: np.ndarray, group: str
) -> dict[str, Any]:
    """Hit rate of merit rows by how many pools their client merits (all clients and the group), and how the group's
    merit rows spread over those bins against everyone's."""
    ids, inverse = np.unique(cache["client_ids"], return_inverse=True)
    counts = np.bincount(inverse, weights=merit.astype(np.float64), minlength=len(ids))[inverse]
    bins = merit_pools_bin(counts)
    member = labels == group
    out = {}
    for b, low in enumerate(MERIT_POOL_BINS):
        rows = merit & (bins == b)
        if not rows.any():
            continue
        out[f">={low}"] = {
            "hitAll": round(float(top[rows].mean()), 4),
            "shareOfAllMeritRows": round(float(rows.sum() / merit.sum()), 4),
            "hitGroup": round(float(top[rows & member].mean()), 4) if (rows & member).any() else None,
            "shareOfGroupMeritRows": round(float((rows & member).sum() / max((merit & member).sum(), 1)), 4),
        }
    return out


def _group_detail(
    cache: dict[str, Any],
    member: np.ndarray,
    merit: np.ndarray,
    tops: dict[str, np.ndarray],
    truth_rank: np.ndarray,
    score_rank: np.ndarray,
    strata: dict[str, np.ndarray],
) -> dict[str, Any]:
    """The group's suitable clients: who carries its merit, who is never in a served top 10, and what separates those
    rows from shown merit rows of others in the same trede and truth decile (features, text, history)."""
    served = tops["served"]
    client_ids, names = cache["client_ids"], [str(n) for n in cache["feature_names"]]
    table = _client_table(cache, member, merit, served)
    relevant = table["meritRows"] > 0
    never = table["ids"][relevant & (table["meritTop"] == 0)]
    shown = table["ids"][relevant & (table["meritTop"] > 0)]
    position = {int(c): i for i, c in enumerate(cache["client_list"].tolist())}

    def per_client(ids: np.ndarray) -> dict[str, Any]:
        at = np.array([position[int(c)] for c in ids], np.int64)
        if not len(at):
            return {"clients": 0}
        return {
            "clients": len(at),
            "feminineFormsPerClient": round(float(cache["client_feminine"][at].mean()), 3),
            "shareWithFeminineForm": round(float((cache["client_feminine"][at] > 0).mean()), 3),
            "wordsPerClient": round(float(cache["client_words"][at].mean()), 1),
            "proposalsPerClient": round(float(cache["client_proposals"][at].mean()), 3),
            "invitedPerProposal": round(
                float(cache["client_invited"][at].sum() / max(cache["client_proposals"][at].sum(), 1)), 4
            ),
            "hiredPerProposal": round(
                float(cache["client_hired"][at].sum() / max(cache["client_proposals"][at].sum(), 1)), 4
            ),
        }

    others_all = np.setdiff1d(np.unique(client_ids[~member & merit]), [])
    rows_never = member & merit & np.isin(client_ids, never)
    cell = strata["truthDecile"]  # trede, route, leeftijd, truth decile (cumulative code)
    peer_rows = ~member & merit & served & np.isin(cell, np.unique(cell[rows_never]))
    diff = (
        standardised_difference(cache["features"][rows_never], cache["features"][peer_rows])
        if rows_never.any()
        else np.zeros(len(names))
    )
    order = np.argsort(-np.abs(diff))
    # the same comparison for the other groups' suitable clients never shown (is the pattern the group's own?)
    o_table = _client_table(cache, ~member, merit, served)
    o_never = o_table["ids"][(o_table["meritRows"] > 0) & (o_table["meritTop"] == 0)]
    o_rows = ~member & merit & np.isin(client_ids, o_never)
    o_peers = ~member & merit & served & np.isin(cell, np.unique(cell[o_rows]))
    o_diff = standardised_difference(cache["features"][o_rows], cache["features"][o_peers])
    meritrows = sorted(
        zip(
            table["ids"][relevant].tolist(),
            table["meritRows"][relevant].tolist(),
            table["meritTop"][relevant].tolist(),
            strict=True,
        ),
        key=lambda r: -r[1],
    )
    return {
        "meritRowsPerClient": [
            {"client": int(c), "meritRows": int(m), "servedTop10OfThem": int(t)} for c, m, t in meritrows[:20]
        ],
        "clientsNeverShownWhileSuitable": len(never),
        "clientsShown": len(shown),
        "neverShownMeritRows": int(rows_never.sum()),
        "neverShownRowsMeanTruthRank": round(float(truth_rank[rows_never].mean()), 4) if rows_never.any() else None,
        "neverShownRowsMeanScoreRank": round(float(score_rank[rows_never].mean()), 4) if rows_never.any() else None,
        "peerRowsShown": int(peer_rows.sum()),
        "peerRowsMeanTruthRank": round(float(truth_rank[peer_rows].mean()), 4) if peer_rows.any() else None,
        "peerRowsMeanScoreRank": round(float(score_rank[peer_rows].mean()), 4) if peer_rows.any() else None,
        "featuresNeverShownVsShownPeers": {names[i]: round(float(diff[i]), 3) for i in order[:12]},
        "othersNeverShown": {
            "clients": len(o_never),
            "ofMeritClients": round(len(o_never) / max(int(np.sum(o_table["meritRows"] > 0)), 1), 4),
            "meritRows": int(o_rows.sum()),
            "meanTruthRank": round(float(truth_rank[o_rows].mean()), 4),
            "meanScoreRank": round(float(score_rank[o_rows].mean()), 4),
            "featuresVsShownPeers": {names[i]: round(float(o_diff[i]), 3) for i in order[:12]},
        },
        "textAndHistory": {
            "groupNeverShown": per_client(never),
            "groupShown": per_client(shown),
            "otherMeritClients": per_client(others_all),
            "groupAll": per_client(np.unique(client_ids[member])),
            "othersAll": per_client(np.unique(client_ids[~member])),
        },
    }


def main() -> None:
    from bench._result import load_average, provenance, write_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool-vacancies", type=int, default=800)
    parser.add_argument("--test-share", type=float, default=0.2)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/geslacht-exposure-s46-w44.json"))
    args = parser.parse_args()
    started = time.time()
    cached = args.cache.exists()
    if not cached:
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.cache, **build(args.pool_vacancies, args.test_share))
    built = round(time.time() - started, 1)
    with np.load(args.cache, allow_pickle=False) as loaded:
        cache = {name: loaded[name] for name in loaded.files}
    result = {
        "command": f"WERKMATCH_DATA_DIR={os.environ.get('WERKMATCH_DATA_DIR')} python -m bench.geslacht_exposure "
        f"--pool-vacancies {args.pool_vacancies} --cache {args.cache} --out {args.out}",
        **provenance(),
        "champion": json.loads(str(cache["champion"])),
        "note": str(cache["note"]),
        "servedMethod": json.loads(str(cache["served_method"])),
        "vacancies": int(len(np.unique(cache["vacancy_ids"]))),
        "rows": int(len(cache["vacancy_ids"])),
        **analyse(cache, args.seed),
        "worldHistory": world_history(),
        "buildSeconds": None if cached else built,  # None: the pools came from --cache
        "seconds": round(time.time() - started, 1),
        "loadAverage": load_average(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(
        json.dumps(
            {
                g: {k: r[k] for k in ("clients", "effectiveMeritClients", "relevanceOnly")}
                for g, r in result["groups"].items()
            },
            indent=1,
            default=str,
        )[:6000]
    )


if __name__ == "__main__":
    main()
