"""The client's own outcome history as a readiness signal: a challenger-only experiment (issue 19, item 2).

Run from the repository root: /tmp/heavy .venv/bin/python -m bench.ranker_variants_history --data-dir <copy of
the demo with its 3-year history> [--out FILE]

The 25 profile features reach about 0.64 of the oracle on whole held-out pools and the notes column
0.68-0.72; what is left is hidden readiness, motivation and reliability. Earlier voorstellen and what became
of them are observed consequences of those. :mod:`training.client_history` turns them into point-in-time
columns (steps decided strictly before the vacancy's moment, never the vacancy's own; shrunk toward the
population with :data:`training.client_history.PRIOR` pseudo-steps): ``history_excess`` (successes minus
expected, expected = the stage's base rate or an out-of-fold model of the pair's profile features),
``history_steps``, ``history_proposals``, ``history_days_since_success``.

Every variant is the challenger (LambdaMART, shipped labels, decided voorstellen, monotone directions,
tuned on ``bench.ranker_variants_objective.GRID``) plus some columns, fitted on the older 80 % of the
training period and judged on 150 validation pools of its newest 20 % (those of the earlier experiments).
The expectation models and base rates learn only from steps decided before the first judged vacancy.

**Rule, written before any result was seen**: the held-out run takes the variant with the highest
validation share of the oracle; a variant with fewer added columns within :data:`RULE_MARGIN` of it wins
instead (ties: the higher share). The same run then fits the chosen variant, the challenger and the
challenger + notes column on the whole training period and scores them once on the 200 held-out pools
``werkmatch evaluate`` samples: NDCG@10, share of the oracle and ratio to the weighted baseline with paired
intervals, the served lists' exposure (the shipped replay), and what the history columns separate
(protected attributes, beperkingen: ROC AUC, 0.5 = nothing).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sqlmodel import Session

import bench.ranker_variants_notes as notes
import bench.ranker_variants_objective as objective
from matching.matcher import Matcher
from matching.outcomes import RelevanceLabel
from matching.settings import Settings
from training import client_history, rankers
from training.client_history import History
from training.dataset import RankingData, build_dataset
from training.exposure_eval import served_fairness, served_method
from training.fairness import group_labels, suitable_in_pool
from training.metrics import paired, per_group, summarise
from training.outcome_sim import audit_columns

RULE_MARGIN = 0.005
EXCESS, STEPS = (0, 1), (0, 1, 2, 3)
VARIANTS: dict[str, dict[str, Any]] = {
    "challenger (25 features)": {"notes": False, "expectation": None, "columns": ()},
    "+ history, base-rate expectation (excess, steps)": {"notes": False, "expectation": "rate", "columns": EXCESS},
    "+ history, profile expectation (excess, steps)": {"notes": False, "expectation": "profile", "columns": EXCESS},
    "+ history, profile expectation, all four columns": {"notes": False, "expectation": "profile", "columns": STEPS},
    "+ notes column": {"notes": True, "expectation": None, "columns": ()},
    "+ notes + history, base-rate expectation (excess, steps)": {
        "notes": True,
        "expectation": "rate",
        "columns": EXCESS,
    },
    "+ notes + history, profile expectation (excess, steps)": {
        "notes": True,
        "expectation": "profile",
        "columns": EXCESS,
    },
    "+ notes + history, profile expectation, all four columns": {
        "notes": True,
        "expectation": "profile",
        "columns": STEPS,
    },
}
DEBIAS_VARIANTS: dict[str, dict[str, Any]] = {
    "+ history, expectation with audit groups (excess, steps)": {
        "notes": False,
        "expectation": "profile+audit",
        "columns": EXCESS,
    },
    "+ notes + history, expectation with audit groups (excess, steps)": {
        "notes": True,
        "expectation": "profile+audit",
        "columns": EXCESS,
    },
}
DEBIAS_WHAT = (
    "--debias, a diagnostic after the rule's run, validation pools only: the expectation model also sees the "
    "client's migration background and age band at the step, so the excess keeps what the employers' average "
    "treatment of the group does not explain. The audit attributes enter only that expectation, never the ranker."
)
OWN_EXCESS = (0,)
OWN_VARIANTS: dict[str, dict[str, Any]] = {
    "+ notes + own history (acceptance, lasting), profile expectation (excess)": {
        "notes": True,
        "expectation": "profile",
        "columns": OWN_EXCESS,
        "history": "own",
    },
    "+ notes + own history (lasting), profile expectation (excess)": {
        "notes": True,
        "expectation": "profile",
        "columns": OWN_EXCESS,
        "history": "lasting",
    },
    "+ notes + own history (acceptance, lasting), base-rate expectation (excess)": {
        "notes": True,
        "expectation": "rate",
        "columns": OWN_EXCESS,
        "history": "own",
    },
    "+ own history (acceptance, lasting), profile expectation (excess)": {
        "notes": False,
        "expectation": "profile",
        "columns": OWN_EXCESS,
        "history": "own",
    },
}
OWN_WHAT = (
    "--own (session 28): the client's own history (training.client_history.own_steps_of): only the steps the "
    "client decides after an employer said yes (accepting the hire: geplaatst against withdrawing; staying: "
    "duurzaam against leaving), failures only for the client's reasons (past_niet_bij_wensen, motivatie). No "
    "invitation or hire decision (the employers'), no count of voorstellen (the consulenten's afromen), only the "
    "shrunk excess column: a client never hired has no step and gets the population prior (0)."
)
OWN_RULE = (
    "held-out variant = among the --own variants whose served lists on the validation pools give every group "
    "(trede, route, beperking, geslacht, leeftijd, migratieachtergrond, geschiedenis) an exposureVsMerit >= "
    "min(the shipped ranker's on the same pools, 0.8), the highest validation share of the oracle; if none "
    "passes, the highest share among all --own variants is still run held out and reported as failing the "
    "fairness condition. Groups without merit (exposureVsMerit None) are skipped. Written before any result "
    "was seen."
)
SPECS = {**VARIANTS, **DEBIAS_VARIANTS, **OWN_VARIANTS}
SHIPPED = "shipped ranker (models/baseline-ranker)"
CHOSEN_BEFORE = (
    "+ notes + history, profile expectation (excess, steps)"  # the rule's pick in ranker-variants-history.json
)
RULE = (
    "held-out variant = highest validation share of the oracle; a variant with fewer added columns within "
    f"{RULE_MARGIN} of it wins instead (ties: higher share). Written before any result was seen."
)
SERVED_GROUPS = ("trede", "route", "beperking", "geslacht", "migratieachtergrond", "leeftijd", "geschiedenis")


def added(spec: dict[str, Any]) -> int:
    return int(spec["notes"]) + len(spec["columns"])


def choose(results: dict[str, Any]) -> str:
    """The rule of the module docstring."""
    best = max(results, key=lambda name: results[name]["oracleShare"])
    close = [n for n in results if results[n]["oracleShare"] >= results[best]["oracleShare"] - RULE_MARGIN]
    return min(close, key=lambda n: (added(VARIANTS[n]), -results[n]["oracleShare"]))


def fair_enough(variant: dict[str, Any], shipped: dict[str, Any]) -> list[str]:
    """The groups where ``variant``'s served exposureVsMerit is under min(the shipped ranker's, 0.8)."""
    failing = []
    for group, row in variant["servedLists"]["served"].items():
        value, floor = (
            row.get("exposureVsMerit"),
            shipped["servedLists"]["served"].get(group, {}).get("exposureVsMerit"),
        )
        if value is None:
            continue
        if value < min(0.8 if floor is None else floor, 0.8):
            failing.append(group)
    return failing


def choose_own(results: dict[str, Any], shipped: dict[str, Any]) -> tuple[str, bool]:
    """:data:`OWN_RULE`: the chosen variant and whether it meets the fairness condition."""
    own = [name for name in results if name in OWN_VARIANTS]
    fair = [name for name in own if not fair_enough(results[name], shipped)]
    pick = max(fair or own, key=lambda name: results[name]["oracleShare"])
    return pick, bool(fair)


def step_features(matcher: Matcher, history: History) -> np.ndarray:
    """The 25 features of every step's (client, vacancy) pair, computed as the training pairs' are."""
    keys = list(zip(history.proposal_client.tolist(), history.proposal_vacancy.tolist(), strict=True))
    created = dict(zip(keys, history.proposal_at.tolist(), strict=True))
    pairs = sorted(created)

    def source(_session: Any, _since: Any) -> list[RelevanceLabel]:
        return [RelevanceLabel(c, v, 0, datetime.fromtimestamp(created[(c, v)], UTC)) for c, v in pairs]

    data = build_dataset(matcher, labels=source)
    row_of = {key: row for row, key in enumerate(zip(data.client_ids.tolist(), data.vacancy_ids.tolist(), strict=True))}
    rows = [
        row_of.get(key, -1) for key in zip(history.step_client.tolist(), history.step_vacancy.tolist(), strict=True)
    ]
    missing = sum(row < 0 for row in rows)
    if missing:
        raise SystemExit(f"{missing} stappen zonder kenmerken: klant of vacature onbekend bij de matcher")
    return data.features[np.array(rows, np.int64)]


def step_audit(matcher: Matcher, history: History) -> np.ndarray:
    """Per step (``--debias`` only): non-western migration background, age 45-54 and 55+ in the step's year."""
    with Session(matcher.engine) as session:
        audit = audit_columns(session, np.unique(history.step_client))
    years = np.array([datetime.fromtimestamp(at, UTC).year for at in history.step_at.tolist()], np.int64)
    rows = [audit.get(int(client)) for client in history.step_client.tolist()]
    born = np.array([row.geboortejaar if row and row.geboortejaar else 9999 for row in rows], np.int64)
    age = years - born
    western = np.array([bool(row and row.migratieachtergrond == "niet-westers") for row in rows])
    return np.column_stack([western, (age >= 45) & (age < 55), age >= 55]).astype(np.float32)


