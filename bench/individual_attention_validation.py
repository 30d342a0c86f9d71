"""Attention against each client's own merit instead of the average client's, on validation pools (issue 19 item 1).

Run from the repository root on a copy of the demo world after ``werkmatch db upgrade`` and ``werkmatch simulate
outcomes --years 3`` (nothing is written to the world):

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m \
        bench.individual_attention_validation --data-dir <copy> --part validation \
        --out bench/results/individual-attention-s35-validation.json

and, only when :data:`RULE` picked a passing variant there, once: ``--part heldout --pick <that JSON>``.

The hypothesis (session 35): the exposure penalty (:func:`matching.exposure.exposure_penalty`) spreads attention over
*people* relative to the *average* person's appearances, so a person who truly deserves many places is pushed down
pool after pool (session 33: exposureVsMerit 1.97 for clients suitable in one pool, 0.48 for those suitable in 32 or
more; ``geslacht=x``'s merit sits in few such clients). :mod:`matching.exposure_own_merit` compares each person's
appearances with their **own** earned places instead (Biega et al., SIGIR 2018). Every variant of :data:`GRID`
(the current penalty and the own-merit penalty, at three strengths, with the served amortised floor on top and
without it) is replayed on the pools, scores, groups and merit of
:func:`bench.amortised_served_validation.prepare` (``werkmatch train``'s fit on the training part, Platt included,
and the gate's 200 pools of that part's latest 20 %), each as served: :func:`replay_variant`, which with the
current penalty is :func:`training.exposure_eval.replay` exactly (tested). The hidden truth only judges.
Reported per variant: exposureVsMerit of every group of >= 30 clients (the gate's attributes and ``geschiedenis``),
the NDCG@10 cost against relevance-only lists, the afromen measures of the README (Gini of top-10 appearances, the
share of top-10 places repeating a client shown before, the most appearances), Biega's individual unfairness
(half the L1 distance between each client's share of top-10 places and of merit rows) and exposureVsMerit by how
many pools a client merits (the bins of ``bench/results/geslacht-x-s33.json``).

Result (session 35, ``bench/results/individual-attention-s35-validation.json``, 78 s from the cached fit, load
1.2-2.0): 200 validation pools from 2025-10-11 over 173 days (Platt a 1.32, b -1.03 on 2,038 rows). **No variant
passes; nothing is held out.** ``geslacht=x`` stays under 0.8 in all 42: relevance-only lists give it 0.44 (and the
clients meriting >= 32 pools 0.50), so the ranker, not the penalty, keeps it short. The served setting (current
penalty 0.25 + amortised floor) costs 2.30 % [-0.20, 4.67] with x 0.44 [0.16, 0.77] and ``nooit voorgesteld`` 0.79
[0.73, 0.85]; the own-merit penalty at the same strength with the floor costs 1.7-2.7 %, moves x to 0.44-0.50 and
the >= 32 bin from 0.42 to 0.45-0.47, keeps repetition a little higher (Gini 0.869-0.876 against 0.863, repeated
top-10 share 0.32-0.34 against 0.30: deserved repeats are no longer pushed down) and tips trede 3 from 0.80 to
0.78-0.80. The best own-merit variant without a floor (prior 2, one-sided, strength 1) costs 4.63 % with x 0.69 but
trede 1 0.69 and trede 3 0.54; with the floor the best (prior 0.5, two-sided, 1) costs 13.9 %. :data:`RULE`'s
closest is the current penalty at strength 1 with the floor: 14.5 % [10.8, 18.2], only x short at 0.63 [0.27, 1.04].
The truth diagnostic (places shared by the hidden merit, not servable) shows the mechanism works when merit is
known: two-sided at strength 1 without a floor gives x 0.88, the >= 32 bin 0.72 (relevance-only 0.50) and Biega's
unfairness 0.46 (relevance-only 0.60), so the shortfall is the calibrated probability's estimate of who merits, the
same ranker that under-ranks x.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import bench.amortised_served_validation as validation
from bench._result import load_average, provenance
from matching.exposure import LIST_SIZE, TOP_K, gini, rerank
from matching.exposure_amortised import SERVED, probabilities
from matching.exposure_own_merit import OwnMeritLedger, own_merit_penalty
from training.dataset import RankingData
from training.exposure_eval import (
    _amortised_replay,
    _cost_and_goal,
    _groups_in_time_order,
    _members,
    _screen_point,
    kept_between_pools,
    replay,
)
from training.fairness import audit_ranking

STRENGTHS = (0.25, 0.5, 1.0)
PENALTIES = [{"penalty": "current"}] + [
    {"penalty": "own", "prior": prior, "oneSided": one_sided}
    for prior in (0.5, 1.0, 2.0)
    for one_sided in (False, True)
]
GRID = [
    {**penalty, "strength": strength, "floor": floor}
    for floor in ("served", "none")
    for strength in STRENGTHS
    for penalty in PENALTIES
]
# Not servable, judged only, never picked (added after the first validation run): the own-merit penalty with the
# places shared out by the hidden truth (the merit rows) instead of the calibrated probability: whether the
# reference or the ranker's estimate of merit is what keeps a group short.
TRUTH_DIAGNOSTIC = [
    {"penalty": "own", "prior": 1.0, "oneSided": one_sided, "strength": strength, "floor": floor, "merit": "truth"}
    for floor in ("served", "none")
    for strength in STRENGTHS
    for one_sided in (False, True)
]
MERIT_BINS = ((1, 1), (2, 3), (4, 7), (8, 15), (16, 31), (32, None))  # pools a client merits (session 33's bins)
RULE = (
    "Written and committed before the validation run (session 35, helper S9). On the validation pools of "
    "bench.amortised_served_validation.prepare (werkmatch train's fit on the training part, Platt included; the "
    "gate's 200 pools of that part's latest 20 %), every variant of GRID is replayed in time order as served: "
    "matching.exposure.rerank with its penalty - the current one (top-10 appearances against the average client's) "
    "or the own-merit one (matching.exposure_own_merit: log((appearances + prior) / (earned places + prior)), the "
    "places of each list shared out by the model's calibrated probability; prior 0.5/1/2 places, two- or one-sided) "
    "- at strength 0.25/0.5/1, then with the served amortised floor (matching.exposure_amortised.SERVED, its state "
    "decaying with the 62-day half life) or without a floor. A variant passes when every group of >= 30 clients of "
    "the gate's attributes (trede, route, beperking, geslacht, leeftijd, migratieachtergrond) and of geschiedenis "
    "(ever proposed before) has exposureVsMerit >= 0.8 and the NDCG@10 cost against relevance-only lists of the same "
    "pools is <= 5 %, on the point estimates. The pick is the cheapest passing variant (ties: the lower strength, "
    "then without a floor). Only a passing pick is held out, once: --part heldout (werkmatch train's fit on all the "
    "data, the gate's 200 held-out pools), the pick and the served setting, both halves reported with intervals. If "
    "none passes, nothing is held out and the closest is reported by bench.amortised_served_validation's RULE "
    "(fewest failing groups, counting a cost over 5 % as one, then the highest lowest ratio, then the lowest cost)."
)
SERVED_NOW = {"penalty": "current", "strength": 0.25, "floor": "served"}


def name_of(variant: dict[str, Any]) -> str:
    """A variant's short name, e.g. ``own p1.0 two-sided s0.5 +floor``."""
    if variant["penalty"] == "current":
        penalty = "current"
    else:
        penalty = f"own p{variant['prior']} {'one' if variant['oneSided'] else 'two'}-sided"
    truth = " [truth merit]" if variant.get("merit") == "truth" else ""
    return f"{penalty} s{variant['strength']} {'+floor' if variant['floor'] == 'served' else 'no floor'}{truth}"


