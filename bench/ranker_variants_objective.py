"""Labels, objective, pool sampling and constraints of the learned ranker: an experiment (issue 19, item 2).

Run from the repository root: nice -n 10 .venv/bin/python -m bench.ranker_variants_objective --data-dir <copy
of the demo with its 3-year history> [--out FILE] (then ``--selection`` adds the diagnostic of :func:`selection`)

The challenger (LambdaMART on the graded label of the state a voorstel ended in, only the decided
voorstellen, the 25 features with their monotone directions) is judged on whole candidate pools but
learns from the few pairs consulenten proposed. This script varies one thing at a time:

* **labels** from the outcome chain, per pair its latest voorstel and the furthest state it reached:
  ``chain`` = 0 afgewezen before an invitation for a reason about the pair, 1 uitgenodigd, 2 aangenomen,
  3 geplaatst, 4 duurzaam; a voorstel still open without an invitation, or turned down before one for
  a situational reason (:data:`matching.reasons.SITUATIONAL` and the retired codes that meant the same),
  is *no decision* and left out; an open one counts for the state it reached (a floor). Beside it the
  shipped label with only the invitation grade added, ``hire`` (aangenomen or further) and ``placement``
  (duurzaam; a voorstel still open left out, it may still become duurzaam).
* **objective**: lambdarank with the default and a linear label gain, rank_xendcg, binary.
* **pool sampling**: beside the proposed pairs, members of the training vacancy's own candidate pool
  (:meth:`Matcher.pool_features`, what the search ranks) that nobody proposed, as label 0 with a
  weight, drawn from the pool's top 100 by the weighted core score (hard) or from the whole pool; or
  the proposed pairs weighted by the inverse of a propensity model of being proposed (IPS, Joachims
  et al. 2017), fitted on the same pools.
* **constraints**: without the monotone directions, LightGBM's ``advanced`` monotone method, depth 3.
* **the notes column** of ``bench/ranker_variants_notes.py`` (its chosen variant), added to the
  challenger and to the best combination of the above.

Every variant is fitted on the older 80 % of the training period's vacancies, tuned on :data:`GRID` by one
routine (:func:`tune_fit`, as :func:`rankers.tune_lgbm` with weights, labels and objectives), and judged on
the pools of 150 of the newest 20 % (those of ``ranker_variants_notes.py``): NDCG@10, share of the oracle
and ratio to the weighted baseline with paired bootstrap intervals. **Rule, written before any
result was seen**: the held-out run takes the variant with the highest validation share of the oracle;
a variant with fewer departures from the challenger that is within 0.005 of it wins instead. The same run
then fits that variant and the challenger on the whole training period and scores them once on the
200 held-out pools ``werkmatch evaluate`` samples (``--only`` runs some variants and no held-out).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
from lightgbm import LGBMRanker
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sqlalchemy import text as sql

import bench.ranker_variants_notes as notes
from matching.matcher import Matcher
from matching.outcomes import RELEVANCE, RelevanceLabel, VoorstelStatus
from matching.reasons import SITUATIONAL
from matching.settings import Settings
from training import rankers
from training.dataset import RankingData, build_dataset
from training.metrics import paired, per_group, summarise

NOTES_VARIANT = "stems + learned detector, projected, alpha 3, residual target"  # chosen in ranker-notes-3y.json
TRAIN_POOLS = 1000  # training vacancies whose pools give unproposed members (seeded sample; 25 ms a pool)
NEGATIVES = 20  # unproposed pool members per such vacancy
HARD_TOP = 100  # "hard": drawn from the pool's top this many by the weighted core score
IPS_CLIP = (0.05, 0.95)  # propensity weights clipped to these quantiles
RULE_MARGIN = 0.005
GRID: dict[str, tuple[Any, ...]] = {"num_leaves": (7, 15), "learning_rate": (0.1,), "min_child_samples": (20, 50)}
"""4 of the 18 candidates of :data:`rankers.TUNING_GRID`, around what it chose on this world in a first run of
this script (7 leaves, 0.1, 20): all 18 took about 170 s a variant on the shared machine (load 16)."""
RETIRED_SITUATIONAL = {"vacature_vervuld_door_ander", "niet_verschenen", "werkgever_trekt_in", "klant_trekt_in"}
SITUATIONAL_CODES = {str(code) for code in SITUATIONAL} | RETIRED_SITUATIONAL
STAGE = {"voorgesteld": 0, "uitgenodigd": 1, "aangenomen": 2, "geplaatst": 3, "duurzaam": 4}


@dataclass
class Chain:
    """Per (client, vacancy): its latest voorstel's furthest stage, final status, closing reason, last change."""

    stage: dict[tuple[int, int], int]
    final: dict[tuple[int, int], str]
    reason: dict[tuple[int, int], str | None]
    changed: dict[tuple[int, int], float]


