"""Readiness signals for the clients the fresh rankers starve: why, and one candidate column (issue 19, 1-2).

Run from the repository root: flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m
bench.readiness_signals --data-dir <copy of the demo world, ``werkmatch db upgrade``, ``werkmatch simulate
outcomes --years 3``> [--out FILE]

Every fresh challenger of :mod:`bench.ranker_variants_own_history` fails the served-fairness condition for
trede 0, trede 1 and route meedoen. Same protocol and functions as that bench (same world build, the 150
validation pools of the training period, models fitted on its older 80 %, the same bootstrap):

1. **Why** (``analysis``, validation pools only). On the pool rows, the hidden truth's suitable rows (top fifth
   of their pool, :func:`training.fairness.suitable_in_pool`) of trede 0-1 against those of trede 3-5, on every
   feature, on the notes column and the own-history excess, on the truth's hidden factors
   (:mod:`training.latent`: true readiness minus recorded trede, motivatie, betrouwbaarheid, vermogen) and on the
   truth's readiness penalty read from the recorded and from the true trede; per group how well each signal
   tells the suitable rows from the rest *within* the group (ROC AUC); per model the group table of
   :func:`bench.fresh_ranker_served.group_table` (merit share, the ranker's own top-10 % share, merit rows' z).
2. **A candidate column** derived from data the service has: the notes column standardised among the clients
   of the same recorded trede (:func:`training.readiness_signals.standardised_within`): what the consulent wrote
   about motivation and reliability relative to others on the same step, so the column no longer repeats the
   trede (the truth's motivatie has mean 0.15 x (trede - 2.5)). It replaces the raw notes column in the
   challenger + notes and in the challenger + notes + own history (session 28's pick).

**Rule (:data:`RULE`), written into this file and committed before the run** (dd81bbf).

Result (``bench/results/readiness-signals-s34.json``, session 34, validation only, 408 s at load 2.7-5.5). The
suitable trede 0-1 rows are truly 0.49 trede steps readier than recorded (suitable trede 3-5: 0.02; unsuitable
trede 0-1: 0.21), so the truth's readiness penalty is -0.38 for them where the recorded trede gives -0.80; that
hidden excess tells the suitable from the rest within trede 0-1 at ROC AUC 0.64 and no observable signal sees it
(|r| <= 0.10; the notes column -0.04). Its systematic part is the floor of the ladder (trede 0 cannot be read
lower) and the +0.25 of a recorded beperking: nothing a feature may read. The notes column reads motivation as
well at trede 0-1 as at 3-5 (r 0.41 / 0.43); the own history is empty there (AUC 0.516). Within trede 0-1 the
fresh models order better than the shipped one (AUC 0.83-0.86 against 0.80) but place the group lower (suitable
rows' pool z 0.29-0.55 against 0.58; the truth 1.29), so their own top 10 % holds trede 0 at 0.0007-0.0021
against a merit share of 0.0023 (shipped 0.0064). The candidate, the notes column among trede peers, passes
nothing: 0.662 / 0.673 of the oracle (raw notes 0.672, notes + own history 0.687), served trede 0 0.00 and never
proposed 0.64 at 5.9 % cost. No candidate passed, so nothing was held out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session, select

import bench.ranker_variants_history as hist
import bench.ranker_variants_notes as notes
import bench.ranker_variants_objective as objective
from bench._result import load_average
from bench.fresh_ranker_served import group_table
from bench.ranker_variants_own_history import SHIPPED_KEY, goal, histories_of
from matching.domain import Client
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.settings import Settings
from training import latent, rankers
from training.exposure_eval import MAX_SERVED_COST
from training.fairness import suitable_in_pool
from training.metrics import per_group
from training.readiness_signals import group_profile, readiness_terms, separation_within, standardised_within

CHALLENGER, NOTES = "challenger (25 features)", "+ notes column"
PICK = "+ notes + own history (acceptance, lasting), base-rate expectation (excess)"  # session 28's pick
REFERENCES = (CHALLENGER, NOTES, PICK)
CANDIDATES: dict[str, str] = {  # candidate -> the reference whose raw notes column it replaces
    "+ notes among trede peers": NOTES,
    "+ notes among trede peers + own history, base-rate expectation (excess)": PICK,
}
RULE = (
    "A candidate passes when its served lists on the 150 validation pools (the shipped exposure replay, as "
    "bench.ranker_variants_own_history) give every group of trede, route, beperking, geslacht, leeftijd, "
    "migratieachtergrond and geschiedenis an exposureVsMerit >= min(the shipped ranker's on the same pools, 0.8) "
    f"(bench.ranker_variants_history.fair_enough) and its served NDCG@10 cost is <= {MAX_SERVED_COST:.0%}. Among "
    "passing candidates the highest validation share of the oracle is fitted on the whole training period and "
    "scored once on the 200 held-out pools, with the references; if none passes, nothing is held out. Written "
    "before the run."
)
HIDDEN = ("trede_werkelijk", "motivatie", "betrouwbaarheid", "vermogen")


def passes(entry: dict[str, Any], shipped: dict[str, Any]) -> bool:
    """:data:`RULE` for one validation entry."""
    cost = entry["servedLists"]["ndcg@10Cost"]
    return not hist.fair_enough(entry, shipped) and cost is not None and cost <= MAX_SERVED_COST


def choose(variants: dict[str, Any], shipped: dict[str, Any]) -> str | None:
    passing = [name for name in CANDIDATES if passes(variants[name], shipped)]
    return max(passing, key=lambda name: variants[name]["oracleShare"]) if passing else None


def per_client_of(matcher: Matcher, world: notes.World, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per client (``world.clients`` order) the recorded trede and the named hidden factors of the truth."""
    with Session(matcher.engine) as session:
        trede = dict(session.exec(select(Client.id, Client.trede)).all())
        rows = session.exec(select(latent.SyntheticLatent).where(latent.SyntheticLatent.kind == latent.CLIENT))
        factors = {row.entity_id: row.factors for row in rows}
    out = {"trede": np.array([float(trede[c]) for c in world.clients])}
    out |= {name: np.array([float(factors[c][name]) for c in world.clients]) for name in names}
    return out


