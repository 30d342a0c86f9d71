"""Why do suitable clients of one group (geslacht "x" unless told) get less top-10 exposure than they merit? (issue 19
item 1)

Rebuilds exactly the pools ``werkmatch evaluate --pool-vacancies N`` judges (same dataset, same seeded
sample of held-out vacancies, same :func:`training.pool_eval.pool_holdout`), scores them with the
registered champion, replays the served ordering, and then asks three questions:

1. **Placebo.** How often does a random group of the same number of clients (drawn from all clients in
   the pools, gender ignored) get an exposure-vs-merit ratio as low as geslacht x? If often, the
   ratio is the noise of a 54-client group, not a mechanism.
2. **Observable vs hidden merit.** The hidden suitability is ``observable terms + latent terms``
   (:func:`training.latent.evaluate`). Per group, among the merit rows (top fifth of their pool by
   hidden suitability): the mean of each part, the mean within-pool rank of the ranker's score, and
   the mean of every ranker feature. A group that merits places through *hidden* terms (motivatie,
   betrouwbaarheid, chemistry) more than others is under-ranked by any ranker that reads the profile.
3. **The profile itself.** Per group, client-level means of the latent factors and of the profile
   fields the generator writes (trede, hours, travel, texts), to check that the generator writes x
   clients like everyone else (``training/population/people.py``: nothing of the person reaches them).

Usage (on a copy of the demo world with its simulated history)::

    WERKMATCH_DATA_DIR=/tmp/h-demo python bench/geslacht_x_probe.py --pool-vacancies 592 \
        --cache /tmp/h-probe/pools.npz --out bench/results/geslacht-x-probe.json

``--attribute leeftijd --group "tot 27"`` asks the same of another audited group (any attribute of
:func:`training.fairness.group_labels`; the cache holds them all, so one cache serves every group); the x-named
keys of the result then describe that group, and the generator's fields are read for geslacht only.
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


def build(pool_vacancies: int, test_share: float) -> dict[str, Any]:
    """The pools, scores and per-row decomposition, as ``werkmatch evaluate`` builds its pools."""
    from api.cli.common import matcher, settings
    from api.cli.models import _registered
    from matching.taxonomy import load_taxonomy
    from training import latent
    from training.dataset import build_dataset
    from training.fairness import group_labels
    from training.pool_eval import _truth_of, evaluated_pools
    from training.rankers import scorer_of
    from training.truth_arrays import Codebook

    config = settings()
    found = matcher(config)
    data = build_dataset(found)
    registered, note = _registered(config, found)
    champion = registered["champion"]
    pool = evaluated_pools(found, data, test_share, pool_vacancies)
    assert pool is not None, "no hidden truth: run on a synthetic world"
    pool_data, truth = pool
    scores = scorer_of(champion)(pool_data)  # with each pair's client: a ranker may read the notes column
    groups = group_labels(found.engine, pool_data)
    # observable and latent parts of the hidden suitability, per row
    codebook = Codebook.from_taxonomy(load_taxonomy())
    wanted = np.unique(pool_data.client_ids)
    arrays = _truth_of(found, wanted, codebook)
    observable = np.zeros(len(pool_data), np.float64)
    hidden = np.zeros(len(pool_data), np.float64)
    for vacancy_id in np.unique(pool_data.vacancy_ids).tolist():
        rows = np.flatnonzero(pool_data.vacancy_ids == vacancy_id)
        taken = arrays.take(np.searchsorted(arrays.ids, pool_data.client_ids[rows]))
        profile = latent.load_vacancy_profile(found.engine, vacancy_id, codebook)
        pair = latent._pair_terms(taken, profile)
        fit, wishes = latent._occupation_fit(taken, profile)
        observable[rows] = latent._observable_terms(taken, profile, latent.DEFAULT_WEIGHTS, pair, fit)
        hidden[rows] = latent._latent_terms(taken, profile, latent.DEFAULT_WEIGHTS, wishes)
    factor_names = ("motivation", "reliability", "ability", "trede")
    client_factors = {name: getattr(arrays, name) for name in factor_names if hasattr(arrays, name)}
    return {
        "features": pool_data.features,
        "labels": pool_data.labels,
        "vacancy_ids": pool_data.vacancy_ids,
        "client_ids": pool_data.client_ids,
        "moments": pool_data.moments,
        "trede": pool_data.trede,
        "bron": pool_data.bron,
        "truth": truth,
        "scores": np.asarray(scores, np.float64),
        "observable": observable,
        "hidden": hidden,
        "feature_names": np.array(pool_data.feature_names),
        **{f"group_{name}": np.asarray(values, dtype=str) for name, values in groups.items()},
        "factor_ids": arrays.ids,
        **{f"factor_{name}": values for name, values in client_factors.items()},
        "champion": np.array(json.dumps(champion.describe(), default=str)),
        "note": np.array(note or ""),
        "served_method": np.array(json.dumps(_served_method(config))),
    }


def _served_method(config: Any) -> dict[str, float]:
    from training.exposure_eval import served_method

    return served_method(config.ranker)


def _rank_in_pool(values: np.ndarray, vacancy_ids: np.ndarray) -> np.ndarray:
    """Per row, its percentile (0 worst … 1 best) of ``values`` within its own pool."""
    out = np.zeros(len(values), np.float64)
    for vacancy in np.unique(vacancy_ids):
        rows = np.flatnonzero(vacancy_ids == vacancy)
        order = np.argsort(np.argsort(values[rows], kind="stable"), kind="stable")
        out[rows] = order / max(len(rows) - 1, 1)
    return out


def _prepared(cache: dict[str, Any], attribute: str, group: str) -> dict[str, Any]:
    """The pools as evaluate judged them, their merit rows and both replayed orderings."""
    from training.dataset import RankingData
    from training.exposure_eval import _groups_in_time_order, replay
    from training.fairness import suitable_in_pool, top_k_mask

    names = tuple(str(n) for n in cache["feature_names"])
    data = RankingData(
        features=cache["features"],
        labels=cache["labels"],
        vacancy_ids=cache["vacancy_ids"],
        client_ids=cache["client_ids"],
        moments=cache["moments"],
        feature_names=names,
        bron=cache["bron"],
        trede=cache["trede"],
    )
    method = json.loads(str(cache["served_method"]))
    in_time = _groups_in_time_order(data)
    served_as, _ = replay(data, cache["scores"], method["strength"], in_time, floor=method["floor"])
    relevance_as, _ = replay(data, cache["scores"], 0.0, in_time)
    return {
        "names": names,
        "data": data,
        "merit": suitable_in_pool(cache["truth"], data.vacancy_ids),
        "servedAs": served_as,
        "relevanceAs": relevance_as,
        "topServed": top_k_mask(served_as, data.vacancy_ids),
        "topRelevance": top_k_mask(relevance_as, data.vacancy_ids),
        "gender": cache[f"group_{attribute}"],
        "attribute": attribute,
        "group": group,
    }


def _reproduced(p: dict[str, Any], seed: int) -> dict[str, Any]:
    """Evaluate's audit of the attribute on the replayed orderings (the numbers the probe explains)."""
    from training.fairness import audit_ranking

    keys = ("clients", "poolShare", "top10Share", "meritShare", "exposureVsMerit", "effectiveMeritClients")

    def ratio_of(ranked: np.ndarray) -> dict[str, Any]:
        audit = audit_ranking(p["data"], ranked, {p["attribute"]: p["gender"]}, p["merit"], seed=seed)
        groups = audit["attributes"][p["attribute"]]["groups"]
        return {group: {k: row[k] for k in keys} for group, row in groups.items()}

    return {"served": ratio_of(p["servedAs"]), "relevanceOnly": ratio_of(p["relevanceAs"])}