class Columns:
    """The history columns of one stage (tuning or held-out): expectations learnt before ``cut``."""

    def __init__(self, history: History, features: np.ndarray, cut: float, audit: np.ndarray | None = None) -> None:
        self.history = history
        fit = history.step_at < cut
        rates = client_history.stage_rates(history, fit)
        self.expected = {
            "rate": rates[history.step_stage],
            "profile": client_history.expected_from_profile(history, features, fit),
        }
        if audit is not None:
            augmented = np.column_stack([features, audit])
            self.expected["profile+audit"] = client_history.expected_from_profile(history, augmented, fit)
        self.report = {
            "cut": datetime.fromtimestamp(cut, UTC).isoformat(),
            "fitSteps": int(fit.sum()),
            "stageRates": dict(zip(client_history.STAGES, np.round(rates, 4).tolist(), strict=True)),
        }
        self._cache: dict[tuple[str, int], np.ndarray] = {}

    def of(self, part: RankingData, expectation: str) -> np.ndarray:
        key = (expectation, id(part))
        if key not in self._cache:
            self._cache[key] = client_history.columns(
                self.history, self.expected[expectation], part.client_ids, part.vacancy_ids, part.moments
            )
        return self._cache[key]


def with_columns(
    world: notes.World,
    part: RankingData,
    spec: dict[str, Any],
    notes_per_client: np.ndarray,
    cols: Columns | dict[str, Columns],
) -> RankingData:
    extra = []
    if spec["notes"]:
        extra.append(notes_per_client[notes._positions(world, part)].reshape(len(part), -1))
    if spec["columns"]:
        chosen = cols[spec.get("history", "all")] if isinstance(cols, dict) else cols
        extra.append(chosen.of(part, spec["expectation"])[:, list(spec["columns"])])
    if not extra:
        return part
    return replace(part, features=np.column_stack([part.features, *extra]).astype(np.float32))