def load_chain(matcher: Matcher) -> Chain:
    query = sql(
        "SELECT v.id, v.client_id, v.vacancy_id, v.status, v.updated_at, e.to_status, e.reason_code "
        "FROM voorstel v JOIN voorstel_event e ON e.voorstel_id = v.id ORDER BY v.created_at, v.id, e.at, e.id"
    )
    chain = Chain({}, {}, {}, {})
    latest: dict[tuple[int, int], int] = {}
    with matcher.engine.connect() as connection:
        for voorstel, client, vacancy, status, updated, to_status, reason in connection.execute(query):
            key = (int(client), int(vacancy))
            if latest.get(key) != voorstel:  # a newer voorstel of the same pair replaces the older one
                latest[key] = voorstel
                chain.stage[key], chain.reason[key] = 0, None
            chain.final[key] = status
            chain.changed[key] = _epoch(updated)
            chain.stage[key] = max(chain.stage[key], STAGE.get(to_status, 0))
            if to_status in ("afgewezen", "uitgevallen"):
                chain.reason[key] = reason
    return chain


def _epoch(value: Any) -> float:
    moment = datetime.fromisoformat(str(value)) if not isinstance(value, datetime) else value
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def design_labels(design: str, keys: list[tuple[int, int]], chain: Chain) -> tuple[np.ndarray, np.ndarray]:
    """Labels and a keep mask for the pairs ``keys`` (every voorstel, open ones too) under one design."""
    labels = np.zeros(len(keys), np.int64)
    keep = np.ones(len(keys), bool)
    for row, key in enumerate(keys):
        stage, final, reason = chain.stage[key], chain.final[key], chain.reason[key]
        open_pair = final in ("voorgesteld", "uitgenodigd", "aangenomen", "geplaatst")
        undecided = (stage == 0 and open_pair) or (stage == 0 and reason in SITUATIONAL_CODES)
        if design == "shipped":
            labels[row] = RELEVANCE[VoorstelStatus(final)]
            keep[row] = final not in ("voorgesteld", "uitgenodigd")
        elif design == "shipped + invited 1":
            labels[row] = max(RELEVANCE[VoorstelStatus(final)], 2) if stage >= 2 else min(stage, 1)
            keep[row] = final != "voorgesteld"
        elif design in ("chain", "chain, situational kept"):
            labels[row] = stage
            keep[row] = not (stage == 0 and open_pair) if design.endswith("kept") else not undecided
        elif design == "hire":
            labels[row], keep[row] = int(stage >= 2), not undecided and not (open_pair and stage < 2)
        elif design == "placement":
            labels[row], keep[row] = int(stage == 4), not undecided and not open_pair  # open: may still last
        else:
            raise ValueError(design)
    return labels, keep


@dataclass
class Fit:
    """Training rows under one design: the pairs, a weight per row (None: all 1)."""

    data: RankingData
    weight: np.ndarray | None = None