def exposure_vs_merit(merit: np.ndarray, member_rows: np.ndarray, top: np.ndarray) -> float:
    """A group's share of the top-10 places over its share of the truly suitable rows (nan: it has none)."""
    merit_share = np.sum(member_rows & merit) / np.sum(merit)
    return float((np.sum(member_rows & top) / np.sum(top)) / merit_share) if merit_share else float("nan")


def _placebo(p: dict[str, Any], rng: np.random.Generator, draws_wanted: int) -> dict[str, Any]:
    """1. Random client groups of each group's size: exposure vs merit without the bootstrap."""
    data, gender, merit = p["data"], p["gender"], p["merit"]
    clients = np.unique(data.client_ids)
    position = np.searchsorted(clients, data.client_ids)
    tops = (("served", p["topServed"]), ("relevanceOnly", p["topRelevance"]))
    placebo_out: dict[str, Any] = {}
    for group in sorted(set(gender.tolist())):
        members = gender == group
        size = len(np.unique(data.client_ids[members]))
        draws: dict[str, list[float]] = {"served": [], "relevanceOnly": []}
        for _ in range(draws_wanted):
            chosen = np.zeros(len(clients), bool)
            chosen[rng.choice(len(clients), size=size, replace=False)] = True
            rows = chosen[position]
            for name, top in tops:
                draws[name].append(exposure_vs_merit(merit, rows, top))
        placebo_out[group] = {"clients": size}
        for name, top in tops:
            values = np.array(draws[name])
            values = values[np.isfinite(values)]
            own = exposure_vs_merit(merit, members, top)
            placebo_out[group][name] = {
                "exposureVsMerit": round(own, 4),
                "randomGroupsOfSameSize": len(values),
                "shareAsLowOrLower": round(float(np.mean(values <= own)), 4),
                "shareAsHighOrHigher": round(float(np.mean(values >= own)), 4),
                "shareBelow0.8": round(float(np.mean(values < 0.8)), 4),
                "percentiles": {str(q): round(float(np.percentile(values, q)), 4) for q in (2.5, 10, 50, 90, 97.5)},
            }
    return placebo_out