def fit_and_score(
    world: notes.World,
    fit: RankingData,
    pool: RankingData,
    spec: dict[str, Any],
    per_client: np.ndarray,
    cols: Columns | dict[str, Columns],
) -> tuple[np.ndarray, dict[str, Any]]:
    monotone = list(rankers.MONOTONE) + [1] * int(spec["notes"])
    monotone += [client_history.MONOTONE[c] for c in spec["columns"]]
    train = with_columns(world, fit, spec, per_client, cols)
    model, params = objective.tune_fit(objective.Fit(train), train, {}, monotone)
    return model.predict(with_columns(world, pool, spec, per_client, cols).features), params


def judged(pool: tuple[RankingData, np.ndarray], scores: np.ndarray, against: dict[str, np.ndarray]) -> dict[str, Any]:
    data, truth = pool
    summary = summarise(data.labels, scores, data.vacancy_ids)
    oracle = paired(data.labels, scores, truth, data.vacancy_ids)
    out = {key: summary[key] for key in ("ndcg@10", "ndcg@10CI", "recall@20") if key in summary}
    out |= {"oracleShare": oracle["ratio"], "oracleShareCI": oracle["ratioCI"]}
    out["truthTop10"] = truth_top10(data, scores, truth)
    for name, other in against.items():
        vs = paired(data.labels, scores, other, data.vacancy_ids)
        out[f"vs {name}"] = {key: vs[key] for key in ("gain", "gainCI", "ratio", "ratioCI")}
    return out


