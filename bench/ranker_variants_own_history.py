"""The client's *own* outcome history as a readiness signal, without the employers' decisions (issue 19, item 2).

Run from the repository root: nice -n 10 .venv/bin/python -m bench.ranker_variants_own_history --data-dir <copy of
the demo world, ``werkmatch db upgrade``, ``werkmatch simulate outcomes --years 3``> [--out FILE]

Session 27's history columns (:mod:`bench.ranker_variants_history`) reached 0.749 of the oracle held out but
were not served: they read the invitation and the hire, the employers' decisions, where the simulated history
(as the Dutch field experiments) discriminates by migration background and age, and the number of voorstellen,
the consulenten's afromen. Here the history holds only the steps the client decides after an employer said yes
(:func:`training.client_history.own_steps_of`): accepting the hire and staying in the job, a failure only for the
client's own reasons. One column, the shrunk excess over the expectation (a client never hired has no step: 0,
the population prior); no count of steps or voorstellen. No protected attribute and no beperking is read.

Same protocol as :mod:`bench.ranker_variants_history` (challenger + columns, fitted on the older 80 % of the
training period, 150 validation pools; held out: fitted on the whole training period, the 200 pools of
``werkmatch evaluate``), plus the shipped ranker's served lists as the fairness floor. The rule
(:data:`bench.ranker_variants_history.OWN_RULE`) was written into the code and committed before the run.

Result (``bench/results/ranker-variants-own-history.json``, session 28): held out, + notes + own history
(base-rate expectation) 0.726 [0.689, 0.763] of the oracle, 1.43x [1.34, 1.54] the weighted baseline, +0.017
[+0.005, +0.029] NDCG@10 over the notes column; served niet-westers 0.96, 55+ 0.94, never proposed 0.82 (the
all-step history: 0.761, and 0.78, 0.73, 0.49). Short of 0.75; trede 0, trede 1 and route meedoen stay under
the floor, as for every fresh challenger here (the notes column alone too).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import bench.ranker_variants_history as hist
import bench.ranker_variants_notes as notes
import bench.ranker_variants_objective as objective
from bench._result import load_average
from matching.matcher import Matcher
from matching.settings import Settings
from training import client_history, rankers
from training.client_history import History
from training.metrics import per_group

REFERENCES = ["challenger (25 features)", "+ notes column", hist.CHOSEN_BEFORE]


def histories_of(matcher: Matcher) -> dict[str, tuple[History, np.ndarray]]:
    """Every step (session 27's), the client's own steps, and the own lasting-placement steps alone, each with
    the 25 features of its steps' pairs (one feature pass: the voorstellen are the same)."""
    every = client_history.load_history(matcher.engine)
    own = client_history.load_history(matcher.engine, own=True)
    features = hist.step_features(matcher, every)
    row_of = {
        key: row for row, key in enumerate(zip(every.step_client.tolist(), every.step_vacancy.tolist(), strict=True))
    }
    own_rows = [row_of.get(key, -1) for key in zip(own.step_client.tolist(), own.step_vacancy.tolist(), strict=True)]
    if min(own_rows, default=0) < 0:  # a voorstel with an own step but no other step: compute its pairs apart
        own_features = hist.step_features(matcher, own)
    else:
        own_features = features[np.array(own_rows, np.int64)]
    lasting = own.step_stage == client_history.STAGES.index("duurzaam")
    return {
        "all": (every, features),
        "own": (own, own_features),
        "lasting": (client_history.only_stages(own, (2,)), own_features[lasting]),
    }


def described(history: History) -> dict[str, Any]:
    return {
        stage: {
            "steps": int((history.step_stage == k).sum()),
            "success": round(float(history.step_success[history.step_stage == k].mean()), 4)
            if (history.step_stage == k).any()
            else None,
        }
        for k, stage in enumerate(client_history.STAGES)
        if (history.step_stage == k).any()
    }


def own_stage(
    matcher: Matcher,
    world: notes.World,
    text: notes.TextVectors,
    histories: dict[str, tuple[History, np.ndarray]],
    fit: Any,
    pool: tuple[Any, np.ndarray],
    names: list[str],
    settings: Settings,
) -> dict[str, Any]:
    """Fit the named variants on ``fit``, judge them and the shipped ranker on ``pool`` (served lists too)."""
    data, truth = pool
    cols = {key: hist.Columns(h, f, float(data.moments.min())) for key, (h, f) in histories.items()}
    per_client = objective.notes_column(world, text, fit)
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
        "history": {
            key: {
                **cols[key].report,
                "fitRows": hist.coverage(fit, cols[key].of(fit, "rate")),
                "poolRows": hist.coverage(data, cols[key].of(data, "rate")),
                "separationProfileExpectation": hist.separation(world, data, cols[key].of(data, "profile"), groups),
            }
            for key in cols
        },
        "variants": {},
    }
    scores: dict[str, np.ndarray] = {}
    for name in names:
        start = time.perf_counter()
        scores[name], params = hist.fit_and_score(world, fit, data, hist.SPECS[name], per_client, cols)
        against = {"weighted baseline": weighted, "shipped ranker": shipped}
        against |= {ref: scores[ref] for ref in REFERENCES[:2] if ref in scores and ref != name}
        entry = {**hist.judged(pool, scores[name], against), "params": params, "spec": hist.SPECS[name]}
        entry["servedLists"] = hist.served(pool, scores[name], groups, settings)
        entry["fairnessFailing"] = hist.fair_enough(entry, out[SHIPPED_KEY])
        entry["seconds"] = round(time.perf_counter() - start, 1)
        out["variants"][name] = entry
        print(name, json.dumps({k: entry[k] for k in ("oracleShare", "oracleShareCI", "fairnessFailing")}), flush=True)
    return out