def all_pairs(matcher: Matcher, chain: Chain, world: notes.World) -> RankingData:
    """Every voorstel pair of the world's vacancies (open ones too), with features, in time order."""

    def source(_session: Any, _since: Any) -> list[RelevanceLabel]:
        return [
            RelevanceLabel(c, v, 0, datetime.fromtimestamp(chain.changed[(c, v)], UTC)) for c, v in chain.final
        ]  # label 0 for all: design_labels sets the real ones; 1 would be dropped as open

    data = build_dataset(matcher, labels=source)
    return data.take(np.flatnonzero(np.isin(data.vacancy_ids, world.data.vacancy_ids)))


def labelled(pairs: RankingData, chain: Chain, design: str, vacancies: np.ndarray) -> Fit:
    """The pairs of ``vacancies`` kept and labelled under ``design``."""
    part = pairs.take(np.flatnonzero(np.isin(pairs.vacancy_ids, vacancies)))
    keys = list(zip(part.client_ids.tolist(), part.vacancy_ids.tolist(), strict=True))
    labels, keep = design_labels(design, keys, chain)
    return Fit(replace(part, labels=labels).take(np.flatnonzero(keep)))


@dataclass
class Pools:
    """Candidate pools of training vacancies (client ids, features): no outcome and no truth is read."""

    clients: dict[int, np.ndarray]
    features: dict[int, np.ndarray]

    def add(self, matcher: Matcher, vacancies: np.ndarray, size: int, seed: int = 1) -> list[int]:
        chosen = np.random.default_rng(seed).choice(vacancies, size=min(size, len(vacancies)), replace=False)
        for vacancy in chosen.tolist():
            if vacancy not in self.clients:
                self.clients[vacancy], self.features[vacancy] = matcher.pool_features(int(vacancy))
        return [int(v) for v in chosen]


def _concat(parts: list[RankingData]) -> tuple[RankingData, np.ndarray]:
    """Rows of ``parts`` as one, sorted by (moment, vacancy) so every group is contiguous and in time order."""
    names = ("features", "labels", "vacancy_ids", "client_ids", "moments")
    merged = RankingData(*(np.concatenate([getattr(part, name) for part in parts]) for name in names))
    order = np.lexsort((merged.vacancy_ids, merged.moments))
    return merged.take(order), order


def with_unproposed(
    fit: Fit, pools: Pools, used: list[int], chain: Chain, weight: float, hard: bool, settings: Settings
) -> Fit:
    """``fit`` plus :data:`NEGATIVES` never-proposed members of each used pool, label 0 with ``weight``."""
    rng = np.random.default_rng(2)
    moment = dict(zip(fit.data.vacancy_ids.tolist(), fit.data.moments.tolist(), strict=True))
    extra: list[RankingData] = []
    for vacancy in used:
        if vacancy not in moment:
            continue
        ids, features = pools.clients[vacancy], pools.features[vacancy]
        free = np.flatnonzero([(int(c), vacancy) not in chain.final for c in ids])
        if hard:
            pool = RankingData(
                features, np.zeros(len(ids), np.int64), np.full(len(ids), vacancy), ids, np.zeros(len(ids))
            )
            score = rankers.weighted_baseline(pool, settings.retrieval)
            free = free[np.argsort(-score[free], kind="stable")[:HARD_TOP]]
        pick = rng.choice(free, size=min(NEGATIVES, len(free)), replace=False)
        extra.append(
            RankingData(
                features[pick], np.zeros(len(pick), np.int64), np.full(len(pick), vacancy, np.int64),
                ids[pick].astype(np.int64), np.full(len(pick), moment[vacancy]),
            )
        )  # fmt: skip
    base = RankingData(fit.data.features, fit.data.labels, fit.data.vacancy_ids, fit.data.client_ids, fit.data.moments)
    merged, order = _concat([base, *extra])
    own = np.ones(len(base)) if fit.weight is None else fit.weight
    return Fit(merged, np.concatenate([own, *[np.full(len(e), weight) for e in extra]])[order])