def replay_variant(
    pool: RankingData,
    scores: np.ndarray,
    in_time: list[np.ndarray],
    variant: dict[str, Any],
    platt: dict[str, float],
    serving: dict[str, np.ndarray],
    earned_by: np.ndarray | None = None,
) -> tuple[np.ndarray, OwnMeritLedger, dict[str, int]]:
    """The lists of ``in_time`` (pools in time order) as served with ``variant``: ``-position`` per row (as
    :func:`training.exposure_eval.replay` gives it), the ledger, and the floor's swaps and changed lists.

    With the current penalty this is :func:`training.exposure_eval.replay` (with the amortised floor of
    :data:`~matching.exposure_amortised.SERVED`, or with none) step for step; the own-merit penalty takes the place
    of :func:`matching.exposure.exposure_penalty` in :func:`~matching.exposure.rerank`, the places of each list
    shared out by ``earned_by`` per row (default: the calibrated probability; :data:`TRUTH_DIAGNOSTIC`: the merit).
    """
    assert pool.trede is not None, "served lists need the trede per row"
    probs = probabilities(scores, platt["a"], platt["b"])
    floor = _amortised_replay(scores, {**SERVED, "platt": platt}, serving) if variant["floor"] == "served" else None
    kept = kept_between_pools(pool, in_time) if floor is not None else np.ones(len(in_time))
    ledger = OwnMeritLedger()
    shown_as = np.zeros(len(pool), np.float64)
    for rows, keep in zip(in_time, kept, strict=True):
        shown, earned = ledger.candidates(pool.client_ids[rows])
        penalty = None
        if variant["penalty"] == "own":
            penalty = own_merit_penalty(shown, earned, variant["prior"], one_sided=variant["oneSided"])
        order = rerank(scores[rows], shown, pool.trede[rows], variant["strength"], ledger.mean(), TOP_K, penalty)
        if floor is not None:
            if keep < 1.0:
                floor[0].decay(float(keep))
            order = floor[0].order(order, scores[rows], floor[1][rows], {k: v[rows] for k, v in floor[2].items()})
        shown_as[rows[order]] = -np.arange(len(order), dtype=np.float64)
        ledger.record(pool.client_ids[rows], (probs if earned_by is None else earned_by)[rows], order[:LIST_SIZE])
    swaps = {"swaps": floor[0].swaps_, "listsChanged": floor[0].lists_changed_} if floor is not None else {}
    return shown_as, ledger, swaps