def analysis(
    world: notes.World,
    pool: tuple[Any, np.ndarray],
    scores: dict[str, np.ndarray],
    notes_columns: dict[str, np.ndarray],
    own_excess: np.ndarray,
    per_client: dict[str, np.ndarray],
    groups: dict[str, np.ndarray],
) -> dict[str, Any]:
    """Item 1: what the truth rewards in the suitable rows far from work, and what the signals see of it."""
    data, truth = pool
    rows = notes._positions(world, data)
    merit = suitable_in_pool(truth, data.vacancy_ids)
    excess = per_client["trede_werkelijk"][rows] - data.trede
    seen, true = readiness_terms(data.features[:, FEATURE_NAMES.index("readiness_gap")], excess)
    signals: dict[str, np.ndarray] = {name: data.features[:, j] for j, name in enumerate(FEATURE_NAMES)}
    signals |= {f"notes: {name}": column[rows] for name, column in notes_columns.items()}
    signals["own history excess (base rate)"] = own_excess
    signals |= {
        "hidden: true readiness - recorded trede": excess,
        **{f"hidden: {name}": per_client[name][rows] for name in HIDDEN[1:]},
        "truth's readiness penalty, recorded trede": seen,
        "truth's readiness penalty, true readiness": true,
        "truth (pool z)": standardised_within(truth, data.vacancy_ids),
    }
    signals |= {f"ranker (pool z): {name}": standardised_within(s, data.vacancy_ids) for name, s in scores.items()}
    low, high, meedoen = data.trede <= 1, data.trede >= 3, groups["route"] == "meedoen"
    profile_groups = {
        "suitable trede 0-1": merit & low,
        "suitable trede 3-5": merit & high,
        "unsuitable trede 0-1": ~merit & low,
        "suitable meedoen": merit & meedoen,
        "unsuitable meedoen": ~merit & meedoen,
    }
    within = {"trede 0-1": low, "trede 2": data.trede == 2, "trede 3-5": high, "route meedoen": meedoen}
    within["all rows"] = np.ones(len(data), bool)
    observable = [name for name in signals if not name.startswith(("hidden", "truth", "ranker"))]
    hidden = [name for name in signals if name.startswith("hidden")]
    return {
        "rows": {name: int(member.sum()) for name, member in profile_groups.items()},
        "profile": group_profile(signals, profile_groups, ("suitable trede 0-1", "suitable trede 3-5")),
        "separationWithin": separation_within(signals, merit, within),
        "hiddenSeenByObservables": {
            group: {
                secret: {
                    name: round(float(np.corrcoef(signals[name][member], signals[secret][member])[0, 1]), 3)
                    for name in observable
                    if signals[name][member].std() > 0
                }
                for secret in hidden
            }
            for group, member in (("trede 0-1", low), ("trede 3-5", high))
        },
        "groupTable": {name: group_table(data, s, merit, groups) for name, s in scores.items()},
    }