def with_ips(fit: Fit, pools: Pools, used: list[int], chain: Chain) -> tuple[Fit, dict[str, Any]]:
    """``fit`` with each pair weighted by 1 / P(proposed | features), the propensity fitted on the used pools."""
    rows, flags = [], []
    for vacancy in used:
        ids = pools.clients[vacancy]
        rows.append(pools.features[vacancy])
        flags.append(np.array([(int(c), vacancy) in chain.final for c in ids]))
    x, y = np.concatenate(rows), np.concatenate(flags)
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=1.0, max_iter=3000).fit(scaler.transform(x), y)
    width = x.shape[1]
    propensity = model.predict_proba(scaler.transform(fit.data.features[:, :width]))[:, 1]
    raw = 1.0 / np.maximum(propensity, 1e-6)
    low, high = np.quantile(raw, IPS_CLIP)
    weights = np.clip(raw, low, high)
    report = {
        "poolRows": int(len(y)),
        "proposedInPools": int(y.sum()),
        "weightRange": [round(float(low), 2), round(float(high), 2)],
    }
    return Fit(fit.data, weights / weights.mean()), report


def notes_column(world: notes.World, text: notes.TextVectors, fit: RankingData) -> np.ndarray:
    """Per client (``world.clients`` order) the notes column: out-of-fold for ``fit``'s clients, else the full fit."""
    matrix = notes.matrix_for(world, text, notes.VARIANTS[NOTES_VARIANT])
    own, everyone = notes.columns(world, matrix, fit, notes.VARIANTS[NOTES_VARIANT])
    per_client = everyone.copy()
    per_client[notes._positions(world, fit)] = own
    return per_client


def add_notes(world: notes.World, part: RankingData, per_client: np.ndarray | None) -> RankingData:
    if per_client is None:
        return part
    return replace(
        part, features=np.column_stack([part.features, per_client[notes._positions(world, part)]]).astype(np.float32)
    )


def _ranker(params: dict[str, Any], monotone: list[int] | None, seed: int = 0) -> LGBMRanker:
    chosen = {**rankers.LGBM_DEFAULTS, "metric": "ndcg", **params, "random_state": seed, "n_jobs": 1, "verbose": -1}
    if monotone is not None:
        chosen["monotone_constraints"] = monotone
    return LGBMRanker(**chosen)


def tune_fit(
    fit: Fit, yard: RankingData, extra: dict[str, Any], monotone: list[int] | None, seed: int = 0
) -> tuple[LGBMRanker, dict[str, Any]]:
    """:func:`rankers.tune_lgbm`'s stopping on :data:`GRID`, with weights, any labels and objective.

    The newest 20 % of ``fit``'s vacancies validate, scored on ``yard`` (their decided voorstellen with
    the shipped label, the same yardstick for every variant); the best candidate is refitted on all of ``fit``.
    """
    vacancies, first = np.unique(fit.data.vacancy_ids, return_index=True)
    order = vacancies[np.argsort(fit.data.moments[first], kind="stable")]
    newest = order[int(round(len(order) * (1 - rankers.VALIDATION_SHARE))) :]
    inner_rows = np.flatnonzero(~np.isin(fit.data.vacancy_ids, newest))
    inner = fit.data.take(inner_rows)
    inner_weight = None if fit.weight is None else fit.weight[inner_rows]
    validation = rankers._with_something_to_find(yard.take(np.flatnonzero(np.isin(yard.vacancy_ids, newest))))
    best, best_score = dict(rankers.LGBM_DEFAULTS), -1.0
    for values in itertools.product(*GRID.values()):
        candidate = dict(zip(GRID, values, strict=True))
        model = _ranker({**candidate, **extra, "n_estimators": rankers.TUNING_MAX_TREES}, monotone, seed)
        model.fit(
            inner.features,
            inner.labels,
            sample_weight=inner_weight,
            group=inner.group_sizes(),
            **rankers._eval_data(validation),
            eval_group=[validation.group_sizes()],
            eval_at=[10],
            callbacks=[lightgbm.early_stopping(rankers.TUNING_PATIENCE, first_metric_only=True, verbose=False)],
        )
        predicted = model.predict(validation.features)
        score = float(np.nanmean(per_group(validation.labels, predicted, validation.vacancy_ids)["ndcg@10"]))
        if score > best_score:
            best_score, best = score, {**candidate, "n_estimators": max(int(model.best_iteration_), 1)}
    final = _ranker({**best, **extra}, monotone, seed)
    final.fit(fit.data.features, fit.data.labels, sample_weight=fit.weight, group=fit.data.group_sizes())
    return final, {**best, "validationNdcg@10": round(best_score, 4), "trainRows": len(fit.data)}


