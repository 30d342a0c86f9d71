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
  low; ``evaluate``'s own interval resamples vacancies (:func:`training.fairness.audit_ranking`). The bootstrap, Kish's
  number and the random groups are :mod:`training.fairness_readability`'s (one copy), which ``evaluate`` now reports
  per group (``exposureVsMeritClientCI``, ``placeboBelow``, ``meritVerdict``);
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

from bench.geslacht_exposure_stats import (
    GROUP_SIZES,
    MERIT_POOL_BINS,
    client_bootstrap,
    false_alarms_by_size,
    feminine_forms,
    hit_and_spill,
    kish,
    merit_pools_bin,
    placebo,
    rank_in_pool,
    shares,
    standardised_difference,
    standardised_hits,
    top_mask,
)

GROUP = "x"
ATTRIBUTE = "geslacht"
STRATA = ("trede", "route", "leeftijd", "truthDecile", "meritPoolsBin")
"""The strata ``standardised_hits`` adds one at a time (cumulatively), in this order."""


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
    from training.pool_eval import evaluated_pools
    from training.rankers import scorer_of
    from training.served_floor import amortised_of, serving_labels

    config = settings()
    found = matcher(config)
    data = build_dataset(found)
    registered, note = _registered(config, found)
    champion = registered["champion"]
    pool = evaluated_pools(found, data, test_share, pool_vacancies)
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


def _text_and_history(cache: dict[str, Any], position: dict[int, int], ids: np.ndarray) -> dict[str, Any]:
    """Per-client means of the clients ``ids``: feminine job forms, words, voorstellen and their outcomes."""
    at = np.array([position[int(c)] for c in ids], np.int64)
    if not len(at):
        return {"clients": 0}
    proposals = max(cache["client_proposals"][at].sum(), 1)
    return {
        "clients": len(at),
        "feminineFormsPerClient": round(float(cache["client_feminine"][at].mean()), 3),
        "shareWithFeminineForm": round(float((cache["client_feminine"][at] > 0).mean()), 3),
        "wordsPerClient": round(float(cache["client_words"][at].mean()), 1),
        "proposalsPerClient": round(float(cache["client_proposals"][at].mean()), 3),
        "invitedPerProposal": round(float(cache["client_invited"][at].sum() / proposals), 4),
        "hiredPerProposal": round(float(cache["client_hired"][at].sum() / proposals), 4),
    }


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
            "groupNeverShown": _text_and_history(cache, position, never),
            "groupShown": _text_and_history(cache, position, shown),
            "otherMeritClients": _text_and_history(cache, position, others_all),
            "groupAll": _text_and_history(cache, position, np.unique(client_ids[member])),
            "othersAll": _text_and_history(cache, position, np.unique(client_ids[~member])),
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