def stage(
    matcher: Matcher,
    world: notes.World,
    text: notes.TextVectors,
    histories: dict[str, Any],
    fit: Any,
    pool: tuple[Any, np.ndarray],
    names: list[str],
    settings: Settings,
    trede_of_client: np.ndarray,
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
    """Fit the named references and candidates on ``fit``; judge them and the shipped ranker on ``pool``."""
    data, truth = pool
    cols = {key: hist.Columns(h, f, float(data.moments.min())) for key, (h, f) in histories.items()}
    raw = objective.notes_column(world, text, fit).ravel()
    notes_columns = {"raw": raw, "among trede peers": standardised_within(raw, trede_of_client)}
    groups = hist.groups_of(matcher, data, histories["all"][0])
    weighted = rankers.weighted_baseline(data, settings.retrieval)
    if matcher.baseline is None:
        raise SystemExit(f"de meegeleverde ranker is niet bruikbaar: {matcher.ranker_error}")
    shipped = matcher.baseline.score(data.features)
    out: dict[str, Any] = {
        "pools": int(len(np.unique(data.vacancy_ids))),
        "oracleNdcg@10": round(float(np.nanmean(per_group(data.labels, truth, data.vacancy_ids)["ndcg@10"])), 4),
        "weightedBaseline": hist.judged(pool, weighted, {}),
        SHIPPED_KEY: {
            **hist.judged(pool, shipped, {"weighted baseline": weighted}),
            "servedLists": hist.served(pool, shipped, groups, settings),
        },
        "variants": {},
    }
    scores: dict[str, np.ndarray] = {"shipped ranker": shipped}
    for name in names:
        start = time.perf_counter()
        base = CANDIDATES.get(name, name)
        column = notes_columns["among trede peers" if name in CANDIDATES else "raw"]
        scores[name], params = hist.fit_and_score(world, fit, data, hist.SPECS[base], column, cols)
        against = {"weighted baseline": weighted, "shipped ranker": shipped}
        against |= {ref: scores[ref] for ref in (CHALLENGER, NOTES, PICK, base) if ref in scores and ref != name}
        entry = {**hist.judged(pool, scores[name], against), "params": params, "spec": hist.SPECS[base]}
        entry["servedLists"] = hist.served(pool, scores[name], groups, settings)
        entry["fairnessFailing"] = hist.fair_enough(entry, out[SHIPPED_KEY])
        entry["seconds"] = round(time.perf_counter() - start, 1)
        out["variants"][name] = entry
        print(name, json.dumps({k: entry[k] for k in ("oracleShare", "fairnessFailing")}), flush=True)
    own_excess = cols["own"].of(data, "rate")[:, 0]
    return out, scores, notes_columns, {"groups": groups, "ownExcess": own_excess}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("bench/results/readiness-signals-s34.json"))
    args = parser.parse_args()
    start = time.perf_counter()
    settings = Settings(data_dir=args.data_dir)
    matcher = Matcher(settings)
    world = notes.load_world(matcher)
    text = notes.text_vectors(matcher, world)
    histories = histories_of(matcher)
    per_client = per_client_of(matcher, world, HIDDEN)
    result: dict[str, Any] = {
        "command": "flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m "
        "bench.readiness_signals " + " ".join(sys.argv[1:]),
        "rule": RULE,
        "candidates": CANDIDATES,
        "loadavgAtStart": load_average(),
    }

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")

    train, _ = world.data.time_split(0.2)
    inner, _ = train.time_split(0.2)
    names = [*REFERENCES, *CANDIDATES]
    tuning, scores, notes_columns, extra = stage(
        matcher, world, text, histories, inner, world.val_pool, names, settings, per_client["trede"]
    )
    result["tuning"] = tuning
    save()
    result["analysis"] = analysis(
        world, world.val_pool, scores, notes_columns, extra["ownExcess"], per_client, extra["groups"]
    )
    chosen = choose(tuning["variants"], tuning[SHIPPED_KEY])
    result["tuning"] |= {"chosen": chosen, "seconds": round(time.perf_counter() - start)}
    result["loadavgAfterTuning"] = load_average()
    save()
    print("chosen:", chosen, flush=True)
    if chosen is None:
        return
    names = [*REFERENCES, chosen]
    held, _, _, _ = stage(matcher, world, text, histories, train, world.test_pool, names, settings, per_client["trede"])
    result["heldOut"] = held | {"variant": chosen, "goal": goal(held["variants"][chosen])}
    result["heldOut"]["seconds"] = round(time.perf_counter() - start)
    result["loadavgAfterHeldOut"] = load_average()
    save()


if __name__ == "__main__":
    main()