CHALLENGER: dict[str, Any] = {
    "design": "shipped",
    "extra": {},
    "pool": None,
    "weight": 0.0,
    "monotone": True,
    "notes": False,
}
VARIANTS: dict[str, dict[str, Any]] = {
    "challenger (shipped labels, lambdarank, proposed pairs only)": {},
    "labels: shipped + invited 1": {"design": "shipped + invited 1"},
    "labels: chain": {"design": "chain"},
    "labels: chain, situational kept": {"design": "chain, situational kept"},
    "labels: hire": {"design": "hire"},
    "labels: placement": {"design": "placement"},
    "objective: chain, linear label gain": {"design": "chain", "extra": {"label_gain": [0, 1, 2, 3, 4]}},
    "objective: chain, rank_xendcg": {"design": "chain", "extra": {"objective": "rank_xendcg"}},
    "objective: shipped labels, rank_xendcg": {"extra": {"objective": "rank_xendcg"}},
    "objective: hire, binary": {"design": "hire", "extra": {"objective": "binary"}},
    "pool: hard unproposed, weight 0.1": {"pool": "hard", "weight": 0.1},
    "pool: hard unproposed, weight 0.3": {"pool": "hard", "weight": 0.3},
    "pool: hard unproposed, weight 1": {"pool": "hard", "weight": 1.0},
    "pool: uniform unproposed, weight 0.3": {"pool": "uniform", "weight": 0.3},
    "pool: IPS-weighted proposed pairs": {"pool": "ips"},
    "constraints: no monotone directions": {"monotone": False},
    "constraints: monotone method advanced": {"extra": {"monotone_constraints_method": "advanced"}},
    "constraints: depth 3": {"extra": {"max_depth": 3}},
    "notes: challenger + notes column": {"notes": True},
}
WHAT = (
    "Issue 19 item 2: each variant changes one thing in the challenger; fit on the older 80 % of the training period, "
    "judged on 150 validation pools of its newest 20 %; the 200 held-out pools once, for the variant the rule picks. "
    "Grid: GRID (4 of the 18 candidates of training.rankers.TUNING_GRID) for every model, the challenger too."
)


def spec_of(overrides: dict[str, Any]) -> dict[str, Any]:
    return {**CHALLENGER, **overrides}


def departures(spec: dict[str, Any]) -> int:
    """How many things differ from the challenger (for the rule's tie-break)."""
    return sum(spec[key] != CHALLENGER[key] for key in CHALLENGER if key != "extra") + len(spec["extra"])


@dataclass
class Context:
    """What one stage (tuning or held-out) fits on and judges on."""

    world: notes.World
    chain: Chain
    pairs: RankingData
    pools: Pools
    used: list[int]
    fit_vacancies: np.ndarray
    yard: RankingData
    pool: tuple[RankingData, np.ndarray]
    notes: np.ndarray
    settings: Settings
    check: dict[str, Any] = field(default_factory=dict)