def truth_top10(data: RankingData, scores: np.ndarray, truth: np.ndarray) -> float:
    """Mean hidden suitability of each pool's top 10 by ``scores``, as a share of the way from the pool's mean
    to the oracle's top 10 (0 = a random list, 1 = the oracle): the discrimination in the outcomes plays no part."""
    shares = []
    for vacancy in np.unique(data.vacancy_ids):
        rows = np.flatnonzero(data.vacancy_ids == vacancy)
        top = rows[np.argsort(-scores[rows], kind="stable")[:10]]
        best = np.sort(truth[rows])[::-1][:10].mean()
        if best > truth[rows].mean():
            shares.append((truth[top].mean() - truth[rows].mean()) / (best - truth[rows].mean()))
    return round(float(np.mean(shares)), 4)


def served(
    pool: tuple[RankingData, np.ndarray], scores: np.ndarray, groups: dict[str, np.ndarray], settings: Settings
) -> dict[str, Any]:
    """The served lists (the shipped exposure replay): NDCG cost and exposureVsMerit of the groups that matter."""
    data, truth = pool
    audit = served_fairness(
        data, scores, groups, suitable_in_pool(truth, data.vacancy_ids), **served_method(settings.ranker)
    )
    keep = {
        f"{attribute} {group}": {key: row.get(key) for key in ("clients", "exposureVsMerit", "exposureVsMeritCI")}
        for attribute, section in audit["attributes"].items()
        if attribute in SERVED_GROUPS
        for group, row in section["groups"].items()
    }
    relevance = {
        f"{attribute} {group}": row.get("exposureVsMerit")
        for attribute, section in audit.get("relevanceOnly", {}).items()
        if attribute in SERVED_GROUPS
        for group, row in section.items()
    }
    return {
        "ndcg@10Cost": audit.get("ndcg@10Cost"),
        "goal": audit.get("goal"),
        "served": keep,
        "relevanceOnly": relevance,
    }


def groups_of(matcher: Matcher, data: RankingData, history: History) -> dict[str, np.ndarray]:
    """The audit groups of the pool rows plus ``geschiedenis``: was the client proposed before the moment."""
    groups = group_labels(matcher.engine, data)
    count = client_history.columns(history, np.zeros(len(history)), data.client_ids, data.vacancy_ids, data.moments)
    groups["geschiedenis"] = np.where(count[:, 2] > 0, "eerder voorgesteld", "nooit voorgesteld").astype(object)
    return groups


def separation(
    world: notes.World, data: RankingData, values: np.ndarray, groups: dict[str, np.ndarray]
) -> dict[str, Any]:
    """ROC AUC of ``history_excess`` for protected attributes and beperkingen, over pool rows with history."""
    rows = notes._positions(world, data)
    with_steps = values[:, 1] > 0
    flags = {
        **{name: flags[rows] for name, flags in world.protected.items()},
        "leeftijd 45+ (at the vacancy)": np.isin(groups["leeftijd"], ["45-54", "55+"]),
        "beperking recorded": world.recorded[rows],
        "beperking unrecorded (among none recorded)": world.unrecorded[rows],
    }
    out: dict[str, Any] = {"rowsWithSteps": int(with_steps.sum()), "rows": len(data)}
    for name, flag in flags.items():
        mask = with_steps & (~world.recorded[rows] if "unrecorded" in name else True)
        if len(np.unique(flag[mask])) == 2:
            out[name] = round(float(roc_auc_score(flag[mask], values[mask, 0])), 3)
    return out


def coverage(data: RankingData, values: np.ndarray) -> dict[str, Any]:
    return {
        "rowsWithSteps": round(float((values[:, 1] > 0).mean()), 4),
        "rowsProposedBefore": round(float((values[:, 2] > 0).mean()), 4),
        "meanSteps": round(float(values[:, 1].mean()), 3),
        "meanStepsWhereAny": round(float(values[values[:, 1] > 0, 1].mean()), 3) if (values[:, 1] > 0).any() else 0.0,
    }