SHIPPED_KEY = "shippedRanker"


def goal(entry: dict[str, Any]) -> dict[str, Any]:
    """Issue 19 item 2's goal for one held-out entry."""
    vs = entry["vs weighted baseline"]
    return {
        "oracleShare>=0.75": entry["oracleShare"] >= 0.75,
        "ratio>=1.25 and its low end >=1.25": vs["ratio"] >= 1.25 and vs["ratioCI"][0] >= 1.25,
        "fairnessFailing": entry["fairnessFailing"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("bench/results/ranker-variants-own-history.json"))
    parser.add_argument("--tuning-only", action="store_true", help="no held-out stage (a dry run)")
    args = parser.parse_args()
    start = time.perf_counter()
    settings = Settings(data_dir=args.data_dir)
    matcher = Matcher(settings)
    world = notes.load_world(matcher)
    text = notes.text_vectors(matcher, world)
    histories = histories_of(matcher)
    result: dict[str, Any] = {
        "command": "nice -n 10 .venv/bin/python -m bench.ranker_variants_own_history " + " ".join(sys.argv[1:]),
        "what": hist.OWN_WHAT,
        "rule": hist.OWN_RULE,
        "clientReasons": sorted(client_history.CLIENT_REASONS),
        "prior": client_history.PRIOR,
        "steps": {key: described(h) for key, (h, _) in histories.items()},
        "voorstellen": int(len(histories["all"][0].proposal_client)),
        "loadavgAtStart": load_average(),
    }

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")

    train, _ = world.data.time_split(0.2)
    inner, _ = train.time_split(0.2)
    names = [*REFERENCES, *hist.OWN_VARIANTS]
    result["tuning"] = own_stage(matcher, world, text, histories, inner, world.val_pool, names, settings)
    chosen, fair = hist.choose_own(result["tuning"]["variants"], result["tuning"][SHIPPED_KEY])
    result["tuning"] |= {"chosen": chosen, "chosenMeetsFairness": fair, "seconds": round(time.perf_counter() - start)}
    result["loadavgAfterTuning"] = load_average()
    save()
    print("chosen:", chosen, "fair:", fair, flush=True)
    if args.tuning_only:
        return
    names = [*REFERENCES, chosen]
    result["heldOut"] = own_stage(matcher, world, text, histories, train, world.test_pool, names, settings)
    result["heldOut"] |= {"variant": chosen, "goal": goal(result["heldOut"]["variants"][chosen])}
    result["heldOut"]["seconds"] = round(time.perf_counter() - start)
    result["loadavgAfterHeldOut"] = load_average()
    save()
    print(json.dumps({n: result["heldOut"]["variants"][n]["oracleShare"] for n in names}), flush=True)


if __name__ == "__main__":
    main()