def _client_bootstrap(p: dict[str, Any], rng: np.random.Generator, draws: int) -> dict[str, Any]:
    """Client bootstrap of the group: its clients resampled (with replacement), the other rows fixed."""
    data, merit = p["data"], p["merit"]
    x_rows = p["gender"] == p["group"]
    x_ids, x_inverse = np.unique(data.client_ids[x_rows], return_inverse=True)
    masks = (("merit", merit), ("served", p["topServed"]), ("relevanceOnly", p["topRelevance"]))
    per_x = {
        name: np.bincount(x_inverse, weights=mask[x_rows].astype(np.float64), minlength=len(x_ids))
        for name, mask in masks
    }
    client_bootstrap: dict[str, Any] = {}
    picks = rng.integers(0, len(x_ids), size=(draws, len(x_ids)))
    for name, top in (("served", p["topServed"]), ("relevanceOnly", p["topRelevance"])):
        merit_x, top_x = per_x["merit"][picks].sum(axis=1), per_x[name][picks].sum(axis=1)
        others_merit, others_top = np.sum(merit & ~x_rows), np.sum(top & ~x_rows)
        valid = merit_x > 0
        ratios = (top_x / (others_top + top_x))[valid] / (merit_x / (others_merit + merit_x))[valid]
        client_bootstrap[name] = [round(float(np.percentile(ratios, q)), 4) for q in (2.5, 97.5)]
    return client_bootstrap


def _ranks(p: dict[str, Any], cache: dict[str, Any]) -> dict[str, np.ndarray]:
    vacancy_ids = p["data"].vacancy_ids
    return {
        "score": _rank_in_pool(cache["scores"], vacancy_ids),
        "truth": _rank_in_pool(cache["truth"], vacancy_ids),
        "observable": _rank_in_pool(cache["observable"], vacancy_ids),
    }


def _by_geslacht(p: dict[str, Any], cache: dict[str, Any], ranks: dict[str, np.ndarray]) -> dict[str, Any]:
    """2. Observable vs hidden merit and the ranker's own view, per group, merit rows and all rows."""
    data, names = p["data"], p["names"]

    def block(rows: np.ndarray) -> dict[str, Any]:
        feats = data.features[rows]
        return {
            "rows": int(rows.sum()),
            "clients": int(len(np.unique(data.client_ids[rows]))),
            "truth": round(float(cache["truth"][rows].mean()), 4),
            "observablePart": round(float(cache["observable"][rows].mean()), 4),
            "hiddenPart": round(float(cache["hidden"][rows].mean()), 4),
            "truthRankInPool": round(float(ranks["truth"][rows].mean()), 4),
            "observableRankInPool": round(float(ranks["observable"][rows].mean()), 4),
            "scoreRankInPool": round(float(ranks["score"][rows].mean()), 4),
            "inTop10Relevance": round(float(p["topRelevance"][rows].mean()), 4),
            "inTop10Served": round(float(p["topServed"][rows].mean()), 4),
            "features": {n: round(float(feats[:, i].mean()), 4) for i, n in enumerate(names)},
        }

    gender = p["gender"]
    return {
        group: {"merit": block((gender == group) & p["merit"]), "all": block(gender == group)}
        for group in sorted(set(gender.tolist()))
    }