def run_variant(ctx: Context, spec: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """Fit one variant as the context says and score its pools."""
    fit = labelled(ctx.pairs, ctx.chain, spec["design"], ctx.fit_vacancies)
    report: dict[str, Any] = {}
    if spec["pool"] in ("hard", "uniform"):
        fit = with_unproposed(fit, ctx.pools, ctx.used, ctx.chain, spec["weight"], spec["pool"] == "hard", ctx.settings)
    elif spec["pool"] == "ips":
        fit, report = with_ips(fit, ctx.pools, ctx.used, ctx.chain)
    column = ctx.notes if spec["notes"] else None
    fit = Fit(add_notes(ctx.world, fit.data, column), fit.weight)
    monotone = list(rankers.MONOTONE) + [1] * (column.shape[1] if column is not None else 0)
    model, params = tune_fit(
        fit, add_notes(ctx.world, ctx.yard, column), spec["extra"], monotone if spec["monotone"] else None
    )
    pool, _ = ctx.pool
    scores = model.predict(add_notes(ctx.world, pool, column).features)
    return scores, {"params": params, **({"propensity": report} if report else {})}


def judged(ctx: Context, scores: np.ndarray, against: dict[str, np.ndarray]) -> dict[str, Any]:
    """NDCG@10 with its interval, share of the oracle and ratio to each of ``against`` (paired intervals)."""
    pool, truth = ctx.pool
    summary = summarise(pool.labels, scores, pool.vacancy_ids)
    oracle = paired(pool.labels, scores, truth, pool.vacancy_ids)
    out = {key: summary[key] for key in ("ndcg@10", "ndcg@10CI")}
    out |= {"oracleShare": oracle["ratio"], "oracleShareCI": oracle["ratioCI"]}
    for name, other in against.items():
        vs = paired(pool.labels, scores, other, pool.vacancy_ids)
        out[f"vs {name}"] = {key: vs[key] for key in ("gain", "gainCI", "ratio", "ratioCI")}
    return out


def tune(ctx: Context, only: list[str] | None, save: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Every variant on the validation pools; then the best of each axis combined, with and without notes."""
    pool, truth = ctx.pool
    weighted = rankers.weighted_baseline(pool, ctx.settings.retrieval)
    out: dict[str, Any] = {
        "pools": int(len(np.unique(pool.vacancy_ids))),
        "oracleNdcg@10": round(float(np.nanmean(per_group(pool.labels, truth, pool.vacancy_ids)["ndcg@10"])), 4),
        "weightedBaseline": judged(ctx, weighted, {}),
        "variants": {},
    }
    challenger_name = next(iter(VARIANTS))
    specs = {
        name: spec_of(v) for name, v in VARIANTS.items() if only is None or name in only or name == challenger_name
    }
    scores_of: dict[str, np.ndarray] = {}
    for stage in ("alone", "combined"):  # the combinations are made from the results of the first stage
        todo = specs if stage == "alone" else combination(out["variants"], specs)
        for name, spec in todo.items():
            specs[name], start = spec, time.perf_counter()
            scores_of[name], fitted = run_variant(ctx, spec)
            against = {"weighted baseline": weighted, "challenger": scores_of[challenger_name]}
            out["variants"][name] = {**judged(ctx, scores_of[name], against), **fitted, "spec": spec}
            out["variants"][name]["seconds"] = round(time.perf_counter() - start, 1)
            print(name, json.dumps(out["variants"][name]), flush=True)
            save(out)
    out["chosen"] = choose(out["variants"], specs)
    out["chosenSpec"] = specs[out["chosen"]]
    return out


def combination(results: dict[str, Any], specs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The best variant of each axis that beat the challenger, merged into one (and with the notes column)."""
    base = results[next(iter(VARIANTS))]["oracleShare"]
    merged = spec_of({})
    parts = []
    for axis in (("labels:", "objective:"), ("pool:",), ("constraints:",)):
        names = [name for name in results if name.startswith(axis) and results[name]["oracleShare"] > base]
        if names:
            best = max(names, key=lambda name: results[name]["oracleShare"])
            parts.append(best)
            spec = specs[best]
            merged = {**merged, **{k: v for k, v in spec.items() if v != CHALLENGER[k] and k != "extra"}}
            merged["extra"] = {**merged["extra"], **spec["extra"]}
    if not parts:
        return {}
    name = "combined: " + " | ".join(parts)
    out = {name: merged} if len(parts) > 1 else {}  # one part alone is already a variant
    return {**out, name.replace("combined:", "combined + notes column:"): {**merged, "notes": True}}


def choose(results: dict[str, Any], specs: dict[str, dict[str, Any]]) -> str:
    """The rule of the module docstring: best validation share of the oracle; fewer departures within the margin."""
    best = max(results, key=lambda name: results[name]["oracleShare"])
    close = [n for n in results if results[n]["oracleShare"] >= results[best]["oracleShare"] - RULE_MARGIN]
    return min(close, key=lambda n: (departures(specs[n]), -results[n]["oracleShare"]))


def selection(world: notes.World, chain: Chain, settings: Settings) -> dict[str, Any]:
    """Why never-proposed pool members are poor negatives: on the validation pools, the counterfactual outcomes
    (synthetic truth, read for this explanation only) of the proposed, the never-proposed near the top, and the rest."""
    pool, truth = world.val_pool
    proposed = np.array(
        [(int(c), int(v)) in chain.final for c, v in zip(pool.client_ids, pool.vacancy_ids, strict=True)]
    )
    score = rankers.weighted_baseline(pool, settings.retrieval)
    hard = np.zeros(len(pool), bool)
    in_truth_top = np.zeros(len(pool), bool)
    for vacancy in np.unique(pool.vacancy_ids):
        rows = np.flatnonzero(pool.vacancy_ids == vacancy)
        free = rows[~proposed[rows]]
        hard[free[np.argsort(-score[free], kind="stable")[:HARD_TOP]]] = True
        in_truth_top[rows[np.argsort(-truth[rows], kind="stable")[:10]]] = True
    groups = {
        "proposed": proposed,
        "never proposed, top 100 by weighted score": hard,
        "never proposed, rest": ~proposed & ~hard,
    }
    return {
        "what": "validation pools; hired: counterfactual label >= 2; truth top 10: the 10 best by hidden suitability",
        **{
            name: {
                "rows": int(mask.sum()),
                "hiredShare": round(float((pool.labels[mask] >= 2).mean()), 4),
                "shareOfTruthTop10": round(float((mask & in_truth_top).sum() / in_truth_top.sum()), 4),
            }
            for name, mask in groups.items()
        },
    }


def held_out(ctx: Context, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The chosen variant and the challenger, fitted on the whole training period, once on the held-out pools."""
    pool, truth = ctx.pool
    weighted = rankers.weighted_baseline(pool, ctx.settings.retrieval)
    challenger, challenger_fit = run_variant(ctx, spec_of({}))
    models = {"challenger (as tuned here)": (challenger, challenger_fit)}
    if spec["notes"] and spec != spec_of({"notes": True}):
        models["challenger + notes column"] = run_variant(ctx, spec_of({"notes": True}))
    if spec != spec_of({}):
        models[f"chosen: {name}"] = run_variant(ctx, spec)
    out: dict[str, Any] = {
        "variant": name,
        "pools": int(len(np.unique(pool.vacancy_ids))),
        "oracleNdcg@10": round(float(np.nanmean(per_group(pool.labels, truth, pool.vacancy_ids)["ndcg@10"])), 4),
        "weightedBaseline": judged(ctx, weighted, {}),
        "models": {},
    }
    for label, (scores, fitted) in models.items():
        against = {"weighted baseline": weighted, "challenger": challenger}
        out["models"][label] = {**judged(ctx, scores, against), **fitted}
    return out


def contexts(
    matcher: Matcher, world: notes.World, text: notes.TextVectors, settings: Settings, size: int
) -> tuple[Context, Callable[[], Context]]:
    """The tuning context (older 80 % of the training period, validation pools) and a maker for the held-out one."""
    chain = load_chain(matcher)
    pairs = all_pairs(matcher, chain, world)
    train, _ = world.data.time_split(0.2)
    inner, _ = train.time_split(0.2)
    pools = Pools({}, {})
    start = time.perf_counter()
    used = pools.add(matcher, np.unique(inner.vacancy_ids), size)
    pool_seconds = time.perf_counter() - start
    shipped = labelled(pairs, chain, "shipped", np.unique(inner.vacancy_ids)).data
    check = {
        "innerPairs": len(inner),
        "shippedDesignPairs": len(shipped),
        "sameLabels": bool(
            len(inner) == len(shipped) and np.array_equal(np.sort(inner.labels), np.sort(shipped.labels))
        ),
    }
    print("check", check, "pools", round(pool_seconds, 1), flush=True)
    tuning = Context(world, chain, pairs, pools, used, np.unique(inner.vacancy_ids), inner, world.val_pool,
                     notes_column(world, text, inner), settings)  # fmt: skip
    tuning.check = {**check, "trainingPools": len(used), "poolSeconds": round(pool_seconds, 1)}

    def later() -> Context:
        vacancies = np.unique(train.vacancy_ids)
        return Context(world, chain, pairs, pools, pools.add(matcher, vacancies, size, seed=3), vacancies,
                       train, world.test_pool, notes_column(world, text, train), settings)  # fmt: skip

    return tuning, later


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--only", default=None, help="variant names separated by ; (a dry run: no held-out)")
    parser.add_argument("--training-pools", type=int, default=TRAIN_POOLS)
    parser.add_argument("--selection", action="store_true", help="only the selection diagnostic, added to --out")
    parser.add_argument("--out", type=Path, default=Path("bench/results/ranker-variants-objective.json"))
    args = parser.parse_args()
    start = time.perf_counter()
    settings = Settings(data_dir=args.data_dir)
    matcher = Matcher(settings)
    world = notes.load_world(matcher)
    if args.selection:
        result = json.loads(args.out.read_text(encoding="utf-8"))
        command = "nice -n 10 .venv/bin/python -m bench.ranker_variants_objective " + " ".join(sys.argv[1:])
        result["selection"] = {"command": command, **selection(world, load_chain(matcher), settings)}
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        print(json.dumps(result["selection"]))
        return
    text = notes.text_vectors(matcher, world)
    tuning, later = contexts(matcher, world, text, settings, args.training_pools)
    only = args.only.split(";") if args.only else None
    result: dict[str, Any] = {}

    def save(tuning: dict[str, Any]) -> None:
        result["tuning"] = tuning
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")

    result |= {
        "command": "nice -n 10 .venv/bin/python -m bench.ranker_variants_objective " + " ".join(sys.argv[1:]),
        "rule": "held-out variant = highest validation share of the oracle; fewer departures from the challenger "
        f"within {RULE_MARGIN} wins (written before any result)",
        "what": WHAT,
        "notesVariant": NOTES_VARIANT,
        "sampling": {"trainingPools": args.training_pools, "negativesPerPool": NEGATIVES, "hardTop": HARD_TOP},
        "check": tuning.check,
    }
    result["tuning"] = tune(tuning, only, save)
    result["tuning"]["seconds"] = round(time.perf_counter() - start, 1)
    result["loadavgAfterTuning"] = Path("/proc/loadavg").read_text().split()[:3]
    if only is None:
        chosen = result["tuning"]["chosen"]
        result["heldOut"] = held_out(later(), chosen, result["tuning"]["chosenSpec"])
        result["heldOut"]["seconds"] = round(time.perf_counter() - start, 1)
        result["loadavgAfterHeldOut"] = Path("/proc/loadavg").read_text().split()[:3]
    save(result["tuning"])
    print(json.dumps(result.get("heldOut", {}), default=str)[:3000])


if __name__ == "__main__":
    main()