def afromen(pool: RankingData, shown_as: np.ndarray, counts: np.ndarray, merit: np.ndarray) -> dict[str, Any]:
    """The concentration of attention: the README's Gini of top-10 appearances (over every client who was a
    candidate), the share of top-10 places that repeat a client shown before, the most appearances, Biega's
    individual unfairness (half the L1 distance between each client's share of top-10 places and of merit rows; 0:
    everyone in proportion to their merit) and exposureVsMerit by the number of pools a client merits."""
    top = shown_as > -LIST_SIZE  # -position: the first LIST_SIZE of each list
    clients, index = np.unique(pool.client_ids, return_inverse=True)
    shown = np.bincount(index, weights=top, minlength=len(clients))
    merited = np.bincount(index, weights=merit, minlength=len(clients))
    places = int(top.sum())
    bins = {}
    for low, high in MERIT_BINS:
        members = (merited >= low) & (merited <= (high if high is not None else np.inf))
        if members.any():
            label = f"{low}-{high}" if high is not None else f">={low}"
            bins[label] = round(float(shown[members].sum() / places / (merited[members].sum() / merited.sum())), 4)
    return {
        "gini": round(gini(counts), 4),
        "repeatedTop10Share": round(1.0 - float((shown > 0).sum()) / places, 4),
        "maxAppearances": int(shown.max()),
        "clientsShown": int((shown > 0).sum()),
        "individualUnfairness": round(0.5 * float(np.abs(shown / places - merited / merited.sum()).sum()), 4),
        "exposureVsMeritByMeritPools": bins,
    }


def audited_groups(prepared: dict[str, Any]) -> dict[str, np.ndarray]:
    """The gate's audited attributes per row, and ``geschiedenis`` (ever proposed before the pool) from serving."""
    return {**prepared["groups"], "geschiedenis": prepared["serving"]["geschiedenis"]}


def screen(prepared: dict[str, Any], variants: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every variant's point (:func:`training.exposure_eval._screen_point`: exposureVsMerit of the groups of >= 30
    clients, the lowest, those under 0.8, the NDCG@10 cost) with :func:`afromen`; and relevance-only's measures."""
    pool, scores, merit = prepared["pool"], prepared["scores"], np.asarray(prepared["merit"], bool)
    in_time = _groups_in_time_order(pool)
    relevance_as, relevance_ledger = replay(pool, scores, 0.0, in_time)
    members = _members(pool, audited_groups(prepared))
    relevance = {
        "exposureVsMerit": _screen_point(pool, relevance_as, relevance_as, members, merit, 0)["exposureVsMerit"],
        **afromen(pool, relevance_as, relevance_ledger.counts(), merit),
    }
    points = []
    for variant in variants:
        began = time.perf_counter()
        earned_by = merit.astype(np.float64) if variant.get("merit") == "truth" else None
        served_as, ledger, swaps = replay_variant(
            pool, scores, in_time, variant, prepared["platt"], prepared["serving"], earned_by
        )
        point = _screen_point(pool, served_as, relevance_as, members, merit, 0)
        points.append(
            {
                "name": name_of(variant),
                **variant,
                **point,
                **swaps,
                **afromen(pool, served_as, ledger.shown_.counts(), merit),
                "seconds": round(time.perf_counter() - began, 2),
            }
        )
    return points, relevance


