"""How concentrated exposure is over clients, with and without exposure-aware re-ranking, at what NDCG cost.

The lists of many vacancies are replayed in time order (the vacancy's first voorstel moment, then
its id) through one :class:`matching.exposure.ExposureLedger`: each pool is ordered — by relevance
alone, or by :func:`matching.exposure.rerank` with the exposure so far — and its top
:data:`~matching.exposure.LIST_SIZE` is counted as shown. Then, per ordering:

* ``gini``: Gini of top-10 appearances over every client who was a candidate in at least one pool
  (never shown counts as 0). Its lower bound ``giniFloor`` is the most even spread of the list places
  over those clients: with fewer places than clients no ordering gets below ``1 - places/clients``.
* ``ndcg@10``: mean per-vacancy NDCG@10 on the rows' labels (on the pool holdout, the
  counterfactual outcomes of :mod:`training.pool_eval`), with a bootstrap interval.
* ``lowTredeShareTop10``: the share of all top-10 places that go to a client on trede 0–2 who is
  *suitable* for that vacancy: true suitability at or above the pool's 80th percentile when the
  hidden truth is given (synthetic data), else a label above 0 (``suitableBy`` says which). The
  truth is preferred: the labels carry the simulated employers' discrimination and noise.

The same replay runs for every strength of a sweep; ``goal`` says whether a strength halves the
relevance-only Gini within 5 % NDCG@10 loss and, if none does, the best Gini within that loss.
With the hidden truth, ``oracle`` replays the lists ordered by true suitability: how concentrated
exposure would be if every list were perfect, i.e. how much of the concentration is deserved.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from matching.exposure import (
    DEFAULT_FLOOR,
    DEFAULT_STRENGTH,
    LIST_SIZE,
    LOW_TREDE_MAX,
    MERIT_SHARE,
    TOP_K,
    ExposureLedger,
    gini,
    merit_floor,
    rerank,
)
from matching.exposure_amortised import AmortisedFloor, floor_of, probabilities
from matching.floor_state import HALF_LIFE_DAYS
from matching.matcher import Matcher
from matching.settings import RankerSettings
from training.dataset import RankingData
from training.fairness import MIN_GROUP, audit_ranking, top_k_mask
from training.metrics import grouped_rows, paired, summarise

SWEEP = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)
MAX_NDCG_LOSS = 0.05  # the goal: at most 5 % NDCG@10 below relevance-only ranking …
GINI_FACTOR = 0.5  # … for at most half its exposure Gini
SUITABLE_QUANTILE = 0.8  # suitable: true suitability in the pool's top 20 %


def _groups_in_time_order(data: RankingData) -> list[np.ndarray]:
    """Row indices per vacancy, vacancies ordered by (moment, id)."""
    vacancies, first = np.unique(data.vacancy_ids, return_index=True)
    order = np.lexsort((vacancies, data.moments[first]))
    groups = grouped_rows(data.vacancy_ids)
    return [groups[i] for i in order]


def kept_between_pools(
    data: RankingData, groups: list[np.ndarray], half_life_days: float | None = HALF_LIFE_DAYS
) -> np.ndarray:
    """Per pool of ``groups`` (in replay order): what the served floor state keeps of its sums since the pool
    before, ``2^(-days between their moments / half life)`` (:data:`matching.floor_state.HALF_LIFE_DAYS`, as
    :func:`matching.floor_state.weight` weighs a served list); 1 for the first pool, and every pool with
    ``half_life_days`` None (session 31's replay, which did not decay)."""
    at = np.array([data.moments[rows[0]] for rows in groups], np.float64)
    if half_life_days is None or not len(at):
        return np.ones(len(at))
    days = np.diff(at, prepend=at[0]) / 86400.0
    # a gap of centuries underflows to 0, which AmortisedFloor.decay refuses: the smallest positive float forgets too
    return np.maximum(np.exp2(-np.maximum(days, 0.0) / half_life_days), np.finfo(np.float64).tiny)


def suitable_rows(data: RankingData, truth: np.ndarray | None, groups: list[np.ndarray]) -> np.ndarray:
    """Per row: suitable for its vacancy (truth ≥ the pool's 80th percentile, or, without truth, label > 0)."""
    if truth is None:
        return np.asarray(data.labels) > 0
    suitable = np.zeros(len(data), bool)
    for rows in groups:
        suitable[rows] = truth[rows] >= np.quantile(truth[rows], SUITABLE_QUANTILE)
    return suitable


def replay(
    data: RankingData,
    scores: np.ndarray,
    strength: float,
    groups: list[np.ndarray],
    top_k: int = TOP_K,
    floor: float = 0.0,
    merit_share: float = MERIT_SHARE,
    amortised: tuple[AmortisedFloor, np.ndarray, dict[str, np.ndarray]] | None = None,
    half_life_days: float | None = HALF_LIFE_DAYS,
) -> tuple[np.ndarray, ExposureLedger]:
    """Order every pool in time order with one ledger; returns a score per row (``-position``) and the ledger.

    ``-position`` (0 for the first of a list) lets :mod:`training.metrics` read the order as shown.
    The order is the one serving shows (:func:`matching.pipeline.order`): :func:`rerank` at
    ``strength``, then :func:`merit_floor` at ``floor`` by trede, merit estimated from the relevance top
    ``merit_share`` of each pool. ``amortised`` (a model with Platt parameters): the floor, the calibrated
    probability and the serving groups per row; it takes the merit floor's place, as in serving, and its running
    state decays as the served state does: before each pool by the time since the pool before
    (:func:`kept_between_pools` with ``half_life_days``; None: no decay, session 31's replay).
    """
    assert data.trede is not None, "exposure needs the trede per row"
    ledger = ExposureLedger()
    shown_as = np.zeros(len(data), np.float64)
    kept = kept_between_pools(data, groups, half_life_days) if amortised is not None else np.ones(len(groups))
    for rows, keep in zip(groups, kept, strict=True):
        exposure = ledger.candidates(data.client_ids[rows])
        order = rerank(scores[rows], exposure, data.trede[rows], strength, ledger.mean(), top_k)
        if amortised is not None:
            if keep < 1.0:
                amortised[0].decay(float(keep))
            order = amortised[0].order(
                order, scores[rows], amortised[1][rows], {k: v[rows] for k, v in amortised[2].items()}
            )
        else:
            order = merit_floor(order, scores[rows], data.trede[rows], floor, merit_share)
        shown_as[rows[order]] = -np.arange(len(order), dtype=np.float64)
        ledger.record(data.client_ids[rows[order[:LIST_SIZE]]])
    return shown_as, ledger


def _summary(
    data: RankingData, shown_as: np.ndarray, ledger: ExposureLedger, suitable: np.ndarray, seed: int
) -> dict[str, Any]:
    assert data.trede is not None
    counts = ledger.counts()
    top = shown_as > -LIST_SIZE
    metrics = summarise(data.labels, shown_as, data.vacancy_ids, seed=seed)
    return {
        "gini": round(gini(counts), 4),
        "ndcg@10": metrics["ndcg@10"],
        "ndcg@10CI": metrics.get("ndcg@10CI"),
        "lowTredeShareTop10": round(
            float((top & suitable & (data.trede <= LOW_TREDE_MAX)).sum() / max(top.sum(), 1)), 4
        ),
        "clientsShown": int((counts > 0).sum()),
        "maxAppearances": int(counts.max()) if len(counts) else 0,
    }


def gini_floor(places: int, clients: int) -> float:
    """The lowest Gini ``places`` list places can give over ``clients`` clients: spread as evenly as possible."""
    if clients == 0:
        return 0.0
    each, extra = divmod(places, clients)
    return gini(np.array([each + 1] * extra + [each] * (clients - extra), np.float64))


def evaluate_exposure(
    data: RankingData,
    scores: np.ndarray,
    truth: np.ndarray | None = None,
    strength: float = DEFAULT_STRENGTH,
    sweep: Sequence[float] = SWEEP,
    seed: int = 0,
) -> dict[str, Any]:
    """Relevance-only against exposure-aware ordering of the same pools, and a sweep of the strength.

    Args:
        data: Whole candidate pools (:func:`training.pool_eval.pool_holdout`), with ``trede``; the
            rows' ``moments`` give the order in which lists are shown.
        scores: The ranker's relevance per row.
        truth: The hidden true suitability per row (synthetic data), for ``lowTredeShareTop10``;
            None: a label above 0 counts as suitable.
        strength: The exposure-aware entry's strength (:data:`matching.exposure.DEFAULT_STRENGTH`).
        sweep: Further strengths to report in ``sweep`` (with ``strength`` itself).
        seed: Of the bootstrap intervals.

    Returns:
        ``{"relevanceOnly": {...}, "exposureAware": {...}, ...}``: each entry has ``gini``,
        ``ndcg@10`` (and ``ndcg@10CI``), ``lowTredeShareTop10``, ``clientsShown`` and
        ``maxAppearances``; beside them ``strength``, ``vacancies``, ``clientsEligible``,
        ``listPlaces``, ``giniFloor``, ``suitableBy``, ``vsRelevanceOnly`` (NDCG@10 gain and ratio with
        paired intervals, :func:`training.metrics.paired`), ``sweep`` (one entry per strength, with
        ``ndcg@10Loss`` as a share of relevance-only), ``goal``, ``seconds`` and, with ``truth``,
        ``oracle``: the same entry for ranking by the hidden truth itself.

    Raises:
        ValueError: ``data`` without ``trede``, or ``scores`` not one per row.
    """
    if data.trede is None:
        raise ValueError("de pool heeft geen trede per rij; bouw hem met training.pool_eval.pool_holdout")
    scores = np.asarray(scores, np.float64)
    if scores.shape != (len(data),):
        raise ValueError(f"één score per rij nodig ({len(data)}), niet {scores.shape}")
    start = time.perf_counter()
    groups = _groups_in_time_order(data)
    suitable = suitable_rows(data, truth, groups)
    strengths = sorted({0.0, float(strength), *map(float, sweep)})
    runs = {s: replay(data, scores, s, groups) for s in strengths}
    entries = {s: _summary(data, *runs[s], suitable, seed) for s in strengths}
    base = entries[0.0]
    curve, goal = _sweep_and_goal(entries)
    clients = len(runs[0.0][1].shown_)
    places = sum(min(LIST_SIZE, len(rows)) for rows in groups)
    oracle = {}
    if truth is not None:  # how concentrated the hidden truth itself is: the price of spreading
        oracle_run = replay(data, np.asarray(truth, np.float64), 0.0, groups)
        oracle = {"oracle": _summary(data, *oracle_run, suitable, seed)}
    return {
        "relevanceOnly": base,
        "exposureAware": entries[float(strength)],
        "strength": float(strength),
        "topK": TOP_K,
        "vacancies": len(groups),
        "clientsEligible": clients,
        "listPlaces": places,
        "giniFloor": round(gini_floor(places, clients), 4),
        "suitableBy": f"ware geschiktheid ≥ {SUITABLE_QUANTILE:.0%}-percentiel van de pool"
        if truth is not None
        else "label > 0",
        "vsRelevanceOnly": paired(data.labels, runs[float(strength)][0], runs[0.0][0], data.vacancy_ids, seed=seed),
        "sweep": curve,
        "goal": goal,
        **oracle,
        "seconds": round(time.perf_counter() - start, 2),
    }


def _sweep_and_goal(entries: dict[float, dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The sweep (each strength's entry with its NDCG@10 loss against relevance-only) and the goal: the
    weakest strength that brings the Gini to :data:`GINI_FACTOR` × relevance-only's within
    :data:`MAX_NDCG_LOSS`, and the lowest Gini within that loss."""
    base = entries[0.0]

    def loss(entry: dict[str, Any]) -> float:
        return round(1.0 - entry["ndcg@10"] / base["ndcg@10"], 4) if base["ndcg@10"] else 0.0

    curve = [{"strength": s, **entry, "ndcg@10Loss": loss(entry)} for s, entry in entries.items()]
    within = [point for point in curve if point["ndcg@10Loss"] <= MAX_NDCG_LOSS]
    target = round(GINI_FACTOR * base["gini"], 4)
    met = [point["strength"] for point in within if point["gini"] <= target]
    best = min(within, key=lambda point: point["gini"])
    goal = {
        "giniAtMost": target,
        "ndcg@10LossAtMost": MAX_NDCG_LOSS,
        "metAtStrength": met[0] if met else None,
        "bestWithinLoss": {key: best[key] for key in ("strength", "gini", "ndcg@10", "ndcg@10Loss")},
    }
    return curve, goal


MIN_EXPOSURE_VS_MERIT = 0.8  # issue 19: every group of ≥ 30 clients gets ≥ 0.8 of the top-10 share it merits …
MAX_SERVED_COST = 0.05  # … at ≤ 5 % NDCG@10 below relevance-only ordering of the same pools
COMPACT = (
    "clients",
    "poolShare",
    "top10Share",
    "ratio",
    "ratioCI",
    "meritShare",
    "exposureVsMerit",
    "exposureVsMeritCI",
)


def served_method(ranker: RankerSettings) -> dict[str, float]:
    """The served ordering's settings, as :func:`served_fairness` takes them (serving applies the floor
    only while the exposure re-ordering is on: strength 0 switches both off)."""
    on = ranker.exposure_strength > 0
    return {"strength": ranker.exposure_strength, "floor": ranker.exposure_floor if on else 0.0}


def _compact(audit: dict[str, Any]) -> dict[str, Any]:
    return {
        attribute: {group: {key: row.get(key) for key in COMPACT} for group, row in section["groups"].items()}
        for attribute, section in audit["attributes"].items()
    }


def served_fairness(
    data: RankingData,
    scores: np.ndarray,
    groups: dict[str, np.ndarray],
    merit: np.ndarray | None = None,
    strength: float = DEFAULT_STRENGTH,
    floor: float = DEFAULT_FLOOR,
    seed: int = 0,
    merit_share: float = MERIT_SHARE,
    amortised: dict[str, Any] | None = None,
    serving: dict[str, np.ndarray] | None = None,
    half_life_days: float | None = HALF_LIFE_DAYS,
) -> dict[str, Any]:
    """The fairness of the lists *as served*: every pool replayed in time order through one exposure
    ledger and ordered as :func:`matching.pipeline.order` orders a shown list, then audited.

    Args:
        data: Whole candidate pools with ``trede`` (synthetic: :func:`training.pool_eval.pool_holdout`;
            real data: :func:`served_pools`, labels all 0).
        scores: The serving ranker's relevance per row.
        groups: Per audited attribute, the group per row (:func:`training.fairness.group_labels`).
        merit: Per row, who deserved a place (synthetic: the true top fifth of the pool). None on real
            data: then only the exposure-vs-pool part (``ratio``) is reported, no NDCG.
        strength, floor: Of the served ordering (``RankerSettings.exposure_strength`` / ``exposure_floor``).
        merit_share: The relevance top share of a pool the floor reads as "fits" (serving: the default).
        amortised: The model's amortised setting (:func:`training.served_floor.amortised_of`): then the amortised
            floor by expected merit orders the lists after the re-ordering, as serving does, over the ``serving``
            groups per row (:func:`training.served_floor.serving_labels`); None: the merit floor.
        half_life_days: The amortised floor's state decays between pools by their moments, as the served state
            does (:func:`replay`); None: it does not (session 31's replay, for comparison only).

    Returns:
        ``method``, ``vacancies``, ``attributes`` (the audit of the served lists,
        :func:`training.fairness.audit_ranking`, each group with ``exposureVsMerit`` and its interval),
        ``relevanceOnly`` (the same groups' shares and ratios for relevance-only lists),
        ``breaches`` (pool tripwire), and with merit ``ndcg@10``/``ndcg@10RelevanceOnly``, ``ndcg@10Cost``
        with its paired interval, and ``goal``: which groups of ≥ 30 clients stay under 0.8 of merit.
    """
    assert data.trede is not None, "served lists need the trede per row"
    scores = np.asarray(scores, np.float64)
    in_time = _groups_in_time_order(data)
    replayed = _amortised_replay(scores, amortised, serving) if amortised is not None and strength > 0 else None
    served_as, _ = replay(
        data,
        scores,
        strength,
        in_time,
        floor=floor,
        merit_share=merit_share,
        amortised=replayed,
        half_life_days=half_life_days,
    )
    relevance_as, _ = replay(data, scores, 0.0, in_time)
    served = audit_ranking(data, served_as, groups, merit, seed=seed)
    before = audit_ranking(data, relevance_as, groups, merit, seed=seed)
    method: dict[str, Any] = {
        "strength": strength,
        "floor": floor,
        "meritShare": merit_share,
        "groupedBy": "trede",
        "listSize": LIST_SIZE,
    }
    if replayed is not None:
        assert amortised is not None
        method.update(floor=None, meritShare=None, groupedBy="+".join(amortised["groups"]), amortisedFloor=amortised)
        method["halfLifeDays"] = half_life_days
        method["swaps"], method["listsChanged"] = replayed[0].swaps_, replayed[0].lists_changed_
    out: dict[str, Any] = {
        "method": method,
        "vacancies": served["vacancies"],
        "minGroup": served["minGroup"],
        "attributes": served["attributes"],
        "relevanceOnly": _compact(before),
        "breaches": served["breaches"],
    }
    if merit is None or not np.any(data.labels > 0):
        return out
    out.update(_cost_and_goal(data, served, served_as, relevance_as, seed))
    return out


def _cost_and_goal(
    data: RankingData, served: dict[str, Any], served_as: np.ndarray, relevance_as: np.ndarray, seed: int
) -> dict[str, Any]:
    """With merit: the served lists' NDCG@10 against relevance-only lists, its cost, and the issue's goal."""
    relevance = summarise(data.labels, relevance_as, data.vacancy_ids, seed=seed)
    shown = summarise(data.labels, served_as, data.vacancy_ids, seed=seed)
    vs = paired(data.labels, served_as, relevance_as, data.vacancy_ids, seed=seed)
    low = [
        f"{attribute}={group}"
        for attribute, section in served["attributes"].items()
        for group, row in section["groups"].items()
        if not row["tooSmall"] and row["exposureVsMerit"] is not None and row["exposureVsMerit"] < MIN_EXPOSURE_VS_MERIT
    ]
    cost = round(1.0 - vs["ratio"], 4) if vs["ratio"] is not None else None
    return {
        "ndcg@10": shown["ndcg@10"],
        "ndcg@10RelevanceOnly": relevance["ndcg@10"],
        "ndcg@10Cost": cost,
        "ndcg@10CostCI": [round(1.0 - vs["ratioCI"][1], 4), round(1.0 - vs["ratioCI"][0], 4)]
        if vs["ratioCI"]
        else None,
        "goal": {
            "exposureVsMeritAtLeast": MIN_EXPOSURE_VS_MERIT,
            "ndcg@10CostAtMost": MAX_SERVED_COST,
            "groupsBelow": low,
            "met": not low and cost is not None and cost <= MAX_SERVED_COST,
        },
    }


def _amortised_replay(
    scores: np.ndarray, setting: dict[str, Any], serving: dict[str, np.ndarray] | None
) -> tuple[AmortisedFloor, np.ndarray, dict[str, np.ndarray]]:
    """The floor, probabilities and serving groups :func:`replay` takes for a model's amortised ``setting``."""
    if serving is None or not set(setting["groups"]) <= set(serving):
        raise ValueError(f"de afgeschreven vloer vraagt de groepen {setting['groups']} per rij")
    floor = floor_of(setting)
    probs = probabilities(scores, setting["platt"]["a"], setting["platt"]["b"])
    return floor, probs, {name: serving[name] for name in setting["groups"]}


def _members(data: RankingData, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rows per ``"attribute=group"`` of every group of at least :data:`training.fairness.MIN_GROUP` clients."""
    members = {
        f"{attribute}={group}": labels == group
        for attribute, labels in groups.items()
        for group in sorted(set(labels.tolist()))
    }
    return {key: rows for key, rows in members.items() if len(np.unique(data.client_ids[rows])) >= MIN_GROUP}


def _screen_point(
    data: RankingData,
    served_as: np.ndarray,
    relevance_as: np.ndarray,
    members: dict[str, np.ndarray],
    merit: np.ndarray,
    seed: int,
) -> dict[str, Any]:
    """One screened ordering: exposureVsMerit per group (as :func:`training.fairness.audit_ranking` computes it), the
    lowest, the groups under 0.8, and the NDCG@10 cost against relevance-only with its paired interval."""
    top = top_k_mask(served_as, data.vacancy_ids, LIST_SIZE)
    ratios = {
        key: round(float((top & rows).sum() / top.sum() / ((merit & rows).sum() / merit.sum())), 4)
        for key, rows in members.items()
        if (merit & rows).any()
    }
    vs = paired(data.labels, served_as, relevance_as, data.vacancy_ids, seed=seed)
    cost = round(1.0 - vs["ratio"], 4) if vs["ratio"] is not None else None
    below = [key for key, value in ratios.items() if value < MIN_EXPOSURE_VS_MERIT]
    lowest = min(ratios, key=ratios.__getitem__) if ratios else None
    return {
        "ndcg@10Cost": cost,
        "ndcg@10CostCI": [round(1.0 - vs["ratioCI"][1], 4), round(1.0 - vs["ratioCI"][0], 4)]
        if vs["ratioCI"]
        else None,
        "lowest": {"group": lowest, "value": ratios[lowest]} if lowest else None,
        "groupsBelow": below,
        "met": not below and cost is not None and cost <= MAX_SERVED_COST,
        "exposureVsMerit": ratios,
    }


def screen_served(
    data: RankingData,
    scores: np.ndarray,
    groups: dict[str, np.ndarray],
    merit: np.ndarray,
    settings: Sequence[tuple[float, float]],
    strength: float = DEFAULT_STRENGTH,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Point estimates of :func:`served_fairness` for many (merit share, floor) settings at once, for sweeps.

    Per setting (key ``"share/floor"``): ``exposureVsMerit`` of every group of ≥ 30 clients (top-10 share
    over the share of the truly suitable, as the audit computes it, without its bootstrap and
    equalized-odds parts, which take most of an audit's time), the lowest, the groups under 0.8, and the
    NDCG@10 cost against relevance-only ordering with its paired interval.
    """
    assert data.trede is not None, "served lists need the trede per row"
    scores, merit = np.asarray(scores, np.float64), np.asarray(merit, bool)
    in_time = _groups_in_time_order(data)
    relevance_as, _ = replay(data, scores, 0.0, in_time)
    members = _members(data, groups)
    points: dict[str, dict[str, Any]] = {}
    for share, floor in settings:
        served_as, _ = replay(data, scores, strength, in_time, floor=floor, merit_share=share)
        point = _screen_point(data, served_as, relevance_as, members, merit, seed)
        points[f"{share}/{floor}"] = {"meritShare": share, "floor": floor, **point}
    return points


def screen_amortised(
    data: RankingData,
    scores: np.ndarray,
    groups: dict[str, np.ndarray],
    merit: np.ndarray,
    serving: dict[str, np.ndarray],
    settings: Sequence[dict[str, Any]],
    strength: float = DEFAULT_STRENGTH,
    half_life_days: float | None = HALF_LIFE_DAYS,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Point estimates of :func:`served_fairness` with the amortised floor for many settings (each as
    :func:`matching.exposure_amortised.setting_of` gives it, with ``platt``): the lists replayed exactly as
    :func:`served_fairness` replays them (:func:`replay`, the state decaying by ``half_life_days``), judged as
    :func:`screen_served` judges. Per setting: the setting, :func:`screen_served`'s point, ``swaps`` and
    ``listsChanged``."""
    assert data.trede is not None, "served lists need the trede per row"
    scores, merit = np.asarray(scores, np.float64), np.asarray(merit, bool)
    in_time = _groups_in_time_order(data)
    relevance_as, _ = replay(data, scores, 0.0, in_time)
    members = _members(data, groups)
    points = []
    for setting in settings:
        replayed = _amortised_replay(scores, setting, serving)
        served_as, _ = replay(data, scores, strength, in_time, amortised=replayed, half_life_days=half_life_days)
        point = _screen_point(data, served_as, relevance_as, members, merit, seed)
        points.append({**setting, **point, "swaps": replayed[0].swaps_, "listsChanged": replayed[0].lists_changed_})
    return points


def served_pools(matcher: Matcher, vacancy_ids: np.ndarray, moments: dict[int, float]) -> RankingData | None:
    """Whole candidate pools of ``vacancy_ids`` as the search builds them, without outcomes (labels 0).

    For real data, where :func:`training.pool_eval.pool_holdout` has no hidden truth to label with:
    enough for the exposure-vs-pool part of :func:`served_fairness`. None when no pool has a candidate.
    """
    parts: list[tuple[np.ndarray, np.ndarray, int]] = []
    for vacancy_id in np.unique(vacancy_ids).tolist():
        client_ids, features = matcher.pool_features(int(vacancy_id))
        if len(client_ids):
            parts.append((client_ids.astype(np.int64), features, int(vacancy_id)))
    if not parts:
        return None
    clients, _ = matcher.index.arrays()
    client_ids = np.concatenate([ids for ids, _, _ in parts])
    vacancy = np.concatenate([np.full(len(ids), vacancy_id, np.int64) for ids, _, vacancy_id in parts])
    return RankingData(
        features=np.concatenate([features for _, features, _ in parts]),
        labels=np.zeros(len(client_ids), np.int64),
        vacancy_ids=vacancy,
        client_ids=client_ids,
        moments=np.array([moments[int(v)] for v in vacancy], np.float64),
        trede=clients.trede[[clients.position[int(c)] for c in client_ids]].astype(np.int64),
    )