def _x_clients(p: dict[str, Any], cache: dict[str, Any], ranks: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Which x clients carry the merit rows, and how the ranker sees them (most merit rows first)."""
    data, merit = p["data"], p["merit"]
    per_client = []
    for client in np.unique(data.client_ids[p["gender"] == p["group"]]).tolist():
        rows = (data.client_ids == client) & merit
        if not rows.any():
            continue
        per_client.append(
            {
                "client": int(client),
                "meritRows": int(rows.sum()),
                "top10Relevance": int((rows & p["topRelevance"]).sum()),
                "top10Served": int((rows & p["topServed"]).sum()),
                "scoreRankInPool": round(float(ranks["score"][rows].mean()), 3),
                "observableRankInPool": round(float(ranks["observable"][rows].mean()), 3),
                "hiddenPart": round(float(cache["hidden"][rows].mean()), 3),
                "trede": int(data.trede[rows][0]),
            }
        )
    per_client.sort(key=lambda r: -r["meritRows"])
    return per_client


def _score_gap(p: dict[str, Any], ranks: dict[str, np.ndarray], rng: np.random.Generator, draws: int) -> dict:
    """The ranker's view against the observable part of the truth, one value per client (merit rows):
    the mean over a client's merit rows of (score rank - observable rank); x against random clients."""
    data, merit, gender = p["data"], p["merit"], p["gender"]
    gap = ranks["score"] - ranks["observable"]
    merit_clients, inverse = np.unique(data.client_ids[merit], return_inverse=True)
    per_client_gap = np.bincount(inverse, weights=gap[merit]) / np.bincount(inverse)
    is_x = np.isin(merit_clients, np.unique(data.client_ids[gender == p["group"]]))
    x_gap = float(per_client_gap[is_x].mean())
    random_gaps = np.array(
        [
            per_client_gap[rng.choice(len(merit_clients), size=int(is_x.sum()), replace=False)].mean()
            for _ in range(draws)
        ]
    )
    return {
        "xClients": int(is_x.sum()),
        "xMeanGap": round(x_gap, 4),
        "othersMeanGap": round(float(per_client_gap[~is_x].mean()), 4),
        "shareOfRandomGroupsAsLow": round(float(np.mean(random_gaps <= x_gap)), 4),
        "rowWeighted": {g: round(float(gap[merit & (gender == g)].mean()), 4) for g in sorted(set(gender.tolist()))},
    }


def _matched(p: dict[str, Any], ranks: dict[str, np.ndarray]) -> dict[str, Any]:
    """Each x merit row against the other merit rows of the same trede and truth-rank decile."""
    data, merit = p["data"], p["merit"]
    x_rows = p["gender"] == p["group"]
    decile = np.minimum((ranks["truth"] * 10).astype(int), 9)
    diffs = []
    for row in np.flatnonzero(x_rows & merit):
        peers = merit & ~x_rows & (data.trede == data.trede[row]) & (decile == decile[row])
        if peers.any():
            diffs.append(
                (
                    ranks["score"][row] - ranks["score"][peers].mean(),
                    ranks["observable"][row] - ranks["observable"][peers].mean(),
                )
            )
    return {
        "xMeritRows": len(diffs),
        "scoreRankMinusPeers": round(float(np.mean([d[0] for d in diffs])), 4),
        "observableRankMinusPeers": round(float(np.mean([d[1] for d in diffs])), 4),
    }


def _client_factors(p: dict[str, Any], cache: dict[str, Any]) -> dict[str, Any]:
    """3. Client-level hidden factors per group (one row per client in the pools)."""
    data = p["data"]
    client_gender = dict(zip(data.client_ids.tolist(), p["gender"].tolist(), strict=True))
    genders = np.array([client_gender.get(int(c), "") for c in cache["factor_ids"]])
    return {
        name[len("factor_") :]: {
            group: round(float(cache[name][genders == group].mean()), 4) for group in sorted(set(genders.tolist()))
        }
        for name in cache
        if name.startswith("factor_") and name != "factor_ids"
    }


def analyse(
    cache: dict[str, Any], placebo_draws: int, seed: int, attribute: str = ATTRIBUTE, group: str = GROUP
) -> dict[str, Any]:
    p = _prepared(cache, attribute, group)
    rng = np.random.default_rng(seed)
    placebo = _placebo(p, rng, placebo_draws)
    bootstrap = _client_bootstrap(p, rng, placebo_draws)
    ranks = _ranks(p, cache)
    per_client = _x_clients(p, cache, ranks)
    score_gap = _score_gap(p, ranks, rng, placebo_draws)
    x_rows, merit_rows_x = p["gender"] == p["group"], np.array([r["meritRows"] for r in per_client])
    # leave one x client out: the group's ratio without each of its five biggest merit carriers
    leave_one_out = [
        {
            "without": r["client"],
            **{
                name: round(exposure_vs_merit(p["merit"], x_rows & (p["data"].client_ids != r["client"]), top), 4)
                for name, top in (("served", p["topServed"]), ("relevanceOnly", p["topRelevance"]))
            },
        }
        for r in per_client[:5]
    ]
    concentration = {
        "clientsWithMeritRows": len(per_client),
        "meritRows": int(merit_rows_x.sum()),
        "shareOfTop3Clients": round(float(merit_rows_x[:3].sum() / merit_rows_x.sum()), 4) if len(per_client) else None,
    }
    return {
        "reproduced": _reproduced(p, seed),
        "placebo": placebo,
        "byGeslacht": _by_geslacht(p, cache, ranks),
        "xMeritConcentration": concentration,
        "xLeaveOneClientOut": leave_one_out,
        "xClientBootstrapCI": bootstrap,
        "scoreVsObservableGap": score_gap,
        "matchedOnTredeAndTruth": _matched(p, ranks),
        "xClientsWithMerit": per_client[:15],
        "clientFactors": _client_factors(p, cache),
    }


def generator_fields() -> dict[str, Any]:
    """Per geslacht, the mean of each hidden-truth field over *all* clients of the world, with its z score
    against the overall mean (sd / sqrt(group size)): does the generator write the groups alike?"""
    from sqlmodel import Session, select

    from api.cli.common import settings
    from matching.domain import AuditKenmerken
    from matching.store import make_engine
    from matching.taxonomy import load_taxonomy
    from training import latent
    from training.truth_arrays import Codebook

    engine = make_engine(settings().resolved_database_url)
    arrays = latent.load_client_arrays(engine, Codebook.from_taxonomy(load_taxonomy()))
    with Session(engine) as session:
        of = dict(session.exec(select(AuditKenmerken.client_id, AuditKenmerken.geslacht)).all())
    gender = np.array([of.get(int(i), "onbekend") for i in arrays.ids])
    fields = {
        "tredeWerkelijk": arrays.trede,
        "motivatie": arrays.motivation,
        "betrouwbaarheid": arrays.reliability,
        "vermogen": arrays.ability,
        "maxKm": arrays.max_km,
        "urenMin": arrays.uren_min,
        "urenMax": arrays.uren_max,
        "trueCompetences": (arrays.competences > 0).sum(axis=1),
        "trueBeperkingen": arrays.n_beperkingen,
        "taalniveau": arrays.language,
        "trueWishedSectors": arrays.wished_sectors.sum(axis=1),
        "experienceYears": arrays.experience.astype(np.float64).sum(axis=1),
    }
    out: dict[str, Any] = {"clients": {g: int(np.sum(gender == g)) for g in sorted(set(gender.tolist()))}}
    for name, values in fields.items():
        values = np.asarray(values, np.float64)
        out[name] = {
            g: {
                "mean": round(float(values[gender == g].mean()), 4),
                "z": round(
                    float((values[gender == g].mean() - values.mean()) / (values.std() / np.sqrt(np.sum(gender == g)))),
                    2,
                ),
            }
            for g in sorted(set(gender.tolist()))
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool-vacancies", type=int, default=592)
    parser.add_argument("--test-share", type=float, default=0.2)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/h-probe/pools.npz"))
    parser.add_argument("--placebo", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--attribute", default=ATTRIBUTE)
    parser.add_argument("--group", default=GROUP)
    parser.add_argument("--out", type=Path, default=Path("bench/results/geslacht-x-probe.json"))
    args = parser.parse_args()
    started = time.time()
    if not args.cache.exists():
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.cache, **build(args.pool_vacancies, args.test_share))
    with np.load(args.cache, allow_pickle=False) as loaded:
        cache = {name: loaded[name] for name in loaded.files}
    result = {
        "command": f"WERKMATCH_DATA_DIR={os.environ.get('WERKMATCH_DATA_DIR')} python bench/geslacht_x_probe.py "
        f"--pool-vacancies {args.pool_vacancies} --placebo {args.placebo} --attribute {args.attribute} "
        f"--group '{args.group}'",
        "group": {"attribute": args.attribute, "group": args.group},
        "champion": json.loads(str(cache["champion"])),
        "servedMethod": json.loads(str(cache["served_method"])),
        "vacancies": int(len(np.unique(cache["vacancy_ids"]))),
        "rows": int(len(cache["labels"])),
        **analyse(cache, args.placebo, args.seed, args.attribute, args.group),
        "generatorFields": generator_fields() if args.attribute == "geslacht" else None,
        "loadAverage": os.getloadavg(),
        "seconds": round(time.time() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    keys = (
        "xClientBootstrapCI",
        "xMeritConcentration",
        "xLeaveOneClientOut",
        "scoreVsObservableGap",
        "matchedOnTredeAndTruth",
    )
    print(json.dumps({k: result[k] for k in keys}, indent=1))


if __name__ == "__main__":
    main()