def pick_of(points: list[dict[str, Any]]) -> dict[str, Any]:
    """:data:`RULE`'s pick among the variants of :data:`GRID` (never :data:`TRUTH_DIAGNOSTIC`'s): the cheapest passing
    variant, else the closest by the session-33 rule (``passes`` says which)."""
    points = [p for p in points if p.get("merit") != "truth"]
    met = [p for p in points if p["met"]]
    if met:
        return min(met, key=lambda p: (p["ndcg@10Cost"], p["strength"], p["floor"] != "none")) | {"passes": True}
    return validation.chosen_of(points)


def audited(prepared: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    """One variant's served audit with intervals (:func:`training.fairness.audit_ranking`, as the gate's
    :func:`training.exposure_eval.served_fairness` audits) and the NDCG@10 cost with its paired interval."""
    pool, scores, merit = prepared["pool"], prepared["scores"], np.asarray(prepared["merit"], bool)
    in_time = _groups_in_time_order(pool)
    relevance_as, _ = replay(pool, scores, 0.0, in_time)
    served_as, _, swaps = replay_variant(pool, scores, in_time, variant, prepared["platt"], prepared["serving"])
    served = audit_ranking(pool, served_as, audited_groups(prepared), merit)
    brief = validation._brief(
        {
            "attributes": served["attributes"],
            "method": swaps,
            **_cost_and_goal(pool, served, served_as, relevance_as, 0),
        }
    )
    return {"name": name_of(variant), **brief}


def held_out(data_dir: Path, cache: Path | None) -> dict[str, Any]:
    """The gate's own held-out half, prepared as :func:`bench.amortised_served_validation.prepare` prepares the
    validation half: ``werkmatch train``'s fit on all the data (``fit_on`` splits off the held-out part itself) and
    the gate's 200 pools of that part (:func:`training.promotion.holdout_pools` from the model's holdout moment)."""
    everything = "9999-12-31T00:00:00+00:00"  # the whole data is the training part; no pool lies past it
    with mock.patch.object(validation, "holdout_from", lambda data: (data, None, everything)):
        prepared = validation.cached(data_dir, cache)
    prepared["facts"]["heldOutFrom"] = prepared["facts"].pop("validationFrom")
    return prepared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--part", choices=("validation", "heldout"), required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache", type=Path, help="keep the fitted model's pools and scores here (a pickle)")
    parser.add_argument("--pick", type=Path, help="heldout: the validation result whose passing pick is held out")
    args = parser.parse_args()
    began, loads = time.time(), [load_average()]
    out: dict[str, Any] = {
        "command": "flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m "
        f"bench.individual_attention_validation --data-dir <copy: db upgrade, simulate outcomes --years 3> "
        f"--part {args.part} --out FILE",
        **provenance(),
        "rule": RULE,
        "served": SERVED,
    }
    if args.part == "validation":
        prepared = validation.cached(args.data_dir, args.cache)
        points, relevance = screen(prepared, GRID + TRUTH_DIAGNOSTIC)
        pick = pick_of(points)
        out |= {**prepared["facts"], "relevanceOnly": relevance, "pick": pick, "passing": sum(p["met"] for p in points)}
        out["points"] = points
        closest_own = [p for p in points if p["penalty"] == "own" and p.get("merit") != "truth"]
        chosen = {"served now": SERVED_NOW, "pick": pick}
        for floor in ("served", "none"):
            chosen[f"best own-merit, floor {floor}"] = pick_of([p for p in closest_own if p["floor"] == floor])
        out["audits"] = {label: audited(prepared, _variant(v)) for label, v in chosen.items()}
    else:
        assert args.pick is not None, "--part heldout needs --pick (the validation result)"
        pick = json.loads(args.pick.read_text(encoding="utf-8"))["pick"]
        assert pick["passes"], "nothing passed on validation: by the RULE nothing is held out"
        prepared = held_out(args.data_dir, args.cache)
        out |= {**prepared["facts"], "pick": _variant(pick)}
        out["audits"] = {
            label: audited(prepared, _variant(v)) for label, v in {"served now": SERVED_NOW, "pick": pick}.items()
        }
    loads.append(load_average())
    out |= {"loadavg": loads, "seconds": round(time.time() - began)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def _variant(point: dict[str, Any]) -> dict[str, Any]:
    """The variant's keys of a screened point."""
    return {k: point[k] for k in ("penalty", "prior", "oneSided", "strength", "floor") if k in point}


if __name__ == "__main__":
    main()