def stage_run(
    matcher: Matcher,
    world: notes.World,
    text: notes.TextVectors,
    history: History,
    features: np.ndarray,
    fit: RankingData,
    pool: tuple[RankingData, np.ndarray],
    names: list[str],
    settings: Settings,
    audit: np.ndarray | None = None,
) -> dict[str, Any]:
    """Fit the named variants on ``fit`` and judge them on ``pool`` (plus served exposure and leakage)."""
    data, truth = pool
    cols = Columns(history, features, float(data.moments.min()), audit)
    per_client = objective.notes_column(world, text, fit)
    groups = groups_of(matcher, data, history)
    weighted = rankers.weighted_baseline(data, settings.retrieval)
    out: dict[str, Any] = {
        "pools": int(len(np.unique(data.vacancy_ids))),
        "weightedBaseline": judged(pool, weighted, {}),
        "history": {
            **cols.report,
            "fitRows": coverage(fit, cols.of(fit, "rate")),
            "poolRows": coverage(data, cols.of(data, "rate")),
            "separationProfileExpectation": separation(world, data, cols.of(data, "profile"), groups),
            "separationBaseRate": separation(world, data, cols.of(data, "rate"), groups),
        },
        "variants": {},
    }
    out["oracleNdcg@10"] = round(float(np.nanmean(per_group(data.labels, truth, data.vacancy_ids)["ndcg@10"])), 4)
    scores: dict[str, np.ndarray] = {}
    for name in names:
        start = time.perf_counter()
        scores[name], params = fit_and_score(world, fit, data, SPECS[name], per_client, cols)
        against = {"weighted baseline": weighted}
        if "challenger (25 features)" in scores and name != "challenger (25 features)":
            against["challenger"] = scores["challenger (25 features)"]
        if "+ notes column" in scores and name not in ("+ notes column", "challenger (25 features)"):
            against["notes column"] = scores["+ notes column"]
        if CHOSEN_BEFORE in scores and name in DEBIAS_VARIANTS:
            against["notes + history, profile expectation"] = scores[CHOSEN_BEFORE]
        entry = {**judged(pool, scores[name], against), "params": params, "spec": SPECS[name]}
        entry["servedLists"] = served(pool, scores[name], groups, settings)
        entry["seconds"] = round(time.perf_counter() - start, 1)
        out["variants"][name] = entry
        print(name, json.dumps({k: entry[k] for k in ("ndcg@10", "oracleShare", "oracleShareCI")}), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--tuning-only", action="store_true", help="no held-out stage (a dry run)")
    parser.add_argument("--debias", action="store_true", help="the audit-group diagnostic, validation pools only")
    args = parser.parse_args()
    default = "ranker-variants-history-debias.json" if args.debias else "ranker-variants-history.json"
    out = args.out or Path("bench/results") / default
    start = time.perf_counter()
    settings = Settings(data_dir=args.data_dir)
    matcher = Matcher(settings)
    world = notes.load_world(matcher)
    text = notes.text_vectors(matcher, world)
    history = client_history.load_history(matcher.engine)
    features = step_features(matcher, history)
    result: dict[str, Any] = {
        "command": "/tmp/heavy .venv/bin/python -m bench.ranker_variants_history " + " ".join(sys.argv[1:]),
        "rule": RULE,
        "prior": client_history.PRIOR,
        "steps": int(len(history)),
        "voorstellen": int(len(history.proposal_client)),
        "grid": objective.GRID,
        "notesVariant": objective.NOTES_VARIANT,
    }

    def save() -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")

    train, _ = world.data.time_split(0.2)
    inner, _ = train.time_split(0.2)
    if args.debias:
        result["what"] = DEBIAS_WHAT
        names = ["challenger (25 features)", "+ notes column", CHOSEN_BEFORE, *DEBIAS_VARIANTS]
        audit = step_audit(matcher, history)
        result["tuning"] = stage_run(
            matcher, world, text, history, features, inner, world.val_pool, names, settings, audit
        )
        result["tuning"]["seconds"] = round(time.perf_counter() - start, 1)
        result["loadavgAfterTuning"] = Path("/proc/loadavg").read_text().split()[:3]
        save()
        return
    result["tuning"] = stage_run(
        matcher, world, text, history, features, inner, world.val_pool, list(VARIANTS), settings
    )
    chosen = choose(result["tuning"]["variants"])
    result["tuning"] |= {"chosen": chosen, "seconds": round(time.perf_counter() - start, 1)}
    result["loadavgAfterTuning"] = Path("/proc/loadavg").read_text().split()[:3]
    save()
    print("chosen:", chosen, flush=True)
    if args.tuning_only:
        return
    names = list(dict.fromkeys(["challenger (25 features)", "+ notes column", chosen]))
    result["heldOut"] = stage_run(matcher, world, text, history, features, train, world.test_pool, names, settings)
    result["heldOut"] |= {"variant": chosen, "seconds": round(time.perf_counter() - start, 1)}
    result["loadavgAfterHeldOut"] = Path("/proc/loadavg").read_text().split()[:3]
    save()
    print(json.dumps({n: result["heldOut"]["variants"][n]["oracleShare"] for n in names}))


if __name__ == "__main__":
    main()
